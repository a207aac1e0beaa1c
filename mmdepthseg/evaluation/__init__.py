# Copyright (c) mmdepthseg contributors. All rights reserved.
from .functional import (crop_mask, depth_metrics, disparity_error,
                         eigen_crop_mask, garg_crop_mask, median_scale,
                         nyu_crop_mask, valid_depth_mask)
from .metrics import DepthMetric, DepthSegMetric, MultiDomainDepthSegMetric

__all__ = [
    'DepthMetric', 'DepthSegMetric', 'MultiDomainDepthSegMetric',
    'depth_metrics', 'disparity_error', 'garg_crop_mask', 'eigen_crop_mask',
    'nyu_crop_mask', 'crop_mask', 'median_scale', 'valid_depth_mask'
]
