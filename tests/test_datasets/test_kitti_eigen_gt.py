# Copyright (c) mmdepthseg contributors. All rights reserved.
"""KITTI Eigen ground truth as the published benchmark exports it.

The benchmark's ground truth (monodepth2's ``export_gt_depth.py``, i.e.
``generate_depth_map(calib_dir, velo_file, cam=2, vel_depth=True)``) is
checked value by value against an independent reimplementation written
here from the protocol's text: drop velodyne points with ``x < 0``, project
with ``P_rect_02 @ R_rect_00 @ [R|T]``, divide by the projective depth,
pixel = ``round(u) - 1, round(v) - 1``, keep pixels inside the image, store
the point's **velodyne x**, keep the smallest value per pixel. The scan and
calibration are crafted so that x and the camera-frame z differ (a lever
arm of 0.27 m plus a rotated scanner). Also: the improved ground truth
(KITTI depth-completion PNGs) and the converter's ``--gt-depth``.
"""
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmdepthseg.converters import (default_gt_depth, kitti_gt_depth,
                                   load_gt_depths, prepare_kitti_raw)
from mmdepthseg.datasets import KittiRawDataset
from mmdepthseg.datasets.utils import read_kitti_depth_png

DATE = '2011_09_26'
DRIVE = f'{DATE}_drive_0007_sync'
FOLDER = f'{DATE}/{DRIVE}'
H, W = 30, 50
LEVER = 0.27  # the scanner sits 0.27 m behind the camera (KITTI: 0.2718)


def _rot(axis: int, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    i, j = [k for k in range(3) if k != axis]
    r = np.eye(3)
    r[i, i], r[i, j], r[j, i], r[j, j] = c, -s, s, c
    return r


# Crafted calibration (what the files hold, to 12 significant digits).
P_RECT_02 = np.array([[24.0, 0.0, 25.3, 1.4], [0.0, 24.0, 14.6, 0.02],
                      [0.0, 0.0, 1.0, 0.003]])
R_RECT_00 = _rot(1, 0.01) @ _rot(0, -0.006)
# velodyne (x fwd, y left, z up) -> camera (x right, y down, z fwd), the
# scanner yawed by 3 degrees and pitched by 1, 0.27 m behind the camera
PERM = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])
R_VELO = PERM @ _rot(2, np.deg2rad(3.0)) @ _rot(1, np.deg2rad(1.0))
T_VELO = np.array([-0.004, -0.076, -LEVER])


def _ray_points() -> np.ndarray:
    """Velodyne points at rectified depths 30, 4 and 8 m that project to
    ``u = 17.2, v = 20.1`` (pixel row 19, column 16)."""
    k, t = P_RECT_02[:, :3], P_RECT_02[:, 3]
    rect = []
    for depth in (30.0, 4.0, 8.0):
        # (K X + t) = (u, v, 1) * (Z + t_z) with X = (a, b, Z)
        rhs = np.array([17.2, 20.1, 1.0]) * (depth + t[2]) - t
        rect.append(np.linalg.solve(k, rhs))
    cam0 = np.array(rect) @ R_RECT_00  # rows: R_rect^T x
    return (cam0 - T_VELO) @ R_VELO  # rows: R^T (cam0 - T)


RAY_POINTS = _ray_points()
RAY_PIXEL = (19, 16)


def _fmt(values) -> str:
    return ' '.join(f'{float(v):.12e}' for v in np.ravel(values))


def _as_written(values: np.ndarray) -> np.ndarray:
    """The values a parser reads back from :func:`_fmt`."""
    return np.array([float(v) for v in _fmt(values).split()]).reshape(
        values.shape)


