# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Your own footage: frame folders or video files + a camera file each.

Layout (``docs/en/own_video.md``; ``tools/dataset_converters/video.py``
writes it from videos or frame folders)::

    data_root/<sequence>/
        intrinsics.json | intrinsics.yaml | intrinsics.yml   the camera
        image_02/<any name>.<any image ext>   left (or only) camera, or
        image_02.<mp4|avi|mov|mkv|...>       the same camera as a video
        image_03/ or image_03.<ext>           right camera (rectified stereo)
        semantic_02/<frame stem>.png          (pseudo) labels, optional
        pseudo_depth_02/<frame stem>.png      stereo pseudo depth, optional
        pseudo_conf_02/<frame stem>.png
        depth_02/<frame stem>.png             metric depth, optional

Frame ``i`` of a folder is its ``i``-th image in natural order
(``frame_2`` before ``frame_10``); of a video, its ``i``-th decoded frame,
named ``<i:010d>`` in the label trees. The camera file holds ``fx, fy, cx,
cy`` (or ``K``) in pixels of the stored frames or normalised like
monodepth2's KITTI constants, optional distortion coefficients (frames are
then undistorted while loading) and an optional stereo baseline; see
:func:`read_camera_file`.

Video frames and frames to undistort are addressed by ``ownvideo://``
paths that :class:`OwnVideoBackend` (an MMEngine file backend) decodes, so
every transform that reads through :func:`mmengine.fileio.get`
(``LoadMultiViewImages``, ``LoadDepthSegAnnotations``, ``LoadPseudoDepth``,
the pseudo depth generator) reads them unchanged.
"""
import json
import os
import os.path as osp
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import mmengine.fileio as fileio
import numpy as np
import yaml
from mmengine.fileio.backends import BaseStorageBackend, register_backend
from mmengine.logging import print_log

from mmdepthseg.registry import DATASETS
from .kitti_raw import FrameId, KittiRawDataset
from .transforms.transforms import scale_intrinsics
from .utils import check_file_exists, read_kitti_split

#: File endings read as videos (OpenCV / FFmpeg decodes them).
VIDEO_EXTENSIONS: Tuple[str, ...] = ('.mp4', '.avi', '.mov', '.mkv', '.m4v',
                                     '.webm', '.mpg', '.mpeg', '.wmv', '.flv',
                                     '.mts', '.m2ts', '.ts', '.3gp')
#: File endings read as frames of a folder.
IMAGE_EXTENSIONS: Tuple[str, ...] = ('.png', '.jpg', '.jpeg', '.bmp', '.tif',
                                     '.tiff', '.webp', '.ppm', '.pgm', '.jp2')
#: Camera file names looked up in a sequence folder, in this order.
INTRINSICS_NAMES: Tuple[str, ...] = ('intrinsics.json', 'intrinsics.yaml',
                                     'intrinsics.yml')
#: Prefix of the paths :class:`OwnVideoBackend` decodes.
URI_PREFIX = 'ownvideo://'
#: Number of OpenCV distortion coefficients OpenCV accepts.
_DIST_LENGTHS = (4, 5, 8, 12, 14)


# ---------------------------------------------------------------------------
# Camera files
# ---------------------------------------------------------------------------
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
    fx, fy, cx, cy = k[0, 0], k[1, 1], k[0, 2], k[1, 2]
    if fx <= 0 or fy <= 0:
        raise _camera_error(path, f'fx and fy must be > 0, got {fx}, {fy}')

    units = data.get('units')
    if units is None:
        if max(fx, fy) < 10 and 0 <= min(cx, cy) and max(cx, cy) < 1.5:
            normalised = True
        elif min(fx, fy) > 10 and min(cx, cy) > 2:
            normalised = False
        else:
            raise _camera_error(
                path, f'cannot tell whether fx={fx}, fy={fy}, cx={cx}, cy='
                f'{cy} are pixels or normalised; add "units: pixels" or '
                '"units: normalised"')
    elif str(units).lower() in ('pixel', 'pixels', 'px'):
        normalised = False
    elif str(units).lower() in ('normalised', 'normalized'):
        normalised = True
    else:
        raise _camera_error(
            path, f"units must be 'pixels' or 'normalised', "
            f'got {units!r}')

    size = None
    w_key = 'width' if 'width' in data else 'image_width'
    h_key = 'height' if 'height' in data else 'image_height'
    if (w_key in data) != (h_key in data):
        raise _camera_error(path, 'give both width and height or neither')
    if w_key in data:
        w = _numbers(data[w_key], path, names[w_key], (1, ))[0]
        h = _numbers(data[h_key], path, names[h_key], (1, ))[0]
        if w < 1 or h < 1 or w != int(w) or h != int(h):
            raise _camera_error(
                path, f'width and height must be positive '
                f'integers, got {w}, {h}')
        size = (int(w), int(h))
        if not normalised and not (0 < cx < w and 0 < cy < h):
            raise _camera_error(
                path, f'the principal point ({cx}, {cy}) '
                f'lies outside the {size[0]}x{size[1]} frame')

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


def undistorted_intrinsics(K: np.ndarray,
                           distortion: np.ndarray,
                           width: int,
                           height: int,
                           alpha: float = 0.0) -> np.ndarray:
    """Intrinsics of the undistorted frame (``cv2.getOptimalNewCameraMatrix``).

    Args:
        K (np.ndarray): (3, 3) pixel intrinsics of the distorted frame.
        distortion (np.ndarray): OpenCV distortion coefficients.
        width (int): Frame width.
        height (int): Frame height.
        alpha (float): 0 keeps only valid pixels (no black border, a
            slight zoom), 1 keeps every source pixel (black corners).

    Returns:
        np.ndarray: (3, 3) float64.
    """
    new_k, _ = cv2.getOptimalNewCameraMatrix(
        np.asarray(K, np.float64), np.asarray(distortion, np.float64),
        (int(width), int(height)), float(alpha), (int(width), int(height)))
    return new_k.astype(np.float64)


# ---------------------------------------------------------------------------
# Frame sources: folders and videos
# ---------------------------------------------------------------------------
def natural_key(name: str) -> tuple:
    """Sort key with numbers compared by value (``f2`` before ``f10``)."""
    return tuple((0, int(t), '') if t.isdigit() else (1, 0, t.lower())
                 for t in re.split(r'(\d+)', name) if t)


def list_frame_files(folder: str,
                     img_suffix: Optional[str] = None) -> List[str]:
    """Image file names of a folder in natural order (hidden files left).

    Args:
        folder (str): The frame folder.
        img_suffix (str, optional): Only names ending with it; None takes
            every :data:`IMAGE_EXTENSIONS` ending (any case).

    Returns:
        list[str]: File names (not paths).
    """
    names = [
        n for n in os.listdir(folder) if not n.startswith('.') and (
            n.endswith(img_suffix) if img_suffix else n.lower(
            ).endswith(IMAGE_EXTENSIONS)) and osp.isfile(osp.join(folder, n))
    ]
    return sorted(names, key=natural_key)


def video_frame_count(path: str) -> int:
    """Frame count a video's container reports (OpenCV)."""
    capture = cv2.VideoCapture(path)
    try:
        if not capture.isOpened():
            raise OSError(f'OpenCV cannot open video {path} (is FFmpeg '
                          'support built in? try another codec / container)')
        return int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    finally:
        capture.release()


