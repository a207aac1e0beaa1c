# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Engine components (hooks, optimizer wrappers). The EM alternating hook and
the discriminator step hook of the method issues live in ``hooks``."""
from .hooks import *  # noqa: F401,F403
from .log_processor import DepthSegLogProcessor  # noqa: F401
from .optimizers import *  # noqa: F401,F403
