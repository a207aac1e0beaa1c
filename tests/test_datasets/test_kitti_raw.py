# Copyright (c) mmdepthseg contributors. All rights reserved.
"""KittiRawDataset on a tiny tree in the real KITTI raw layout."""
import os
import os.path as osp

import numpy as np
import pytest

from mmdepthseg.datasets import KittiRawDataset
from mmdepthseg.registry import DATASETS

FOLDER = '2011_09_26/2011_09_26_drive_0001_sync'


def _pipeline():
    return [
        dict(type='LoadMultiViewImages'),
        dict(type='LoadDepthSegAnnotations'),
    ]


def test_monocular_video_drops_sequence_ends(kitti_root):
    ds = KittiRawDataset(
        split_file='splits/train.txt',
        data_root=kitti_root,
        frame_ids=(0, -1, 1))
    # frames 0..4 on both sides: frames 0 and 4 lack a neighbour.
    assert len(ds) == 6
    info = ds.get_data_info(0)
    assert info['view_names'] == ('t', 't-1', 't+1')
    assert (info['frame_index'], info['side']) == (1, 'l')
    drive = osp.join(kitti_root, FOLDER)
    assert info['img_paths'] == [
        osp.join(drive, 'image_02', 'data', f'{i:010d}.png') for i in (1, 0, 2)
    ]
    right = ds.get_data_info(1)
    assert right['side'] == 'r'
    assert right['img_path'] == osp.join(drive, 'image_03', 'data',
                                         '0000000001.png')
    assert 'baseline' not in info and 'stereo_T' not in info


def test_stereo_pairs_named_by_side_with_calib_baseline(kitti_root):
    ds = KittiRawDataset(
        split_file='splits/train.txt',
        data_root=kitti_root,
        frame_ids=(0, 's'),
        intrinsics_mode='calib')
    assert len(ds) == 10
    left, right = ds.get_data_info(0), ds.get_data_info(1)
    assert left['view_names'] == ('l', 'r')
    assert right['view_names'] == ('r', 'l')
    assert left['img_paths'][1].endswith('image_03/data/0000000000.png')
    assert right['img_paths'][1].endswith('image_02/data/0000000000.png')
    # baseline = 0.06 - (-0.47) from P_rect_02 / P_rect_03
    assert left['baseline'] == pytest.approx(0.53)
    # T_ref2other: the right camera is at +b along x.
    assert left['stereo_T'][0, 3] == pytest.approx(-0.53)
    assert right['stereo_T'][0, 3] == pytest.approx(0.53)
    np.testing.assert_allclose(left['intrinsics'],
                               [[20, 0, 20], [0, 20, 12], [0, 0, 1]])


def test_normalised_mode_baseline_default_and_override(kitti_root):
    ds = KittiRawDataset(
        split_file='splits/train.txt',
        data_root=kitti_root,
        frame_ids=(0, 's'))
    assert ds.get_data_info(0)['baseline'] == pytest.approx(0.1)
    ds = KittiRawDataset(
        split_file='splits/train.txt',
        data_root=kitti_root,
        frame_ids=(0, -1, 1, 's'),
        baseline=0.54)
    info = ds.get_data_info(0)
    assert info['view_names'] == ('t', 't-1', 't+1', 's')
    assert info['stereo_T'][0, 3] == pytest.approx(-0.54)


def test_eigen_test_pipeline_velodyne_depth_and_labels(kitti_root):
    # Frame 3 gets one velodyne point whose pixel and depth are known:
    # velodyne (10, 0.5, 0.2) = camera (-0.5, -0.28, 9.73) -> pixel (18, 10)
    # (see test_dataset_utils for the arithmetic); the benchmark's ground
    # truth stores the velodyne x = 10, the camera depth is 9.73.
    pts = np.array([[10, 0.5, 0.2, 1]], dtype=np.float32)
    pts.tofile(
        osp.join(kitti_root, FOLDER, 'velodyne_points', 'data',
                 '0000000003.bin'))
    ds = KittiRawDataset(
        split_file='splits/test.txt',
        data_root=kitti_root,
        load_depth_from_velodyne=True,
        seg_dir='semantic_{cam:02d}',
        test_mode=True,
        pipeline=_pipeline())
    assert len(ds) == 2
    results = ds[1]
    assert results['view_names'] == ('l', )
    assert results['img'].shape == (24, 40, 3)
    depth = results['gt_depth_map']
    assert depth.shape == (1, 24, 40) and depth.dtype == np.float32
    assert depth[0, 10, 18] == 10.0
    assert np.count_nonzero(depth) == 1
    seg = results['gt_seg_map']
    assert seg.shape == (1, 24, 40) and seg.dtype == np.uint8
    assert seg[0, 5, 5] == 3 and seg[0, 0, 0] == 255
    # monodepth2's normalised K times the loaded 40x24 image
    np.testing.assert_allclose(
        results['intrinsics'],
        [[0.58 * 40, 0, 20], [0, 1.92 * 24, 12], [0, 0, 1]],
        rtol=1e-6)


def test_build_from_registry_and_split_relative_to_cwd(kitti_root,
                                                       monkeypatch):
    # the split path exists relative to the working directory only
    monkeypatch.chdir(osp.dirname(kitti_root))
    ds = DATASETS.build(
        dict(
            type='KittiRawDataset',
            split_file=osp.join(
                osp.basename(kitti_root), 'splits', 'train.txt'),
            data_root=kitti_root))
    assert isinstance(ds, KittiRawDataset) and len(ds) == 10
    assert ds.metainfo['classes'][13] == 'car'


def test_missing_root_names_path_and_readme(tmp_path):
    root = str(tmp_path / 'no_kitti')
    with pytest.raises(FileNotFoundError) as err:
        KittiRawDataset(split_file='x.txt', data_root=root)
    assert root in str(err.value) and 'Dataset preparation' in str(err.value)


def test_missing_split_and_reference_image_name_paths(kitti_root):
    with pytest.raises(FileNotFoundError, match='nope.txt'):
        KittiRawDataset(split_file='nope.txt', data_root=kitti_root)
    os.remove(
        osp.join(kitti_root, FOLDER, 'image_02', 'data', '0000000001.png'))
    with pytest.raises(FileNotFoundError, match='0000000001.png'):
        KittiRawDataset(split_file='splits/test.txt', data_root=kitti_root)


def test_missing_velodyne_scan_names_path(kitti_root):
    os.remove(
        osp.join(kitti_root, FOLDER, 'velodyne_points', 'data',
                 '0000000003.bin'))
    with pytest.raises(FileNotFoundError, match='0000000003.bin'):
        KittiRawDataset(
            split_file='splits/test.txt',
            data_root=kitti_root,
            load_depth_from_velodyne=True)


def test_corrupt_image_error_names_file(kitti_root):
    path = osp.join(kitti_root, FOLDER, 'image_02', 'data', '0000000001.png')
    with open(path, 'wb') as f:
        f.write(b'garbage')
    ds = KittiRawDataset(
        split_file='splits/test.txt',
        data_root=kitti_root,
        pipeline=_pipeline(),
        serialize_data=False)
    with pytest.raises(OSError, match='0000000001.png'):
        ds.pipeline(ds.get_data_info(0))


def test_bad_frame_ids_rejected(kitti_root):
    with pytest.raises(ValueError, match='start with 0'):
        KittiRawDataset(
            split_file='splits/train.txt',
            data_root=kitti_root,
            frame_ids=(-1, 0))
