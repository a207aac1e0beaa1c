# Copyright (c) mmdepthseg contributors. All rights reserved.
"""High-level entry points (inference helpers)."""
from .depth_output import depth_output_kind, model_depth_kind
from .inference_io import SaveOptions, write_label_png
from .inference_pipeline import (build_inference_pipeline,
                                 build_inferencer_pipeline,
                                 config_test_pipeline)
from .inferencer import DepthSegInferencer
from .model_loader import find_metafile_model, init_segmentor
from .pointcloud import (backproject_depth, backproject_depth_map,
                         depth_to_point_cloud, read_ply, write_ply)
from .pseudo_seg import (generate_pseudo_seg, list_images, map_output_path,
                         predict_labels)

__all__ = [
    'DepthSegInferencer', 'SaveOptions', 'backproject_depth',
    'backproject_depth_map', 'build_inference_pipeline',
    'build_inferencer_pipeline', 'config_test_pipeline', 'depth_output_kind',
    'depth_to_point_cloud', 'find_metafile_model', 'generate_pseudo_seg',
    'init_segmentor', 'list_images', 'map_output_path', 'model_depth_kind',
    'predict_labels', 'read_ply', 'write_label_png', 'write_ply'
]
