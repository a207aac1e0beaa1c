# Copyright (c) mmdepthseg contributors. All rights reserved.
"""KITTI raw readers: calibration, velodyne scans and their projection
into depth maps (Eigen protocol), monodepth2 split files, and the
depth-completion ("improved") ground truth PNGs.

Everything follows the real on-disk format (``docs/en/dataset_formats.md``);
errors are :class:`~mmdepthseg.datasets.validation.DatasetError` naming the
file, the line or key, and what was expected.
"""
import os.path as osp
from functools import lru_cache
from typing import Dict, List, Optional, Sequence, Tuple, Union

import mmengine.fileio as fileio
import numpy as np

from .io import (DATASET_PREP_HINT, check_file_exists, read_file_bytes,
                 read_image)
from .validation import (DatasetError, check_intrinsics, check_map_format,
                         check_positive, handle_defect)


def read_calib_file(path: str) -> Dict[str, Union[np.ndarray, str]]:
    """Parse a KITTI calibration text file.

    Each line is ``key: values``; values are space-separated floats, except
    for a few text entries (e.g. ``calib_time``) that are kept as strings.

    Args:
        path (str): e.g. ``<date>/calib_cam_to_cam.txt``.

    Returns:
        dict: key -> float64 1-D array (or str for non-numeric values).

    Raises:
        DatasetError: A line that is not ``key: values``, naming it.
    """
    text = read_file_bytes(path).decode('utf-8', errors='replace')
    calib: Dict[str, Union[np.ndarray, str]] = {}
    for line_no, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        if ':' not in line:
            raise DatasetError(
                path,
                f'got {line!r}',
                '"key: values"',
                'calibration',
                line=line_no)
        key, value = line.split(':', 1)
        try:
            calib[key.strip()] = np.array([float(v) for v in value.split()],
                                          dtype=np.float64)
        except ValueError:
            calib[key.strip()] = value.strip()
    return calib


#: Numeric keys of ``calib_cam_to_cam.txt`` read by mmdepthseg and their
#: number of values (X = 0..3).
KITTI_CAM_CALIB_KEYS: Dict[str, int] = {
    **{
        f'P_rect_0{x}': 12
        for x in range(4)
    },
    **{
        f'S_rect_0{x}': 2
        for x in range(4)
    },
    'R_rect_00': 9,
}
#: Numeric keys of ``calib_velo_to_cam.txt`` read by mmdepthseg.
KITTI_VELO_CALIB_KEYS: Dict[str, int] = {'R': 9, 'T': 3}


class KittiCalibration(dict):
    """The calibration of one KITTI date (see :func:`load_kitti_calib`).

    A dict whose missing keys raise a :class:`DatasetError` naming the
    calibration file and the line it lacks (rather than a bare
    ``KeyError``): which keys are needed depends on what is loaded
    (``calib`` intrinsics, velodyne ground truth, the stereo baseline).

    Args:
        entries (dict): The parsed and checked entries.
        cam_path (str): ``calib_cam_to_cam.txt``.
        velo_path (str): ``calib_velo_to_cam.txt``.
        velo_exists (bool): Whether ``velo_path`` exists.
    """

    def __init__(self, entries: dict, cam_path: str, velo_path: str,
                 velo_exists: bool) -> None:
        super().__init__(entries)
        self.cam_path = cam_path
        self.velo_path = velo_path
        self.velo_exists = velo_exists

    def __missing__(self, key: str):
        if key == 'velo2cam':
            if not self.velo_exists:
                raise FileNotFoundError(
                    f'KITTI calibration not found: {self.velo_path} (needed '
                    'to project velodyne points; it comes with '
                    f'<date>_calib.zip; {DATASET_PREP_HINT})')
            velo = read_calib_file(self.velo_path)
            missing = [k for k in KITTI_VELO_CALIB_KEYS if k not in velo]
            raise DatasetError(self.velo_path,
                               f'no key {" and ".join(missing) or key}',
                               'lines "R: <9 numbers>" and "T: <3 numbers>"',
                               'calibration')
        size = KITTI_CAM_CALIB_KEYS.get(key)
        expected = f'a line "{key}: <{size} numbers>"' if size else None
        raise DatasetError(self.cam_path, f'no key {key!r}', expected,
                           'calibration')


