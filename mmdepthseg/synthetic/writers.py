# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Write synthetic street scenes in the on-disk layouts of real datasets.

- :func:`write_kitti_raw`: KITTI raw (``<date>/<date>_drive_<NNNN>_sync``
  with ``image_02``/``image_03``, velodyne scans, the two calibration files
  of the date) plus monodepth2-style split files and, as mmdepthseg's own
  convention, a segmentation tree ``semantic_02``/``semantic_03`` that
  mirrors the image tree (uint8 PNG, Cityscapes trainIds).
- :func:`write_cityscapes`: Cityscapes (``leftImg8bit``, ``rightImg8bit``,
  ``disparity``, ``camera``, ``gtFine`` labelIds and labelTrainIds).
- :func:`write_nyu`: indoor rooms (:class:`IndoorScene`) in MMSegmentation's
  NYU layout (``images``, ``annotations`` with uint16 depth in millimetres)
  plus mmdepthseg's parallel ``labels40`` folder (NYUv2-40 ids).
- :func:`write_isprs`: top-down city tiles (:class:`AerialScene`) as raw
  ISPRS Potsdam / Vaihingen tiles (IRRG TIFF, colour-coded labels, 8-bit
  nDSM), to be cut into patches by ``tools/dataset_converters/isprs.py``.

The formats follow ``docs/en/dataset_formats.md``; loaders read these trees
exactly as they read the real datasets. Every file is written atomically
(:mod:`mmdepthseg.utils.io`), so an interrupted run leaves no truncated
file behind.
"""
import json
import os.path as osp
import zlib
from typing import Dict, List, Optional, Sequence

import numpy as np

from mmdepthseg.datasets.png_codecs import encode_depth_png
from mmdepthseg.utils.io import (atomic_write_bytes, atomic_write_text,
                                 write_image)
from .aerial_scene import CITY_STYLES, AerialScene, labels_to_colours
from .indoor_scene import IndoorScene
from .street_scene import StreetScene, euler_to_rotation, stereo_right_pose

# Cityscapes trainId -> labelId (trainIds 0..18); 255 maps to 0 (unlabeled).
CITYSCAPES_TRAINID_TO_LABELID = (7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24,
                                 25, 26, 27, 28, 31, 32, 33)

# Real KITTI/Cityscapes rig constants the synthetic data mimic.
KITTI_BASELINE = 0.54
KITTI_CAM2_OFFSET = 0.06  # camera 2 sits 6 cm left of camera 0
CITYSCAPES_BASELINE = 0.209313
CITYSCAPES_CAMERA_HEIGHT = 1.22
CITYSCAPES_PITCH = 0.038
# NYU Depth v2's Kinect colour camera at 640x480 (fx, fy, cx, cy; the NYU
# toolbox's camera_params.m).
NYU_KINECT_INTRINSICS = (518.857901, 519.469611, 325.582449, 253.736166)
NYU_SIZE = (480, 640)
#: JPEG quality of the generated ``.jpg`` images.
JPEG_QUALITY = 92


# ---------------------------------------------------------------------------
# Image files
# ---------------------------------------------------------------------------
def _write_image(path: str, img: np.ndarray, rgb: bool = False) -> None:
    """:func:`~mmdepthseg.utils.io.write_image` at the trees' JPEG quality."""
    write_image(path, img, rgb, jpeg_quality=JPEG_QUALITY)


def _progress_bar(total: int, enabled: bool):
    """An MMEngine progress bar, or ``None`` (lazy import: keeps this
    module light)."""
    if not enabled:
        return None
    from mmengine.utils import ProgressBar
    return ProgressBar(total)


def _sub_seed(*keys: int) -> int:
    """A 31-bit seed derived from integers (stable across runs)."""
    return int(np.random.SeedSequence(list(keys)).generate_state(1)[0] >> 1)


def trainid_to_labelid(label: np.ndarray) -> np.ndarray:
    """Map Cityscapes trainIds (255 = ignore) to labelIds (0 = unlabeled)."""
    lut = np.zeros(256, dtype=np.uint8)
    lut[:len(CITYSCAPES_TRAINID_TO_LABELID)] = CITYSCAPES_TRAINID_TO_LABELID
    return lut[label]


