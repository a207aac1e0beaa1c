# Copyright (c) mmdepthseg contributors. All rights reserved.
from .fsre_depth import FSREDepth
from .multi_task_segmentor import MultiTaskSegmentor

__all__ = ['MultiTaskSegmentor', 'FSREDepth']
