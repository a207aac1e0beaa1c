# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Turn your own videos / frame folders into an own-video dataset.

The command-line front end is ``tools/dataset_converters/video.py``; the
layout is :mod:`mmdepthseg.datasets.own_video`'s and the walk-through
``docs/en/own_video.md``.

Two steps:

1. **Import** (:func:`import_sequence`): every source (a video, or a folder
   of frames) becomes ``<out>/<name>/image_02/<k:010d><ext>`` (``image_03``
   for a right camera), keeping every ``stride``-th frame, optionally
   undistorted, plus ``<out>/<name>/intrinsics.json``. Frames already
   written are not written again and a finished sequence is skipped, so an
   interrupted import resumes; every file is written atomically.
2. **Splits** (:func:`make_splits`): per sequence, the motion between the
   frames a sample uses is measured (:func:`median_flow`), samples whose
   neighbours are missing (sequence ends) or without motion (the camera
   stands still) are dropped, and the rest is written as monodepth2-style
   split files ``<out>/splits/{train,val}_files.txt`` (``<name> <frame>
   l``), with a summary in ``<out>/splits/summary.json``.

The motion test and the choice of samples live in
:mod:`mmdepthseg.converters.video_motion`.
"""
import json
import os
import os.path as osp
import warnings
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine.utils import ProgressBar

from mmdepthseg.datasets.camera_files import (INTRINSICS_NAMES, CameraFile,
                                              find_camera_file,
                                              read_camera_file,
                                              undistorted_intrinsics)
from mmdepthseg.datasets.video_frames import (IMAGE_EXTENSIONS,
                                              VIDEO_EXTENSIONS, FrameSource,
                                              find_camera_source, natural_key,
                                              video_fps)
from mmdepthseg.utils.io import (atomic_write_bytes, atomic_write_text,
                                 write_image)
from .video_motion import (DEFAULT_MIN_MOTION, MOTION_WIDTH, cached_motion,
                           compute_motion, median_flow, motion_image,
                           select_samples, source_stamp, split_train_val,
                           temporal_offsets)

#: Marker file of an imported camera, in the sequence folder.
_IMPORT_MARKER = '.import_{cam:02d}.json'


# ---------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------
def find_source_camera_file(source: str) -> Optional[str]:
    """A camera file that belongs to a source, or None.

    A video ``a/drive.mp4`` looks for ``a/drive.{json,yaml,yml}`` then
    ``a/intrinsics.*``; a frame folder ``a/drive/`` for ``a/drive/
    intrinsics.*`` then ``a/drive.{json,yaml,yml}``.
    """
    stem = osp.splitext(source)[0] if osp.isfile(source) else \
        source.rstrip('/\\')
    beside = [stem + e for e in ('.json', '.yaml', '.yml')]
    if osp.isfile(source):
        candidates = beside + [
            osp.join(osp.dirname(source), n) for n in INTRINSICS_NAMES
        ]
    else:
        candidates = [osp.join(source, n) for n in INTRINSICS_NAMES] + beside
    return next((c for c in candidates if osp.isfile(c)), None)


def camera_json(camera: CameraFile,
                width: int,
                height: int,
                undistort: bool,
                alpha: float = 0.0) -> Tuple[str, CameraFile]:
    """The camera file written into an imported sequence.

    Pixel intrinsics are written for the stored frames (``width`` x
    ``height``); with ``undistort`` they describe the undistorted frames
    and carry no distortion. Normalised intrinsics without distortion stay
    normalised.

    Returns:
        tuple: JSON text and the parsed camera it describes (path '').
    """
    k = camera.K
    distortion = camera.distortion
    normalised = camera.normalised and (distortion is None or not undistort)
    if not normalised:
        k = camera.pixel_intrinsics(width, height)
        if undistort and distortion is not None:
            k = undistorted_intrinsics(k, distortion, width, height, alpha)
            distortion = None
    data = dict(
        fx=float(k[0, 0]),
        fy=float(k[1, 1]),
        cx=float(k[0, 2]),
        cy=float(k[1, 2]),
        units='normalised' if normalised else 'pixels')
    if not normalised:
        data.update(width=int(width), height=int(height))
    if distortion is not None:
        data['distortion'] = [float(v) for v in distortion]
    if camera.baseline is not None:
        data['baseline'] = float(camera.baseline)
    parsed = CameraFile('', k, normalised, None if normalised else
                        (int(width), int(height)), distortion, camera.baseline)
    return json.dumps(data, indent=2) + '\n', parsed


def import_sequence(source: str,
                    seq_dir: str,
                    cam: int = 2,
                    stride: int = 1,
                    ext: str = '.jpg',
                    undistort: Optional[Tuple[CameraFile, float]] = None,
                    bar: Optional[ProgressBar] = None) -> int:
    """Write every ``stride``-th frame of a video / folder into
    ``<seq_dir>/image_0<cam>/<k:010d><ext>``.

    Resumable: frames already present are not written again (a video is
    still decoded up to the last frame); ``.import_0<cam>.json`` records the
    settings, and a finished import with the same settings is skipped. An
    import with other settings into the same folder is refused.

    Args:
        source (str): Video file or frame folder.
        seq_dir (str): The sequence folder.
        cam (int): 2 (left / only camera) or 3 (right). Defaults to 2.
        stride (int): Keep frames ``0, stride, 2 stride, ...``.
        ext (str): Image ending of the written frames. Defaults to '.jpg'
            (quality 95); '.png' is lossless.
        undistort (tuple, optional): ``(camera, alpha)``: undistort the
            frames with this camera (pixel intrinsics).
        bar (ProgressBar, optional): Updated once per source frame.

    Returns:
        int: Number of frames of the sequence.
    """
    src = FrameSource(source)
    out_dir = osp.join(seq_dir, f'image_{cam:02d}')
    marker_path = osp.join(seq_dir, _IMPORT_MARKER.format(cam=cam))
    settings = _import_settings(src, stride, ext, undistort)
    finished = _finished_import(marker_path, settings, out_dir, seq_dir)
    if finished is not None:
        if bar is not None:
            for _ in range(len(src)):
                bar.update()
        return finished
    atomic_write_text(marker_path,
                      json.dumps(dict(settings=settings, done=False)))
    written = _write_frames(src, out_dir, stride, ext,
                            _undistort_maps(src, undistort), bar)
    atomic_write_text(
        marker_path,
        json.dumps(dict(settings=settings, done=True, frames=written)))
    return written


def _import_settings(src: FrameSource, stride: int, ext: str,
                     undistort: Optional[Tuple[CameraFile, float]]) -> dict:
    """What an import marker records (as JSON reads it back)."""
    settings = dict(
        source=source_stamp(src),
        stride=stride,
        ext=ext,
        undistort=None if undistort is None else dict(
            K=undistort[0].K.tolist(),
            distortion=None if undistort[0].distortion is None else
            undistort[0].distortion.tolist(),
            alpha=undistort[1]))
    return json.loads(json.dumps(settings))


def _finished_import(marker_path: str, settings: dict, out_dir: str,
                     seq_dir: str) -> Optional[int]:
    """The frame count of a finished import with ``settings`` (None: there
    is work to do); an import with other settings is refused."""
    if not osp.isfile(marker_path):
        return None
    with open(marker_path) as f:
        marker = json.load(f)
    if marker.get('settings') != settings:
        raise ValueError(
            f'{out_dir} was imported from {marker["settings"]["source"]} '
            f'with other settings ({marker_path}); delete {seq_dir} or '
            'choose another --out-dir')
    return int(marker['frames']) if marker.get('done') else None


def _undistort_maps(
    src: FrameSource, undistort: Optional[Tuple[CameraFile, float]]
) -> Optional[Tuple[np.ndarray, np.ndarray]]:
    """``cv2.remap`` maps that undistort the frames of ``src`` (None
    without ``undistort`` or distortion coefficients)."""
    if undistort is None or undistort[0].distortion is None:
        return None
    w, h = src.size()
    cam_file, alpha = undistort
    k = cam_file.pixel_intrinsics(w, h)
    new_k = undistorted_intrinsics(k, cam_file.distortion, w, h, alpha)
    return cv2.initUndistortRectifyMap(k, cam_file.distortion, None, new_k,
                                       (w, h), cv2.CV_32FC1)


def _write_frames(src: FrameSource, out_dir: str, stride: int, ext: str,
                  maps: Optional[Tuple[np.ndarray, np.ndarray]],
                  bar: Optional[ProgressBar]) -> int:
    """Write every ``stride``-th frame of ``src`` that is not there yet.

    Returns:
        int: The number of frames of the sequence.
    """
    written = 0
    capture = cv2.VideoCapture(src.path) if src.is_video else None
    try:
        for index in range(len(src)):
            keep = index % stride == 0
            target = osp.join(out_dir, f'{written:010d}{ext}')
            todo = keep and not osp.isfile(target)
            if capture is not None:
                ok, frame = _next_video_frame(capture, src, index, todo)
                if not ok:
                    break
                if todo:
                    _write_frame(target, frame, maps)
            elif todo:
                _write_frame_file(src.file(index), target, ext, maps)
            if keep:
                written += 1
            if bar is not None:
                bar.update()
    finally:
        if capture is not None:
            capture.release()
    return written


def _next_video_frame(capture: cv2.VideoCapture, src: FrameSource,
                      index: int,
                      decode: bool) -> Tuple[bool, Optional[np.ndarray]]:
    """Advance ``capture`` by a frame, decoding it if asked.

    Returns:
        tuple: ``(False, None)`` where decoding stopped early (containers
        may over-report their length by a frame or two: the frames decoded
        are the video, with a warning), else ``(True, frame or None)``.
    """
    if not capture.grab():
        warnings.warn(f'{src.path}: decoding stopped at frame '
                      f'{index} of the {len(src)} it reports')
        return False, None
    if not decode:
        return True, None
    ok, frame = capture.retrieve()
    if not ok:
        raise OSError(f'cannot decode frame {index} of video {src.path}')
    return True, frame


def _write_frame(target: str, frame: np.ndarray,
                 maps: Optional[Tuple[np.ndarray, np.ndarray]]) -> None:
    """Write a decoded BGR frame (undistorted with ``maps``), encoded by
    the ending of ``target`` (JPEG quality 95)."""
    if maps is not None:
        frame = cv2.remap(frame, maps[0], maps[1], cv2.INTER_LINEAR)
    write_image(target, frame, jpeg_quality=95)


def _write_frame_file(path: str, target: str, ext: str,
                      maps: Optional[Tuple[np.ndarray, np.ndarray]]) -> None:
    """Copy an image file of a frame folder: byte for byte when it has the
    wanted ending and needs no undistortion, else decoded and encoded."""
    if maps is None and path.lower().endswith(ext):
        with open(path, 'rb') as f:
            atomic_write_bytes(target, f.read())
        return
    frame = cv2.imread(path, cv2.IMREAD_COLOR)
    if frame is None:
        raise OSError(f'cannot decode image file {path}')
    _write_frame(target, frame, maps)


# ---------------------------------------------------------------------------
# Whole runs
# ---------------------------------------------------------------------------
def _stride_for(source: str, stride: Optional[int],
                target_fps: Optional[float],
                source_fps: Optional[float]) -> int:
    if target_fps is None:
        return int(stride or 1)
    fps = video_fps(source) if osp.isfile(source) else 0.0
    fps = source_fps or fps
    if not fps:
        raise ValueError(f'the frame rate of {source} is unknown: give '
                         '--source-fps (or --stride instead of --fps)')
    return max(1, int(round(fps / target_fps)))


def _sequence_name(source: str) -> str:
    name = osp.basename(source.rstrip('/\\'))
    if osp.isfile(source):
        name = osp.splitext(name)[0]
    if not name or any(c.isspace() for c in name):
        raise ValueError(f'cannot name a sequence after {source!r} (split '
                         'lines are space-separated): rename it')
    return name


def import_sources(sources: Sequence[str],
                   out_dir: str,
                   right_sources: Optional[Sequence[str]] = None,
                   intrinsics: Optional[str] = None,
                   baseline: Optional[float] = None,
                   stride: Optional[int] = None,
                   target_fps: Optional[float] = None,
                   source_fps: Optional[float] = None,
                   ext: str = '.jpg',
                   undistort: bool = False,
                   undistort_alpha: float = 0.0,
                   progress: bool = True) -> List[str]:
    """Import videos / frame folders as sequences of an own-video tree.

    Args:
        sources (Sequence[str]): Videos or frame folders; each becomes the
            sequence named after its stem.
        out_dir (str): The dataset root.
        right_sources (Sequence[str], optional): The right camera of each
            source (rectified stereo), in the same order.
        intrinsics (str, optional): A camera file for every source;
            default: the file found by :func:`find_source_camera_file`.
        baseline (float, optional): Stereo baseline (m), overriding the
            camera file's.
        stride (int, optional): Keep every ``stride``-th frame.
        target_fps (float, optional): Keep about this many frames per
            second (``stride = round(source fps / target_fps)``).
        source_fps (float, optional): Frame rate of frame folders (or of
            videos that do not report one).
        ext (str): Ending of the written frames. Defaults to '.jpg'.
        undistort (bool): Write undistorted frames (and a camera file
            without distortion). Defaults to False (the dataset undistorts
            while loading).
        undistort_alpha (float): See
            :func:`~mmdepthseg.datasets.camera_files.undistorted_intrinsics`.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        list[str]: The sequence names.
    """
    if right_sources and len(right_sources) != len(sources):
        raise ValueError(f'{len(right_sources)} right sources for '
                         f'{len(sources)} sources: give one per source')
    if ext.lower() not in IMAGE_EXTENSIONS:
        raise ValueError(f'--ext must be one of {IMAGE_EXTENSIONS}, got '
                         f'{ext!r}')
    if stride is not None and target_fps is not None:
        raise ValueError('give --stride or --fps, not both')
    plans: List[_SourcePlan] = []
    for i, source in enumerate(sources):
        plans.append(
            _plan_source(source, right_sources[i] if right_sources else None,
                         [p.name for p in plans], intrinsics, baseline,
                         (stride, target_fps, source_fps)))
    total = sum(
        len(FrameSource(src)) for plan in plans
        for src in (plan.source, plan.right) if src is not None)
    bar = ProgressBar(total) if progress and total else None
    for plan in plans:
        _import_plan(plan, osp.join(out_dir, plan.name), ext, undistort,
                     undistort_alpha, bar)
    if bar is not None:
        print()
    return [plan.name for plan in plans]


class _SourcePlan(NamedTuple):
    """One source to import: its right camera, sequence name, camera and
    frame stride."""
    source: str
    right: Optional[str]
    name: str
    camera: CameraFile
    stride: int


def _plan_source(source: str, right: Optional[str], taken: List[str],
                 intrinsics: Optional[str], baseline: Optional[float],
                 frame_rate: Tuple[Optional[int], Optional[float],
                                   Optional[float]]) -> _SourcePlan:
    """Check a source (and its right camera), name it (not one of the
    ``taken`` names), read its camera file and choose its stride
    (``frame_rate``: ``stride``, ``target_fps``, ``source_fps``, see
    :func:`import_sources`)."""
    if not (osp.isdir(source) or osp.isfile(source)):
        raise FileNotFoundError(f'source not found: {source}')
    if osp.isfile(source) and not source.lower().endswith(VIDEO_EXTENSIONS):
        raise ValueError(f'{source} is neither a frame folder nor a '
                         f'video ({", ".join(VIDEO_EXTENSIONS)})')
    name = _sequence_name(source)
    if name in taken:
        raise ValueError(f'two sources are named {name!r}: rename one')
    cam_path = intrinsics or find_source_camera_file(source)
    if cam_path is None:
        raise FileNotFoundError(
            f'no camera file for {source}: pass --intrinsics FILE or put '
            f'{find_source_camera_stem(source)}.json next to it (fx, fy, '
            'cx, cy; see docs/en/own_video.md)')
    camera = read_camera_file(cam_path)
    if baseline is not None:
        camera = CameraFile(camera.path, camera.K, camera.normalised,
                            camera.size, camera.distortion, baseline)
    if right is not None and camera.baseline is None:
        raise ValueError(f'{cam_path}: stereo footage needs the baseline '
                         '(metres) in the camera file or --baseline')
    if right is not None and camera.distortion is not None:
        raise ValueError(f'{cam_path}: stereo footage must be rectified '
                         '(no distortion coefficients)')
    return _SourcePlan(source, right, name, camera,
                       _stride_for(source, *frame_rate))


def _import_plan(plan: _SourcePlan, seq_dir: str, ext: str, undistort: bool,
                 undistort_alpha: float, bar: Optional[ProgressBar]) -> None:
    """Import a source (and its right camera) into ``seq_dir`` and write
    its ``intrinsics.json`` (see :func:`import_sources`)."""
    first = FrameSource(plan.source)
    if not len(first):
        raise FileNotFoundError(f'no frame in {plan.source}')
    w, h = first.size()
    text, _ = camera_json(plan.camera, w, h, undistort, undistort_alpha)
    cam_undistort = (plan.camera, undistort_alpha) if undistort else None
    n_left = import_sequence(plan.source, seq_dir, 2, plan.stride, ext,
                             cam_undistort, bar)
    if plan.right is not None:
        n_right = import_sequence(plan.right, seq_dir, 3, plan.stride, ext,
                                  None, bar)
        if n_right != n_left:
            raise ValueError(f'{plan.source} gives {n_left} frames but its '
                             f'right camera {plan.right} {n_right}')
    atomic_write_text(osp.join(seq_dir, 'intrinsics.json'), text)


def find_source_camera_stem(source: str) -> str:
    """``<source without extension>`` (for messages)."""
    return osp.splitext(source)[0] if osp.isfile(source) else \
        source.rstrip('/\\')


def list_sequences(root: str, img_dir: str = 'image_{cam:02d}') -> List[str]:
    """Sequence folders of a root (those with a left camera), natural order.
    """
    if not osp.isdir(root):
        raise FileNotFoundError(f'data root not found: {root}')
    names = []
    for name in sorted(os.listdir(root), key=natural_key):
        seq_dir = osp.join(root, name)
        if name.startswith('.') or name == 'splits' or not osp.isdir(seq_dir):
            continue
        if find_camera_source(seq_dir, img_dir.format(cam=2)) is not None:
            names.append(name)
    return names


def make_splits(root: str,
                sequences: Optional[Sequence[str]] = None,
                frame_ids: Sequence = (0, -1, 1),
                min_motion: float = DEFAULT_MIN_MOTION,
                val_fraction: float = 0.1,
                sides: str = 'l',
                img_dir: str = 'image_{cam:02d}',
                splits_dir: str = 'splits',
                motion_width: int = MOTION_WIDTH,
                progress: bool = True) -> dict:
    """Measure motion and write the split files of an own-video tree.

    Args:
        root (str): The dataset root.
        sequences (Sequence[str], optional): Sequence names; default: every
            folder with a left camera (:func:`list_sequences`).
        frame_ids (Sequence[int | str]): The ``frame_ids`` the dataset will
            use; its temporal offsets decide which samples have neighbours
            and which motion is measured. Defaults to ``(0, -1, 1)``.
        min_motion (float): Threshold of the motion test (pixels at
            ``motion_width``); ``<= 0`` keeps still frames. Defaults to
            :data:`DEFAULT_MIN_MOTION`.
        val_fraction (float): Tail of every sequence held out for
            validation (see :func:`split_train_val`). Defaults to 0.1.
        sides (str): ``'l'`` (default), ``'r'`` or ``'lr'`` (one line per
            camera; needs a right camera).
        img_dir (str): Camera folder / video name pattern. Defaults to
            ``'image_{cam:02d}'``.
        splits_dir (str): Folder under ``root`` for the split files.
        motion_width (int): See :func:`motion_image`.
        progress (bool): Show a progress bar while measuring motion.

    Returns:
        dict: The summary also written to ``<splits_dir>/summary.json``:
        ``train_file``, ``val_file``, ``num_train``, ``num_val``, the
        settings, and per sequence ``frames``, ``kept``, ``dropped_end``,
        ``dropped_still``, ``dropped_gap``, ``train``, ``val`` and motion
        percentiles (``motion_p10/p50/p90`` of offset ``min |o|``).
    """
    _check_split_args(frame_ids, val_fraction, sides)
    if sequences is None:
        sequences = list_sequences(root, img_dir)
    if not sequences:
        raise FileNotFoundError(f'no sequence under {root} (folders with '
                                f'{img_dir.format(cam=2)}/ or '
                                f'{img_dir.format(cam=2)}.<video>)')
    offsets = temporal_offsets(frame_ids)
    sources = {
        name: _sequence_source(osp.join(root, name), img_dir, sides)
        for name in sequences
    }
    total = sum(len(s) for s in sources.values()) if offsets else 0
    bar = ProgressBar(total) if progress and total else None
    lines: Dict[str, List[str]] = dict(train=[], val=[])
    per_sequence = {}
    for name in sequences:
        samples, per_sequence[name] = _split_sequence(
            osp.join(root, name), sources[name], frame_ids, offsets,
            min_motion, val_fraction, motion_width, bar)
        for split, indices in samples.items():
            for side in sides:
                lines[split] += [f'{name} {t} {side}' for t in indices]
    if bar is not None:
        print()
    split_root = osp.join(root, splits_dir)
    train_file = osp.join(split_root, 'train_files.txt')
    val_file = osp.join(split_root, 'val_files.txt')
    atomic_write_text(train_file, ''.join(x + '\n' for x in lines['train']))
    atomic_write_text(val_file, ''.join(x + '\n' for x in lines['val']))
    summary = dict(
        train_file=train_file,
        val_file=val_file,
        num_train=len(lines['train']),
        num_val=len(lines['val']),
        frame_ids=list(frame_ids),
        min_motion=min_motion,
        motion_width=motion_width,
        val_fraction=val_fraction,
        sides=sides,
        sequences=per_sequence)
    atomic_write_text(
        osp.join(split_root, 'summary.json'),
        json.dumps(summary, indent=2) + '\n')
    return summary


def _check_split_args(frame_ids: Sequence, val_fraction: float,
                      sides: str) -> None:
    if sides not in ('l', 'r', 'lr'):
        raise ValueError(f"sides must be 'l', 'r' or 'lr', got {sides!r}")
    if not 0 <= val_fraction < 1:
        raise ValueError(f'val_fraction must be in [0, 1), got '
                         f'{val_fraction}')
    if not frame_ids or frame_ids[0] != 0:
        raise ValueError(f'frame_ids must start with 0, got {frame_ids}')


def _sequence_source(seq_dir: str, img_dir: str, sides: str) -> FrameSource:
    """The left camera's frames of a sequence, checked early and by name:
    its camera file, its frames and (for ``sides`` with ``r``) its right
    camera must exist."""
    read_camera_file(find_camera_file(seq_dir))  # fail early, by name
    path = find_camera_source(seq_dir, img_dir.format(cam=2))
    if path is None:
        raise FileNotFoundError(f'no frames in {seq_dir}: expected '
                                f'{img_dir.format(cam=2)}/ or a video')
    if 'r' in sides and find_camera_source(seq_dir,
                                           img_dir.format(cam=3)) is None:
        raise FileNotFoundError(f'sides {sides!r} needs a right camera '
                                f'{img_dir.format(cam=3)} in {seq_dir}')
    return FrameSource(path)


def _split_sequence(seq_dir: str, src: FrameSource, frame_ids: Sequence,
                    offsets: List[int], min_motion: float,
                    val_fraction: float, motion_width: int,
                    bar: Optional[ProgressBar]) -> Tuple[dict, dict]:
    """Measure a sequence's motion and choose its train / val samples.

    Returns:
        tuple[dict, dict]: ``train`` / ``val`` -> frame indices, and the
        sequence's statistics (see :func:`make_splits`).
    """
    motion = cached_motion(seq_dir, src, offsets, motion_width,
                           bar) if offsets else {}
    kept, ends, still = select_samples(len(src), frame_ids, motion,
                                       min_motion)
    train, val, gap = split_train_val(kept, val_fraction,
                                      max(offsets, default=0))
    stats = dict(
        frames=len(src),
        kept=len(kept),
        dropped_end=len(ends),
        dropped_still=len(still),
        dropped_gap=gap,
        train=len(train),
        val=len(val))
    if offsets and motion[offsets[0]]:
        p10, p50, p90 = np.percentile(motion[offsets[0]], (10, 50, 90))
        stats.update(
            motion_p10=round(float(p10), 3),
            motion_p50=round(float(p50), 3),
            motion_p90=round(float(p90), 3))
    return dict(train=train, val=val), stats


def prepare_own_video(sources: Sequence[str],
                      out_dir: str,
                      frame_ids: Sequence = (0, -1, 1),
                      min_motion: float = DEFAULT_MIN_MOTION,
                      val_fraction: float = 0.1,
                      sides: str = 'l',
                      progress: bool = True,
                      **import_kwargs) -> dict:
    """Import ``sources`` (if any) into ``out_dir`` and write its splits.

    With no sources, ``out_dir`` must already hold sequences (frame folders
    or videos read directly) and only the splits are written.

    Args:
        sources (Sequence[str]): See :func:`import_sources`.
        out_dir (str): The dataset root.
        frame_ids, min_motion, val_fraction, sides: See
            :func:`make_splits`.
        progress (bool): Show progress bars.
        **import_kwargs: :func:`import_sources` options (``right_sources``,
            ``intrinsics``, ``baseline``, ``stride``, ``target_fps``,
            ``source_fps``, ``ext``, ``undistort``, ``undistort_alpha``).

    Returns:
        dict: :func:`make_splits`'s summary (+ ``imported``: names).
    """
    imported = []
    if sources:
        imported = import_sources(
            sources, out_dir, progress=progress, **import_kwargs)
    elif import_kwargs.get('stride') not in (None, 1) or \
            import_kwargs.get('target_fps') is not None:
        raise ValueError('--stride / --fps select frames while importing; '
                         'for sequences read in place set frame_ids '
                         '(e.g. --frame-ids 0 -3 3) instead')
    summary = make_splits(
        out_dir,
        sequences=imported or None,
        frame_ids=frame_ids,
        min_motion=min_motion,
        val_fraction=val_fraction,
        sides=sides,
        progress=progress)
    summary['imported'] = imported
    return summary


__all__ = [
    'MOTION_WIDTH', 'DEFAULT_MIN_MOTION', 'motion_image', 'median_flow',
    'compute_motion', 'cached_motion', 'select_samples', 'split_train_val',
    'import_sequence', 'import_sources', 'make_splits', 'prepare_own_video',
    'find_source_camera_file', 'camera_json', 'temporal_offsets',
    'list_sequences'
]
