# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Calibration parsing, velodyne projection, disparity decoding, labels."""
import os.path as osp

import numpy as np
import pytest

from mmdepthseg.datasets.utils import (cityscapes_disparity_to_depth,
                                       kitti_stereo_baseline,
                                       kitti_velo_to_image,
                                       list_dataset_images, load_kitti_calib,
                                       map_label_ids,
                                       normalised_to_absolute_intrinsics,
                                       read_calib_file, read_image,
                                       read_kitti_split, stack_views,
                                       velodyne_to_depth_map)

DATE = '2011_09_26'


def test_read_calib_file_parses_numbers_and_keeps_text(kitti_root):
    calib = read_calib_file(osp.join(kitti_root, DATE, 'calib_cam_to_cam.txt'))
    assert calib['calib_time'] == '09-Jan-2012 13:57:47'
    np.testing.assert_allclose(calib['S_rect_02'], [40, 24])
    # P_rect_02 = [[20, 0, 20, 20 * 0.06], [0, 20, 12, 0], [0, 0, 1, 0]]
    np.testing.assert_allclose(calib['P_rect_02'],
                               [20, 0, 20, 1.2, 0, 20, 12, 0, 0, 0, 1, 0])


def test_load_kitti_calib_shapes_and_baseline(kitti_root):
    calib = load_kitti_calib(osp.join(kitti_root, DATE))
    assert calib['P_rect_03'].shape == (3, 4)
    assert calib['R_rect_00'].shape == (4, 4)
    assert calib['velo2cam'].shape == (4, 4)
    # cameras 02 / 03 sit 0.06 m left of / 0.47 m right of camera 00.
    assert kitti_stereo_baseline(calib) == pytest.approx(0.53)


def test_load_kitti_calib_missing_file_names_path(tmp_path):
    with pytest.raises(FileNotFoundError, match='calib_cam_to_cam.txt'):
        load_kitti_calib(str(tmp_path))


def test_velodyne_point_lands_on_hand_computed_pixel(kitti_root):
    calib = load_kitti_calib(osp.join(kitti_root, DATE))
    velo2img = kitti_velo_to_image(calib, 2)
    # velodyne (10, 0.5, 0.2) -> camera (-0.5, -0.2 - 0.08, 10 - 0.27)
    # u = (20 * -0.5 + 20 * 9.73 + 1.2) / 9.73 = 19.0956 -> round - 1 = 18
    # v = (20 * -0.28 + 12 * 9.73) / 9.73 = 11.4245 -> round - 1 = 10
    points = np.array([[10, 0.5, 0.2, 1]], dtype=np.float32)
    depth = velodyne_to_depth_map(points, velo2img, (24, 40))
    assert depth.shape == (24, 40) and depth.dtype == np.float32
    # the benchmark stores the velodyne forward coordinate x = 10, not z
    assert depth[10, 18] == 10.0
    assert np.count_nonzero(depth) == 1
    depth = velodyne_to_depth_map(points, velo2img, (24, 40), value='camera_z')
    assert depth[10, 18] == pytest.approx(9.73, abs=1e-5)
    assert np.count_nonzero(depth) == 1


def test_velodyne_nearest_wins_and_invisible_points_dropped(kitti_root):
    calib = load_kitti_calib(osp.join(kitti_root, DATE))
    velo2img = kitti_velo_to_image(calib, 2)
    points = np.array(
        [
            # camera (0, 0, 20) and (0, 0, 10): velodyne = R^T (cam - T)
            [20.27, 0.0, -0.08, 1],
            [10.27, 0.0, -0.08, 1],
            [-10, 0, 0, 1],  # behind the scanner (x < 0)
            [10, 50, 0, 1],  # far left, outside the image
        ],
        dtype=np.float32)
    # z = 10: u = (20 * 10 + 1.2) / 10 = 20.12, v = 12 -> pixel (19, 11);
    # z = 20: u = 20.06, v = 12 -> the same pixel; the nearer point wins
    # (velodyne x 10.27 by default, camera z 10 with value='camera_z').
    depth = velodyne_to_depth_map(points, velo2img, (24, 40))
    assert np.count_nonzero(depth) == 1
    assert depth[11, 19] == np.float32(10.27)
    depth = velodyne_to_depth_map(points, velo2img, (24, 40), value='camera_z')
    assert np.count_nonzero(depth) == 1
    assert depth[11, 19] == pytest.approx(10.0, abs=1e-4)
    with pytest.raises(ValueError, match='velodyne_x'):
        velodyne_to_depth_map(points, velo2img, (24, 40), value='z')


