# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Tiny on-disk trees in the real KITTI raw / Cityscapes layouts.

Values are chosen so tests can compute expectations by hand: the KITTI
calibration has f = 20, c = (20, 12), identity rectification and a
velodyne->camera rotation that only swaps axes; the Cityscapes camera has
fx = 2000 and a 0.2 m baseline.
"""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope

KITTI_DATE = '2011_09_26'
KITTI_DRIVE = f'{KITTI_DATE}_drive_0001_sync'
KITTI_FOLDER = f'{KITTI_DATE}/{KITTI_DRIVE}'
KITTI_H, KITTI_W = 24, 40
# Camera X sits at x = -TX[X] * ... : P_rect_0X[0, 3] = F * TX[X].
KITTI_F, KITTI_CX, KITTI_CY = 20.0, 20.0, 12.0
KITTI_TX = {0: 0.0, 1: -0.54, 2: 0.06, 3: -0.47}
# velodyne (x fwd, y left, z up) -> camera (x right, y down, z fwd)
KITTI_VELO_R = np.array([[0, -1, 0], [0, 0, -1], [1, 0, 0]], dtype=float)
KITTI_VELO_T = np.array([0.0, -0.08, -0.27])


def _fmt(values) -> str:
    return ' '.join(f'{float(v):.12e}' for v in np.ravel(values))


def kitti_p_rect(cam: int) -> np.ndarray:
    return np.array([[KITTI_F, 0, KITTI_CX, KITTI_F * KITTI_TX[cam]],
                     [0, KITTI_F, KITTI_CY, 0], [0, 0, 1, 0]])


def write_kitti_tree(root: str,
                     num_frames: int = 5,
                     velodyne: dict = None,
                     with_seg: bool = True,
                     seed: int = 0) -> str:
    """Write one KITTI raw drive of ``num_frames`` frames under ``root``.

    Args:
        velodyne (dict): frame index -> (N, 4) float32 points; frames not
            given get a few random points in front of the car.

    Returns:
        str: ``root``.
    """
    rng = np.random.RandomState(seed)
    date_dir = osp.join(root, KITTI_DATE)
    os.makedirs(date_dir, exist_ok=True)
    with open(osp.join(date_dir, 'calib_cam_to_cam.txt'), 'w') as f:
        f.write('calib_time: 09-Jan-2012 13:57:47\n')
        f.write('corner_dist: 9.950000e-02\n')
        for x in range(4):
            f.write(f'S_0{x}: {_fmt([KITTI_W + 2, KITTI_H + 2])}\n')
            f.write(f'K_0{x}: {_fmt(kitti_p_rect(x)[:, :3])}\n')
            f.write(f'D_0{x}: {_fmt(np.zeros(5))}\n')
            f.write(f'R_0{x}: {_fmt(np.eye(3))}\n')
            f.write(f'T_0{x}: {_fmt([KITTI_TX[x], 0, 0])}\n')
            f.write(f'S_rect_0{x}: {_fmt([KITTI_W, KITTI_H])}\n')
            f.write(f'R_rect_0{x}: {_fmt(np.eye(3))}\n')
            f.write(f'P_rect_0{x}: {_fmt(kitti_p_rect(x))}\n')
    with open(osp.join(date_dir, 'calib_velo_to_cam.txt'), 'w') as f:
        f.write('calib_time: 15-Mar-2012 11:37:16\n')
        f.write(f'R: {_fmt(KITTI_VELO_R)}\n')
        f.write(f'T: {_fmt(KITTI_VELO_T)}\n')
        f.write('delta_f: 0 0\ndelta_c: 0 0\n')
    drive = osp.join(date_dir, KITTI_DRIVE)
    velodyne = velodyne or {}
    for sub in ('image_02', 'image_03', 'velodyne_points', 'semantic_02',
                'semantic_03'):
        os.makedirs(osp.join(drive, sub, 'data'), exist_ok=True)
    for i in range(num_frames):
        for cam in (2, 3):
            img = rng.randint(0, 256, (KITTI_H, KITTI_W, 3), dtype=np.uint8)
            cv2.imwrite(
                osp.join(drive, f'image_0{cam}', 'data', f'{i:010d}.png'), img)
            if with_seg:
                seg = np.full((KITTI_H, KITTI_W), i, dtype=np.uint8)
                seg[0, 0] = 255
                cv2.imwrite(
                    osp.join(drive, f'semantic_0{cam}', 'data',
                             f'{i:010d}.png'), seg)
        pts = velodyne.get(i)
        if pts is None:
            pts = np.stack([
                rng.uniform(5, 30, 50),
                rng.uniform(-3, 3, 50),
                rng.uniform(-1, 1, 50),
                np.ones(50)
            ],
                           axis=1)
        np.asarray(
            pts, dtype=np.float32).tofile(
                osp.join(drive, 'velodyne_points', 'data', f'{i:010d}.bin'))
    return root


def write_split(path: str, lines) -> str:
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return path


CS_CITY = 'aachen'
CS_H, CS_W = 16, 32
CS_FX, CS_FY, CS_U0, CS_V0, CS_BASELINE = 2000.0, 2010.0, 15.5, 7.5, 0.2


def write_cityscapes_tree(root: str,
                          split: str = 'train',
                          num_frames: int = 2,
                          seed: int = 0) -> str:
    """Write ``num_frames`` Cityscapes frames of one city.

    Frame i has disparity PNG values: row 0 = 257 (1 px), row 1 = 513
    (2 px), row 2 = 0 (invalid), row 3 = 1 (zero disparity), others 129
    (0.5 px). labelIds: column 0 = 7 (road), column 1 = 26 (car), column 2
    = 0 (unlabelled), others 21 (vegetation); trainId files hold the mapped
    values.
    """
    rng = np.random.RandomState(seed)
    dirs = {
        k: osp.join(root, k, split, CS_CITY)
        for k in ('leftImg8bit', 'rightImg8bit', 'disparity', 'camera',
                  'gtFine')
    }
    for d in dirs.values():
        os.makedirs(d, exist_ok=True)
    for i in range(num_frames):
        stem = f'{CS_CITY}_{i:06d}_000019'
        for side in ('left', 'right'):
            img = rng.randint(0, 256, (CS_H, CS_W, 3), dtype=np.uint8)
            cv2.imwrite(
                osp.join(dirs[f'{side}Img8bit'], f'{stem}_{side}Img8bit.png'),
                img)
        disp = np.full((CS_H, CS_W), 129, dtype=np.uint16)
        disp[0], disp[1], disp[2], disp[3] = 257, 513, 0, 1
        cv2.imwrite(osp.join(dirs['disparity'], f'{stem}_disparity.png'), disp)
        with open(osp.join(dirs['camera'], f'{stem}_camera.json'), 'w') as f:
            json.dump(
                dict(
                    extrinsic=dict(
                        baseline=CS_BASELINE,
                        pitch=0.04,
                        roll=0.,
                        x=1.7,
                        y=0.1,
                        yaw=0.005,
                        z=1.2),
                    intrinsic=dict(fx=CS_FX, fy=CS_FY, u0=CS_U0, v0=CS_V0)), f)
        label_ids = np.full((CS_H, CS_W), 21, dtype=np.uint8)
        label_ids[:, 0], label_ids[:, 1], label_ids[:, 2] = 7, 26, 0
        train_ids = np.full((CS_H, CS_W), 8, dtype=np.uint8)
        train_ids[:, 0], train_ids[:, 1], train_ids[:, 2] = 0, 13, 255
        cv2.imwrite(
            osp.join(dirs['gtFine'], f'{stem}_gtFine_labelIds.png'), label_ids)
        cv2.imwrite(
            osp.join(dirs['gtFine'], f'{stem}_gtFine_labelTrainIds.png'),
            train_ids)
    return root


@pytest.fixture
def kitti_root(tmp_path):
    """A one-drive KITTI raw tree (frames 0..4) and splits in ``splits/``."""
    root = write_kitti_tree(str(tmp_path / 'kitti'))
    write_split(
        osp.join(root, 'splits', 'train.txt'),
        [f'{KITTI_FOLDER} {i} {s}' for i in range(5) for s in ('l', 'r')])
    write_split(
        osp.join(root, 'splits', 'test.txt'),
        [f'{KITTI_FOLDER} {i:010d} l' for i in (1, 3)])
    return root


@pytest.fixture
def cityscapes_root(tmp_path):
    """A Cityscapes tree with 2 train frames of one city."""
    return write_cityscapes_tree(str(tmp_path / 'cityscapes'))


@pytest.fixture(autouse=True)
def mmdepthseg_scope():
    """Dataset pipelines build their transforms in the default scope."""
    init_default_scope('mmdepthseg')
