# Copyright (c) mmdepthseg contributors. All rights reserved.
from .depth_l1_loss import DepthL1Loss
from .photometric_loss import PhotometricReprojectionLoss
from .sgt_loss import SemanticGuidedTripletLoss
from .smoothness_loss import EdgeAwareSmoothnessLoss

__all__ = [
    'DepthL1Loss', 'PhotometricReprojectionLoss', 'EdgeAwareSmoothnessLoss',
    'SemanticGuidedTripletLoss'
]
