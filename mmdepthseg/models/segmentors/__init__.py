# Copyright (c) mmdepthseg contributors. All rights reserved.
from .base import BaseDepthSegmentor
from .depth_seg_encoder_decoder import DepthSegEncoderDecoder
from .fsre_depth import FSREDepth
from .multi_task_segmentor import MultiTaskSegmentor
from .pseudo_mtl import PseudoMTL
from .semi_mtl import SemiMTL
from .sosd_net import SOSDNet
from .tta import DepthSegTTAModel

__all__ = [
    'BaseDepthSegmentor', 'MultiTaskSegmentor', 'FSREDepth', 'PseudoMTL',
    'SOSDNet', 'SemiMTL', 'DepthSegTTAModel', 'DepthSegEncoderDecoder'
]