def video_fps(path: str) -> float:
    """Frame rate a video's container reports (0 if unknown)."""
    capture = cv2.VideoCapture(path)
    try:
        return float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
    finally:
        capture.release()


def find_camera_source(sequence_dir: str, name: str) -> Optional[str]:
    """The frame folder ``<name>`` or video ``<name>.<ext>`` of a sequence.

    Returns:
        str | None: The path, None when neither exists.
    """
    folder = osp.join(sequence_dir, name)
    if osp.isdir(folder):
        return folder
    if osp.isfile(folder) and folder.lower().endswith(VIDEO_EXTENSIONS):
        return folder
    for ext in VIDEO_EXTENSIONS:
        for cand in (folder + ext, folder + ext.upper()):
            if osp.isfile(cand):
                return cand
    return None


class FrameSource:
    """The frames of one camera of a sequence: a folder or a video.

    Args:
        path (str): Frame folder or video file.
        img_suffix (str, optional): Image ending of a folder's frames;
            None takes every :data:`IMAGE_EXTENSIONS` ending.
    """

    def __init__(self, path: str, img_suffix: Optional[str] = None) -> None:
        self.path = osp.abspath(path)
        self.is_video = osp.isfile(path)
        if self.is_video:
            self._names: Optional[List[str]] = None
            self._count = video_frame_count(self.path)
        else:
            self._names = list_frame_files(self.path, img_suffix)
            self._count = len(self._names)
        self._size: Optional[Tuple[int, int]] = None

    def __len__(self) -> int:
        return self._count

    def stem(self, index: int) -> str:
        """Name of frame ``index`` in label trees (no extension)."""
        if self._names is None:
            return f'{index:010d}'
        return osp.splitext(self._names[index])[0]

    def file(self, index: int) -> str:
        """The image file of a folder frame (the video for a video)."""
        if self._names is None:
            return self.path
        return osp.join(self.path, self._names[index])

    def uri(self, index: int, undistort: Optional[str] = None) -> str:
        """Path that image readers load frame ``index`` from.

        A plain file path for a folder frame without undistortion, else an
        ``ownvideo://`` path (see :class:`OwnVideoBackend`).
        """
        if self._names is not None and undistort is None:
            return self.file(index)
        member = self._names[index] if self._names is not None \
            else f'{index:010d}.png'
        return build_uri(self.path, member, undistort)

    def size(self) -> Tuple[int, int]:
        """``(width, height)`` of the frames (read once)."""
        if self._size is None:
            if self._count == 0:
                raise FileNotFoundError(f'no frame in {self.path}')
            if self.is_video:
                capture = cv2.VideoCapture(self.path)
                w = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
                h = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
                capture.release()
            else:
                img = cv2.imread(self.file(0), cv2.IMREAD_UNCHANGED)
                if img is None:
                    raise OSError(f'cannot decode image {self.file(0)}')
                h, w = img.shape[:2]
            self._size = (w, h)
        return self._size