# ---------------------------------------------------------------------------
# KITTI raw
# ---------------------------------------------------------------------------
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
    rng = np.random.default_rng(_sub_seed(seed, 7))
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
    rng = np.random.default_rng(_sub_seed(seed, 11))
    behind = rng.random(len(velo)) < behind_fraction
    velo[behind, :2] *= -1
    return np.concatenate([velo, grey[:, None]], axis=1).astype(np.float32)


def _kitti_timestamps(num: int, seed: int, date: str) -> str:
    rng = np.random.default_rng(_sub_seed(seed, 13))
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

    Tree under ``root``::

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

    Split lines follow monodepth2: ``<date>/<drive>_sync <frame> <l|r>``.
    The last drive is held out: its interior frames with odd index form
    ``val`` and its even frames ``test`` (side ``l``, index zero-padded
    like ``eigen/test_files.txt``); ``train`` holds the interior frames
    (both neighbours exist) of the other drives, with a seeded side each
    (with one drive, train uses that drive too). The ``semantic_0X`` tree
    is mmdepthseg's convention for (pseudo) segmentation labels next to
    KITTI raw; no depth maps are written, loaders derive depth from the
    velodyne scans as on real KITTI.

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
    if num_drives < 1 or frames_per_drive < 3:
        raise ValueError('write_kitti_raw needs num_drives >= 1 and '
                         f'frames_per_drive >= 3, got {num_drives} and '
                         f'{frames_per_drive}')
    if img_ext not in ('.png', '.jpg'):
        raise ValueError(f"img_ext must be '.png' or '.jpg', got {img_ext!r}")
    K = kitti_intrinsics(height, width)
    calib = kitti_calibration(K, width, height, baseline, seed=seed)
    date_dir = osp.join(root, date)
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

    bar = _progress_bar(num_drives * frames_per_drive, progress)
    drives: List[str] = []
    scenes: Dict[str, dict] = {}
    for d in range(num_drives):
        drive_seed = _sub_seed(seed, 1, d)
        folder = f'{date}_drive_{d + 1:04d}_sync'
        drives.append(f'{date}/{folder}')
        drive_dir = osp.join(date_dir, folder)
        scene_args = dict(
            seed=drive_seed, length=max(50.0, (frames_per_drive + 1) * step))
        scenes[f'{date}/{folder}'] = scene_args
        scene = StreetScene(**scene_args)
        poses = scene.camera_trajectory(frames_per_drive, step=step)
        for sub in ('image_02', 'image_03', 'velodyne_points'):
            atomic_write_text(
                osp.join(drive_dir, sub, 'timestamps.txt'),
                _kitti_timestamps(frames_per_drive, drive_seed, date))
        for i, pose in enumerate(poses):
            name = f'{i:010d}'
            left = scene.render(pose, K, height, width, antialias=antialias)
            right = scene.render(
                stereo_right_pose(pose, baseline),
                K,
                height,
                width,
                antialias=antialias)
            _write_image(
                osp.join(drive_dir, 'image_02', 'data', name + img_ext),
                left['img'],
                rgb=True)
            _write_image(
                osp.join(drive_dir, 'image_03', 'data', name + img_ext),
                right['img'],
                rgb=True)
            _write_image(
                osp.join(drive_dir, 'semantic_02', 'data', name + '.png'),
                left['label'])
            _write_image(
                osp.join(drive_dir, 'semantic_03', 'data', name + '.png'),
                right['label'])
            if improved_gt:
                for cam, view in ((2, left), (3, right)):
                    _write_image(
                        osp.join(drive_dir, 'proj_depth', 'groundtruth',
                                 f'image_0{cam}', name + '.png'),
                        np.clip(np.round(view['depth'] * 256.0), 0,
                                65535).astype(np.uint16))
            velo = depth_to_velodyne(
                left['depth'],
                left['img'],
                K,
                calib,
                stride=velo_stride,
                seed=_sub_seed(drive_seed, i))
            atomic_write_bytes(
                osp.join(drive_dir, 'velodyne_points', 'data', name + '.bin'),
                velo.tobytes())
            if bar is not None:
                bar.update()

    splits = _kitti_splits(drives, frames_per_drive, seed)
    split_dir = osp.join(root, 'splits', split_name)
    split_files = {}
    for split, lines in splits.items():
        path = osp.join(split_dir, f'{split}_files.txt')
        atomic_write_text(path, ''.join(line + '\n' for line in lines))
        split_files[split] = path
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
        num_samples={
            k: len(v)
            for k, v in splits.items()
        })