def _calib_entry(calib: dict, key: str, size: int, path: str) -> np.ndarray:
    value = calib.get(key)
    if not isinstance(value, np.ndarray) or value.size != size:
        shown = value if isinstance(
            value, str) else (f'{value.size} numbers' if isinstance(
                value, np.ndarray) else value)
        raise DatasetError(path, f'key {key!r} holds {shown!r}',
                           f'{size} numbers', 'calibration')
    if not np.isfinite(value).all():
        raise DatasetError(
            path, f'key {key!r} holds non-finite values '
            f'{value.tolist()}', f'{size} finite numbers', 'calibration')
    return value


def _check_rotation(r: np.ndarray, path: str, key: str) -> np.ndarray:
    """``r`` must be a rotation (orthonormal, det +1) to 1e-3."""
    err = np.abs(r @ r.T - np.eye(3)).max()
    if err > 1e-3 or np.linalg.det(r) < 0:
        raise DatasetError(
            path, f'key {key!r} is not a rotation (|R R^T - I| = {err:.3g}, '
            f'det = {np.linalg.det(r):.3g})', 'an orthonormal 3x3 matrix '
            'with det +1, row-major', 'calibration')
    return r


def load_kitti_calib(calib_dir: str) -> Dict[str, np.ndarray]:
    """Read the camera and velodyne calibration of one KITTI date (cached).

    Parsed once per date folder (the cache key includes the files'
    modification times, so rewritten files are read again). The returned
    arrays are shared: do not modify them in place.

    Every entry read is checked when the files are parsed: its number of
    values, ``P_rect_0X`` a valid camera (``fx, fy > 0``, see
    :func:`~mmdepthseg.datasets.validation.check_intrinsics`), ``S_rect_0X``
    positive, ``R_rect_00`` and the velodyne ``R`` rotations. A key that
    is needed but missing raises when it is first read (see
    :class:`KittiCalibration`). Errors are :class:`DatasetError` naming the
    file and the key.

    Args:
        calib_dir (str): The date folder holding ``calib_cam_to_cam.txt``
            and ``calib_velo_to_cam.txt``.

    Returns:
        KittiCalibration: ``P_rect_0X`` (3, 4), ``S_rect_0X`` (2,) as (w, h)
        for X = 0..3 where present, ``R_rect_00`` (4, 4) homogeneous and
        ``velo2cam`` (4, 4) homogeneous ``[R|T]``.
    """
    cam_path = osp.join(calib_dir, 'calib_cam_to_cam.txt')
    velo_path = osp.join(calib_dir, 'calib_velo_to_cam.txt')
    check_file_exists(cam_path, 'KITTI calibration')
    stamps = tuple(
        osp.getmtime(p) if osp.exists(p) else None
        for p in (cam_path, velo_path))
    return _load_kitti_calib(calib_dir, stamps)


@lru_cache(maxsize=64)
def _load_kitti_calib(calib_dir: str, stamps: tuple) -> KittiCalibration:
    cam_path = osp.join(calib_dir, 'calib_cam_to_cam.txt')
    velo_path = osp.join(calib_dir, 'calib_velo_to_cam.txt')
    cam = read_calib_file(cam_path)
    out: Dict[str, np.ndarray] = {}
    for key, size in KITTI_CAM_CALIB_KEYS.items():
        if key not in cam:
            continue
        value = _calib_entry(cam, key, size, cam_path)
        if key.startswith('P_rect'):
            value = value.reshape(3, 4)
            check_intrinsics(value, cam_path, key)
        elif key.startswith('S_rect'):
            for name, v in zip(('width', 'height'), value):
                check_positive(v, cam_path, f'{key} {name}', 'calibration')
        else:
            value = _check_rotation(value.reshape(3, 3), cam_path, key)
            r_rect = np.eye(4)
            r_rect[:3, :3] = value
            value = r_rect
        out[key] = value
    velo_exists = osp.exists(velo_path)
    if velo_exists:
        velo = read_calib_file(velo_path)
        entries = {
            key: _calib_entry(velo, key, size, velo_path)
            for key, size in KITTI_VELO_CALIB_KEYS.items() if key in velo
        }
        if 'R' in entries:
            entries['R'] = _check_rotation(entries['R'].reshape(3, 3),
                                           velo_path, 'R')
        if len(entries) == len(KITTI_VELO_CALIB_KEYS):
            velo2cam = np.eye(4)
            velo2cam[:3, :3] = entries['R']
            velo2cam[:3, 3] = entries['T']
            out['velo2cam'] = velo2cam
    return KittiCalibration(out, cam_path, velo_path, velo_exists)