# ---------------------------------------------------------------------------
# ownvideo:// paths and their MMEngine file backend
# ---------------------------------------------------------------------------
def undistort_spec(K: np.ndarray, distortion: np.ndarray,
                   new_K: np.ndarray) -> str:
    """The undistortion segment of an ``ownvideo://`` path.

    ``undistort=<fx,fy,cx,cy>;<k1,...>;<fx',fy',cx',cy'>`` with 17
    significant digits (exact float64 round trip).
    """

    def fmt(values):
        return ','.join(f'{float(v):.17g}' for v in values)

    return 'undistort=' + ';'.join(
        (fmt((K[0, 0], K[1, 1], K[0, 2], K[1, 2])), fmt(distortion),
         fmt((new_K[0, 0], new_K[1, 1], new_K[0, 2], new_K[1, 2]))))


def build_uri(source: str,
              member: str,
              undistort: Optional[str] = None,
              nearest: bool = False) -> str:
    """An ``ownvideo://`` path.

    Args:
        source (str): A video file (``member`` = ``<frame:010d>.png``) or a
            folder (``member`` = the file name).
        member (str): See above; it is the path's base name.
        undistort (str, optional): From :func:`undistort_spec`.
        nearest (bool): Undistort with nearest-neighbour interpolation
            (label and depth maps) instead of bilinear.
    """
    parts = [osp.abspath(source)]
    if undistort is not None:
        parts.append(undistort + (';nearest' if nearest else ''))
    parts.append(member)
    return URI_PREFIX + '/'.join(parts)


def parse_uri(uri: str) -> Tuple[str, str, Optional[tuple], bool]:
    """Split an ``ownvideo://`` path.

    Returns:
        tuple: ``(source, member, (K, D, new_K) or None, nearest)``.
    """
    if not uri.startswith(URI_PREFIX):
        raise ValueError(f'not an {URI_PREFIX} path: {uri}')
    rest = uri[len(URI_PREFIX):]
    head, member = rest.rsplit('/', 1)
    spec, nearest = None, False
    seg = head.rsplit('/', 1)
    if len(seg) == 2 and seg[1].startswith('undistort='):
        head = seg[0]
        fields = seg[1][len('undistort='):].split(';')
        nearest = fields[-1] == 'nearest'
        fields = fields[:3]
        try:
            fx, fy, cx, cy = map(float, fields[0].split(','))
            dist = np.array([float(v) for v in fields[1].split(',')])
            nfx, nfy, ncx, ncy = map(float, fields[2].split(','))
        except (ValueError, IndexError):
            raise ValueError(f'bad undistortion segment in {uri}') from None
        K = np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1]])
        new_K = np.array([[nfx, 0, ncx], [0, nfy, ncy], [0, 0, 1]])
        spec = (K, dist, new_K)
    return head, member, spec, nearest


