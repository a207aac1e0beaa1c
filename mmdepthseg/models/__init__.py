# Copyright (c) mmdepthseg contributors. All rights reserved.
# Importing the subpackages registers their modules in ``MODELS``.
from . import discriminators, layers, necks  # noqa: F401
from .backbones import ResNetEncoder
from .data_preprocessor import MultiViewDataPreProcessor
from .decode_heads import (BaseDepthHead, DecoderSegHead, DisparityDepthHead,
                           UNetDepthHead, UNetSegHead)
from .decoders import BaseDecoder, UNetDecoder, UNetDecoderStage
from .losses import DepthL1Loss
from .pose import PoseDecoder, PoseNet
from .segmentors import MultiTaskSegmentor
from .utils import stack_pixel_field

__all__ = [
    'ResNetEncoder', 'MultiViewDataPreProcessor', 'BaseDepthHead',
    'DisparityDepthHead', 'DecoderSegHead', 'BaseDecoder', 'UNetDecoder',
    'UNetDecoderStage', 'UNetDepthHead', 'UNetSegHead',
    'DepthL1Loss', 'MultiTaskSegmentor', 'stack_pixel_field', 'PoseDecoder',
    'PoseNet'
]
