# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Multi-level decoders that heads take as config (``decoder=dict(...)``)."""
from .base_decoder import BaseDecoder, build_decoder
from .symmetric_decoder import SymmetricDecoder
from .unet_decoder import UNetDecoder, UNetDecoderStage

__all__ = [
    'BaseDecoder', 'build_decoder', 'SymmetricDecoder', 'UNetDecoder',
    'UNetDecoderStage'
]
