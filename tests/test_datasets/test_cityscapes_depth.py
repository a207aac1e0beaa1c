# Copyright (c) mmdepthseg contributors. All rights reserved.
"""CityscapesDepthSegDataset on a tiny tree in the real Cityscapes layout."""
import os
import os.path as osp

import numpy as np
import pytest

from mmdepthseg.datasets import CityscapesDepthSegDataset

LOAD = [dict(type='LoadMultiViewImages'), dict(type='LoadDepthSegAnnotations')]
STEM = 'aachen/aachen_000000_000019'


def _prefix(**extra):
    prefix = dict(
        img_path='leftImg8bit/train',
        seg_map_path='gtFine/train',
        disp_path='disparity/train',
        camera_path='camera/train')
    prefix.update(extra)
    return {k: v for k, v in prefix.items() if v is not None}


def test_data_list_paths_and_camera(cityscapes_root):
    ds = CityscapesDepthSegDataset(
        data_root=cityscapes_root, data_prefix=_prefix())
    assert len(ds) == 2
    info = ds.get_data_info(0)
    assert info['img_path'] == osp.join(cityscapes_root, 'leftImg8bit',
                                        'train', STEM + '_leftImg8bit.png')
    assert info['view_names'] == ('l', )
    assert info['seg_map_paths'] == [
        osp.join(cityscapes_root, 'gtFine', 'train',
                 STEM + '_gtFine_labelTrainIds.png')
    ]
    assert info['label_id_format'] == 'trainIds'
    # camera JSON: fx 2000, fy 2010, u0 15.5, v0 7.5, baseline 0.2
    np.testing.assert_allclose(info['intrinsics'],
                               [[2000, 0, 15.5], [0, 2010, 7.5], [0, 0, 1]])
    assert info['disp_to_depth'] == pytest.approx(400.0)
    assert info['baseline'] == pytest.approx(0.2)  # the rig's, for disp_err
    assert 'stereo_T' not in info  # monocular
    assert ds.metainfo['classes'] == ('road', 'sidewalk', 'building', 'wall',
                                      'fence', 'pole', 'traffic light',
                                      'traffic sign', 'vegetation', 'terrain',
                                      'sky', 'person', 'rider', 'car', 'truck',
                                      'bus', 'train', 'motorcycle', 'bicycle')


def test_depth_from_disparity_through_the_loader(cityscapes_root):
    ds = CityscapesDepthSegDataset(
        data_root=cityscapes_root, data_prefix=_prefix(), pipeline=LOAD)
    results = ds[0]
    depth = results['gt_depth_map']
    assert depth.shape == (1, 16, 32) and depth.dtype == np.float32
    # rows: p=257 -> 1 px -> 0.2 * 2000 / 1 = 400 m; 513 -> 200 m;
    # 0 and 1 invalid; 129 -> 0.5 px -> 800 m
    np.testing.assert_allclose(depth[0, :5, 0], [400, 200, 0, 0, 800])
    assert results['gt_seg_map'].shape == (1, 16, 32)
    assert results['seg_fields'] == ['gt_seg_map']
    assert results['depth_fields'] == ['gt_depth_map']


def test_label_ids_mapped_like_train_id_files(cityscapes_root):
    from_train_ids = CityscapesDepthSegDataset(
        data_root=cityscapes_root, data_prefix=_prefix(), pipeline=LOAD)[0]
    from_label_ids = CityscapesDepthSegDataset(
        data_root=cityscapes_root,
        data_prefix=_prefix(),
        seg_map_suffix='_gtFine_labelIds.png',
        pipeline=LOAD)[0]
    assert from_label_ids['label_id_format'] == 'cityscapes_labelIds'
    np.testing.assert_array_equal(from_label_ids['gt_seg_map'],
                                  from_train_ids['gt_seg_map'])
    # columns: road (7 -> 0), car (26 -> 13), unlabelled (0 -> 255),
    # vegetation (21 -> 8)
    np.testing.assert_array_equal(from_label_ids['gt_seg_map'][0, 3, :4],
                                  [0, 13, 255, 8])


def test_stereo_views_with_baseline(cityscapes_root):
    ds = CityscapesDepthSegDataset(
        data_root=cityscapes_root,
        data_prefix=_prefix(right_img_path='rightImg8bit/train'),
        views=('l', 'r'),
        pipeline=LOAD)
    info = ds.get_data_info(0)
    assert info['img_paths'][1].endswith('rightImg8bit/train/' + STEM +
                                         '_rightImg8bit.png')
    assert info['baseline'] == pytest.approx(0.2)
    assert info['stereo_T'][0, 3] == pytest.approx(-0.2)
    results = ds[0]
    assert results['img'].shape == (16, 32, 6)
    assert results['view_names'] == ('l', 'r')


def test_seg_only_and_depth_only_sources(cityscapes_root):
    seg_only = CityscapesDepthSegDataset(
        data_root=cityscapes_root,
        data_prefix=_prefix(disp_path=None, camera_path=None),
        pipeline=LOAD)[0]
    assert 'gt_seg_map' in seg_only and 'gt_depth_map' not in seg_only
    assert 'intrinsics' not in seg_only
    depth_only = CityscapesDepthSegDataset(
        data_root=cityscapes_root,
        data_prefix=_prefix(seg_map_path=None),
        pipeline=LOAD)[0]
    assert 'gt_depth_map' in depth_only and 'gt_seg_map' not in depth_only


def test_missing_root_names_path_and_readme(tmp_path):
    root = str(tmp_path / 'no_cityscapes')
    with pytest.raises(FileNotFoundError) as err:
        CityscapesDepthSegDataset(data_root=root, data_prefix=_prefix())
    assert root in str(err.value) and 'Dataset preparation' in str(err.value)


def test_missing_disparity_names_path(cityscapes_root):
    path = osp.join(cityscapes_root, 'disparity', 'train',
                    STEM + '_disparity.png')
    os.remove(path)
    with pytest.raises(FileNotFoundError, match=path):
        CityscapesDepthSegDataset(
            data_root=cityscapes_root, data_prefix=_prefix())


def test_missing_right_view_prefix_rejected(cityscapes_root):
    with pytest.raises(KeyError, match='right_img_path'):
        CityscapesDepthSegDataset(
            data_root=cityscapes_root, data_prefix=_prefix(), views=('l', 'r'))


def test_corrupt_label_names_file(cityscapes_root):
    path = osp.join(cityscapes_root, 'gtFine', 'train',
                    STEM + '_gtFine_labelTrainIds.png')
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\ntruncated')
    ds = CityscapesDepthSegDataset(
        data_root=cityscapes_root,
        data_prefix=_prefix(),
        pipeline=LOAD,
        serialize_data=False)
    with pytest.raises(OSError, match='_gtFine_labelTrainIds.png'):
        ds.pipeline(ds.get_data_info(0))
