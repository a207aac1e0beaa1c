# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Camera files of own footage: intrinsics in pixels or normalised, optional
distortion and stereo baseline (JSON, YAML, OpenCV's calibration YAML, ROS
``camera_info``); see ``docs/en/own_video.md``."""
import json
import os.path as osp
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import cv2
import mmengine.fileio as fileio
import numpy as np
import yaml

# undistorted_intrinsics lives in mmdepthseg.structures.camera (re-exported).
from mmdepthseg.structures.camera import (scale_intrinsics,
                                          undistorted_intrinsics)

__all__ = [
    'INTRINSICS_NAMES', 'CameraFile', 'read_camera_file', 'find_camera_file',
    'undistorted_intrinsics'
]

#: Camera file names looked up in a sequence folder, in this order.
INTRINSICS_NAMES: Tuple[str, ...] = ('intrinsics.json', 'intrinsics.yaml',
                                     'intrinsics.yml')
#: Number of OpenCV distortion coefficients OpenCV accepts.
_DIST_LENGTHS = (4, 5, 8, 12, 14)


@dataclass(frozen=True)
class CameraFile:
    """The content of a sequence's camera file.

    Attributes:
        path (str): The file.
        K (np.ndarray): (3, 3) float64 intrinsics as written in the file.
        normalised (bool): ``K`` is normalised (row 0 divided by the image
            width, row 1 by its height, monodepth2's convention) rather than
            in pixels.
        size (tuple[int, int], optional): ``(width, height)`` the pixel
            values refer to; None = the stored frames' size.
        distortion (np.ndarray, optional): OpenCV distortion coefficients
            ``(k1, k2, p1, p2[, k3[, k4, k5, k6[, s1..s4[, tx, ty]]]])``;
            None when absent or all zero.
        baseline (float, optional): Stereo baseline (metres, right camera
            at ``+baseline`` along x).
    """
    path: str
    K: np.ndarray
    normalised: bool
    size: Optional[Tuple[int, int]] = None
    distortion: Optional[np.ndarray] = None
    baseline: Optional[float] = None

    def pixel_intrinsics(self, width: int, height: int) -> np.ndarray:
        """``K`` in pixels of a ``width`` x ``height`` frame.

        Normalised values are multiplied by the size (row 0 by the width,
        row 1 by the height, as monodepth2 and ``LoadMultiViewImages``
        do). Pixel values for another declared ``size`` are rescaled with
        the project's pixel-centre rule (``cx' = (cx + 0.5) s - 0.5``, as
        ``MultiViewResize``); the aspect ratio must agree (a cropped frame
        needs its own camera file).

        Returns:
            np.ndarray: (3, 3) float64.
        """
        k = self.K.copy()
        if self.normalised:
            k[0] *= width
            k[1] *= height
            return k
        if self.size is None or tuple(self.size) == (width, height):
            return k
        sx, sy = width / self.size[0], height / self.size[1]
        if abs(sx / sy - 1) > 0.01:
            raise ValueError(
                f'{self.path}: the intrinsics describe {self.size[0]}x'
                f'{self.size[1]} frames but the frames are {width}x{height} '
                '(another aspect ratio: cropped?); calibrate the stored '
                'frames or give width/height of the stored frames')
        return scale_intrinsics(k, sx, sy).astype(np.float64)


def _camera_error(path: str, what: str) -> ValueError:
    return ValueError(
        f'malformed camera file {path}: {what}. Expected fx, fy, cx, cy (or '
        'K: 3x3) in pixels of the stored frames or normalised (units: pixels '
        '| normalised), optional width, height, distortion (4, 5, 8, 12 or '
        '14 OpenCV coefficients) and baseline (metres); see '
        'docs/en/own_video.md')


def _numbers(value, path: str, key: str, sizes: Sequence[int]) -> np.ndarray:
    """A list / nested list / ``{data: [...]}`` entry as a flat float array.
    """
    if isinstance(value, dict) and 'data' in value:
        value = value['data']
    try:
        arr = np.asarray(value, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise _camera_error(path, f'{key} must hold numbers, got '
                            f'{value!r}') from None
    if arr.size not in sizes or not np.all(np.isfinite(arr)):
        raise _camera_error(
            path, f'{key} must hold {" or ".join(map(str, sizes))} finite '
            f'numbers, got {value!r}')
    return arr


def _load_mapping(path: str) -> dict:
    """Parse a JSON / YAML / OpenCV ``FileStorage`` YAML camera file."""
    try:
        text = fileio.get_text(path)
    except FileNotFoundError:
        raise FileNotFoundError(f'camera file not found: {path} (write the '
                                'intrinsics of the sequence there, see '
                                'docs/en/own_video.md)') from None
    if text.lstrip().startswith('%YAML'):
        # OpenCV's calibration output: !!opencv-matrix nodes
        storage = cv2.FileStorage(path, cv2.FILE_STORAGE_READ)
        if not storage.isOpened():
            raise _camera_error(path, 'OpenCV cannot parse this YAML')
        data = {}
        for key in storage.root().keys():
            node = storage.getNode(key)
            if node.isMap():  # !!opencv-matrix
                data[key] = node.mat()
            elif node.isSeq():
                data[key] = [node.at(i).real() for i in range(node.size())]
            elif node.isInt() or node.isReal():
                data[key] = node.real()
            else:
                data[key] = node.string()
        storage.release()
        return data
    try:
        if path.lower().endswith('.json'):
            data = json.loads(text)
        else:
            data = yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as e:
        raise _camera_error(path, f'cannot parse it ({e})') from None
    if not isinstance(data, dict):
        raise _camera_error(path, f'expected a mapping, got {type(data)}')
    return data


def read_camera_file(path: str) -> CameraFile:
    """Read a camera file (JSON, YAML or OpenCV's calibration YAML).

    Accepted keys (others are ignored, e.g. the rest of a ROS
    ``camera_info`` YAML)::

        fx, fy, cx, cy        or  K / camera_matrix (3x3, 9 numbers or
                                  {rows, cols, data})
        units                 'pixels' or 'normalised' (optional: inferred,
                              normalised when cx, cy < 1.5 and fx, fy < 10,
                              pixels when cx, cy > 2 and fx, fy > 10)
        width, height         (or image_width, image_height) size the pixel
                              values refer to (optional: the frames' size)
        distortion            (or D, dist_coeffs, distortion_coefficients)
                              OpenCV coefficients, optional
        baseline              stereo baseline in metres, optional

    Args:
        path (str): The file.

    Returns:
        CameraFile: The parsed camera.

    Raises:
        FileNotFoundError: The file does not exist (named in the message).
        ValueError: The file cannot be parsed or misses / has invalid
            values (the message names the file and the key).
    """
    raw = _load_mapping(path)
    # keys are matched case-insensitively and named as written in messages
    names = {str(k).lower(): str(k) for k in raw}
    data = {str(k).lower(): v for k, v in raw.items()}
    k = _camera_matrix(data, names, path)
    normalised = _units_normalised(data, k, path)
    size = _frame_size(data, names, k, normalised, path)
    distortion = None
    d_key = next(
        (k
         for k in ('distortion', 'd', 'dist_coeffs', 'distortion_coefficients')
         if k in data and data[k] is not None), None)
    if d_key is not None:
        distortion = _numbers(data[d_key], path, names[d_key], _DIST_LENGTHS)
        if not np.any(distortion):
            distortion = None

    baseline = None
    if data.get('baseline') is not None:
        baseline = float(
            _numbers(data['baseline'], path, names['baseline'], (1, ))[0])
        if baseline <= 0:
            raise _camera_error(
                path, f'baseline must be > 0 metres, got '
                f'{baseline}')
    return CameraFile(path, k, normalised, size, distortion, baseline)


def _camera_matrix(data: dict, names: dict, path: str) -> np.ndarray:
    """``K`` (float64 ``(3, 3)``, ``fx, fy > 0``) from ``K`` /
    ``camera_matrix`` / ``intrinsics`` or ``fx, fy, cx, cy``."""
    k_key = next((k for k in ('k', 'camera_matrix', 'intrinsics')
                  if k in data and data[k] is not None), None)
    if k_key is not None:
        k = _numbers(data[k_key], path, names[k_key], (9, )).reshape(3, 3)
        if not np.allclose(k[2], (0, 0, 1)) or k[1, 0] != 0:
            raise _camera_error(
                path, f'{names[k_key]} must be [[fx, s, cx], [0, fy, cy], '
                f'[0, 0, 1]], got {k.tolist()}')
    else:
        missing = [n for n in ('fx', 'fy', 'cx', 'cy') if n not in data]
        if missing:
            raise _camera_error(path, f'missing {", ".join(missing)}')
        fx, fy, cx, cy = (
            float(_numbers(data[n], path, names[n], (1, ))[0])
            for n in ('fx', 'fy', 'cx', 'cy'))
        k = np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1]], dtype=np.float64)
    fx, fy = k[0, 0], k[1, 1]
    if fx <= 0 or fy <= 0:
        raise _camera_error(path, f'fx and fy must be > 0, got {fx}, {fy}')
    return k


def _units_normalised(data: dict, k: np.ndarray, path: str) -> bool:
    """Whether ``K`` is normalised: from ``units`` or inferred from the
    values (see :func:`read_camera_file`)."""
    fx, fy, cx, cy = k[0, 0], k[1, 1], k[0, 2], k[1, 2]
    units = data.get('units')
    if units is None:
        if max(fx, fy) < 10 and 0 <= min(cx, cy) and max(cx, cy) < 1.5:
            return True
        if min(fx, fy) > 10 and min(cx, cy) > 2:
            return False
        raise _camera_error(
            path, f'cannot tell whether fx={fx}, fy={fy}, cx={cx}, cy='
            f'{cy} are pixels or normalised; add "units: pixels" or '
            '"units: normalised"')
    if str(units).lower() in ('pixel', 'pixels', 'px'):
        return False
    if str(units).lower() in ('normalised', 'normalized'):
        return True
    raise _camera_error(
        path, f"units must be 'pixels' or 'normalised', "
        f'got {units!r}')


def _frame_size(data: dict, names: dict, k: np.ndarray, normalised: bool,
                path: str) -> Optional[Tuple[int, int]]:
    """``(w, h)`` the pixel intrinsics refer to, or None if not given."""
    w_key = 'width' if 'width' in data else 'image_width'
    h_key = 'height' if 'height' in data else 'image_height'
    if (w_key in data) != (h_key in data):
        raise _camera_error(path, 'give both width and height or neither')
    if w_key not in data:
        return None
    w = _numbers(data[w_key], path, names[w_key], (1, ))[0]
    h = _numbers(data[h_key], path, names[h_key], (1, ))[0]
    if w < 1 or h < 1 or w != int(w) or h != int(h):
        raise _camera_error(
            path, f'width and height must be positive '
            f'integers, got {w}, {h}')
    size = (int(w), int(h))
    cx, cy = k[0, 2], k[1, 2]
    if not normalised and not (0 < cx < w and 0 < cy < h):
        raise _camera_error(
            path, f'the principal point ({cx}, {cy}) '
            f'lies outside the {size[0]}x{size[1]} frame')
    return size


def find_camera_file(sequence_dir: str,
                     intrinsics_file: Optional[str] = None) -> str:
    """The camera file of a sequence.

    Args:
        sequence_dir (str): The sequence folder.
        intrinsics_file (str, optional): A file name inside the sequence
            folder, or a path (absolute, or relative to the working
            directory) used for every sequence. None looks for
            :data:`INTRINSICS_NAMES` in the sequence folder.

    Returns:
        str: The path.

    Raises:
        FileNotFoundError: Naming every path tried.
    """
    if intrinsics_file is None:
        candidates = [osp.join(sequence_dir, n) for n in INTRINSICS_NAMES]
    else:
        candidates = [osp.join(sequence_dir, intrinsics_file)]
        if intrinsics_file not in candidates:
            candidates.append(intrinsics_file)
    for cand in candidates:
        if osp.isfile(cand):
            return cand
    raise FileNotFoundError(
        f'camera file not found for sequence {sequence_dir}: tried '
        f'{", ".join(candidates)} (write fx, fy, cx, cy there, see '
        'docs/en/own_video.md)')
