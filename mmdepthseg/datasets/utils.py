# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Readers and conversions shared by the dataset classes and loaders.

Everything here follows the on-disk formats of the real datasets (KITTI raw,
Cityscapes); see ``docs/en/dataset_formats.md`` and the README's "Dataset
preparation" section. Errors name the offending file and say what was expected.
"""
import json
import os.path as osp
from functools import lru_cache
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import mmcv
import mmengine.fileio as fileio
import numpy as np

from .validation import (DatasetError, check_intrinsics, check_map_format,
                         check_positive, handle_defect, jpeg_num_components,
                         to_bgr_uint8)

#: Pointer appended to every "missing file" error.
DATASET_PREP_HINT = ('see the "Dataset preparation" section of README.md for '
                     'how to download and lay out the data')

#: Cityscapes labelId -> trainId (19 classes, 255 = ignore), as in
#: cityscapesScripts' ``labels.py``.
CITYSCAPES_LABEL_ID_TO_TRAIN_ID: Dict[int, int] = {
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


def _build_lut(mapping: Dict[int, int], ignore_index: int = 255) -> np.ndarray:
    lut = np.full(256, ignore_index, dtype=np.uint8)
    for src, dst in mapping.items():
        lut[src] = dst
    return lut


#: Cityscapes trainId -> category (Pseudo-MTL Table 3: 0 flat, 1
#: construction, 2 object, 3 nature, 4 sky, 5 human, 6 vehicle), following
#: the ``category`` of cityscapesScripts' ``labels.py``. A trainId map holds
#: only the 19 evaluated classes, so only they can be mapped (everything
#: else is 255 already).
CITYSCAPES_TRAIN_ID_TO_CATEGORY: Dict[int, int] = {
    train_id: category
    for category, train_ids in enumerate((
        (0, 1),  # flat: road, sidewalk
        (2, 3, 4),  # construction: building, wall, fence
        (5, 6, 7),  # object: pole, traffic light, traffic sign
        (8, 9),  # nature: vegetation, terrain
        (10, ),  # sky
        (11, 12),  # human: person, rider
        (13, 14, 15, 16, 17, 18),  # vehicle: car ... bicycle
    ))
    for train_id in train_ids
}

#: Cityscapes labelId -> category: the ``category`` (``catId - 1``) that
#: cityscapesScripts' ``labels.py`` gives EVERY non-void label, as in the
#: 7-class Cityscapes of MTAN (Liu et al., 2019) that Pseudo-MTL's Table 3
#: follows: besides the 19 evaluated classes, parking (9) and rail track
#: (10) are flat, guard rail (14), bridge (15) and tunnel (16)
#: construction, polegroup (18) object, caravan (29) and trailer (30)
#: vehicle. The void labels 0-6 (unlabeled, ego vehicle, rectification
#: border, out of roi, static, dynamic, ground) are 255.
CITYSCAPES_LABEL_ID_TO_CATEGORY: Dict[int, int] = {
    label_id: category
    for category, label_ids in enumerate((
        (7, 8, 9, 10),  # flat: road, sidewalk, parking, rail track
        (11, 12, 13, 14, 15, 16),  # construction: building, wall, fence,
        # guard rail, bridge, tunnel
        (17, 18, 19, 20),  # object: pole, polegroup, traffic light, sign
        (21, 22),  # nature: vegetation, terrain
        (23, ),  # sky
        (24, 25),  # human: person, rider
        (26, 27, 28, 29, 30, 31, 32, 33),  # vehicle: car, truck, bus,
        # caravan, trailer, train, motorcycle, bicycle
    ))
    for label_id in label_ids
}

#: Metainfo (``classes``, ``palette``) of the 7 Cityscapes categories; each
#: colour is that of the category's main class (road, building, pole,
#: vegetation, sky, person, car).
CITYSCAPES_CATEGORIES: Dict[str, tuple] = dict(
    classes=('flat', 'construction', 'object', 'nature', 'sky', 'human',
             'vehicle'),
    palette=([128, 64, 128], [70, 70, 70], [153, 153, 153], [107, 142, 35],
             [70, 130, 180], [220, 20, 60], [0, 0, 142]))

#: Lookup tables (uint8, 256 entries) that convert a stored label map into
#: training labels, by the name datasets put into
#: ``results['label_id_format']``: trainIds, or the 7 categories
#: (``*_to_categories``), or NYUv2's 40 classes.
#: ``'cityscapes_labelIds_to_categories'`` maps every non-void labelId
#: (MTAN's 7 classes, :data:`CITYSCAPES_LABEL_ID_TO_CATEGORY`);
#: ``'cityscapes_labelIds_to_categories_eval19'`` only the 19 evaluated
#: classes (the 8 others are 255), i.e. what a model trained on trainIds
#: can predict, as in cityscapesScripts' category evaluation.
LABEL_LUTS: Dict[str, np.ndarray] = {
    'cityscapes_labelIds':
    _build_lut(CITYSCAPES_LABEL_ID_TO_TRAIN_ID),
    'cityscapes_trainIds_to_categories':
    _build_lut(CITYSCAPES_TRAIN_ID_TO_CATEGORY),
    'cityscapes_labelIds_to_categories':
    _build_lut(CITYSCAPES_LABEL_ID_TO_CATEGORY),
    'cityscapes_labelIds_to_categories_eval19':
    _build_lut({
        label_id: CITYSCAPES_TRAIN_ID_TO_CATEGORY[train_id]
        for label_id, train_id in CITYSCAPES_LABEL_ID_TO_TRAIN_ID.items()
    }),
    # NYUv2-40 ids (0 = unlabelled, 1..40 = classes) -> 0..39, 255
    'nyu40_labelIds':
    _build_lut({i: i - 1
                for i in range(1, 41)}),
}


def _id_domain(ids) -> np.ndarray:
    domain = np.zeros(256, dtype=bool)
    domain[list(ids)] = True
    return domain


#: The stored ids each table of :data:`LABEL_LUTS` defines (256-entry bool
#: tables). A stored id outside its table's domain (e.g. labelId 200) is a
#: defect of the file (``LoadDepthSegAnnotations(invalid_label=...)``),
#: whereas known ids the table sends to 255 (Cityscapes' void labels,
#: NYU's 0 "unlabelled") are ordinary ignored pixels. Cityscapes labelIds
#: are 0..33; trainId maps hold 0..18 and 255; NYUv2-40 ids 0..40. A table
#: registered without a domain accepts every id.
LABEL_ID_DOMAINS: Dict[str, np.ndarray] = {
    'cityscapes_labelIds': _id_domain(range(34)),
    'cityscapes_trainIds_to_categories': _id_domain([*range(19), 255]),
    'cityscapes_labelIds_to_categories': _id_domain(range(34)),
    'cityscapes_labelIds_to_categories_eval19': _id_domain(range(34)),
    'nyu40_labelIds': _id_domain(range(41)),
}


def register_label_table(name: str,
                         lut: np.ndarray,
                         domain: Optional[Sequence[int]] = None) -> None:
    """Add a named label table (kept if ``name`` exists already).

    Args:
        name (str): The ``label_id_format`` naming it.
        lut (np.ndarray): 256-entry uint8 table stored id -> training label
            (255 = ignore).
        domain (Sequence[int], optional): The stored ids the format
            defines; None accepts every id.
    """
    LABEL_LUTS.setdefault(name, np.asarray(lut, dtype=np.uint8))
    if domain is not None:
        LABEL_ID_DOMAINS.setdefault(name, _id_domain(domain))


def check_file_exists(path: str, what: str = 'file') -> None:
    """Raise ``FileNotFoundError`` naming ``path`` if it does not exist.

    Args:
        path (str): File or directory that must exist.
        what (str): Words describing it in the message, e.g. ``'data root'``.
    """
    if not fileio.exists(path):
        raise FileNotFoundError(
            f'{what} not found: {path} ({DATASET_PREP_HINT})')


def list_dataset_images(data_root: str,
                        data_prefix: Dict[str, str],
                        img_suffix: str,
                        what: str,
                        folders: Sequence[Tuple[str, str]] = (),
                        recursive: bool = True) -> List[str]:
    """Check a dataset's folders and list its images.

    Args:
        data_root (str): The dataset root (must exist).
        data_prefix (dict[str, str]): Folders by key; ``'img_path'`` (the
            image folder) must exist.
        img_suffix (str): Suffix of the image files, e.g. ``'.png'``.
        what (str): Name of the dataset in error messages, e.g.
            ``'NYUv2'``.
        folders (Sequence[tuple[str, str]]): ``(key, description)`` of
            further ``data_prefix`` folders that must exist when the key is
            given (e.g. ``('seg_map_path', 'label folder')``).
        recursive (bool): List the image folder recursively. Defaults to
            True.

    Returns:
        list[str]: Sorted image paths relative to the image folder.

    Raises:
        FileNotFoundError: Naming the missing root / folder, or the image
            folder without any ``*img_suffix`` file.
    """
    check_file_exists(data_root, f'{what} data root')
    img_dir = data_prefix['img_path']
    check_file_exists(img_dir, f'{what} image folder')
    for key, description in folders:
        if key in data_prefix:
            check_file_exists(data_prefix[key], f'{what} {description}')
    rel_paths = sorted(
        fileio.list_dir_or_file(
            img_dir, list_dir=False, suffix=img_suffix, recursive=recursive))
    if not rel_paths:
        raise FileNotFoundError(f'no *{img_suffix} image under {img_dir} '
                                f'({DATASET_PREP_HINT})')
    return rel_paths


def _get_bytes(path: str, backend_args: Optional[dict] = None) -> bytes:
    try:
        return fileio.get(path, backend_args=backend_args)
    except FileNotFoundError:
        raise FileNotFoundError(
            f'file not found: {path} ({DATASET_PREP_HINT})') from None


def read_image(path: str,
               flag: str = 'color',
               backend: str = 'cv2',
               backend_args: Optional[dict] = None) -> np.ndarray:
    """Read an image file with mmcv (OpenCV backend by default).

    With ``flag='color'`` and the OpenCV backend the file is decoded as
    stored (``IMREAD_ANYCOLOR | IMREAD_ANYDEPTH``, EXIF orientation
    applied as by ``IMREAD_COLOR``) and converted by
    :func:`~mmdepthseg.datasets.validation.to_bgr_uint8`: grey images are
    repeated into 3 channels (with a warning), an alpha channel is dropped,
    16-bit / float images and CMYK JPEGs are refused, naming the file.

    Args:
        path (str): Image file.
        flag (str): ``'color'`` (BGR uint8 ``(H, W, 3)``), ``'grayscale'`` or
            ``'unchanged'`` (keeps 16-bit PNGs and single channels).
        backend (str): mmcv decoding backend. Defaults to ``'cv2'``.
        backend_args (dict, optional): mmengine file backend arguments.

    Returns:
        np.ndarray: The decoded image.

    Raises:
        FileNotFoundError: The file does not exist.
        OSError: The file exists but cannot be decoded (corrupt, truncated or
            not an image).
        DatasetError: A colour image of a refused kind (see above).
    """
    img_bytes = _get_bytes(path, backend_args)
    img = None
    as_stored = flag == 'color' and backend == 'cv2'
    if len(img_bytes) > 0:
        try:
            if as_stored:
                img = cv2.imdecode(
                    np.frombuffer(img_bytes, np.uint8),
                    cv2.IMREAD_ANYCOLOR | cv2.IMREAD_ANYDEPTH)
            else:
                img = mmcv.imfrombytes(img_bytes, flag=flag, backend=backend)
        except Exception:  # decoders raise various errors on bad input
            img = None
    if img is None:
        raise OSError(f'cannot decode image file {path}: it is empty, '
                      'truncated or not an image')
    if as_stored:
        img = to_bgr_uint8(img, path, jpeg_num_components(img_bytes))
    return img


# ---------------------------------------------------------------------------
# KITTI raw
# ---------------------------------------------------------------------------
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
    text = _get_bytes(path).decode('utf-8', errors='replace')
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
    buf = _get_bytes(path)
    if len(buf) % 16 != 0:
        raise DatasetError(
            path, f'velodyne .bin size {len(buf)} bytes is '
            'not a multiple of 16',
            '4 float32 (x, y, z, reflectance) per point', 'depth')
    return np.frombuffer(buf, dtype=np.float32).reshape(-1, 4)


#: Values a KITTI velodyne ground-truth map can store per pixel, see
#: :func:`velodyne_to_depth_map`.
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

    What is stored (``value``):

    - ``'velodyne_x'`` (default, the benchmark): the point's forward
      coordinate ``x`` in the **scanner** frame (``vel_depth=True``
      overwrites the projective depth with ``velo[:, 0]``). It is not the
      camera's depth: on KITTI the scanner sits about 0.27 m behind the
      cameras, so near the optical axis ``x`` exceeds the camera-frame ``z``
      by about 0.27 m, and off axis the two differ further (the scanner's
      axes are slightly rotated against the camera's). As in the benchmark,
      points are not tested for a positive projective depth (only ``x >=
      0``); on real scans no point between the scanner and the image plane
      projects into the image.
    - ``'camera_z'``: the projective depth, i.e. the camera-frame ``z`` of
      the rectified camera (points with ``z <= 0`` are dropped). This is
      the geometrically exact depth of the camera and what mmdepthseg
      stored before it followed the benchmark; it exists for data whose
      depth should be the camera's own (the synthetic generator renders
      camera-``z`` depth, and its scans are sampled from that render) and
      for comparison with works evaluated against camera-``z`` maps. Numbers
      measured with it are not comparable with the published tables.

    Note:
        Because of the ``- 1`` a point whose projection is exactly the
        0-based pixel centre ``(u, v)`` is written to pixel ``(u-1, v-1)``.
        This is the published protocol (from KITTI's MATLAB development
        kit) and the default. Data whose projection matrices use 0-based
        pixel centres, like mmdepthseg's synthetic generator, get
        pixel-aligned maps with ``pixel_offset=0``.

    Note:
        monodepth2 finds pixels hit by several points through a linear index
        ``row * (w - 1) + col - 1``, which also merges pixel ``(r, w - 1)``
        with ``(r + 1, 0)``; where both are hit, the one reached first in
        scan order gets the minimum of both. Here every pixel keeps the
        minimum of its own points. The two maps can differ only in the first
        and last image columns, which both KITTI crops (Garg and Eigen) leave
        out, so the evaluated numbers are identical.

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
    u, v = u[keep].astype(np.int64), v[keep].astype(np.int64)
    depth = np.full(h * w, np.inf)
    np.minimum.at(depth, v * w + u, stored[keep])
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
    text = _get_bytes(path).decode('utf-8', errors='replace')
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


# ---------------------------------------------------------------------------
# Cityscapes
# ---------------------------------------------------------------------------
def read_cityscapes_camera(path: str) -> Dict[str, float]:
    """Read a Cityscapes ``*_camera.json``.

    Returns:
        dict: ``fx``, ``fy``, ``u0``, ``v0`` (pixels) and ``baseline``
        (metres).
    """
    try:
        cam = json.loads(_get_bytes(path).decode('utf-8'))
        out = dict(
            fx=float(cam['intrinsic']['fx']),
            fy=float(cam['intrinsic']['fy']),
            u0=float(cam['intrinsic']['u0']),
            v0=float(cam['intrinsic']['v0']),
            baseline=float(cam['extrinsic']['baseline']))
    except (KeyError, TypeError, ValueError) as e:
        raise DatasetError(
            path, f'malformed camera JSON ({e!r})', 'Cityscapes camera JSON '
            'with intrinsic {fx, fy, u0, v0} and extrinsic {baseline}',
            'intrinsics') from e
    check_intrinsics(
        [[out['fx'], 0, out['u0']], [0, out['fy'], out['v0']], [0, 0, 1]],
        path, 'intrinsic {fx, fy, u0, v0}')
    check_positive(out['baseline'], path, 'extrinsic.baseline')
    return out


def cityscapes_disparity_to_depth(disp_png: np.ndarray,
                                  baseline_fx: float) -> np.ndarray:
    """Decode a Cityscapes disparity PNG into metric depth.

    ``disparity = (p - 1) / 256`` for ``p > 0`` and
    ``depth = baseline * fx / disparity``; ``p = 0`` and ``p = 1`` (zero
    disparity, infinitely far) give depth 0 (invalid).

    Args:
        disp_png (np.ndarray): (H, W) uint16 PNG values.
        baseline_fx (float): ``baseline * fx`` (metres * pixels).

    Returns:
        np.ndarray: (H, W) float32 depth in metres.
    """
    disp = (disp_png.astype(np.float32) - 1.0) / 256.0
    valid = disp_png > 1
    depth = np.zeros(disp_png.shape, dtype=np.float32)
    depth[valid] = baseline_fx / disp[valid]
    return depth


def map_label_ids(label_map: np.ndarray, fmt: str) -> np.ndarray:
    """Convert a stored label map to trainIds with a named lookup table.

    Args:
        label_map (np.ndarray): uint8 label map of any shape.
        fmt (str): A key of :data:`LABEL_LUTS` (e.g. ``'cityscapes_labelIds'``)
            or ``'trainIds'`` (returned unchanged).

    Returns:
        np.ndarray: uint8 trainId map (255 = ignore).
    """
    if fmt == 'trainIds':
        return label_map
    if fmt not in LABEL_LUTS:
        raise KeyError(f'unknown label id format {fmt!r}; expected '
                       f"'trainIds' or one of {sorted(LABEL_LUTS)}")
    if label_map.dtype != np.uint8:
        raise TypeError(f'label maps must be uint8, got {label_map.dtype}')
    return LABEL_LUTS[fmt][label_map]


def label_table(fmt: str) -> Tuple[Optional[np.ndarray], Optional[np.ndarray]]:
    """The lookup table and id domain of a ``label_id_format``.

    Args:
        fmt (str): ``'trainIds'`` or a key of :data:`LABEL_LUTS`.

    Returns:
        tuple: ``(lut, domain)``: the 256-entry uint8 table (None for
        ``'trainIds'``) and the 256-entry bool table of the ids the format
        defines (None: every id, or ``'trainIds'`` whose range is the
        number of classes).
    """
    if fmt == 'trainIds':
        return None, None
    if fmt not in LABEL_LUTS:
        raise KeyError(f'unknown label id format {fmt!r}; expected '
                       f"'trainIds' or one of {sorted(LABEL_LUTS)}")
    return LABEL_LUTS[fmt], LABEL_ID_DOMAINS.get(fmt)


def normalised_to_absolute_intrinsics(k_norm: np.ndarray, width: int,
                                      height: int) -> np.ndarray:
    """Scale monodepth2-style normalised intrinsics to pixels.

    Row 0 is multiplied by the width and row 1 by the height, exactly as
    monodepth2 does (so the normalised ``c = 0.5`` maps to ``W / 2``).

    Returns:
        np.ndarray: (3, 3) float32.
    """
    k = np.array(k_norm, dtype=np.float32).reshape(3, 3).copy()
    k[0] *= width
    k[1] *= height
    return k


def _kind_for(what: str) -> str:
    return 'label' if 'label' in what else 'depth'


def stack_views(arrays: Sequence[np.ndarray],
                paths: Sequence[str],
                what: str = 'image') -> np.ndarray:
    """Stack per-view arrays, checking that their sizes agree.

    Args:
        arrays: (H, W[, C]) arrays, one per view.
        paths: their file names, for the error message.
        what: what they are, for the error message.

    Returns:
        np.ndarray: ``(H, W, sum C)`` for images (channels concatenated) or
        ``(V, H, W)`` for 2-D maps.
    """
    shapes = [a.shape[:2] for a in arrays]
    if len(set(shapes)) > 1:
        listing = ', '.join(f'{p} {s[1]}x{s[0]}'
                            for p, s in zip(paths, shapes))
        raise DatasetError(
            paths[0], f'the views of one sample differ in size: {what}s '
            f'{listing} (w x h)', 'all views of one sample of the same size',
            'image' if what == 'image' else _kind_for(what))
    if arrays[0].ndim == 3:
        return np.concatenate(arrays, axis=2)
    return np.stack(arrays, axis=0)