def kitti_velo_to_image(calib: Dict[str, np.ndarray], cam: int) -> np.ndarray:
    """Velodyne-to-image projection ``P_rect_0X @ R_rect_00 @ [R|T]``.

    Args:
        calib (dict): Output of :func:`load_kitti_calib`.
        cam (int): Camera number X (2 = left colour, 3 = right colour).

    Returns:
        np.ndarray: (3, 4) float64 matrix mapping homogeneous velodyne
        points to homogeneous pixels whose third entry is camera-X depth.
    """
    if not isinstance(calib, KittiCalibration) and 'velo2cam' not in calib:
        raise KeyError('calib_velo_to_cam.txt is needed to project velodyne '
                       'points but was not found')
    return calib[f'P_rect_0{cam}'] @ calib['R_rect_00'] @ calib['velo2cam']


def kitti_stereo_baseline(calib: Dict[str, np.ndarray]) -> float:
    """Distance (metres) between the rectified colour cameras 02 and 03.

    ``P_rect_0X[0, 3] = -fx * b_X`` where ``b_X`` is camera X's offset along
    x from camera 0, so the baseline is ``P2[0,3]/P2[0,0] - P3[0,3]/P3[0,0]``.

    Raises:
        DatasetError: The baseline is not > 0 (camera 3 is not to the right
            of camera 2), naming the calibration file.
    """
    p2, p3 = calib['P_rect_02'], calib['P_rect_03']
    baseline = float(p2[0, 3] / p2[0, 0] - p3[0, 3] / p3[0, 0])
    if not baseline > 0:
        raise DatasetError(
            getattr(calib, 'cam_path', 'KITTI calibration'),
            f'P_rect_02 and P_rect_03 give a stereo baseline of '
            f'{baseline:g} m', 'camera 03 to the right of camera 02 '
            '(P_rect_02[0, 3] > P_rect_03[0, 3], baseline > 0)', 'calibration')
    return baseline


def read_velodyne_points(path: str) -> np.ndarray:
    """Read a KITTI velodyne scan.

    Returns:
        np.ndarray: (N, 4) float32 rows x (forward), y (left), z (up),
        reflectance.
    """
    buf = read_file_bytes(path)
    if len(buf) % 16 != 0:
        raise DatasetError(
            path, f'velodyne .bin size {len(buf)} bytes is '
            'not a multiple of 16',
            '4 float32 (x, y, z, reflectance) per point', 'depth')
    return np.frombuffer(buf, dtype=np.float32).reshape(-1, 4)


#: Values a KITTI velodyne ground-truth map can store per pixel
#: (:func:`velodyne_to_depth_map`'s ``value``):
#:
#: - ``'velodyne_x'`` (default, the benchmark): the point's forward
#:   coordinate ``x`` in the **scanner** frame (``vel_depth=True``
#:   overwrites the projective depth with ``velo[:, 0]``). It is not the
#:   camera's depth: on KITTI the scanner sits about 0.27 m behind the
#:   cameras, so near the optical axis ``x`` exceeds the camera-frame ``z``
#:   by about 0.27 m, and off axis the two differ further (the scanner's
#:   axes are slightly rotated against the camera's). As in the benchmark,
#:   points are not tested for a positive projective depth (only ``x >=
#:   0``); on real scans no point between the scanner and the image plane
#:   projects into the image.
#: - ``'camera_z'``: the projective depth, i.e. the camera-frame ``z`` of
#:   the rectified camera (points with ``z <= 0`` are dropped). This is
#:   the geometrically exact depth of the camera and what mmdepthseg
#:   stored before it followed the benchmark; it exists for data whose
#:   depth should be the camera's own (the synthetic generator renders
#:   camera-``z`` depth, and its scans are sampled from that render) and
#:   for comparison with works evaluated against camera-``z`` maps. Numbers
#:   measured with it are not comparable with the published tables.
KITTI_GT_DEPTH_VALUES: Tuple[str, ...] = ('velodyne_x', 'camera_z')
#: Kinds of KITTI ground-truth depth: the velodyne values above and the
#: depth-completion annotations (``'improved'``, :func:`read_kitti_depth_png`).
KITTI_GT_DEPTH_KINDS: Tuple[str, ...] = KITTI_GT_DEPTH_VALUES + ('improved', )


