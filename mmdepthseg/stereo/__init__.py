# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Stereo matching, confidence and pseudo depth labels (Pseudo-MTL)."""
from .confidence import (LRConsistencyConfidence, lr_consistency_error,
                         sample_rows_linear, soft_threshold)
from .confidence_eval import (average_metrics, confidence_metrics,
                              sparsification_curve)
from .learned_confidence import (CCNN, LearnedConfidence, ThresholdNet,
                                 load_confidence_checkpoint,
                                 save_confidence_checkpoint, train_ccnn,
                                 train_threshold)
from .matchers import BaseStereoMatcher, SGBMMatcher
from .pseudo_depth import (CONF_SCALE, DEPTH_SCALE, compute_pseudo_depth,
                           decode_conf_png, decode_depth_png,
                           disparity_map_to_depth, disparity_to_depth,
                           encode_conf_png, encode_depth_png,
                           generate_dataset_pseudo_depth,
                           generate_pseudo_depth, list_cityscapes_stereo_pairs,
                           list_kitti_stereo_pairs, pair_fx_baseline)
from .stereo_data import (list_stereo_gt, load_stereo_gt,
                          read_cityscapes_disparity, read_kitti_disparity,
                          write_synthetic_stereo)

__all__ = [
    'BaseStereoMatcher', 'SGBMMatcher', 'LRConsistencyConfidence',
    'lr_consistency_error', 'sample_rows_linear', 'soft_threshold',
    'DEPTH_SCALE', 'CONF_SCALE', 'disparity_map_to_depth',
    'disparity_to_depth', 'encode_depth_png', 'decode_depth_png',
    'encode_conf_png', 'decode_conf_png', 'compute_pseudo_depth',
    'generate_pseudo_depth', 'generate_dataset_pseudo_depth',
    'list_kitti_stereo_pairs', 'list_cityscapes_stereo_pairs',
    'pair_fx_baseline', 'CCNN', 'ThresholdNet', 'LearnedConfidence',
    'train_ccnn', 'train_threshold', 'save_confidence_checkpoint',
    'load_confidence_checkpoint', 'confidence_metrics', 'average_metrics',
    'sparsification_curve', 'list_stereo_gt', 'load_stereo_gt',
    'read_kitti_disparity', 'read_cityscapes_disparity',
    'write_synthetic_stereo'
]
