# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The synthetic street-scene generator and its KITTI / Cityscapes writers.

Expectations are computed independently of the generator: calibration files
are read with a tiny parser written here, KITTI's projection chain and the
Cityscapes disparity/label encodings are spelled out from
docs/en/dataset_formats.md.
"""
import importlib.util
import json
import os
import os.path as osp
import time

import cv2
import numpy as np
import pytest

from mmdepthseg.synthetic import (StreetScene, stereo_right_pose,
                                  write_cityscapes, write_kitti_raw)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# Cityscapes labelId -> trainId for the classes of docs/en/dataset_formats.md.
LABELID_TO_TRAINID = {
    7: 0,
    8: 1,
    11: 2,
    12: 3,
    13: 4,
    17: 5,
    19: 6,
    20: 7,
    21: 8,
    22: 9,
    23: 10,
    24: 11,
    25: 12,
    26: 13,
    27: 14,
    28: 15,
    31: 16,
    32: 17,
    33: 18
}
ROAD, SIDEWALK, BUILDING, POLE, VEGETATION, SKY, PERSON, CAR = (0, 1, 2, 5, 8,
                                                                10, 11, 13)


def kitti_K(height, width):
    """monodepth2's normalised KITTI intrinsics, written out by hand."""
    return np.array([[0.58 * width, 0, 0.5 * width],
                     [0, 1.92 * height, 0.5 * height], [0, 0, 1.0]])


def read_calib(path):
    """Tiny KITTI calibration parser: ``key: values`` per line."""
    out = {}
    with open(path) as f:
        for line in f:
            key, value = line.split(':', 1)
            try:
                out[key] = np.array([float(x) for x in value.split()])
            except ValueError:
                out[key] = value.strip()  # e.g. calib_time
    return out


def list_files(root):
    return sorted(
        osp.relpath(osp.join(d, f), root) for d, _, files in os.walk(root)
        for f in files)


@pytest.fixture(scope='module')
def scene():
    return StreetScene(seed=0, length=60.0)


# ---------------------------------------------------------------------------
# Renderer
# ---------------------------------------------------------------------------
def test_render_is_deterministic_for_a_seed(scene):
    K = kitti_K(64, 224)
    pose = scene.camera_trajectory(3)[1]
    a = scene.render(pose, K, 64, 224)
    b = StreetScene(seed=0, length=60.0).render(pose, K, 64, 224)
    for key in ('img', 'depth', 'label'):
        assert a[key].tobytes() == b[key].tobytes(), key
    c = StreetScene(seed=1, length=60.0).render(pose, K, 64, 224)
    assert a['img'].tobytes() != c['img'].tobytes()
    assert a['depth'].tobytes() != c['depth'].tobytes()


def test_render_outputs_and_every_class_in_the_first_frame(scene):
    K = kitti_K(96, 320)
    out = scene.render(scene.camera_trajectory(1)[0], K, 96, 320)
    assert out['img'].shape == (96, 320, 3) and out['img'].dtype == np.uint8
    assert out['depth'].shape == (96, 320)
    assert out['depth'].dtype == np.float32
    assert out['label'].shape == (96, 320) and out['label'].dtype == np.uint8
    present = set(np.unique(out['label']).tolist())
    assert {ROAD, SIDEWALK, BUILDING, POLE, VEGETATION, SKY, PERSON,
            CAR} <= present
    assert present <= set(range(19))
    # Textures carry signal: no class is a flat colour.
    grey = out['img'].astype(np.float64).mean(axis=2)
    for cls in (ROAD, SIDEWALK, BUILDING, VEGETATION, CAR):
        assert grey[out['label'] == cls].std() > 3, cls


def test_depth_is_positive_exactly_where_not_sky(scene):
    for pose in scene.camera_trajectory(3, step=20.0):
        out = scene.render(pose, kitti_K(64, 224), 64, 224)
        sky = out['label'] == SKY
        assert sky.any() and (~sky).any()
        assert np.all(out['depth'][sky] == 0)
        assert np.all(out['depth'][~sky] > 0)
        assert np.all(np.isfinite(out['depth']))


