# Copyright (c) mmdepthseg contributors. All rights reserved.
from .base_depth_head import BaseDepthHead
from .conv_depth_head import ConvDepthHead
from .fsre_decoder import FSREDualDecoder
from .sosd_head import SOSDHead
from .unet_decoder import UNetDecoder, UNetDecoderStage
from .unet_depth_head import UNetDepthHead
from .unet_seg_head import UNetSegHead
from .vgg_decoder import SymmetricDecoder, SymmetricDepthHead, SymmetricSegHead

__all__ = [
    'BaseDepthHead', 'UNetDecoder', 'UNetDecoderStage', 'UNetDepthHead',
    'UNetSegHead', 'FSREDualDecoder', 'SymmetricDecoder', 'SymmetricDepthHead',
    'SymmetricSegHead', 'SOSDHead', 'ConvDepthHead'
]