def _kitti_splits(drives: Sequence[str], frames: int,
                  seed: int) -> Dict[str, List[str]]:
    rng = np.random.default_rng(_sub_seed(seed, 5))
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


# ---------------------------------------------------------------------------
# Cityscapes
# ---------------------------------------------------------------------------
def cityscapes_intrinsics(height: int, width: int) -> np.ndarray:
    """Cityscapes' camera (2048x1024: fx 2262.52, fy 2265.30, u0 1096.98,
    v0 513.137) scaled to ``width`` x ``height``."""
    sx, sy = width / 2048.0, height / 1024.0
    return np.array([[2262.52 * sx, 0.0, 1096.98 * sx],
                     [0.0, 2265.30 * sy, 513.137 * sy], [0.0, 0.0, 1.0]])


def encode_cityscapes_disparity(depth: np.ndarray, fx: float,
                                baseline: float) -> np.ndarray:
    """Cityscapes disparity PNG values: ``p = round(256 d) + 1``, 0 invalid.

    Args:
        depth (np.ndarray): (H, W) depth in metres, 0 = invalid.
        fx (float): Focal length (pixels).
        baseline (float): Stereo baseline (m).

    Returns:
        np.ndarray: (H, W) uint16; decode with ``d = (p - 1) / 256``.
    """
    valid = depth > 0
    disp = np.where(valid, fx * baseline / np.where(valid, depth, 1.0), 0.0)
    p = np.rint(disp * 256.0) + 1
    ok = valid & (p <= 65535)
    return np.where(ok, p, 0).astype(np.uint16)