def test_depth_is_the_camera_z_of_the_road_plane(scene):
    """Road pixels: depth equals the analytic ray / plane y = 0 hit."""
    H, W = 64, 224
    K = kitti_K(H, W)
    pose = scene.camera_trajectory(5)[4]
    out = scene.render(pose, K, H, W)
    v, u = np.nonzero(out['label'] == ROAD)
    rays = np.linalg.inv(K) @ np.stack([u, v, np.ones_like(u)])  # z = 1
    world_dir = pose[:3, :3] @ rays
    t = -pose[1, 3] / world_dir[1]  # camera centre y + t * dir_y = 0
    np.testing.assert_allclose(out['depth'][v, u], t, rtol=1e-5)
    # Road pixels lie on the road (|x| < half width), others not.
    x = pose[0, 3] + t * world_dir[0]
    assert np.all(np.abs(x) < scene.road_half_width)


def test_colours_are_anchored_in_the_world(scene):
    """The radiance of a surface point is the same from every camera.

    Without the pixel filter a pixel is the radiance at its centre ray, so
    a 1x1 camera of another pose whose principal point is chosen to put the
    same world point exactly on its pixel centre must see the same colour.
    """
    H, W = 64, 224
    K = kitti_K(H, W)
    poses = scene.camera_trajectory(3)
    tgt = scene.render(poses[2], K, H, W, antialias=False)
    others = [poses[0], stereo_right_pose(poses[2], 0.54)]
    rng = np.random.default_rng(0)
    v, u = np.nonzero(tgt['depth'] > 0)
    pick = rng.choice(len(u), 60, replace=False)
    checked = 0
    for i in pick:
        z = float(tgt['depth'][v[i], u[i]])
        X = poses[2] @ np.append(
            z * np.linalg.inv(K) @ np.array([u[i], v[i], 1.0]), 1.0)
        for T in others:
            x_cam = np.linalg.solve(T, X)[:3]
            K1 = K.copy()
            K1[:2, 2] = -K[:2, :2] @ x_cam[:2] / x_cam[2]  # projects to (0,0)
            one = scene.render(T, K1, 1, 1, antialias=False)
            if abs(one['depth'][0, 0] - x_cam[2]) > 1e-4 * x_cam[2]:
                continue  # occluded in the other view
            checked += 1
            assert one['label'][0, 0] == tgt['label'][v[i], u[i]]
            diff = np.abs(one['img'][0, 0].astype(int) -
                          tgt['img'][v[i], u[i]].astype(int))
            assert diff.max() <= 1, (u[i], v[i], diff)
    assert checked > 60


def test_trajectory_and_stereo_pose(scene):
    poses = scene.camera_trajectory(5, step=1.5)
    assert poses.shape == (5, 4, 4)
    for T in poses:
        R = T[:3, :3]
        np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-12)
        assert np.linalg.det(R) == pytest.approx(1.0)
        assert R[2, 2] > 0.99  # looks along the street (+z)
        assert T[1, 3] == pytest.approx(-scene.camera_height, abs=0.05)
    np.testing.assert_allclose(np.diff(poses[:, 2, 3]), 1.5)
    right = stereo_right_pose(poses[0], 0.54)
    np.testing.assert_allclose(right[:3, :3], poses[0][:3, :3])
    np.testing.assert_allclose(right[:3, 3] - poses[0][:3, 3],
                               0.54 * poses[0][:3, 0])
    with pytest.raises(ValueError, match='trajectory'):
        scene.camera_trajectory(100, step=1.0)  # beyond the 60 m street


def test_render_rejects_bad_input(scene):
    pose = scene.camera_trajectory(1)[0]
    with pytest.raises(ValueError, match='K must be'):
        scene.render(pose, np.eye(4), 8, 8)
    below = pose.copy()
    below[1, 3] = 0.5
    with pytest.raises(ValueError, match='above the road'):
        scene.render(below, kitti_K(8, 8), 8, 8)


def test_render_time_192x640():
    """Well under a second on one core (about 0.25 s measured).

    CPU time of this process, so that other jobs sharing the machine do not
    count; the renderer is single-threaded numpy.
    """
    scene = StreetScene(seed=3)
    K = kitti_K(192, 640)
    pose = scene.camera_trajectory(2)[1]
    scene.render(pose, K, 192, 640)  # warm-up
    cpu, wall = [], []
    for _ in range(2):
        t0, w0 = time.process_time(), time.perf_counter()
        scene.render(pose, K, 192, 640)
        cpu.append(time.process_time() - t0)
        wall.append(time.perf_counter() - w0)
    print(f'render 192x640: {min(cpu):.3f} s CPU, {min(wall):.3f} s wall')
    assert min(cpu) < 1.5