class _VideoReader:
    """Random access to the frames of one video, decoding forward where it
    can (the frames of a sample are close to each other)."""

    #: Forward gaps up to this many frames are decoded instead of seeking.
    MAX_GRAB = 32

    def __init__(self, path: str, cache_size: int = 8) -> None:
        self.path = path
        self.capture = cv2.VideoCapture(path)
        if not self.capture.isOpened():
            raise OSError(f'OpenCV cannot open video {path}')
        self.next_index: Optional[int] = 0  # None: unknown, seek
        self.cache: 'OrderedDict[int, np.ndarray]' = OrderedDict()
        self.cache_size = cache_size

    def read(self, index: int) -> np.ndarray:
        if index in self.cache:
            self.cache.move_to_end(index)
            return self.cache[index]
        if self.next_index is None or not \
                0 <= index - self.next_index <= self.MAX_GRAB:
            self.capture.set(cv2.CAP_PROP_POS_FRAMES, index)
            self.next_index = index
        while self.next_index < index:
            if not self.capture.grab():
                break
            self.next_index += 1
        ok, frame = self.capture.read()
        if not ok or self.next_index != index:
            self.next_index = None  # unknown position: seek next time
            raise OSError(f'cannot decode frame {index} of video {self.path} '
                          f'(it reports {video_frame_count(self.path)} '
                          'frames)')
        self.next_index = index + 1
        self.cache[index] = frame
        if len(self.cache) > self.cache_size:
            self.cache.popitem(last=False)
        return frame

    def close(self) -> None:
        self.capture.release()


class _ReaderCache:
    """Open videos and undistortion maps of this process (a DataLoader
    worker must not share a decoder with its parent)."""

    def __init__(self, max_videos: int = 4) -> None:
        self.pid = os.getpid()
        self.videos: 'OrderedDict[str, _VideoReader]' = OrderedDict()
        self.maps: 'OrderedDict[tuple, tuple]' = OrderedDict()
        self.max_videos = max_videos

    def _check_pid(self) -> None:
        if os.getpid() != self.pid:
            self.pid = os.getpid()
            self.videos = OrderedDict()  # the parent's decoders: not closed
            self.maps = OrderedDict()

    def video(self, path: str) -> _VideoReader:
        self._check_pid()
        if path not in self.videos:
            self.videos[path] = _VideoReader(path)
            if len(self.videos) > self.max_videos:
                self.videos.popitem(last=False)[1].close()
        self.videos.move_to_end(path)
        return self.videos[path]

    def undistort_maps(self, spec: tuple, size: Tuple[int, int]) -> tuple:
        self._check_pid()
        K, dist, new_K = spec
        key = (K.tobytes(), dist.tobytes(), new_K.tobytes(), size)
        if key not in self.maps:
            self.maps[key] = cv2.initUndistortRectifyMap(
                K, dist, None, new_K, size, cv2.CV_32FC1)
            if len(self.maps) > 16:
                self.maps.popitem(last=False)
        return self.maps[key]


_READERS = _ReaderCache()


def read_uri(uri: str) -> np.ndarray:
    """Decode the image an ``ownvideo://`` path points to.

    Returns:
        np.ndarray: The frame (BGR uint8) or map (as stored, e.g. uint8
        labels or uint16 depth), undistorted if the path says so.
    """
    source, member, spec, nearest = parse_uri(uri)
    if osp.isfile(source):
        stem = osp.splitext(member)[0]
        if not stem.isdigit():
            raise FileNotFoundError(f'{uri}: a video frame is addressed as '
                                    '<frame:010d>.png')
        img = _READERS.video(source).read(int(stem))
    else:
        path = osp.join(source, member)
        if not osp.isfile(path):
            raise FileNotFoundError(f'file not found: {path}')
        img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if img is None:
            raise OSError(f'cannot decode image file {path}')
    if spec is not None:
        h, w = img.shape[:2]
        map_x, map_y = _READERS.undistort_maps(spec, (w, h))
        img = cv2.remap(
            img,
            map_x,
            map_y,
            cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT)
    return img