def _scan(seed: int = 0) -> np.ndarray:
    """A velodyne scan with every case of the protocol."""
    rng = np.random.default_rng(seed)
    n = 600
    pts = np.stack([
        rng.uniform(-8, 60, n),  # some behind the scanner
        rng.uniform(-25, 25, n),  # many outside the image
        rng.uniform(-2.5, 1.5, n),
        rng.uniform(0, 1, n)
    ],
                   axis=1)
    # three points at 30, 4 and 8 m projecting to one pixel
    pts = np.concatenate([pts, np.c_[RAY_POINTS, np.ones(3)]])
    # a point between scanner and camera (0 <= x < 0.27, camera z < 0): the
    # benchmark keeps it when it projects inside the image
    pts = np.concatenate([pts, [[0.1, 0.0, 0.0, 1.0]]])
    return pts.astype(np.float32)


def _write_tree(root: str, scan: np.ndarray) -> str:
    date_dir = osp.join(root, DATE)
    drive = osp.join(date_dir, DRIVE)
    os.makedirs(osp.join(drive, 'image_02', 'data'))
    os.makedirs(osp.join(drive, 'velodyne_points', 'data'))
    with open(osp.join(date_dir, 'calib_cam_to_cam.txt'), 'w') as f:
        f.write('calib_time: 09-Jan-2012 13:57:47\n')
        f.write(f'S_rect_02: {_fmt([W, H])}\n')
        f.write(f'R_rect_00: {_fmt(R_RECT_00)}\n')
        f.write(f'P_rect_02: {_fmt(P_RECT_02)}\n')
    with open(osp.join(date_dir, 'calib_velo_to_cam.txt'), 'w') as f:
        f.write('calib_time: 15-Mar-2012 11:37:16\n')
        f.write(f'R: {_fmt(R_VELO)}\nT: {_fmt(T_VELO)}\n')
    for i in (0, 1):
        cv2.imwrite(
            osp.join(drive, 'image_02', 'data', f'{i:010d}.png'),
            np.zeros((H, W, 3), np.uint8))
        scan.tofile(
            osp.join(drive, 'velodyne_points', 'data', f'{i:010d}.bin'))
    os.makedirs(osp.join(root, 'splits', 'eigen'))
    os.makedirs(osp.join(root, 'splits', 'eigen_benchmark'))
    for split in ('eigen', 'eigen_benchmark'):
        with open(osp.join(root, 'splits', split, 'test_files.txt'), 'w') as f:
            f.write(f'{FOLDER} 0000000000 l\n{FOLDER} 0000000001 l\n')
    return root


def benchmark_depth_map(scan: np.ndarray, store: str) -> np.ndarray:
    """The protocol's text, point by point (independent of the package)."""
    r_rect = np.eye(4)
    r_rect[:3, :3] = _as_written(R_RECT_00)
    velo2cam = np.eye(4)
    velo2cam[:3, :3] = _as_written(R_VELO)
    velo2cam[:3, 3] = _as_written(T_VELO)
    proj = _as_written(P_RECT_02) @ r_rect @ velo2cam
    best = {}
    for x, y, z, _ in scan.astype(np.float64):
        if x < 0:
            continue
        p = proj @ np.array([x, y, z, 1.0])
        if store == 'camera_z' and p[2] <= 0:
            continue
        col = round(p[0] / p[2]) - 1  # Python's round: half to even, as
        row = round(p[1] / p[2]) - 1  # np.round
        if 0 <= col < W and 0 <= row < H:
            value = x if store == 'velodyne_x' else p[2]
            best[row, col] = min(value, best.get((row, col), np.inf))
    depth = np.zeros((H, W), np.float32)
    for (row, col), value in best.items():
        depth[row, col] = value
    return depth


@pytest.fixture
def tree(tmp_path):
    return _write_tree(str(tmp_path / 'kitti'), _scan()), _scan()


def _load(root: str, **kwargs) -> np.ndarray:
    ds = KittiRawDataset(
        split_file='splits/eigen/test_files.txt',
        data_root=root,
        load_gt_depth=True,
        test_mode=True,
        pipeline=[
            dict(type='LoadMultiViewImages'),
            dict(type='LoadDepthSegAnnotations')
        ],
        **kwargs)
    results = ds[0]
    assert results['gt_depth_map'].shape == (1, H, W)
    return results['gt_depth_map'][0]


