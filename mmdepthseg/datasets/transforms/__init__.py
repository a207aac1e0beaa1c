# Copyright (c) mmdepthseg contributors. All rights reserved.
from .depth_target import DepthTargetTransform
from .formatting import PackMultiViewInputs
from .label_mapping import MapSegLabels
from .loading import LoadDepthSegAnnotations, LoadMultiViewImages
from .pseudo_loading import LoadPseudoDepth
from .single_view import DepthSegPad, LoadSingleViewDepthSegAnnotations
from .transforms import (KeepUnaugmentedImage, MultiViewColorJitter,
                         MultiViewFixedCrop, MultiViewRandomCrop,
                         MultiViewRandomFlip, MultiViewRandomResize,
                         MultiViewResize, crop_intrinsics, hflip_intrinsics,
                         scale_intrinsics)

__all__ = [
    'LoadMultiViewImages', 'LoadDepthSegAnnotations', 'MultiViewResize',
    'MultiViewRandomResize', 'MultiViewRandomCrop', 'MultiViewFixedCrop',
    'MultiViewRandomFlip', 'KeepUnaugmentedImage', 'MultiViewColorJitter',
    'PackMultiViewInputs', 'scale_intrinsics', 'crop_intrinsics',
    'hflip_intrinsics', 'LoadPseudoDepth', 'MapSegLabels',
    'DepthTargetTransform', 'LoadSingleViewDepthSegAnnotations', 'DepthSegPad'
]