def velodyne_to_depth_map(points: np.ndarray,
                          velo2img: np.ndarray,
                          shape: Tuple[int, int],
                          pixel_offset: int = 1,
                          value: str = 'velodyne_x') -> np.ndarray:
    """Project a velodyne scan into a sparse depth map (Eigen protocol).

    Follows the published KITTI Eigen benchmark, monodepth2's
    ``export_gt_depth.py`` (``generate_depth_map(calib_dir, velo_file, cam,
    vel_depth=True)``), which produced the ground truth of every published
    KITTI Eigen number (Monodepth2, FSRE-Depth, Pseudo-MTL and the works
    they compare with): points behind the scanner (velodyne ``x < 0``) are
    dropped; the others are projected with ``velo2img`` and ``u, v`` are
    divided by the projective depth; the pixel is ``round(u) - 1, round(v)
    - 1`` (``np.round``, half to even; KITTI's MATLAB 1-based indexing
    carried over); points outside the ``(h, w)`` image are dropped; where
    several points land on one pixel the smallest stored value is kept.

    What is stored (``value``) is described at
    :data:`KITTI_GT_DEPTH_VALUES`.

    Note:
        Because of the ``- 1`` a point whose projection is exactly the
        0-based pixel centre ``(u, v)`` is written to pixel ``(u-1, v-1)``.
        This is the published protocol (from KITTI's MATLAB development
        kit) and the default. Data whose projection matrices use 0-based
        pixel centres, like mmdepthseg's synthetic generator, get
        pixel-aligned maps with ``pixel_offset=0``.

    Note:
        Where several points hit one pixel, every pixel keeps the minimum
        of its own points (monodepth2 differs in the first and last columns
        only, see :func:`_min_depth_per_pixel`).

    Args:
        points (np.ndarray): (N, 3+) velodyne points (x, y, z, ...).
        velo2img (np.ndarray): (3, 4) projection, see
            :func:`kitti_velo_to_image`.
        shape (tuple[int, int]): (h, w) of the image (``S_rect_0X``).
        pixel_offset (int): Subtracted from the rounded coordinates.
            Defaults to 1 (the Eigen / KITTI protocol).
        value (str): ``'velodyne_x'`` (default) or ``'camera_z'``, see
            above.

    Returns:
        np.ndarray: (h, w) float32 depth in metres, 0 where no point fell.
    """
    if value not in KITTI_GT_DEPTH_VALUES:
        raise ValueError(f'velodyne_to_depth_map: value must be one of '
                         f'{KITTI_GT_DEPTH_VALUES}, got {value!r}')
    h, w = int(shape[0]), int(shape[1])
    pts = points[points[:, 0] >= 0, :3].astype(np.float64)
    pts_h = np.concatenate([pts, np.ones((pts.shape[0], 1))], axis=1)
    proj = pts_h @ velo2img.T  # (N, 3)
    z = proj[:, 2]
    with np.errstate(divide='ignore', invalid='ignore'):
        u = np.round(proj[:, 0] / z) - pixel_offset
        v = np.round(proj[:, 1] / z) - pixel_offset
    # NaN / inf coordinates (z = 0) fail every comparison and are dropped
    keep = (u >= 0) & (v >= 0) & (u < w) & (v < h)
    if value == 'camera_z':
        keep &= z > 0
        stored = z
    else:
        stored = pts[:, 0]
    return _min_depth_per_pixel(u[keep].astype(np.int64),
                                v[keep].astype(np.int64), stored[keep], (h, w))