def test_default_ground_truth_is_the_benchmarks_velodyne_x(tree):
    root, scan = tree
    expected = benchmark_depth_map(scan, 'velodyne_x')
    depth = _load(root)  # default gt_depth='velodyne_x'
    assert (expected > 0).sum() > 150  # the scan really covers the image
    np.testing.assert_array_equal(depth, expected)
    # three points on one pixel: the smallest velodyne x is stored (that of
    # the point 4 m deep: about 4.27 m)
    assert depth[RAY_PIXEL] == np.float32(RAY_POINTS[:, 0].min())
    assert depth[RAY_PIXEL] == pytest.approx(4.0 + LEVER, abs=0.1)
    # the point between scanner and camera (x = 0.1, camera z < 0) projects
    # inside the image and is kept, as in the benchmark
    assert (depth == np.float32(0.1)).sum() == 1


def test_camera_z_option_and_the_known_difference(tree):
    root, scan = tree
    x_map = _load(root, gt_depth='velodyne_x')
    z_map = _load(root, gt_depth='camera_z')
    np.testing.assert_allclose(
        z_map, benchmark_depth_map(scan, 'camera_z'), rtol=1e-6, atol=1e-6)
    # on the three-point pixel: x of the 4 m point minus its projective
    # depth 4 + 0.003 (P_rect_02[2, 3])
    assert x_map[RAY_PIXEL] - z_map[RAY_PIXEL] == pytest.approx(
        RAY_POINTS[1, 0] - 4.003, abs=1e-5)
    assert 0.3 < x_map[RAY_PIXEL] - z_map[RAY_PIXEL] < 0.35
    # elsewhere: the lever arm plus the yawed scanner's y sin(3 deg)
    both = (x_map > 0) & (z_map > 0)
    lever = (x_map - z_map)[both]
    assert np.median(lever) == pytest.approx(0.233, abs=0.01)
    assert lever.min() < -1 and lever.max() > 1.5
    # the x < 0.27 point has no camera-z value
    assert (x_map > 0).sum() == (z_map > 0).sum() + 1


def test_improved_ground_truth_png(tree, tmp_path):
    root, _ = tree
    values = np.zeros((H, W), np.uint16)
    values[0, :5] = [0, 256, 2560, 65535, 12345]
    values[10:20, 10:30] = 5000  # 19.53125 m
    gt_dir = osp.join(root, FOLDER, 'proj_depth', 'groundtruth', 'image_02')
    os.makedirs(gt_dir)
    for i in (0, 1):
        cv2.imwrite(osp.join(gt_dir, f'{i:010d}.png'), values)
    expected = np.zeros((H, W), np.float32)
    expected[0, :5] = [0, 1, 10, 255.99609375, 48.22265625]
    expected[10:20, 10:30] = 19.53125
    np.testing.assert_array_equal(_load(root, gt_depth='improved'), expected)
    np.testing.assert_array_equal(
        read_kitti_depth_png(osp.join(gt_dir, '0000000000.png')), expected)
    np.testing.assert_array_equal(
        kitti_gt_depth(root, FOLDER, 1, 'l', gt_depth='improved'), expected)

    # the official download's layout: <root>/{train,val}/<drive>/proj_depth
    official = str(tmp_path / 'data_depth_annotated')
    os.makedirs(osp.join(official, 'val', DRIVE, 'proj_depth'))
    os.rename(
        osp.join(root, FOLDER, 'proj_depth', 'groundtruth'),
        osp.join(official, 'val', DRIVE, 'proj_depth', 'groundtruth'))
    np.testing.assert_array_equal(
        _load(root, gt_depth='improved', improved_gt_root=official), expected)
    # missing: the error names the places looked in
    with pytest.raises(FileNotFoundError) as err:
        _load(root, gt_depth='improved')
    assert osp.join(FOLDER, 'proj_depth', 'groundtruth', 'image_02',
                    '0000000000.png') in str(err.value)
    # an 8-bit PNG is not a KITTI depth map
    bad = osp.join(official, 'val', DRIVE, 'proj_depth', 'groundtruth',
                   'image_02', '0000000000.png')
    cv2.imwrite(bad, np.zeros((H, W), np.uint8))
    with pytest.raises(ValueError, match='uint16'):
        read_kitti_depth_png(bad)
    with pytest.raises(ValueError, match='gt_depth'):
        KittiRawDataset(
            split_file='splits/eigen/test_files.txt',
            data_root=root,
            gt_depth='lidar')


