# Copyright (c) mmdepthseg contributors. All rights reserved.
from .adversarial_loss import (INTER_MODES, discriminator_loss,
                               inter_domain_loss, intra_domain_loss)
from .berhu_loss import BerHuLoss, berhu
from .confidence_l1_loss import ConfidenceWeightedL1Loss
from .cross_view_loss import (DEPTH_UNITS, CrossViewDepthConsistencyLoss,
                              CrossViewSegConsistencyLoss, cross_view_warp,
                              depth_in_unit)
from .depth_l1_loss import DepthL1Loss
from .photometric_loss import PhotometricReprojectionLoss
from .sgt_loss import SemanticGuidedTripletLoss
from .smoothness_loss import EdgeAwareSmoothnessLoss

__all__ = [
    'DepthL1Loss', 'PhotometricReprojectionLoss', 'EdgeAwareSmoothnessLoss',
    'SemanticGuidedTripletLoss', 'ConfidenceWeightedL1Loss',
    'CrossViewDepthConsistencyLoss', 'CrossViewSegConsistencyLoss',
    'cross_view_warp', 'depth_in_unit', 'DEPTH_UNITS', 'BerHuLoss', 'berhu',
    'discriminator_loss', 'intra_domain_loss', 'inter_domain_loss',
    'INTER_MODES'
]
