# Copyright (c) mmdepthseg contributors. All rights reserved.
# The decoders moved to ``models/decoders``; re-exported for old imports.
from ..decoders import SymmetricDecoder, UNetDecoder, UNetDecoderStage
from .base_depth_head import BaseDepthHead
from .conv_depth_head import ConvDepthHead
from .decoder_seg_head import DecoderSegHead
from .disparity_depth_head import DisparityDepthHead
from .fsre_decoder import FSREDualDecoder
from .sosd_head import SOSDHead
from .symmetric_heads import SymmetricDepthHead, SymmetricSegHead
from .unet_depth_head import UNetDepthHead
from .unet_seg_head import UNetSegHead

__all__ = [
    'BaseDepthHead', 'DisparityDepthHead', 'DecoderSegHead', 'UNetDecoder',
    'UNetDecoderStage', 'UNetDepthHead', 'UNetSegHead', 'FSREDualDecoder',
    'SymmetricDecoder', 'SymmetricDepthHead', 'SymmetricSegHead', 'SOSDHead',
    'ConvDepthHead'
]