class OwnVideoBackend(BaseStorageBackend):
    """MMEngine file backend of ``ownvideo://`` paths.

    ``ownvideo://<video>/<frame:010d>.png`` is a frame of a video (decoded
    with OpenCV, forward without seeking where possible);
    ``ownvideo://<folder or video>/undistort=<spec>[;nearest]/<member>`` the
    same or a folder's image, undistorted (:func:`undistort_spec`). ``get``
    returns the image losslessly encoded (BMP for 8-bit colour, PNG
    otherwise), which ``mmcv.imfrombytes`` decodes.
    """

    def get(self, filepath) -> bytes:
        img = read_uri(str(filepath))
        ext = '.bmp' if img.dtype == np.uint8 and img.ndim == 3 else '.png'
        ok, buf = cv2.imencode(ext, img)
        if not ok:
            raise OSError(f'cannot encode {filepath}')
        return buf.tobytes()

    def get_text(self, filepath, encoding='utf-8') -> str:
        raise TypeError(f'{filepath} is an image, not a text file')

    def exists(self, filepath) -> bool:
        source, member, _, _ = parse_uri(str(filepath))
        if osp.isfile(source):
            stem = osp.splitext(member)[0]
            return stem.isdigit() and int(stem) < video_frame_count(source)
        return osp.isfile(osp.join(source, member))

    isfile = exists


register_backend('ownvideo', OwnVideoBackend, force=True, prefixes='ownvideo')


# ---------------------------------------------------------------------------
# The dataset
# ---------------------------------------------------------------------------
class _Sequence:
    """What the dataset knows of one sequence (listed once)."""

    def __init__(self, dataset: 'OwnVideoDataset', name: str) -> None:
        self.name = name
        self.dir = osp.join(dataset.data_root, name)
        if not osp.isdir(self.dir):
            raise FileNotFoundError(
                f'sequence folder not found: {self.dir} (listed in '
                f'{dataset.split_file}; see docs/en/own_video.md)')
        self.dataset = dataset
        self.camera = read_camera_file(
            find_camera_file(self.dir, dataset.intrinsics_file))
        self._sources: Dict[int, Optional[FrameSource]] = {}
        self._geometry: Optional[tuple] = None

    def source(self, cam: int) -> Optional[FrameSource]:
        if cam not in self._sources:
            path = find_camera_source(self.dir,
                                      self.dataset.img_dir.format(cam=cam))
            self._sources[cam] = None if path is None else FrameSource(
                path, self.dataset.img_suffix)
        return self._sources[cam]

    def require_source(self, cam: int) -> FrameSource:
        src = self.source(cam)
        if src is None:
            name = self.dataset.img_dir.format(cam=cam)
            role = 'left / only' if cam == 2 else 'right (stereo)'
            raise FileNotFoundError(
                f'no {role} camera in sequence {self.dir}: expected a frame '
                f'folder {name}/ or a video {name}.mp4 (or another video '
                'ending; see docs/en/own_video.md)')
        return src

    def geometry(self) -> tuple:
        """``(K, normalised, undistort spec or None)`` of the frames as the
        pipeline loads them (undistorted when the camera has distortion).
        """
        if self._geometry is None:
            cam = self.camera
            if cam.normalised and cam.distortion is None:
                self._geometry = (cam.K.astype(np.float32), True, None)
            else:
                w, h = self.require_source(2).size()
                k = cam.pixel_intrinsics(w, h)
                spec = None
                if cam.distortion is not None:
                    new_k = undistorted_intrinsics(
                        k, cam.distortion, w, h, self.dataset.undistort_alpha)
                    spec = undistort_spec(k, cam.distortion, new_k)
                    k = new_k
                self._geometry = (k.astype(np.float32), False, spec)
        return self._geometry

    def map_path(self,
                 tree: str,
                 cam: int,
                 index: int,
                 nearest_spec: bool,
                 what: str,
                 must_exist: bool = True) -> str:
        """Path of a per-frame map ``<seq>/<tree>/<frame stem>.png``."""
        folder = osp.join(self.dir, tree.format(cam=cam))
        name = self.require_source(cam).stem(index) + '.png'
        path = osp.join(folder, name)
        if must_exist and not osp.isfile(path):
            raise FileNotFoundError(
                f'{what} not found: {path} (frame {index} of '
                f'{self.require_source(cam).path}; see docs/en/own_video.md)')
        spec = self.geometry()[2]
        if spec is not None and nearest_spec:
            return build_uri(folder, name, spec, nearest=True)
        return path


