# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Which frames of a sequence can be training samples: the motion test and
the train / validation split of :mod:`mmdepthseg.converters.video`.

The motion test: both frames are converted to grey and resized to
:data:`MOTION_WIDTH` pixels wide; the score is the **median magnitude of
Farnebäck's dense optical flow** between them, in pixels of that width. A
camera that stands still scores about 0 (noise, compression, and objects
moving through the view cover less than half of the pixels); driving at
about 1 m per frame scores a few pixels. A sample is kept when the score
towards each temporal neighbour is at least ``min_motion`` (0.5 px by
default, about Zhou et al.'s 1 px at 416 px wide). This is the test
monodepth2 users are told to run by hand to remove static frames.
"""
import json
import os
import os.path as osp
from collections import deque
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine.utils import ProgressBar

from mmdepthseg.datasets.video_frames import FrameSource
from mmdepthseg.utils.io import atomic_write_text

#: Width (pixels) frames are resized to for the motion test.
MOTION_WIDTH = 256
#: Default threshold of the motion test (median flow, pixels at
#: :data:`MOTION_WIDTH`).
DEFAULT_MIN_MOTION = 0.5
#: Version of the motion measure stored with cached scores.
_MOTION_VERSION = 1
#: Motion cache of a sequence.
_MOTION_CACHE = '.motion.json'


# ---------------------------------------------------------------------------
# Motion test
# ---------------------------------------------------------------------------
def motion_image(frame: np.ndarray, width: int = MOTION_WIDTH) -> np.ndarray:
    """Grey ``frame`` resized to ``width`` pixels wide (area averaging).

    Args:
        frame (np.ndarray): (H, W, 3) BGR or (H, W) grey uint8.
        width (int): Output width. Defaults to :data:`MOTION_WIDTH`.

    Returns:
        np.ndarray: (h, width) uint8 with ``h = round(H * width / W)``.
    """
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 \
        else frame
    if grey.dtype != np.uint8:
        grey = cv2.normalize(grey, None, 0, 255,
                             cv2.NORM_MINMAX).astype(np.uint8)
    h = max(8, int(round(grey.shape[0] * width / grey.shape[1])))
    return cv2.resize(grey, (width, h), interpolation=cv2.INTER_AREA)


def median_flow(a: np.ndarray, b: np.ndarray) -> float:
    """Median magnitude of the dense optical flow from ``a`` to ``b``.

    OpenCV's Farnebäck flow (pyramid scale 0.5, 3 levels, 15 px window,
    3 iterations, polynomial n=5 / sigma=1.2).

    Args:
        a (np.ndarray): (h, w) uint8 grey image (:func:`motion_image`).
        b (np.ndarray): The same size.

    Returns:
        float: Median flow length in pixels.
    """
    flow = cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)
    return float(np.median(np.hypot(flow[..., 0], flow[..., 1])))


def temporal_offsets(frame_ids: Sequence) -> List[int]:
    """The distinct ``|offset|`` of the temporal ``frame_ids`` (not 0/'s').
    """
    return sorted({abs(f) for f in frame_ids if isinstance(f, int) and f})


def iter_frames(source: FrameSource) -> Iterator[np.ndarray]:
    """Decode every frame of a source in order (videos sequentially)."""
    if source.is_video:
        capture = cv2.VideoCapture(source.path)
        try:
            for index in range(len(source)):
                ok, frame = capture.read()
                if not ok:
                    raise OSError(f'cannot decode frame {index} of video '
                                  f'{source.path} (it reports {len(source)} '
                                  'frames)')
                yield frame
        finally:
            capture.release()
    else:
        for index in range(len(source)):
            path = source.file(index)
            frame = cv2.imread(path, cv2.IMREAD_COLOR)
            if frame is None:
                raise OSError(f'cannot decode image file {path}')
            yield frame


def compute_motion(
        source: FrameSource,
        offsets: Sequence[int],
        width: int = MOTION_WIDTH,
        bar: Optional[ProgressBar] = None) -> Dict[int, List[float]]:
    """Motion scores of a source for every offset.

    Args:
        source (FrameSource): The frames.
        offsets (Sequence[int]): Positive frame offsets.
        width (int): See :func:`motion_image`.
        bar (ProgressBar, optional): Updated once per frame.

    Returns:
        dict[int, list[float]]: ``o -> [median_flow(i, i + o) for i in
        range(N - o)]``.
    """
    scores: Dict[int, List[float]] = {o: [] for o in offsets}
    keep = max(offsets) if offsets else 0
    recent: deque = deque(maxlen=keep + 1)
    for frame in iter_frames(source):
        recent.append(motion_image(frame, width))
        for o in offsets:
            if len(recent) > o:
                scores[o].append(median_flow(recent[-1 - o], recent[-1]))
        if bar is not None:
            bar.update()
    return scores


def source_stamp(source: FrameSource) -> dict:
    """What identifies a source's frames: its path and frame count, plus
    size and modification time of a video (or the last file name of a frame
    folder); an import marker or motion cache with another stamp is stale.
    """
    if source.is_video:
        st = os.stat(source.path)
        return dict(
            path=source.path,
            frames=len(source),
            size=st.st_size,
            mtime=st.st_mtime)
    last = source.file(len(source) - 1) if len(source) else ''
    return dict(path=source.path, frames=len(source), last=osp.basename(last))


def cached_motion(seq_dir: str,
                  source: FrameSource,
                  offsets: Sequence[int],
                  width: int = MOTION_WIDTH,
                  bar: Optional[ProgressBar] = None) -> Dict[int, List[float]]:
    """:func:`compute_motion`, cached in ``<seq_dir>/.motion.json``.

    The cache is reused when the source (path, frame count, size/time or
    last name), the width and the offsets match, so a rerun of the split
    tool (another threshold, another validation fraction) does not decode
    the footage again.
    """
    path = osp.join(seq_dir, _MOTION_CACHE)
    key = dict(
        version=_MOTION_VERSION,
        width=width,
        offsets=list(offsets),
        source=source_stamp(source))
    if osp.isfile(path):
        try:
            with open(path) as f:
                cached = json.load(f)
            if cached.get('key') == json.loads(json.dumps(key)):
                if bar is not None:
                    for _ in range(len(source)):
                        bar.update()
                return {int(o): s for o, s in cached['scores'].items()}
        except (ValueError, KeyError):
            pass  # unreadable cache: measure again
    scores = compute_motion(source, offsets, width, bar)
    atomic_write_text(path, json.dumps(dict(key=key, scores=scores)))
    return scores


def select_samples(
        num_frames: int, frame_ids: Sequence, motion: Dict[int,
                                                           Sequence[float]],
        min_motion: float) -> Tuple[List[int], List[int], List[int]]:
    """Frames that can be samples: neighbours present and moving.

    Args:
        num_frames (int): Frames of the sequence.
        frame_ids (Sequence[int | str]): The dataset's ``frame_ids``.
        motion (dict): From :func:`compute_motion` (offsets of
            :func:`temporal_offsets`).
        min_motion (float): Threshold of the score towards every temporal
            neighbour (``<= 0`` disables the test).

    Returns:
        tuple[list[int]]: ``(kept, dropped_end, dropped_still)`` frame
        indices; a frame without a neighbour counts as an end, whatever its
        motion.
    """
    offsets = [f for f in frame_ids if isinstance(f, int) and f]
    kept, ends, still = [], [], []
    for t in range(num_frames):
        if any(not 0 <= t + o < num_frames for o in offsets):
            ends.append(t)
        elif min_motion > 0 and any(motion[abs(o)][min(t, t + o)] < min_motion
                                    for o in offsets):
            still.append(t)
        else:
            kept.append(t)
    return kept, ends, still


def split_train_val(kept: Sequence[int], val_fraction: float,
                    max_offset: int) -> Tuple[List[int], List[int], int]:
    """Hold out the tail of a sequence for validation.

    The last ``round(val_fraction * len(kept))`` kept samples go to ``val``;
    training samples closer than ``2 * max_offset`` frames to the first
    validation sample are dropped, so no frame is seen by both splits.

    Returns:
        tuple: ``(train, val, num_dropped_for_the_gap)``.
    """
    n_val = int(round(val_fraction * len(kept)))
    if n_val == 0:
        return list(kept), [], 0
    val = list(kept[-n_val:])
    first_val = val[0]
    train = [t for t in kept[:-n_val] if t < first_val - 2 * max_offset]
    return train, val, len(kept) - n_val - len(train)


__all__ = [
    'MOTION_WIDTH', 'DEFAULT_MIN_MOTION', 'motion_image', 'median_flow',
    'temporal_offsets', 'iter_frames', 'compute_motion', 'source_stamp',
    'cached_motion', 'select_samples', 'split_train_val'
]
