# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Former home of Pseudo-MTL's decoder and heads; kept so that its import
path works. The decoder lives in :mod:`mmdepthseg.models.decoders`, the heads
in :mod:`.symmetric_heads`."""
from ..decoders.symmetric_decoder import SymmetricDecoder
from .symmetric_heads import SymmetricDepthHead, SymmetricSegHead

__all__ = ['SymmetricDecoder', 'SymmetricDepthHead', 'SymmetricSegHead']
