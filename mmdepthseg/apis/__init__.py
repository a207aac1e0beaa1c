# Copyright (c) mmdepthseg contributors. All rights reserved.
"""High-level entry points (inference helpers)."""
from .inferencer import DepthSegInferencer
from .pointcloud import (backproject_depth, backproject_depth_map,
                         depth_to_point_cloud, read_ply, write_ply)
from .pseudo_seg import (build_inference_pipeline, generate_pseudo_seg,
                         init_segmentor, list_images, map_output_path,
                         predict_labels, write_label_png)

__all__ = [
    'DepthSegInferencer', 'backproject_depth', 'backproject_depth_map',
    'build_inference_pipeline', 'depth_to_point_cloud', 'generate_pseudo_seg',
    'init_segmentor', 'list_images', 'map_output_path', 'predict_labels',
    'read_ply', 'write_label_png', 'write_ply'
]