def _min_depth_per_pixel(u: np.ndarray, v: np.ndarray, values: np.ndarray,
                         shape: Tuple[int, int]) -> np.ndarray:
    """``(h, w)`` float32 map of the smallest value per pixel, 0 elsewhere.

    monodepth2 finds pixels hit by several points through a linear index
    ``row * (w - 1) + col - 1``, which also merges pixel ``(r, w - 1)``
    with ``(r + 1, 0)``; where both are hit, the one reached first in scan
    order gets the minimum of both. Here every pixel keeps the minimum of
    its own points. The two maps can differ only in the first and last
    image columns, which both KITTI crops (Garg and Eigen) leave out, so
    the evaluated numbers are identical.
    """
    h, w = shape
    depth = np.full(h * w, np.inf)
    np.minimum.at(depth, v * w + u, values)
    depth[np.isinf(depth)] = 0
    return depth.reshape(h, w).astype(np.float32)


def read_kitti_split_lines(path: str) -> List[Tuple[int, str, int, str]]:
    """Read a monodepth2 split file with the line number of each sample.

    Each line is ``<date>/<drive>_sync <frame index> <l|r>``; the index may
    be zero-padded; blank lines are skipped.

    Returns:
        list[tuple[int, str, int, str]]: (line number, folder, frame index,
        side) per sample.

    Raises:
        DatasetError: Naming the first malformed line and how many more
            there are.
    """
    text = read_file_bytes(path).decode('utf-8', errors='replace')
    samples, bad = [], []
    for line_no, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 3 or parts[2] not in ('l', 'r') \
                or not parts[1].isdigit():
            bad.append((line_no, line))
            continue
        samples.append((line_no, parts[0], int(parts[1]), parts[2]))
    if bad:
        more = '' if len(bad) == 1 else (
            f' (and {len(bad) - 1} more malformed lines: '
            f'{", ".join(str(n) for n, _ in bad[1:11])}'
            f'{", ..." if len(bad) > 11 else ""})')
        raise DatasetError(
            path,
            f'got {bad[0][1]!r}{more}',
            '"<date>/<drive>_sync <frame index> <l|r>"',
            'split',
            line=bad[0][0])
    return samples


def read_kitti_split(path: str) -> list:
    """Read a monodepth2 split file.

    Each line is ``<date>/<drive>_sync <frame index> <l|r>``; the index may be
    zero-padded.

    Returns:
        list[tuple[str, int, str]]: (folder, frame index, side) per line.
    """
    return [sample[1:] for sample in read_kitti_split_lines(path)]


def check_kitti_split_folders(
        split_path: str, data_root: str, samples: Sequence[Tuple[int, str, int,
                                                                 str]]) -> set:
    """Find the dates and drives that split lines name but the tree lacks.

    Every distinct ``<date>/<drive>_sync`` folder of the split is looked up
    once (a few hundred folders for 40k lines).

    Args:
        split_path (str): The split file (for the message).
        data_root (str): The KITTI raw root.
        samples: From :func:`read_kitti_split_lines`.

    Returns:
        set[str]: The missing folders (empty if all exist).

    Raises:
        DatasetError: Listing every missing date / drive with its first
            line numbers (raised unless a defect collector is active, see
            :mod:`~mmdepthseg.datasets.validation`; then it is recorded).
    """
    lines: Dict[str, List[int]] = {}
    for line_no, folder, _, _ in samples:
        lines.setdefault(folder, []).append(line_no)
    missing_dates: Dict[str, List[int]] = {}
    missing_drives: Dict[str, List[int]] = {}
    for folder, nums in lines.items():
        date = folder.split('/')[0]
        if not osp.isdir(osp.join(data_root, date)):
            missing_dates.setdefault(date, []).extend(nums)
        elif not osp.isdir(osp.join(data_root, folder)):
            missing_drives[folder] = nums
    if not missing_dates and not missing_drives:
        return set()

    def listing(entries: Dict[str, List[int]]) -> str:
        parts = []
        for name, nums in sorted(entries.items()):
            shown = ', '.join(str(n) for n in sorted(nums)[:5])
            extra = f', ... ({len(nums)} lines)' if len(nums) > 5 else ''
            parts.append(f'{name} (line {shown}{extra})')
        return '; '.join(parts)

    problems = []
    if missing_dates:
        problems.append(f'{len(missing_dates)} date folder(s) missing: '
                        f'{listing(missing_dates)}')
    if missing_drives:
        problems.append(f'{len(missing_drives)} drive folder(s) missing: '
                        f'{listing(missing_drives)}')
    handle_defect(
        DatasetError(
            split_path, f'names folders that do not exist under {data_root}'
            f': {"; ".join(problems)}', 'every <date>/<drive>_sync of the '
            f'split extracted under the data root ({DATASET_PREP_HINT})',
            'split'), 'error')
    return {
        folder
        for folder in lines
        if folder.split('/')[0] in missing_dates or folder in missing_drives
    }