# ---------------------------------------------------------------------------
# KITTI raw writer
# ---------------------------------------------------------------------------
@pytest.fixture(scope='module')
def kitti(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('kitti'))
    summary = write_kitti_raw(
        root, seed=0, num_drives=2, frames_per_drive=4, height=64, width=224)
    return root, summary


def test_kitti_tree(kitti):
    root, summary = kitti
    date = '2011_09_26'
    expected = {
        f'{date}/calib_cam_to_cam.txt', f'{date}/calib_velo_to_cam.txt',
        f'{date}/calib_imu_to_velo.txt'
    }
    for d in (1, 2):
        drive = f'{date}/{date}_drive_{d:04d}_sync'
        for sub in ('image_02', 'image_03', 'velodyne_points'):
            expected.add(f'{drive}/{sub}/timestamps.txt')
        for i in range(4):
            expected |= {
                f'{drive}/image_02/data/{i:010d}.png',
                f'{drive}/image_03/data/{i:010d}.png',
                f'{drive}/semantic_02/data/{i:010d}.png',
                f'{drive}/semantic_03/data/{i:010d}.png',
                f'{drive}/velodyne_points/data/{i:010d}.bin'
            }
    for split in ('train', 'val', 'test'):
        expected.add(f'splits/synthetic/{split}_files.txt')
    assert set(list_files(root)) == expected
    assert summary['drives'] == [
        f'{date}/{date}_drive_0001_sync', f'{date}/{date}_drive_0002_sync'
    ]


def test_kitti_calibration_files(kitti):
    root, _ = kitti
    cam = read_calib(osp.join(root, '2011_09_26', 'calib_cam_to_cam.txt'))
    K = kitti_K(64, 224)
    for x in range(4):
        for key in ('S', 'K', 'D', 'R', 'T', 'S_rect', 'R_rect', 'P_rect'):
            assert f'{key}_0{x}' in cam
        np.testing.assert_allclose(cam[f'S_rect_0{x}'], [224, 64])
        P = cam[f'P_rect_0{x}'].reshape(3, 4)
        np.testing.assert_allclose(P[:, :3], K, rtol=1e-10)
    assert isinstance(cam['calib_time'], str)
    P2 = cam['P_rect_02'].reshape(3, 4)
    P3 = cam['P_rect_03'].reshape(3, 4)
    # Real KITTI: P_rect_03 carries -fx * (position of camera 3) and the
    # 2-3 baseline is the difference of the two [0, 3] terms over fx.
    assert P3[0, 3] < 0
    assert (P2[0, 3] - P3[0, 3]) / K[0, 0] == pytest.approx(0.54)
    R_rect = cam['R_rect_00'].reshape(3, 3)
    np.testing.assert_allclose(R_rect @ R_rect.T, np.eye(3), atol=1e-9)

    velo = read_calib(osp.join(root, '2011_09_26', 'calib_velo_to_cam.txt'))
    assert set(velo) == {'calib_time', 'R', 'T', 'delta_f', 'delta_c'}
    R = velo['R'].reshape(3, 3)
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-9)
    # Velodyne x forward / y left / z up -> camera z / -x / -y.
    perm = np.array([[0, -1, 0], [0, 0, -1], [1, 0, 0]])
    assert np.abs(R - perm).max() < 0.05
    assert not np.allclose(R, perm)  # a real, slightly rotated mount
    assert velo['T'].shape == (3, )


