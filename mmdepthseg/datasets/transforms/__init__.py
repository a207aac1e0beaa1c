# Copyright (c) mmdepthseg contributors. All rights reserved.
from .formatting import PackMultiViewInputs
from .label_mapping import MapSegLabels
from .loading import LoadDepthSegAnnotations, LoadMultiViewImages
from .pseudo_loading import LoadPseudoDepth
from .transforms import (KeepUnaugmentedImage, MultiViewColorJitter,
                         MultiViewRandomCrop, MultiViewRandomFlip,
                         MultiViewRandomResize, MultiViewResize,
                         crop_intrinsics, hflip_intrinsics, scale_intrinsics)

__all__ = [
    'LoadMultiViewImages', 'LoadDepthSegAnnotations', 'MultiViewResize',
    'MultiViewRandomResize', 'MultiViewRandomCrop', 'MultiViewRandomFlip',
    'KeepUnaugmentedImage', 'MultiViewColorJitter', 'PackMultiViewInputs',
    'scale_intrinsics', 'crop_intrinsics', 'hflip_intrinsics',
    'LoadPseudoDepth', 'MapSegLabels'
]