#: Folder of KITTI's depth-completion annotations ("improved ground truth",
#: Uhrig et al., 3DV 2017) inside a drive folder, formatted with the camera
#: number: where monodepth2's ``export_gt_depth.py --split eigen_benchmark``
#: reads them (the annotation archive merged into the raw tree).
KITTI_IMPROVED_GT_DIR = 'proj_depth/groundtruth/image_{cam:02d}'
#: Subsets of the official depth-completion download
#: (``data_depth_annotated/{train,val}/<drive>_sync/proj_depth/...``).
KITTI_IMPROVED_GT_SUBSETS: Tuple[str, ...] = ('train', 'val')


def kitti_improved_gt_path(data_root: str,
                           folder: str,
                           frame_index: int,
                           cam: int,
                           improved_gt_root: Optional[str] = None,
                           gt_dir: str = KITTI_IMPROVED_GT_DIR) -> str:
    """Path of one frame's improved ground truth (depth-completion PNG).

    Two layouts are understood:

    - ``improved_gt_root=None`` (monodepth2's): the annotations merged into
      the raw tree, ``<data_root>/<date>/<drive>_sync/<gt_dir>/<frame>.png``;
    - ``improved_gt_root`` given: the official download as extracted,
      ``<improved_gt_root>/{train,val}/<drive>_sync/<gt_dir>/<frame>.png``
      (a drive belongs to one of the two subsets; both are looked in).

    Args:
        data_root (str): KITTI raw root.
        folder (str): ``<date>/<drive>_sync`` of the split line.
        frame_index (int): Frame number.
        cam (int): Camera number (2 left, 3 right colour).
        improved_gt_root (str, optional): Root of the depth-completion
            download, see above.
        gt_dir (str): Folder inside a drive, formatted with ``cam``.

    Returns:
        str: The existing file.

    Raises:
        FileNotFoundError: Naming every place looked in.
    """
    name = f'{frame_index:010d}.png'
    sub = gt_dir.format(cam=cam)
    if improved_gt_root is None:
        candidates = [osp.join(data_root, folder, sub, name)]
    else:
        drive = folder.split('/')[-1]
        candidates = [
            osp.join(improved_gt_root, subset, drive, sub, name)
            for subset in KITTI_IMPROVED_GT_SUBSETS
        ]
    for path in candidates:
        if fileio.exists(path):
            return path
    raise FileNotFoundError(
        f'KITTI improved ground truth (depth-completion annotation) not '
        f'found: tried {" and ".join(candidates)}; it comes with '
        'data_depth_annotated.zip of the KITTI depth benchmark '
        f'({DATASET_PREP_HINT})')


def read_kitti_depth_png(path: str) -> np.ndarray:
    """Read a KITTI depth-benchmark PNG (improved ground truth).

    The files are single-channel uint16 with ``depth = value / 256`` metres
    and 0 = no measurement (KITTI depth devkit).

    Args:
        path (str): The PNG.

    Returns:
        np.ndarray: ``(h, w)`` float32 depth in metres, 0 = invalid.

    Raises:
        ValueError: The file is not a single-channel uint16 image.
    """
    raw = check_map_format(
        read_image(path, 'unchanged'), path, np.uint16, 'depth PNG',
        'KITTI depth benchmark, depth = value / 256')
    return raw.astype(np.float32) / 256.0