def write_cityscapes(root: str,
                     seed: int = 0,
                     cities: Optional[Dict[str, List[str]]] = None,
                     frames_per_city: int = 4,
                     height: int = 256,
                     width: int = 512,
                     baseline: float = CITYSCAPES_BASELINE,
                     spacing: float = 7.0,
                     antialias: bool = True,
                     progress: bool = False) -> dict:
    """Render street scenes and write them in the Cityscapes layout.

    For every split and city (one drive per city, frames ``spacing`` m
    apart) the stem ``<city>_<seq:06d>_000019`` (``seq`` = frame index) gets
    ``leftImg8bit/<split>/<city>/<stem>_leftImg8bit.png``, the same under
    ``rightImg8bit`` (``_rightImg8bit.png``), ``disparity``
    (``_disparity.png``, uint16, ``d = (p - 1) / 256``, 0 = sky/invalid),
    ``camera`` (``_camera.json``) and ``gtFine`` (``_gtFine_labelIds.png``,
    ``_gtFine_labelTrainIds.png``).

    Args:
        root (str): Output root.
        seed (int): Seed of everything. Defaults to 0.
        cities (dict, optional): Split -> city names; cities must be
            distinct across splits. Defaults to
            ``{'train': ['aachen', 'bochum'], 'val': ['frankfurt']}``.
        frames_per_city (int): Frames per city. Defaults to 4.
        height (int): Image height. Defaults to 256.
        width (int): Image width. Defaults to 512.
        baseline (float): Stereo baseline (m). Defaults to 0.209313.
        spacing (float): Distance between frames of a city (m).
        antialias (bool): Quincunx pixel filter of the renderer.
        progress (bool): Show an MMEngine progress bar. Defaults to False.

    Returns:
        dict: Summary: ``root``, ``splits`` (split -> list of
        ``<split>/<city>/<stem>``), ``height``, ``width``, ``K`` (3x3 list),
        ``baseline``, ``scenes`` (city -> :class:`StreetScene` arguments)
        and ``trajectory`` (``step``/``start`` of
        :meth:`StreetScene.camera_trajectory`; frame ``seq`` of a city is
        its pose ``seq``).
    """
    if cities is None:
        cities = {'train': ['aachen', 'bochum'], 'val': ['frankfurt']}
    all_cities = [c for names in cities.values() for c in names]
    if len(set(all_cities)) != len(all_cities):
        raise ValueError(f'cities must be distinct across splits: {cities}')
    if frames_per_city < 1:
        raise ValueError(
            f'frames_per_city must be >= 1, got {frames_per_city}')
    K = cityscapes_intrinsics(height, width)
    camera = {
        'extrinsic': {
            'baseline': baseline,
            'pitch': CITYSCAPES_PITCH,
            'roll': 0.0,
            'x': 1.7,
            'y': 0.1,
            'yaw': 0.0,
            'z': CITYSCAPES_CAMERA_HEIGHT
        },
        'intrinsic': {
            'fx': float(K[0, 0]),
            'fy': float(K[1, 1]),
            'u0': float(K[0, 2]),
            'v0': float(K[1, 2])
        }
    }
    camera_text = json.dumps(camera, indent=4) + '\n'
    bar = _progress_bar(len(all_cities) * frames_per_city, progress)
    summary: Dict[str, List[str]] = {}
    scenes: Dict[str, dict] = {}
    for split, names in cities.items():
        summary[split] = []
        for city in names:
            scene_args = dict(
                seed=_sub_seed(seed, 2, zlib.crc32(city.encode())),
                length=(frames_per_city + 1) * spacing + 10.0,
                camera_height=CITYSCAPES_CAMERA_HEIGHT,
                camera_pitch=CITYSCAPES_PITCH)
            scenes[city] = scene_args
            scene = StreetScene(**scene_args)
            poses = scene.camera_trajectory(
                frames_per_city, step=spacing, start=spacing / 2)
            for i, pose in enumerate(poses):
                stem = f'{city}_{i:06d}_000019'
                rel = osp.join(split, city, stem)
                left = scene.render(
                    pose, K, height, width, antialias=antialias)
                right = scene.render(
                    stereo_right_pose(pose, baseline),
                    K,
                    height,
                    width,
                    antialias=antialias)
                _write_image(
                    osp.join(root, 'leftImg8bit', rel + '_leftImg8bit.png'),
                    left['img'],
                    rgb=True)
                _write_image(
                    osp.join(root, 'rightImg8bit', rel + '_rightImg8bit.png'),
                    right['img'],
                    rgb=True)
                _write_image(
                    osp.join(root, 'disparity', rel + '_disparity.png'),
                    encode_cityscapes_disparity(left['depth'], K[0, 0],
                                                baseline))
                atomic_write_text(
                    osp.join(root, 'camera', rel + '_camera.json'),
                    camera_text)
                _write_image(
                    osp.join(root, 'gtFine', rel + '_gtFine_labelIds.png'),
                    trainid_to_labelid(left['label']))
                _write_image(
                    osp.join(root, 'gtFine',
                             rel + '_gtFine_labelTrainIds.png'), left['label'])
                summary[split].append(rel)
                if bar is not None:
                    bar.update()
    return dict(
        root=root,
        splits=summary,
        height=height,
        width=width,
        K=K.tolist(),
        baseline=baseline,
        scenes=scenes,
        trajectory=dict(step=spacing, start=spacing / 2))


