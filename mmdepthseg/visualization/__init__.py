# Copyright (c) mmdepthseg contributors. All rights reserved.
from .colormap import colorize_depth, inverse_depth, inverse_depth_range
from .local_visualizer import DepthSegLocalVisualizer

__all__ = [
    'DepthSegLocalVisualizer', 'colorize_depth', 'inverse_depth',
    'inverse_depth_range'
]
