# Copyright (c) mmdepthseg contributors. All rights reserved.
"""High-level entry points (inference helpers)."""
from .pseudo_seg import (build_inference_pipeline, generate_pseudo_seg,
                         init_segmentor, list_images, map_output_path,
                         predict_labels, write_label_png)

__all__ = [
    'build_inference_pipeline', 'generate_pseudo_seg', 'init_segmentor',
    'list_images', 'map_output_path', 'predict_labels', 'write_label_png'
]
