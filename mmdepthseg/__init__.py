# Copyright (c) mmdepthseg contributors. All rights reserved.
"""mmdepthseg: joint monocular depth estimation and semantic segmentation
for the OpenMMLab ecosystem (MMEngine, MMCV, MMSegmentation)."""
from .utils.checkpoint_safety import register_safe_checkpoint_globals
from .version import __version__, version_info

# MMEngine 0.10.7 checkpoints hold a few non-tensor globals that torch >= 2.6
# refuses under ``weights_only=True``; allow-list exactly those at import.
register_safe_checkpoint_globals()

__all__ = ['__version__', 'version_info']
