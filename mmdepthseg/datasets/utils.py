# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Readers and conversions shared by the dataset classes and loaders.

A facade: every name is defined in the module of its concern and
re-exported here, so that ``from mmdepthseg.datasets.utils import X`` keeps
working:

- :mod:`.io`: general I/O (``read_image``, ``check_file_exists``,
  ``list_dataset_images``, ``stack_views``);
- :mod:`.kitti_io`: KITTI raw calibration, velodyne, split files and depth
  PNGs;
- :mod:`.cityscapes_io`: Cityscapes label ids / categories and camera /
  disparity files;
- :mod:`.label_tables`: the named label lookup tables and id mapping;
- :mod:`mmdepthseg.structures.camera`: ``normalised_to_absolute_intrinsics``.
"""
from mmdepthseg.structures.camera import normalised_to_absolute_intrinsics
from .cityscapes_io import (CITYSCAPES_CATEGORIES,
                            CITYSCAPES_LABEL_ID_TO_CATEGORY,
                            CITYSCAPES_LABEL_ID_TO_TRAIN_ID,
                            CITYSCAPES_TRAIN_ID_TO_CATEGORY,
                            cityscapes_disparity_to_depth,
                            read_cityscapes_camera)
from .io import (DATASET_PREP_HINT, check_file_exists, list_dataset_images,
                 read_file_bytes, read_image, stack_views)
from .kitti_io import (KITTI_CAM_CALIB_KEYS, KITTI_GT_DEPTH_KINDS,
                       KITTI_GT_DEPTH_VALUES, KITTI_IMPROVED_GT_DIR,
                       KITTI_IMPROVED_GT_SUBSETS, KITTI_VELO_CALIB_KEYS,
                       KittiCalibration, check_kitti_split_folders,
                       kitti_improved_gt_path, kitti_stereo_baseline,
                       kitti_velo_to_image, load_kitti_calib, read_calib_file,
                       read_kitti_depth_png, read_kitti_split,
                       read_kitti_split_lines, read_velodyne_points,
                       velodyne_to_depth_map)
from .label_tables import (LABEL_ID_DOMAINS, LABEL_LUTS, label_table,
                           map_label_ids, register_label_table)

#: The former private name of :func:`~.io.read_file_bytes`.
_get_bytes = read_file_bytes

__all__ = [
    'CITYSCAPES_CATEGORIES', 'CITYSCAPES_LABEL_ID_TO_CATEGORY',
    'CITYSCAPES_LABEL_ID_TO_TRAIN_ID', 'CITYSCAPES_TRAIN_ID_TO_CATEGORY',
    'DATASET_PREP_HINT', 'KITTI_CAM_CALIB_KEYS', 'KITTI_GT_DEPTH_KINDS',
    'KITTI_GT_DEPTH_VALUES', 'KITTI_IMPROVED_GT_DIR',
    'KITTI_IMPROVED_GT_SUBSETS', 'KITTI_VELO_CALIB_KEYS', 'KittiCalibration',
    'LABEL_ID_DOMAINS', 'LABEL_LUTS', 'check_file_exists',
    'check_kitti_split_folders', 'cityscapes_disparity_to_depth',
    'kitti_improved_gt_path', 'kitti_stereo_baseline', 'kitti_velo_to_image',
    'label_table', 'list_dataset_images', 'load_kitti_calib', 'map_label_ids',
    'normalised_to_absolute_intrinsics', 'read_calib_file',
    'read_cityscapes_camera', 'read_file_bytes', 'read_image',
    'read_kitti_depth_png', 'read_kitti_split', 'read_kitti_split_lines',
    'read_velodyne_points', 'register_label_table', 'stack_views',
    'velodyne_to_depth_map'
]
