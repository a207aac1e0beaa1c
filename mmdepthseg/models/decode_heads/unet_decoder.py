# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Former home of Monodepth2's decoder; kept so that its import path works.
The decoder lives in :mod:`mmdepthseg.models.decoders`."""
from ..decoders.unet_decoder import UNetDecoder, UNetDecoderStage

__all__ = ['UNetDecoder', 'UNetDecoderStage']