# ---------------------------------------------------------------------------
# NYU Depth v2 (MMSegmentation's layout)
# ---------------------------------------------------------------------------
def nyu_intrinsics(height: int, width: int) -> np.ndarray:
    """NYU's Kinect colour camera scaled to ``width`` x ``height``.

    Row 0 is scaled by ``width / 640`` and row 1 by ``height / 480`` (the
    rule ``LoadMultiViewImages`` applies to normalised intrinsics, which
    is how :class:`~mmdepthseg.datasets.nyu_depth.NYUDepthSegDataset`
    hands the Kinect's intrinsics over), so the rendered images and the
    loaded intrinsics agree exactly at any size.

    Returns:
        np.ndarray: (3, 3) float64.
    """
    fx, fy, cx, cy = NYU_KINECT_INTRINSICS
    sx, sy = width / NYU_SIZE[1], height / NYU_SIZE[0]
    return np.array([[fx * sx, 0.0, cx * sx], [0.0, fy * sy, cy * sy],
                     [0.0, 0.0, 1.0]])


def write_nyu(root: str,
              seed: int = 0,
              rooms: Optional[Dict[str, int]] = None,
              views_per_room: int = 4,
              height: int = 480,
              width: int = 640,
              img_ext: str = '.jpg',
              depth_scale: float = 1000.0,
              label_dir: str = 'labels40',
              antialias: bool = True,
              progress: bool = False) -> dict:
    """Render indoor rooms and write them in MMSegmentation's NYU layout.

    Room ``i`` (counted over all splits, from 1) is an
    :class:`IndoorScene` named ``<room_type>_<i:04d>``; its views ``j``
    (:meth:`IndoorScene.camera_poses`) get the stem
    ``<room_type>_<i:04d>_<j:05d>`` (the real layout's
    ``<scene>_<frame>`` names, whose prefix MMSegmentation reads as the
    scene category) and the files::

        images/<split>/<stem><img_ext>      colour (JPEG quality 92 or PNG)
        annotations/<split>/<stem>.png      uint16 depth, metres * depth_scale
        <label_dir>/<split>/<stem>.png      uint8 NYUv2-40 ids (0 unlabelled)

    Args:
        root (str): Output root.
        seed (int): Seed of everything. Defaults to 0.
        rooms (dict, optional): Split -> number of rooms. Defaults to
            ``{'train': 4, 'test': 2}``.
        views_per_room (int): Views (images) per room. Defaults to 4.
        height (int): Image height. Defaults to 480 (NYU).
        width (int): Image width. Defaults to 640 (NYU).
        img_ext (str): ``'.jpg'`` (the layout's) or ``'.png'``.
        depth_scale (float): Depth PNG units per metre. Defaults to 1000
            (millimetres, the layout's unit).
        label_dir (str): Folder of the label maps. Defaults to 'labels40'.
        antialias (bool): Quincunx pixel filter of the renderer.
        progress (bool): Show an MMEngine progress bar. Defaults to False.

    Returns:
        dict: Summary: ``root``, ``splits`` (split -> list of stems),
        ``height``, ``width``, ``K`` (3x3 list), ``depth_scale``,
        ``label_dir``, ``views_per_room`` and ``scenes`` (room name ->
        :class:`IndoorScene` arguments; the image ``<room>_<j:05d>`` is
        ``IndoorScene(**args).camera_poses(views_per_room)[j]``).
    """
    if rooms is None:
        rooms = {'train': 4, 'test': 2}
    if views_per_room < 1 or any(n < 0 for n in rooms.values()):
        raise ValueError('write_nyu needs views_per_room >= 1 and room '
                         f'counts >= 0, got {views_per_room} and {rooms}')
    if img_ext not in ('.jpg', '.png'):
        raise ValueError(f"img_ext must be '.jpg' or '.png', got {img_ext!r}")
    if not 0 < depth_scale <= 65535 / 10:
        raise ValueError('depth_scale must be in (0, 6553.5] so that 10 m '
                         f'fit into uint16, got {depth_scale}')
    K = nyu_intrinsics(height, width)
    bar = _progress_bar(sum(rooms.values()) * views_per_room, progress)
    splits: Dict[str, List[str]] = {}
    scenes: Dict[str, dict] = {}
    index = 0
    for split, num_rooms in rooms.items():
        splits[split] = []
        for _ in range(num_rooms):
            index += 1
            scene_args = dict(seed=_sub_seed(seed, 3, index))
            scene = IndoorScene(**scene_args)
            name = f'{scene.room_type}_{index:04d}'
            scenes[name] = scene_args
            for j, pose in enumerate(scene.camera_poses(views_per_room)):
                stem = f'{name}_{j:05d}'
                out = scene.render(pose, K, height, width, antialias=antialias)
                _write_image(
                    osp.join(root, 'images', split, stem + img_ext),
                    out['img'],
                    rgb=True)
                _write_image(
                    osp.join(root, 'annotations', split, stem + '.png'),
                    encode_depth_png(out['depth'], depth_scale))
                _write_image(
                    osp.join(root, label_dir, split, stem + '.png'),
                    out['label'])
                splits[split].append(stem)
                if bar is not None:
                    bar.update()
    return dict(
        root=root,
        splits=splits,
        height=height,
        width=width,
        K=K.tolist(),
        depth_scale=depth_scale,
        label_dir=label_dir,
        views_per_room=views_per_room,
        scenes=scenes)


