# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Engine components (hooks, optimizer wrappers, the runner and its loops).
The EM alternating hook (ESOSD-Net) and the discriminator step hook
(SemiMTL) live in ``hooks``; ``runner`` holds ``DepthSegRunner`` (crash-safe
checkpoints, exact resume, non-finite-loss skipping)."""
from .hooks import *  # noqa: F401,F403
from .log_processor import DepthSegLogProcessor  # noqa: F401
from .optimizers import *  # noqa: F401,F403
from .runner import *  # noqa: F401,F403
