# Copyright (c) mmdepthseg contributors. All rights reserved.
from .cma import BidirectionalCMA, CrossTaskMultiEmbeddingAttention
from .geometry import (backproject_depth, depth_to_disparity, disp_to_depth,
                       disparity_to_depth, flip_post_process_disparity,
                       pixel_grid, pixels_to_grid, project_points,
                       rot_from_axisangle, sigmoid_to_depth, stereo_warp,
                       transformation_from_parameters, view_synthesis)
from .ssim import SSIM

__all__ = [
    'pixel_grid', 'backproject_depth', 'project_points', 'pixels_to_grid',
    'view_synthesis', 'rot_from_axisangle', 'transformation_from_parameters',
    'disp_to_depth', 'sigmoid_to_depth', 'depth_to_disparity',
    'disparity_to_depth', 'stereo_warp', 'flip_post_process_disparity',
    'SSIM', 'CrossTaskMultiEmbeddingAttention', 'BidirectionalCMA'
]