def test_cityscapes_disparity_to_depth_by_hand():
    p = np.array([[257, 513, 0, 1]], dtype=np.uint16)
    # disparity (257 - 1) / 256 = 1 px -> 0.2 * 2000 / 1 = 400 m;
    # 513 -> 2 px -> 200 m; p = 0 invalid; p = 1 zero disparity -> invalid.
    depth = cityscapes_disparity_to_depth(p, 0.2 * 2000)
    np.testing.assert_allclose(depth, [[400, 200, 0, 0]])
    assert depth.dtype == np.float32


def test_map_label_ids_cityscapes_table():
    ids = np.array([7, 8, 26, 33, 0, 1, 34, 255], dtype=np.uint8)
    np.testing.assert_array_equal(
        map_label_ids(ids, 'cityscapes_labelIds'),
        [0, 1, 13, 18, 255, 255, 255, 255])
    np.testing.assert_array_equal(map_label_ids(ids, 'trainIds'), ids)
    with pytest.raises(KeyError, match='unknown label id format'):
        map_label_ids(ids, 'nyu40')


def test_normalised_intrinsics_scaled_by_image_size():
    k = normalised_to_absolute_intrinsics(
        [[0.58, 0, 0.5], [0, 1.92, 0.5], [0, 0, 1]], width=640, height=192)
    np.testing.assert_allclose(
        k, [[371.2, 0, 320], [0, 368.64, 96], [0, 0, 1]], rtol=1e-6)


def test_read_image_missing_file_names_path_and_readme(tmp_path):
    path = str(tmp_path / 'nope.png')
    with pytest.raises(FileNotFoundError) as err:
        read_image(path)
    assert path in str(err.value)
    assert 'Dataset preparation' in str(err.value)


def test_read_image_corrupt_file_names_path(tmp_path):
    path = tmp_path / 'broken.png'
    path.write_bytes(b'\x89PNG\r\n\x1a\n not really a png')
    with pytest.raises(OSError, match='broken.png'):
        read_image(str(path))


def test_read_kitti_split_plain_and_zero_padded(tmp_path):
    path = tmp_path / 'split.txt'
    path.write_text('2011_09_26/2011_09_26_drive_0002_sync 0000000069 l\n'
                    '2011_09_29/2011_09_29_drive_0026_sync 1 r\n\n')
    assert read_kitti_split(str(path)) == [
        ('2011_09_26/2011_09_26_drive_0002_sync', 69, 'l'),
        ('2011_09_29/2011_09_29_drive_0026_sync', 1, 'r')
    ]
    path.write_text('2011_09_26/2011_09_26_drive_0002_sync 69 left\n')
    with pytest.raises(ValueError, match='split.txt:1'):
        read_kitti_split(str(path))


def test_stack_views_size_mismatch_names_files():
    a, b = np.zeros((4, 6, 3), np.uint8), np.zeros((4, 7, 3), np.uint8)
    assert stack_views([a, a], ['a', 'a']).shape == (4, 6, 6)
    with pytest.raises(ValueError, match='a.png 6x4, b.png 7x4'):
        stack_views([a, b], ['a.png', 'b.png'])


def test_list_dataset_images_checks_folders_and_lists_sorted(tmp_path):
    root = tmp_path / 'root'
    prefix = dict(img_path=str(root / 'img'), seg_map_path=str(root / 'lbl'))
    with pytest.raises(FileNotFoundError, match='Demo data root'):
        list_dataset_images(str(root), prefix, '.png', 'Demo')
    (root / 'img' / 'b').mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match='Demo label folder'):
        list_dataset_images(
            str(root),
            prefix,
            '.png',
            'Demo',
            folders=(('seg_map_path', 'label folder'), ))
    (root / 'lbl').mkdir()
    with pytest.raises(FileNotFoundError, match=r'no \*\.png image under'):
        list_dataset_images(str(root), prefix, '.png', 'Demo')
    for name in ('b/2.png', '1.png', 'b/0.png', 'x.jpg'):
        (root / 'img' / name).write_bytes(b'')
    assert list_dataset_images(
        str(root),
        prefix,
        '.png',
        'Demo',
        folders=(('seg_map_path',
                  'label folder'), )) == ['1.png', 'b/0.png', 'b/2.png']
    assert list_dataset_images(
        str(root), prefix, '.png', 'Demo', recursive=False) == ['1.png']
