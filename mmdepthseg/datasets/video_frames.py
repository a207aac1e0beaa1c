# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Frames of own footage: folders of images (natural order) and videos
(OpenCV), and the ``ownvideo://`` paths of video frames and frames to
undistort, decoded by an MMEngine file backend.

Every reader that goes through :func:`mmengine.fileio.get` (``read_image``,
so ``LoadMultiViewImages``, ``LoadDepthSegAnnotations``, ``LoadPseudoDepth``
and the pseudo depth generator) reads ``ownvideo://`` paths unchanged.
"""
import os
import os.path as osp
import re
from collections import OrderedDict
from typing import List, Optional, Tuple

import cv2
import numpy as np
from mmengine.fileio.backends import BaseStorageBackend, register_backend

#: File endings read as videos (OpenCV / FFmpeg decodes them).
VIDEO_EXTENSIONS: Tuple[str, ...] = ('.mp4', '.avi', '.mov', '.mkv', '.m4v',
                                     '.webm', '.mpg', '.mpeg', '.wmv', '.flv',
                                     '.mts', '.m2ts', '.ts', '.3gp')
#: File endings read as frames of a folder.
IMAGE_EXTENSIONS: Tuple[str, ...] = ('.png', '.jpg', '.jpeg', '.bmp', '.tif',
                                     '.tiff', '.webp', '.ppm', '.pgm', '.jp2')
#: Prefix of the paths :class:`OwnVideoBackend` decodes.
URI_PREFIX = 'ownvideo://'


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
