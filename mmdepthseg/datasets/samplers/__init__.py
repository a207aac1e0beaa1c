# Copyright (c) mmdepthseg contributors. All rights reserved.
from .multi_source_sampler import MultiSourceSampler
from .resumable_sampler import ResumableSampler, SeededDataset, sample_seed

__all__ = [
    'MultiSourceSampler', 'ResumableSampler', 'SeededDataset', 'sample_seed'
]
