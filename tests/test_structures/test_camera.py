# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Camera operations by value, and the old import paths."""
import numpy as np
import pytest

import mmdepthseg.apis as apis
import mmdepthseg.apis.pointcloud as pointcloud
import mmdepthseg.datasets.transforms as transforms
import mmdepthseg.datasets.transforms.transforms as transforms_module
import mmdepthseg.datasets.utils as dataset_utils
from mmdepthseg.structures import camera


def test_intrinsics_operations_by_hand():
    k = np.array([[100., 0., 49.5], [0., 80., 29.5], [0., 0., 1.]])
    # a resize by 2 maps the centre of a 100 px wide image (49.5) to the
    # centre of the 200 px wide one (99.5)
    np.testing.assert_allclose(
        camera.scale_intrinsics(k, 2, 0.5),
        [[200., 0., 99.5], [0., 40., 14.5], [0., 0., 1.]])
    np.testing.assert_allclose(
        camera.crop_intrinsics(k, 10, 5),
        [[100., 0., 39.5], [0., 80., 24.5], [0., 0., 1.]])
    np.testing.assert_allclose(camera.hflip_intrinsics(k, 100)[0, 2], 49.5)
    np.testing.assert_allclose(camera.hflip_intrinsics(k, 120)[0, 2], 69.5)
    # monodepth2: row 0 x width, row 1 x height (c = 0.5 -> W / 2)
    k_norm = np.array([[0.58, 0, 0.5], [0, 1.92, 0.5], [0, 0, 1]])
    np.testing.assert_allclose(
        camera.normalised_to_absolute_intrinsics(k_norm, 640, 192),
        [[371.2, 0, 320], [0, 368.64, 96], [0, 0, 1]],
        rtol=1e-6)


def test_backprojection_by_hand():
    depth = np.array([[2., 4.]], np.float32)
    points = camera.backproject_depth_map(depth, (2., 4., 1., 0.))
    # pixel (0, 0): X = (0 - 1) * 2 / 2 = -1; pixel (1, 0): X = 0
    np.testing.assert_allclose(points, [[[-1., 0., 2.], [0., 0., 4.]]])
    with pytest.raises(ValueError):
        camera.as_intrinsics_matrix((0., 1., 0., 0.))


@pytest.mark.parametrize('module,name', [
    (transforms_module, 'scale_intrinsics'),
    (transforms_module, 'crop_intrinsics'),
    (transforms_module, 'hflip_intrinsics'),
    (transforms, 'scale_intrinsics'),
    (dataset_utils, 'normalised_to_absolute_intrinsics'),
    (pointcloud, 'as_intrinsics_matrix'),
    (pointcloud, 'backproject_depth_map'),
    (pointcloud, 'IntrinsicsType'),
    (apis, 'backproject_depth_map'),
])
def test_old_import_paths_are_the_same_objects(module, name):
    assert getattr(module, name) is getattr(camera, name)
    assert pointcloud.backproject_depth is camera.backproject_depth_map


def test_undistorted_intrinsics_moved_with_the_old_path():
    import mmdepthseg.datasets.camera_files as camera_files
    assert camera_files.undistorted_intrinsics is \
        camera.undistorted_intrinsics
    k = np.array([[100., 0., 49.5], [0., 100., 29.5], [0., 0., 1.]])
    # no distortion: the camera is unchanged
    np.testing.assert_allclose(
        camera.undistorted_intrinsics(k, np.zeros(5), 100, 60), k, atol=1e-6)