@DATASETS.register_module()
class OwnVideoDataset(KittiRawDataset):
    """Your own footage (frame folders or videos) with its camera file.

    Reads the layout of this module's docstring (written by
    ``tools/dataset_converters/video.py``). Split files have monodepth2's
    format, ``<sequence> <frame index> <l|r>``, and ``frame_ids``,
    neighbours, the stereo partner (``'s'``), view names, the dropping of
    samples without neighbours and the stereo transform work exactly as in
    :class:`~mmdepthseg.datasets.KittiRawDataset`, so every FSRE-Depth /
    Pseudo-MTL config runs on it by changing the dataset. Side ``r`` uses
    the right camera (``img_dir`` formatted with ``cam=3``).

    Intrinsics come from each sequence's camera file
    (:func:`read_camera_file`): normalised ones travel as normalised
    (``LoadMultiViewImages`` multiplies them by the loaded size), pixel
    ones as pixels of the stored frames (rescaled from the file's
    ``width``/``height`` if those differ); every resize then scales them.
    With distortion coefficients, frames and maps are undistorted while
    loading (``cv2.remap``; bilinear for images, nearest for label and
    depth maps) and ``intrinsics`` is the undistorted camera
    (``cv2.getOptimalNewCameraMatrix`` with ``undistort_alpha``). Stereo
    footage must be rectified (no distortion).

    Args:
        split_file (str): monodepth2-style split file (relative paths are
            looked up under ``data_root``, then the working directory).
        data_root (str): Folder holding the sequence folders.
        frame_ids (Sequence[int | str]): Views of a sample, see
            :class:`KittiRawDataset`. Defaults to ``(0,)``.
        img_dir (str): Frame folder / video name (without extension) in a
            sequence, formatted with ``cam`` (2 left, 3 right). Defaults to
            ``'image_{cam:02d}'``.
        img_suffix (str, optional): Only frames with this ending; None
            (default) takes every :data:`IMAGE_EXTENSIONS` ending.
        intrinsics_file (str, optional): Camera file name in every sequence
            folder, or one path for all sequences; None (default) looks for
            ``intrinsics.json``, ``.yaml``, ``.yml``.
        seg_dir (str, optional): (Pseudo) label tree in a sequence, e.g.
            ``'semantic_{cam:02d}'`` (uint8 trainId PNGs named like the
            frames). None (default) loads no labels.
        seg_suffix (str): Only ``'.png'`` is supported (the name follows
            the frame). Defaults to ``'.png'``.
        pseudo_depth_dir (str, optional): Stereo pseudo depth tree, e.g.
            ``'pseudo_depth_{cam:02d}'`` (``tools/generate_pseudo_depth.py
            --dataset own_video``); for the leading reference / partner
            views as in :class:`KittiRawDataset`.
        pseudo_conf_dir (str, optional): Its confidence tree; required with
            ``pseudo_depth_dir``.
        depth_dir (str, optional): Metric depth of the reference view (a
            depth camera, or generated data), e.g. ``'depth_{cam:02d}'``:
            uint16 PNGs, ``depth = value / depth_scale``, 0 invalid.
        depth_scale (float): See ``depth_dir``. Defaults to 256.
        baseline (float, optional): Stereo baseline (metres) for samples
            with ``'s'``; None takes the camera file's ``baseline``.
        undistort_alpha (float): ``alpha`` of
            ``cv2.getOptimalNewCameraMatrix``: 0 (default) keeps only valid
            pixels, 1 every source pixel.
        **kwargs: Forwarded to :class:`mmengine.dataset.BaseDataset`
            (``pipeline``, ``test_mode``, ``indices``, ...).
    """

    def __init__(self,
                 split_file: str,
                 data_root: str,
                 frame_ids: Sequence[FrameId] = (0, ),
                 img_dir: str = 'image_{cam:02d}',
                 img_suffix: Optional[str] = None,
                 intrinsics_file: Optional[str] = None,
                 seg_dir: Optional[str] = None,
                 seg_suffix: str = '.png',
                 pseudo_depth_dir: Optional[str] = None,
                 pseudo_conf_dir: Optional[str] = None,
                 depth_dir: Optional[str] = None,
                 depth_scale: float = 256.0,
                 baseline: Optional[float] = None,
                 undistort_alpha: float = 0.0,
                 **kwargs) -> None:
        if seg_suffix != '.png':
            raise ValueError(f"seg_suffix must be '.png', got {seg_suffix!r}")
        self.img_dir = img_dir
        self.intrinsics_file = intrinsics_file
        self.depth_dir = depth_dir
        self.depth_scale = float(depth_scale)
        self.undistort_alpha = float(undistort_alpha)
        super().__init__(
            split_file=split_file,
            data_root=data_root,
            frame_ids=frame_ids,
            img_suffix=img_suffix,
            seg_dir=seg_dir,
            seg_suffix=seg_suffix,
            pseudo_depth_dir=pseudo_depth_dir,
            pseudo_conf_dir=pseudo_conf_dir,
            baseline=baseline,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """One data info per valid split line.

        Returns:
            list[dict]: Entries like :class:`KittiRawDataset`'s
            (``img_path``, ``img_paths``, ``view_names``, ``intrinsics``,
            ``intrinsics_normalised``, ``folder``, ``frame_index``,
            ``side``, ``baseline``/``stereo_T``, ``seg_map_paths``,
            ``pseudo_depth_paths``/``pseudo_conf_paths``) plus
            ``depth_map_paths`` (``depth_format='png'``, ``depth_scale``)
            with ``depth_dir``.
        """
        check_file_exists(self.data_root, 'own video data root')
        self._sequences: Dict[str, _Sequence] = {}
        samples = read_kitti_split(self._resolve_split_file())
        data_list, num_dropped = [], 0
        for folder, frame_index, side in samples:
            info = self._sample_info(folder, frame_index, side)
            if info is None:
                num_dropped += 1
            else:
                data_list.append(info)
        if num_dropped:
            print_log(
                f'OwnVideoDataset: dropped {num_dropped} of {len(samples)} '
                f'samples of {self.split_file} whose frames {self.frame_ids} '
                'do not all exist (sequence ends)',
                logger='current')
        if not data_list:
            raise ValueError(f'no valid sample in {self.split_file} under '
                             f'{self.data_root} for frame_ids '
                             f'{self.frame_ids}')
        return data_list

    def _sequence(self, name: str) -> _Sequence:
        if name not in self._sequences:
            self._sequences[name] = _Sequence(self, name)
        return self._sequences[name]

    def _sample_info(self, folder: str, frame_index: int,
                     side: str) -> Optional[dict]:
        seq = self._sequence(folder)
        cam = 2 if side == 'l' else 3
        other_cam = 5 - cam
        ref = seq.require_source(cam)
        if frame_index >= len(ref):
            raise FileNotFoundError(
                f'frame {frame_index} of {ref.path} not found: it has '
                f'{len(ref)} frames (listed in {self.split_file})')
        k, normalised, spec = seq.geometry()
        paths = []
        for fid in self.frame_ids:
            if fid == 's':
                partner = seq.require_source(other_cam)
                if spec is not None:
                    raise ValueError(
                        f'{seq.camera.path}: stereo samples need rectified '
                        'frames, but the camera file has distortion '
                        'coefficients; rectify the pair first')
                if frame_index >= len(partner):
                    return None
                paths.append(partner.uri(frame_index))
            else:
                index = frame_index + fid
                if not 0 <= index < len(ref):
                    return None
                paths.append(ref.uri(index, spec))

        info = dict(
            img_path=paths[0],
            img_paths=paths,
            view_names=self.view_names(side),
            folder=folder,
            frame_index=frame_index,
            side=side,
            intrinsics=k.copy(),
            intrinsics_normalised=normalised,
            reduce_zero_label=False,
            seg_fields=[],
            depth_fields=[])

        if 's' in self.frame_ids:
            baseline = self.baseline if self.baseline is not None \
                else seq.camera.baseline
            if baseline is None:
                raise ValueError(
                    f'{seq.camera.path}: frame_ids {self.frame_ids} has a '
                    "stereo partner 's' but the camera file gives no "
                    'baseline (metres) and the dataset no baseline=')
            stereo_t = np.eye(4, dtype=np.float32)
            stereo_t[0, 3] = -baseline if side == 'l' else baseline
            info['baseline'] = float(baseline)
            info['stereo_T'] = stereo_t

        if self.seg_dir is not None:
            info['seg_map_paths'] = [
                seq.map_path(self.seg_dir, cam, frame_index, True,
                             'segmentation label')
            ]
            info['label_id_format'] = 'trainIds'

        if self.depth_dir is not None:
            info['depth_map_paths'] = [
                seq.map_path(self.depth_dir, cam, frame_index, True,
                             'depth map')
            ]
            info['depth_format'] = 'png'
            info['depth_scale'] = self.depth_scale

        if self.pseudo_depth_dir is not None:
            cams = []
            for fid in self.frame_ids:
                if fid not in (0, 's'):
                    break
                cams.append(cam if fid == 0 else other_cam)
            for key, tree in (('pseudo_depth_paths', self.pseudo_depth_dir),
                              ('pseudo_conf_paths', self.pseudo_conf_dir)):
                info[key] = [
                    seq.map_path(
                        tree,
                        c,
                        frame_index,
                        True,
                        'pseudo label',
                        must_exist=False) for c in cams
                ]
        return info


# ---------------------------------------------------------------------------
# Stereo pairs for tools/generate_pseudo_depth.py
# ---------------------------------------------------------------------------
def list_own_video_stereo_pairs(
        root: str,
        img_dir: str = 'image_{cam:02d}',
        intrinsics_file: Optional[str] = None,
        img_suffix: Optional[str] = None) -> List[dict]:
    """Stereo pairs of an own-video tree, for
    :func:`~mmdepthseg.stereo.pseudo_depth.generate_pseudo_depth`.

    Every sequence folder under ``root`` with a right camera gives one pair
    per frame; ``fx * baseline`` comes from its camera file (``fx`` in
    pixels of the stored frames). Outputs go to
    ``<seq>/pseudo_depth_0X/<frame stem>.png`` and ``pseudo_conf_0X``, where
    :class:`OwnVideoDataset` (``pseudo_depth_dir='pseudo_depth_{cam:02d}'``)
    reads them. Video frames are read through ``ownvideo://`` paths.

    Args:
        root (str): The data root (sequence folders).
        img_dir (str): See :class:`OwnVideoDataset`.
        intrinsics_file (str, optional): See :class:`OwnVideoDataset`.
        img_suffix (str, optional): See :class:`OwnVideoDataset`.

    Returns:
        list[dict]: Pairs with ``left``, ``right``, ``fx_baseline`` and
        ``outputs``.
    """
    pairs = []
    for name in sorted(os.listdir(root), key=natural_key):
        seq_dir = osp.join(root, name)
        if not osp.isdir(seq_dir) or name.startswith('.'):
            continue
        left_path = find_camera_source(seq_dir, img_dir.format(cam=2))
        right_path = find_camera_source(seq_dir, img_dir.format(cam=3))
        if left_path is None or right_path is None:
            continue
        camera = read_camera_file(find_camera_file(seq_dir, intrinsics_file))
        if camera.baseline is None:
            raise ValueError(f'{camera.path}: stereo pseudo depth needs the '
                             'baseline (metres) in the camera file')
        if camera.distortion is not None:
            raise ValueError(f'{camera.path}: stereo matching needs rectified '
                             'frames, but the camera file has distortion')
        left, right = FrameSource(left_path, img_suffix), FrameSource(
            right_path, img_suffix)
        if len(left) != len(right):
            raise ValueError(f'{left_path} has {len(left)} frames but '
                             f'{right_path} {len(right)}')
        if not len(left):
            continue
        fx = camera.pixel_intrinsics(*left.size())[0, 0]
        fx_baseline = float(fx * camera.baseline)
        for i in range(len(left)):

            def out(kind, cam, i=i):
                # named like the frame of that camera, as the dataset reads
                src = left if cam == 2 else right
                return osp.join(seq_dir, f'pseudo_{kind}_{cam:02d}',
                                src.stem(i) + '.png')

            pairs.append(
                dict(
                    left=left.uri(i),
                    right=right.uri(i),
                    kind='own_video',
                    fx_baseline=fx_baseline,
                    outputs=dict(
                        depth_left=out('depth', 2),
                        depth_right=out('depth', 3),
                        conf_left=out('conf', 2),
                        conf_right=out('conf', 3))))
    return pairs
