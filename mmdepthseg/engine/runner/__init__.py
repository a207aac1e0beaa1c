# Copyright (c) mmdepthseg contributors. All rights reserved.
from .checkpoint_files import (checkpoint_problem, commit_file,
                               find_resumable_checkpoint)
from .depthseg_runner import DepthSegRunner, guard_optim_wrapper_cfg
from .loops import ResumableEpochBasedTrainLoop, ResumableIterBasedTrainLoop
from .rng_state import get_rng_state, preserved_rng_state, set_rng_state

__all__ = [
    'DepthSegRunner', 'ResumableIterBasedTrainLoop',
    'ResumableEpochBasedTrainLoop', 'checkpoint_problem', 'commit_file',
    'find_resumable_checkpoint', 'get_rng_state', 'set_rng_state',
    'preserved_rng_state', 'guard_optim_wrapper_cfg'
]