# ---------------------------------------------------------------------------
# ISPRS Potsdam / Vaihingen (raw tiles for tools/dataset_converters/isprs.py)
# ---------------------------------------------------------------------------
#: Raw file names of the synthetic ISPRS tiles, relative to
#: ``<root>/<city>``: the names of the real releases (the converter's
#: default patterns), except that the 8-bit nDSM is stored losslessly as
#: TIFF instead of JPEG (the converter tries both extensions).
SYNTHETIC_ISPRS_FILES: Dict[str, Dict[str, str]] = dict(
    potsdam=dict(
        img='3_Ortho_IRRG/top_potsdam_{id}_IRRG.tif',
        label='5_Labels_all/top_potsdam_{id}_label.tif',
        ndsm='1_DSM_normalisation/'
        'dsm_potsdam_{row:02d}_{col:02d}_normalized_lastools.tif'),
    vaihingen=dict(
        img='top/top_mosaic_09cm_{id}.tif',
        label='ground_truth_COMPLETE/top_mosaic_09cm_{id}.tif',
        ndsm='ndsm/dsm_09cm_matching_{id}_normalized.tif'))
#: Metres per grey level of the synthetic 8-bit nDSM tiles (255 = 25.5 m,
#: above every synthetic object), so the converter's default global
#: normalisation (``/ 255``) gives ``height / 25.5 m``.
SYNTHETIC_NDSM_STEP = 0.1


def synthetic_isprs_tile_ids(city: str,
                             counts: Dict[str, int]) -> Dict[str, List[str]]:
    """Tile ids of the synthetic tiles, in the real ids' forms.

    Potsdam: tile ``i`` of the ``k``-th split is ``'<2 + k>_<10 + i>'``
    (``'2_10'``, ``'2_11'``, ..., ``'3_10'``, ...); Vaihingen: areas
    ``'area1'``, ``'area2'``, ... numbered over all splits in order.

    Args:
        city (str): ``'potsdam'`` or ``'vaihingen'``.
        counts (dict): split -> number of tiles.

    Returns:
        dict: split -> tile ids.
    """
    ids: Dict[str, List[str]] = {}
    area = 0
    for k, (split, n) in enumerate(counts.items()):
        if city == 'potsdam':
            ids[split] = [f'{2 + k}_{10 + i}' for i in range(n)]
        else:
            ids[split] = [f'area{area + i + 1}' for i in range(n)]
            area += n
    return ids


def _isprs_fields(tile_id: str) -> dict:
    row_col = tile_id.split('_')
    fields = dict(id=tile_id)
    if len(row_col) == 2 and all(p.isdigit() for p in row_col):
        fields.update(row=int(row_col[0]), col=int(row_col[1]))
    return fields


def encode_ndsm_8bit(ndsm: np.ndarray,
                     step: float = SYNTHETIC_NDSM_STEP) -> np.ndarray:
    """nDSM in metres -> 8-bit grey levels ``clip(round(h / step), 0,
    255)`` (the form of the real 8-bit nDSM releases)."""
    return np.clip(np.rint(np.asarray(ndsm) / step), 0, 255).astype(np.uint8)


