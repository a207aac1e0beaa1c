# Copyright (c) mmdepthseg contributors. All rights reserved.
"""LoadMultiViewImages / LoadDepthSegAnnotations."""
import cv2
import numpy as np
import pytest

from mmdepthseg.datasets.transforms import (LoadDepthSegAnnotations,
                                            LoadMultiViewImages)


def _write(path, array):
    assert cv2.imwrite(str(path), array)
    return str(path)


def test_views_stacked_bgr_in_path_order(tmp_path):
    a = np.zeros((4, 5, 3), np.uint8)
    a[..., 0], a[..., 2] = 10, 30  # B, R
    b = np.full((4, 5, 3), 200, np.uint8)
    paths = [_write(tmp_path / 'a.png', a), _write(tmp_path / 'b.png', b)]
    results = LoadMultiViewImages()(
        dict(img_paths=paths, view_names=('l', 'r')))
    assert results['img'].shape == (4, 5, 6)
    assert results['img'].dtype == np.uint8
    np.testing.assert_array_equal(results['img'][0, 0],
                                  [10, 0, 30] + [200] * 3)
    assert results['img_path'] == paths[0]
    assert results['ori_shape'] == results['img_shape'] == (4, 5)


def test_single_img_path_and_default_view_name(tmp_path):
    path = _write(tmp_path / 'a.png', np.zeros((4, 5, 3), np.uint8))
    results = LoadMultiViewImages()(dict(img_path=path))
    assert results['img_paths'] == [path]
    assert results['view_names'] == ('l', )


def test_views_of_different_size_name_both_files(tmp_path):
    paths = [
        _write(tmp_path / 'a.png', np.zeros((4, 5, 3), np.uint8)),
        _write(tmp_path / 'b.png', np.zeros((4, 6, 3), np.uint8))
    ]
    with pytest.raises(ValueError, match=r'a\.png 5x4.*b\.png 6x4'):
        LoadMultiViewImages()(dict(img_paths=paths, view_names=('l', 'r')))


def test_normalised_intrinsics_become_pixels(tmp_path):
    path = _write(tmp_path / 'a.png', np.zeros((10, 20, 3), np.uint8))
    results = LoadMultiViewImages()(
        dict(
            img_paths=[path],
            intrinsics=np.array([[0.5, 0, 0.5], [0, 1, 0.5], [0, 0, 1]]),
            intrinsics_normalised=True))
    np.testing.assert_allclose(results['intrinsics'],
                               [[10, 0, 10], [0, 10, 5], [0, 0, 1]])
    assert results['intrinsics'].dtype == np.float32
    assert not results['intrinsics_normalised']


def test_depth_png_and_npy_formats(tmp_path):
    png = np.array([[1500, 0], [65535, 1]], np.uint16)
    results = LoadDepthSegAnnotations()(
        dict(
            depth_map_paths=[_write(tmp_path / 'd.png', png)],
            depth_format='png',
            depth_scale=1000.,
            ori_shape=(2, 2)))
    np.testing.assert_allclose(results['gt_depth_map'],
                               [[[1.5, 0], [65.535, 0.001]]])
    np.save(tmp_path / 'd.npy', np.full((2, 2), 3.25))
    results = LoadDepthSegAnnotations()(
        dict(
            depth_map_paths=[str(tmp_path / 'd.npy')] * 2, depth_format='npy'))
    assert results['gt_depth_map'].shape == (2, 2, 2)
    assert results['gt_depth_map'].dtype == np.float32


def test_sample_without_labels_gets_no_maps():
    results = LoadDepthSegAnnotations()(dict(img_path='x.png'))
    assert 'gt_seg_map' not in results and 'gt_depth_map' not in results


def test_map_size_must_match_image(tmp_path):
    path = _write(tmp_path / 's.png', np.zeros((3, 3), np.uint8))
    with pytest.raises(
            ValueError, match=r's\.png: label map size 3x3 differs'):
        LoadDepthSegAnnotations()(dict(seg_map_paths=[path], ori_shape=(4, 4)))


def test_colour_label_png_rejected(tmp_path):
    path = _write(tmp_path / 's.png', np.zeros((3, 3, 3), np.uint8))
    with pytest.raises(ValueError, match='single-channel uint8'):
        LoadDepthSegAnnotations()(dict(seg_map_paths=[path]))


def test_unknown_depth_format_rejected(tmp_path):
    path = _write(tmp_path / 'd.png', np.zeros((3, 3), np.uint16))
    with pytest.raises(ValueError, match="unknown depth_format 'exr'"):
        LoadDepthSegAnnotations()(
            dict(depth_map_paths=[path], depth_format='exr'))
