# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Synthetic street scenes in the KITTI raw layout (:func:`write_kitti_raw`).

Tree under the output root::

    <date>/calib_cam_to_cam.txt, calib_velo_to_cam.txt,
           calib_imu_to_velo.txt
    <date>/<date>_drive_<NNNN>_sync/
        image_02/data/<%010d><img_ext>   left colour (+ timestamps.txt)
        image_03/data/<%010d><img_ext>   right colour (+ timestamps.txt)
        velodyne_points/data/<%010d>.bin float32 x, y, z, reflectance
        semantic_02/data/<%010d>.png     uint8 trainIds of image_02
        semantic_03/data/<%010d>.png     uint8 trainIds of image_03
        proj_depth/groundtruth/image_0{2,3}/<%010d>.png
                                         (with ``improved_gt``)
    splits/<split_name>/{train,val,test}_files.txt

Split lines follow monodepth2: ``<date>/<drive>_sync <frame> <l|r>``. The
last drive is held out: its interior frames with odd index form ``val`` and
its even frames ``test`` (side ``l``, index zero-padded like
``eigen/test_files.txt``); ``train`` holds the interior frames (both
neighbours exist) of the other drives, with a seeded side each (with one
drive, train uses that drive too). The ``semantic_0X`` tree is mmdepthseg's
convention for (pseudo) segmentation labels next to KITTI raw; no depth
maps are written, loaders derive depth from the velodyne scans as on real
KITTI.
"""
import os.path as osp
from typing import Dict, List, NamedTuple, Sequence

import numpy as np

from mmdepthseg.utils.io import atomic_write_bytes, atomic_write_text
from ..street_scene import StreetScene, euler_to_rotation
from .common import (RenderCamera, advance, progress_bar, render_stereo_pair,
                     sub_seed, write_tree_image)

# Real KITTI rig constants the synthetic data mimic.
KITTI_BASELINE = 0.54
KITTI_CAM2_OFFSET = 0.06  # camera 2 sits 6 cm left of camera 0


def _fmt(values) -> str:
    # ``+ 0.0`` turns -0.0 into 0.0.
    return ' '.join(f'{float(v) + 0.0:.12e}' for v in np.ravel(values))


def _parse_floats(text: str) -> np.ndarray:
    return np.array([float(x) for x in text.split()])


def kitti_calibration(K: np.ndarray,
                      width: int,
                      height: int,
                      baseline: float = KITTI_BASELINE,
                      cam2_offset: float = KITTI_CAM2_OFFSET,
                      seed: int = 0) -> Dict[str, object]:
    """Calibration of a KITTI-like rig whose rectified camera 2 has ``K``.

    Cameras 0..3 sit on a line along the rectified x axis: camera 0 at 0,
    camera 1 at ``baseline``, camera 2 at ``-cam2_offset`` and camera 3 at
    ``baseline - cam2_offset`` (KITTI: 0.54 m and about 0.06 m), so that
    ``P_rect_0X = K @ [I | t_X]`` with ``t_X = (-position_X, 0, 0)`` and the
    2-3 baseline is ``(P_rect_02[0,3] - P_rect_03[0,3]) / fx = baseline``.
    ``R_rect_00`` is a small rotation (as in real KITTI) and the
    velodyne-to-camera transform is the axis permutation (velodyne x
    forward, y left, z up -> camera x right, y down, z forward) times a
    small rotation, with KITTI's translation of about (0, -0.08, -0.27) m.

    Args:
        K (np.ndarray): (3, 3) rectified intrinsics of the rendered images.
        width (int): Image width.
        height (int): Image height.
        baseline (float): Stereo baseline of cameras 2-3 (m).
        cam2_offset (float): Distance of camera 2 to the left of camera 0.
        seed (int): Seed of the small rotations.

    Returns:
        dict: ``cam_to_cam`` and ``velo_to_cam`` (key -> text value, in file
        order) and the matrices as the files hold them (after formatting, so
        they are exactly what a parser reads): ``R_rect_00`` (3, 3),
        ``P_rect_02``/``P_rect_03`` (3, 4), ``R_velo``, ``T_velo``.
    """
    rng = np.random.default_rng(sub_seed(seed, 7))
    r_rect = euler_to_rotation(*rng.uniform(-0.006, 0.006, size=3))
    perm = np.array([[0., -1., 0.], [0., 0., -1.], [1., 0., 0.]])
    r_velo = euler_to_rotation(*rng.uniform(-0.015, 0.015, size=3)) @ perm
    t_velo = np.array([-0.004, -0.076, -0.272]) + rng.uniform(
        -0.005, 0.005, size=3)
    positions = {
        0: 0.0,
        1: baseline,
        2: -cam2_offset,
        3: baseline - cam2_offset
    }
    cam: Dict[str, str] = {
        'calib_time': '09-Jan-2012 13:57:47',
        'corner_dist': _fmt([9.95e-02])
    }
    for x, pos in positions.items():
        P = np.zeros((3, 4))
        P[:, :3] = K
        P[:, 3] = K @ np.array([-pos, 0.0, 0.0])
        cam.update({
            f'S_0{x}': _fmt([width, height]),
            f'K_0{x}': _fmt(K),
            f'D_0{x}': _fmt(np.zeros(5)),  # rendered images are ideal
            f'R_0{x}': _fmt(np.eye(3)),
            f'T_0{x}': _fmt([-pos, 0.0, 0.0]),
            f'S_rect_0{x}': _fmt([width, height]),
            f'R_rect_0{x}': _fmt(r_rect),
            f'P_rect_0{x}': _fmt(P),
        })
    velo = {
        'calib_time': '15-Mar-2012 11:37:16',
        'R': _fmt(r_velo),
        'T': _fmt(t_velo),
        'delta_f': _fmt([0.0, 0.0]),
        'delta_c': _fmt([0.0, 0.0]),
    }
    return dict(
        cam_to_cam=cam,
        velo_to_cam=velo,
        R_rect_00=_parse_floats(cam['R_rect_00']).reshape(3, 3),
        P_rect_02=_parse_floats(cam['P_rect_02']).reshape(3, 4),
        P_rect_03=_parse_floats(cam['P_rect_03']).reshape(3, 4),
        R_velo=_parse_floats(velo['R']).reshape(3, 3),
        T_velo=_parse_floats(velo['T']))


def _calib_text(entries: Dict[str, str]) -> str:
    return ''.join(f'{key}: {value}\n' for key, value in entries.items())


def cam2_points_to_velo(points: np.ndarray, calib: dict) -> np.ndarray:
    """Map (N, 3) points of rectified camera 2 into the velodyne frame.

    Inverse of KITTI's projection chain ``P_rect_02 @ R_rect_00 @ [R|T]``:
    ``X_rect0 = X_cam2 - t_2`` with ``t_2 = K^-1 P_rect_02[:, 3]``, then
    ``X_cam0 = R_rect_00^T X_rect0`` and ``X_velo = R^T (X_cam0 - T)``.
    """
    P = calib['P_rect_02']
    t2 = np.linalg.solve(P[:, :3], P[:, 3])
    rect0 = points - t2
    cam0 = rect0 @ calib['R_rect_00']  # rows: R_rect^T @ x
    return (cam0 - calib['T_velo']) @ calib['R_velo']  # rows: R^T @ x


def depth_to_velodyne(depth: np.ndarray,
                      img: np.ndarray,
                      K: np.ndarray,
                      calib: dict,
                      stride: int = 2,
                      max_depth: float = 80.0,
                      behind_fraction: float = 0.1,
                      seed: int = 0) -> np.ndarray:
    """A velodyne scan sampled from a rendered depth map.

    Every ``stride``-th pixel (rows and columns) with ``0 < depth <=
    max_depth`` is back-projected (pixel centres are integer coordinates)
    and moved into the velodyne frame with :func:`cam2_points_to_velo`; its
    reflectance is the pixel's grey value in [0, 1]. A seeded
    ``behind_fraction`` of the points is mirrored to behind the car
    (``(x, y) -> (-x, -y)`` in the velodyne frame), as a real 360 degree scan
    has points that a loader must drop.

    Returns:
        np.ndarray: (N, 4) float32 rows ``x, y, z, reflectance``.
    """
    H, W = depth.shape
    v, u = np.mgrid[0:H:stride, 0:W:stride]
    z = depth[v, u].astype(np.float64)
    keep = (z > 0) & (z <= max_depth)
    u, v, z = u[keep], v[keep], z[keep]
    rays = np.linalg.inv(K) @ np.stack([u, v, np.ones_like(u)]).astype(
        np.float64)
    points = (rays * z).T
    velo = cam2_points_to_velo(points, calib)
    grey = img[v, u].astype(np.float64).mean(axis=1) / 255.0
    rng = np.random.default_rng(sub_seed(seed, 11))
    behind = rng.random(len(velo)) < behind_fraction
    velo[behind, :2] *= -1
    return np.concatenate([velo, grey[:, None]], axis=1).astype(np.float32)


def _kitti_timestamps(num: int, seed: int, date: str) -> str:
    rng = np.random.default_rng(sub_seed(seed, 13))
    start = 13 * 3600 + rng.uniform(0, 3000)
    lines = []
    for i in range(num):
        t = start + 0.1036 * i
        h, m, s = int(t // 3600), int(t % 3600 // 60), t % 60
        lines.append(f'{date.replace("_", "-")} {h:02d}:{m:02d}:{s:012.9f}')
    return '\n'.join(lines) + '\n'


def kitti_intrinsics(height: int, width: int) -> np.ndarray:
    """monodepth2's normalised KITTI intrinsics at a given image size.

    ``fx = 0.58 W``, ``fy = 1.92 H``, ``cx = 0.5 W``, ``cy = 0.5 H``; the
    rendered images use exactly these (pixel centres at integer
    coordinates), so loaders that read ``P_rect_02`` and loaders that use
    the normalised constants agree.
    """
    return np.array([[0.58 * width, 0.0, 0.5 * width],
                     [0.0, 1.92 * height, 0.5 * height], [0.0, 0.0, 1.0]])


class _DriveFiles(NamedTuple):
    """What every frame of a KITTI drive is written with."""
    camera: RenderCamera
    calib: dict
    baseline: float
    img_ext: str
    velo_stride: int
    improved_gt: bool


def write_kitti_raw(root: str,
                    seed: int = 0,
                    num_drives: int = 2,
                    frames_per_drive: int = 12,
                    height: int = 192,
                    width: int = 640,
                    date: str = '2011_09_26',
                    baseline: float = KITTI_BASELINE,
                    step: float = 1.0,
                    velo_stride: int = 2,
                    img_ext: str = '.png',
                    split_name: str = 'synthetic',
                    antialias: bool = True,
                    progress: bool = False,
                    improved_gt: bool = False) -> dict:
    """Render drives and write them in the KITTI raw layout.

    The tree and the split files are described in this module's docstring
    (:mod:`mmdepthseg.synthetic.writers.kitti_raw`).

    Args:
        root (str): Output root.
        seed (int): Seed of everything. Defaults to 0.
        num_drives (int): Number of drives. Defaults to 2.
        frames_per_drive (int): Frames per drive (>= 3). Defaults to 12.
        height (int): Image height. Defaults to 192.
        width (int): Image width. Defaults to 640.
        date (str): Recording date folder. Defaults to '2011_09_26'.
        baseline (float): Stereo baseline (m). Defaults to 0.54.
        step (float): Forward motion per frame (m). Defaults to 1.0.
        velo_stride (int): Pixel stride of the velodyne sampling.
        img_ext (str): Image extension ('.png' or '.jpg'). Defaults to
            '.png'.
        split_name (str): Folder under ``splits/``. Defaults to
            'synthetic'.
        antialias (bool): Quincunx pixel filter of the renderer.
        progress (bool): Show an MMEngine progress bar. Defaults to False.
        improved_gt (bool): Also write the rendered depth of both colour
            cameras as KITTI depth-completion annotations ("improved ground
            truth", merged into the drive folders as monodepth2 reads them):
            uint16 PNGs holding ``round(256 * depth)``, 0 for the sky (dense,
            where the real annotations are semi-dense). Defaults to False.

    Returns:
        dict: Summary: ``root``, ``date``, ``drives`` (folder names relative
        to ``root``), ``frames_per_drive``, ``height``, ``width``, ``K``
        (3x3 list), ``baseline``, ``step``, ``scenes`` (drive ->
        :class:`StreetScene` arguments; frame ``i`` of a drive is
        ``StreetScene(**args).camera_trajectory(frames_per_drive, step)[i]``),
        ``split_files`` (split -> path) and ``num_samples`` (split -> number
        of lines).
    """
    _check_kitti_args(num_drives, frames_per_drive, img_ext)
    K = kitti_intrinsics(height, width)
    calib = kitti_calibration(K, width, height, baseline, seed=seed)
    _write_calibration_files(osp.join(root, date), calib)
    files = _DriveFiles(
        RenderCamera(K, height, width, antialias), calib, baseline, img_ext,
        velo_stride, improved_gt)
    bar = progress_bar(num_drives * frames_per_drive, progress)
    scenes: Dict[str, dict] = {}
    for d in range(num_drives):
        drive = f'{date}/{date}_drive_{d + 1:04d}_sync'
        scenes[drive] = _write_drive(
            osp.join(root, drive), sub_seed(seed, 1, d), date,
            frames_per_drive, step, files, bar)
    drives: List[str] = list(scenes)
    splits = _kitti_splits(drives, frames_per_drive, seed)
    split_files = _write_split_files(
        osp.join(root, 'splits', split_name), splits)
    return dict(
        root=root,
        date=date,
        drives=drives,
        frames_per_drive=frames_per_drive,
        height=height,
        width=width,
        K=K.tolist(),
        baseline=baseline,
        step=step,
        scenes=scenes,
        split_files=split_files,
        num_samples={k: len(v)
                     for k, v in splits.items()})


def _check_kitti_args(num_drives: int, frames_per_drive: int,
                      img_ext: str) -> None:
    if num_drives < 1 or frames_per_drive < 3:
        raise ValueError('write_kitti_raw needs num_drives >= 1 and '
                         f'frames_per_drive >= 3, got {num_drives} and '
                         f'{frames_per_drive}')
    if img_ext not in ('.png', '.jpg'):
        raise ValueError(f"img_ext must be '.png' or '.jpg', got {img_ext!r}")


def _write_calibration_files(date_dir: str, calib: dict) -> None:
    """The three calibration files of a date folder."""
    atomic_write_text(
        osp.join(date_dir, 'calib_cam_to_cam.txt'),
        _calib_text(calib['cam_to_cam']))
    atomic_write_text(
        osp.join(date_dir, 'calib_velo_to_cam.txt'),
        _calib_text(calib['velo_to_cam']))
    atomic_write_text(
        osp.join(date_dir, 'calib_imu_to_velo.txt'),
        _calib_text({
            'calib_time': '25-May-2012 16:47:16',
            'R': _fmt(np.eye(3)),
            'T': _fmt([-0.81, 0.32, -0.80])
        }))


def _write_drive(drive_dir: str, drive_seed: int, date: str, num_frames: int,
                 step: float, files: _DriveFiles, bar) -> dict:
    """Render one drive and write its frames and timestamps.

    Returns:
        dict: The drive's :class:`StreetScene` arguments.
    """
    scene_args = dict(
        seed=drive_seed, length=max(50.0, (num_frames + 1) * step))
    scene = StreetScene(**scene_args)
    poses = scene.camera_trajectory(num_frames, step=step)
    for sub in ('image_02', 'image_03', 'velodyne_points'):
        atomic_write_text(
            osp.join(drive_dir, sub, 'timestamps.txt'),
            _kitti_timestamps(num_frames, drive_seed, date))
    for i, pose in enumerate(poses):
        views = render_stereo_pair(scene, pose, files.camera, files.baseline)
        _write_frame(drive_dir, f'{i:010d}', views, files,
                     sub_seed(drive_seed, i))
        advance(bar)
    return scene_args


def _write_frame(drive_dir: str, name: str, views: Sequence[dict],
                 files: _DriveFiles, velo_seed: int) -> None:
    """Images, labels (and improved ground truth) of cameras 2 and 3 and
    the velodyne scan of one frame."""
    for cam, view in zip((2, 3), views):
        write_tree_image(
            osp.join(drive_dir, f'image_0{cam}', 'data',
                     name + files.img_ext),
            view['img'],
            rgb=True)
        write_tree_image(
            osp.join(drive_dir, f'semantic_0{cam}', 'data', name + '.png'),
            view['label'])
        if files.improved_gt:
            write_tree_image(
                osp.join(drive_dir, 'proj_depth', 'groundtruth',
                         f'image_0{cam}', name + '.png'),
                np.clip(np.round(view['depth'] * 256.0), 0,
                        65535).astype(np.uint16))
    left = views[0]
    velo = depth_to_velodyne(
        left['depth'],
        left['img'],
        files.camera.K,
        files.calib,
        stride=files.velo_stride,
        seed=velo_seed)
    atomic_write_bytes(
        osp.join(drive_dir, 'velodyne_points', 'data', name + '.bin'),
        velo.tobytes())


def _write_split_files(split_dir: str,
                       splits: Dict[str, List[str]]) -> Dict[str, str]:
    """``<split>_files.txt`` of every split; returns split -> path."""
    split_files = {}
    for split, lines in splits.items():
        path = osp.join(split_dir, f'{split}_files.txt')
        atomic_write_text(path, ''.join(line + '\n' for line in lines))
        split_files[split] = path
    return split_files


def _kitti_splits(drives: Sequence[str], frames: int,
                  seed: int) -> Dict[str, List[str]]:
    rng = np.random.default_rng(sub_seed(seed, 5))
    held_out = drives[-1]
    train_drives = drives[:-1] if len(drives) > 1 else drives
    interior = range(1, frames - 1)
    train = [
        f'{drive} {i} {"lr"[int(rng.integers(2))]}' for drive in train_drives
        for i in interior
    ]
    val = [f'{held_out} {i} l' for i in interior if i % 2 == 1]
    test = [f'{held_out} {i:010d} l' for i in range(frames) if i % 2 == 0]
    return dict(train=train, val=val, test=test)
