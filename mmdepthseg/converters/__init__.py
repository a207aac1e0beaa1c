# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Dataset preparation logic behind ``tools/dataset_converters/``."""
from .isprs import check_isprs_tiles, convert_isprs
from .kitti import (CALIB_FILES, REQUIRED_SPLIT_FILES, SPLITS_SOURCE,
                    check_kitti_raw_tree, convert_kitti_to_jpeg,
                    convert_png_to_jpeg, copy_split_files, default_gt_depth,
                    export_eigen_gt, gt_depth_key, kitti_gt_depth,
                    list_kitti_colour_images, load_gt_depths,
                    prepare_kitti_raw)

__all__ = [
    'convert_isprs', 'check_isprs_tiles', 'CALIB_FILES',
    'REQUIRED_SPLIT_FILES', 'SPLITS_SOURCE', 'check_kitti_raw_tree',
    'convert_kitti_to_jpeg', 'convert_png_to_jpeg', 'copy_split_files',
    'default_gt_depth', 'export_eigen_gt', 'gt_depth_key', 'kitti_gt_depth',
    'list_kitti_colour_images', 'load_gt_depths', 'prepare_kitti_raw'
]
