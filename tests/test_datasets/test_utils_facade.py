# Copyright (c) mmdepthseg contributors. All rights reserved.
"""``mmdepthseg.datasets.utils`` is a facade over the split modules: every
name it exported before the split still resolves, to the same object."""
import pytest

import mmdepthseg.datasets.utils as facade
from mmdepthseg.datasets import cityscapes_io, io, kitti_io, label_tables
from mmdepthseg.structures import camera

# module -> names that were defined in datasets/utils.py before the split
MOVED = {
    io: ('DATASET_PREP_HINT', 'check_file_exists', 'list_dataset_images',
         'read_image', 'stack_views'),
    kitti_io:
    ('read_calib_file', 'KITTI_CAM_CALIB_KEYS', 'KITTI_VELO_CALIB_KEYS',
     'KittiCalibration', 'load_kitti_calib', 'kitti_velo_to_image',
     'kitti_stereo_baseline', 'read_velodyne_points', 'KITTI_GT_DEPTH_VALUES',
     'KITTI_GT_DEPTH_KINDS', 'velodyne_to_depth_map', 'read_kitti_split_lines',
     'read_kitti_split', 'check_kitti_split_folders', 'KITTI_IMPROVED_GT_DIR',
     'KITTI_IMPROVED_GT_SUBSETS', 'kitti_improved_gt_path',
     'read_kitti_depth_png'),
    cityscapes_io:
    ('CITYSCAPES_LABEL_ID_TO_TRAIN_ID', 'CITYSCAPES_TRAIN_ID_TO_CATEGORY',
     'CITYSCAPES_LABEL_ID_TO_CATEGORY', 'CITYSCAPES_CATEGORIES',
     'read_cityscapes_camera', 'cityscapes_disparity_to_depth'),
    label_tables: ('LABEL_LUTS', 'LABEL_ID_DOMAINS', 'register_label_table',
                   'map_label_ids', 'label_table'),
    camera: ('normalised_to_absolute_intrinsics', ),
}


@pytest.mark.parametrize('module,name',
                         [(m, n) for m, names in MOVED.items() for n in names])
def test_old_path_is_the_same_object(module, name):
    assert getattr(facade, name) is getattr(module, name)
    assert name in facade.__all__


def test_registering_a_table_is_seen_through_the_facade():
    """One ``LABEL_LUTS`` dict: a table registered through the new module
    is seen by readers that import the facade."""
    import numpy as np
    name = 'test_facade_identity_table'
    label_tables.register_label_table(name, np.arange(256, dtype=np.uint8))
    try:
        assert name in facade.LABEL_LUTS
        lut, _ = facade.label_table(name)
        assert lut[7] == 7
    finally:
        label_tables.LABEL_LUTS.pop(name)