def write_isprs(root: str,
                seed: int = 0,
                tiles: Optional[Dict[str, Dict[str, int]]] = None,
                tile_size: float = 40.0,
                progress: bool = False) -> dict:
    """Render aerial city tiles and write them as raw ISPRS tiles.

    Every city gets its own raw tree ``<root>/<city>`` with the files of
    :data:`SYNTHETIC_ISPRS_FILES`, rendered at the city's GSD (Potsdam 5 cm,
    Vaihingen 9 cm, :data:`CITY_STYLES`) in its style::

        img    3 x uint8 TIFF, channels (IR, R, G) as the real IRRG tiles
        label  RGB TIFF with the ISPRS class colours
        ndsm   uint8 TIFF, height / 0.1 m (SYNTHETIC_NDSM_STEP)

    Cut them into patches with ``tools/dataset_converters/isprs.py`` (or
    :func:`mmdepthseg.converters.isprs.convert_isprs`) using the
    ``splits`` of the summary.

    Args:
        root (str): Output root.
        seed (int): Seed of everything. Defaults to 0.
        tiles (dict, optional): city -> split -> number of tiles. Defaults
            to ``{'potsdam': {'train': 4, 'val': 2}, 'vaihingen':
            {'train': 4, 'val': 2}}``.
        tile_size (float): Side of a tile in metres (800 px in Potsdam,
            444 px in Vaihingen for the default 40 m).
        progress (bool): Show an MMEngine progress bar. Defaults to False.

    Returns:
        dict: ``root``, ``tile_size``, ``ndsm_step``, ``cities`` (city ->
        ``raw_root``, ``gsd``, ``tile_shape`` (h, w), ``splits`` (split ->
        tile ids)) and ``scenes`` (``<city>_<id>`` -> :class:`AerialScene`
        arguments).
    """
    if tiles is None:
        tiles = {
            'potsdam': {
                'train': 4,
                'val': 2
            },
            'vaihingen': {
                'train': 4,
                'val': 2
            }
        }
    for city, counts in tiles.items():
        if city not in SYNTHETIC_ISPRS_FILES:
            raise ValueError(f'unknown city {city!r}; expected one of '
                             f'{sorted(SYNTHETIC_ISPRS_FILES)}')
        if any(n < 0 for n in counts.values()):
            raise ValueError(f'tile counts must be >= 0, got {counts}')
    if tile_size <= 0:
        raise ValueError(f'tile_size must be > 0 metres, got {tile_size}')
    bar = _progress_bar(
        sum(n for counts in tiles.values() for n in counts.values()), progress)
    cities: Dict[str, dict] = {}
    scenes: Dict[str, dict] = {}
    for city, counts in tiles.items():
        raw_root = osp.join(root, city)
        ids = synthetic_isprs_tile_ids(city, counts)
        shape = None
        for split_ids in ids.values():
            for tile_id in split_ids:
                scene_args = dict(
                    seed=_sub_seed(seed, 6, zlib.crc32(city.encode()),
                                   zlib.crc32(tile_id.encode())),
                    size=(tile_size, tile_size),
                    city=city)
                scenes[f'{city}_{tile_id}'] = scene_args
                out = AerialScene(**scene_args).render()
                shape = out['label'].shape
                fields = _isprs_fields(tile_id)
                names = {
                    k: osp.join(raw_root, v.format(**fields))
                    for k, v in SYNTHETIC_ISPRS_FILES[city].items()
                }
                _write_image(names['img'], out['img'], rgb=True)
                _write_image(
                    names['label'], labels_to_colours(out['label']), rgb=True)
                _write_image(names['ndsm'], encode_ndsm_8bit(out['ndsm']))
                if bar is not None:
                    bar.update()
        cities[city] = dict(
            raw_root=raw_root,
            gsd=CITY_STYLES[city].gsd,
            tile_shape=None if shape is None else list(shape),
            splits=ids)
    return dict(
        root=root,
        tile_size=tile_size,
        ndsm_step=SYNTHETIC_NDSM_STEP,
        cities=cities,
        scenes=scenes)