def test_export_gt_follows_the_benchmark_per_split(tree):
    root, scan = tree
    gt_dir = osp.join(root, FOLDER, 'proj_depth', 'groundtruth', 'image_02')
    os.makedirs(gt_dir)
    improved = np.full((H, W), 1024, np.uint16)  # 4 m
    for i in (0, 1):
        cv2.imwrite(osp.join(gt_dir, f'{i:010d}.png'), improved)
    assert default_gt_depth('eigen') == 'velodyne_x'
    assert default_gt_depth('eigen_benchmark') == 'improved'
    out = osp.join(root, 'out')
    prepare_kitti_raw(
        root,
        out,
        splits_dir=osp.join(root, 'splits'),
        export_gt=['eigen', 'eigen_benchmark'])
    _, maps = load_gt_depths(osp.join(out, 'gt_depths_eigen.npz'))
    np.testing.assert_array_equal(maps[0], benchmark_depth_map(scan,
                                                               'velodyne_x'))
    _, maps = load_gt_depths(osp.join(out, 'gt_depths_eigen_benchmark.npz'))
    np.testing.assert_array_equal(maps[1], np.full((H, W), 4.0, np.float32))
    prepare_kitti_raw(root, out, export_gt=['eigen'], gt_depth='camera_z')
    _, maps = load_gt_depths(osp.join(out, 'gt_depths_eigen.npz'))
    np.testing.assert_allclose(
        maps[0], benchmark_depth_map(scan, 'camera_z'), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize('config', [
    'fsre/fsre_r18_kitti_improved-gt.py',
    'pseudo_mtl/pseudo_mtl_vgg16_kitti_improved-gt.py'
])
def test_improved_gt_configs_load_the_annotations(tmp_path, config):
    from _helpers import REPO_ROOT
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmdepthseg.registry import DATASETS
    from mmdepthseg.synthetic import write_kitti_raw
    from mmdepthseg.synthetic.street_scene import StreetScene
    init_default_scope('mmdepthseg')
    root = str(tmp_path / 'synthetic_kitti')
    summary = write_kitti_raw(
        root,
        num_drives=1,
        frames_per_drive=4,
        height=24,
        width=80,
        improved_gt=True)
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', config))
    dataset = cfg.test_dataloader.dataset
    dataset.update(
        data_root=root,
        split_file=osp.join(root, 'splits', 'synthetic', 'test_files.txt'),
        serialize_data=False)
    results = DATASETS.build(dataset)[0]
    sample = results['data_samples']
    gt = sample.gt_depth_map.data[0].numpy()
    drive = summary['drives'][0]
    scene = StreetScene(**summary['scenes'][drive])
    pose = scene.camera_trajectory(4, summary['step'])[sample.frame_index]
    render = scene.render(
        pose, np.array(summary['K']), 24, 80, antialias=False)['depth']
    # uint16 PNG of 256 * depth: exact to 1/512 m, 0 for the sky
    assert gt.shape == (24, 80) and (gt > 0).sum() > 800
    np.testing.assert_allclose(gt, render, atol=1 / 512 + 1e-6)
