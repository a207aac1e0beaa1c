# Copyright (c) mmdepthseg contributors. All rights reserved.
from .fsre_depth import FSREDepth
from .multi_task_segmentor import MultiTaskSegmentor
from .pseudo_mtl import PseudoMTL

__all__ = ['MultiTaskSegmentor', 'FSREDepth', 'PseudoMTL']
