# Copyright (c) mmdepthseg contributors. All rights reserved.
from .checkpoint_safety import (SAFE_CHECKPOINT_GLOBALS,
                                register_safe_checkpoint_globals)
from .dist_utils import setup_cpu_distributed

__all__ = [
    'register_all_modules', 'register_safe_checkpoint_globals',
    'SAFE_CHECKPOINT_GLOBALS', 'setup_cpu_distributed'
]


def __getattr__(name: str):
    """Forward ``register_all_modules`` to :mod:`mmdepthseg.set_env`.

    It imports the datasets, models and evaluation packages, which import
    ``mmdepthseg.utils``; importing it here on first use (not at import)
    keeps ``utils`` at the bottom of the import graph while ``from
    mmdepthseg.utils import register_all_modules`` keeps working.
    """
    if name == 'register_all_modules':
        from mmdepthseg.set_env import register_all_modules
        return register_all_modules
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