def test_kitti_velodyne_round_trip(kitti):
    """Velodyne points projected with KITTI's chain hit the rendered depth."""
    root, summary = kitti
    H, W = 64, 224
    cam = read_calib(osp.join(root, '2011_09_26', 'calib_cam_to_cam.txt'))
    velo_calib = read_calib(
        osp.join(root, '2011_09_26', 'calib_velo_to_cam.txt'))
    velo2cam = np.eye(4)
    velo2cam[:3, :3] = velo_calib['R'].reshape(3, 3)
    velo2cam[:3, 3] = velo_calib['T']
    R_rect = np.eye(4)
    R_rect[:3, :3] = cam['R_rect_00'].reshape(3, 3)
    P_velo2im = cam['P_rect_02'].reshape(3, 4) @ R_rect @ velo2cam

    drive = summary['drives'][0]
    scene = StreetScene(**summary['scenes'][drive])
    poses = scene.camera_trajectory(4, step=summary['step'])
    for i in (0, 3):
        pts = np.fromfile(
            osp.join(root, drive, 'velodyne_points', 'data', f'{i:010d}.bin'),
            dtype=np.float32).reshape(-1, 4)
        assert len(pts) > 500
        assert np.all((pts[:, 3] >= 0) & (pts[:, 3] <= 1))
        behind = pts[:, 0] < 0
        assert behind.any()  # a 360 degree scan: the loader drops these
        front = pts[~behind]
        proj = (
            P_velo2im @ np.concatenate(
                [front[:, :3].astype(np.float64),
                 np.ones((len(front), 1))],
                axis=1).T)
        z = proj[2]
        u, v = proj[0] / z, proj[1] / z
        # Points were sampled at pixel centres (integer coordinates).
        assert np.abs(u - np.round(u)).max() < 1e-3
        assert np.abs(v - np.round(v)).max() < 1e-3
        u, v = np.round(u).astype(int), np.round(v).astype(int)
        assert np.all((u >= 0) & (u < W) & (v >= 0) & (v < H))
        assert z.max() <= 80.0 + 1e-3
        depth = scene.render(poses[i], kitti_K(H, W), H, W)['depth']
        np.testing.assert_allclose(z, depth[v, u], rtol=1e-3)


def test_kitti_images_and_labels_are_the_rendered_frames(kitti):
    root, summary = kitti
    drive = summary['drives'][1]
    scene = StreetScene(**summary['scenes'][drive])
    pose = scene.camera_trajectory(4, step=summary['step'])[2]
    K = kitti_K(64, 224)
    left = scene.render(pose, K, 64, 224)
    right = scene.render(stereo_right_pose(pose, 0.54), K, 64, 224)
    base = osp.join(root, drive)
    img = cv2.imread(osp.join(base, 'image_02', 'data', '0000000002.png'))
    np.testing.assert_array_equal(img[..., ::-1], left['img'])  # BGR file
    img = cv2.imread(osp.join(base, 'image_03', 'data', '0000000002.png'))
    np.testing.assert_array_equal(img[..., ::-1], right['img'])
    for sub, ref in (('semantic_02', left), ('semantic_03', right)):
        lab = cv2.imread(
            osp.join(base, sub, 'data', '0000000002.png'),
            cv2.IMREAD_UNCHANGED)
        assert lab.dtype == np.uint8 and lab.ndim == 2
        np.testing.assert_array_equal(lab, ref['label'])


def test_kitti_split_files(kitti):
    root, summary = kitti
    lines = {}
    for split in ('train', 'val', 'test'):
        with open(summary['split_files'][split]) as f:
            lines[split] = [line.split() for line in f.read().splitlines()]
        assert lines[split], split
    for split in ('train', 'val'):
        for folder, index, side in lines[split]:
            assert side in ('l', 'r')
            i = int(index)
            for j in (i - 1, i, i + 1):  # monocular training needs t -/+ 1
                assert osp.isfile(
                    osp.join(root, folder, 'image_02', 'data',
                             f'{j:010d}.png'))
    for folder, index, side in lines['test']:
        assert len(index) == 10 and side == 'l'  # eigen/test_files style
        assert osp.isfile(
            osp.join(root, folder, 'image_02', 'data', f'{index}.png'))
    # The held-out drive is not in train.
    train_drives = {f for f, _, _ in lines['train']}
    assert summary['drives'][-1] not in train_drives


def test_writers_are_byte_deterministic(tmp_path):

    def write(name, seed):
        root = str(tmp_path / name)
        write_cityscapes(
            root,
            seed=seed,
            cities={
                'train': ['aachen'],
                'val': ['ulm']
            },
            frames_per_city=1,
            height=32,
            width=64)
        return {
            f: open(osp.join(root, f), 'rb').read()
            for f in list_files(root)
        }

    a, b, c = write('a', 5), write('b', 5), write('c', 6)
    assert a == b
    png = 'leftImg8bit/train/aachen/aachen_000000_000019_leftImg8bit.png'
    assert a[png] != c[png]


# ---------------------------------------------------------------------------
# Cityscapes writer
# ---------------------------------------------------------------------------
@pytest.fixture(scope='module')
def cityscapes(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('cityscapes'))
    summary = write_cityscapes(
        root,
        seed=0,
        cities={
            'train': ['aachen', 'bochum'],
            'val': ['frankfurt']
        },
        frames_per_city=2,
        height=64,
        width=128)
    return root, summary


