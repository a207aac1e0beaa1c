# Copyright (c) mmdepthseg contributors. All rights reserved.
from .checkpoint_safety import (SAFE_CHECKPOINT_GLOBALS,
                                register_safe_checkpoint_globals)
from .dist_utils import setup_cpu_distributed
from .set_env import register_all_modules

__all__ = [
    'register_all_modules', 'register_safe_checkpoint_globals',
    'SAFE_CHECKPOINT_GLOBALS', 'setup_cpu_distributed'
]