def test_cityscapes_tree(cityscapes):
    root, summary = cityscapes
    expected = set()
    for split, city in (('train', 'aachen'), ('train', 'bochum'),
                        ('val', 'frankfurt')):
        for seq in range(2):
            stem = f'{split}/{city}/{city}_{seq:06d}_000019'
            expected |= {
                f'leftImg8bit/{stem}_leftImg8bit.png',
                f'rightImg8bit/{stem}_rightImg8bit.png',
                f'disparity/{stem}_disparity.png',
                f'camera/{stem}_camera.json',
                f'gtFine/{stem}_gtFine_labelIds.png',
                f'gtFine/{stem}_gtFine_labelTrainIds.png'
            }
    assert set(list_files(root)) == expected
    assert len(summary['splits']['train']) == 4
    assert len(summary['splits']['val']) == 2


def test_cityscapes_disparity_camera_and_labels(cityscapes):
    root, summary = cityscapes
    stem = 'frankfurt_000001_000019'
    with open(
            osp.join(root, 'camera', 'val', 'frankfurt',
                     stem + '_camera.json')) as f:
        camera = json.load(f)
    assert set(camera['extrinsic']) == {
        'baseline', 'pitch', 'roll', 'x', 'y', 'yaw', 'z'
    }
    assert set(camera['intrinsic']) == {'fx', 'fy', 'u0', 'v0'}
    fx, baseline = camera['intrinsic']['fx'], camera['extrinsic']['baseline']
    assert baseline == pytest.approx(0.209313)
    assert fx == pytest.approx(2262.52 * 128 / 2048)
    K = np.array([[fx, 0, camera['intrinsic']['u0']],
                  [0, camera['intrinsic']['fy'], camera['intrinsic']['v0']],
                  [0, 0, 1]])

    scene = StreetScene(**summary['scenes']['frankfurt'])
    pose = scene.camera_trajectory(2, **summary['trajectory'])[1]
    ref = scene.render(pose, K, 64, 128)

    p = cv2.imread(
        osp.join(root, 'disparity', 'val', 'frankfurt',
                 stem + '_disparity.png'), cv2.IMREAD_UNCHANGED)
    assert p.dtype == np.uint16
    valid = p > 0
    np.testing.assert_array_equal(valid, ref['depth'] > 0)
    disp = (p[valid].astype(np.float64) - 1) / 256
    expected = fx * baseline / ref['depth'][valid].astype(np.float64)
    assert np.abs(disp - expected).max() <= 1 / 256

    label_ids = cv2.imread(
        osp.join(root, 'gtFine', 'val', 'frankfurt',
                 stem + '_gtFine_labelIds.png'), cv2.IMREAD_UNCHANGED)
    train_ids = cv2.imread(
        osp.join(root, 'gtFine', 'val', 'frankfurt',
                 stem + '_gtFine_labelTrainIds.png'), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(train_ids, ref['label'])
    mapped = np.full_like(label_ids, 255)
    for label_id, train_id in LABELID_TO_TRAINID.items():
        mapped[label_ids == label_id] = train_id
    np.testing.assert_array_equal(mapped, train_ids)
    assert {7, 11, 23, 26} <= set(np.unique(label_ids).tolist())

    right = cv2.imread(
        osp.join(root, 'rightImg8bit', 'val', 'frankfurt',
                 stem + '_rightImg8bit.png'))
    np.testing.assert_array_equal(
        right[..., ::-1],
        scene.render(stereo_right_pose(pose, baseline), K, 64, 128)['img'])


def test_cityscapes_rejects_shared_cities(tmp_path):
    with pytest.raises(ValueError, match='distinct'):
        write_cityscapes(
            str(tmp_path), cities={
                'train': ['ulm'],
                'val': ['ulm']
            })


def test_cli_writes_a_layout(tmp_path):
    spec = importlib.util.spec_from_file_location(
        'make_synthetic_dataset',
        osp.join(REPO, 'tools', 'misc', 'make_synthetic_dataset.py'))
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    out = str(tmp_path / 'cs')
    summary = cli.main([
        '--layout', 'cityscapes', '--out', out, '--height', '32', '--width',
        '64', '--train-cities', 'aachen', '--val-cities', 'ulm',
        '--frames-per-city', '1'
    ])
    assert summary['height'] == 32
    assert osp.isfile(
        osp.join(out, 'leftImg8bit', 'val', 'ulm',
                 'ulm_000000_000019_leftImg8bit.png'))
    assert not [f for f in list_files(out) if '.tmp' in f]
