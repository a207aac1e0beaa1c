# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Pseudo depth and confidence labels from stereo pairs (Pseudo-MTL).

For every rectified stereo pair of a dataset tree a matcher
(:mod:`~mmdepthseg.stereo.matchers`) gives the disparity of both views, a
confidence measure (:mod:`~mmdepthseg.stereo.confidence`) its reliability,
and the dataset's calibration turns disparity into metric depth
``depth = fx * baseline / disparity``.

Stored format (both 16-bit single-channel PNGs, ``0`` = invalid):

- depth: ``p = round(depth * 256)`` (metres = ``p / 256``; depths that do
  not fit, above 255.996 m, are stored as 0);
- confidence: ``p = round(conf * 65535)`` (``conf = p / 65535``); pixels
  with invalid depth have confidence 0.

Output trees (mirroring the image trees):

- KITTI raw: ``<date>/<drive>/image_02/data/<frame>.png`` ->
  ``<date>/<drive>/pseudo_depth_02/data/<frame>.png`` and
  ``pseudo_conf_02/data/<frame>.png``; the same with ``03`` for the right
  view. Calibration: ``<date>/calib_cam_to_cam.txt``, ``fx =
  P_rect_02[0, 0]`` (scaled by ``image width / S_rect_02 width`` if the
  images were resized) and the 02-03 baseline from ``P_rect_02``/``03``.
- Cityscapes: ``leftImg8bit/<split>/<city>/<stem>_leftImg8bit.png`` ->
  ``pseudoDepth/<split>/<city>/<stem>_leftPseudoDepth.png``,
  ``pseudoDepth/.../<stem>_rightPseudoDepth.png``,
  ``pseudoConf/.../<stem>_leftPseudoConf.png`` and
  ``pseudoConf/.../<stem>_rightPseudoConf.png``. Calibration:
  ``camera/<split>/<city>/<stem>_camera.json`` (``fx`` and ``baseline``;
  the JSON must describe the resolution of the stored images).

Every file is written atomically; a pair whose four outputs all exist is
skipped (resumable); a pair whose images differ in size is reported with a
warning naming both files and skipped. ``nproc`` worker processes share
the pairs and write the same bytes as one process.
"""
import glob
import multiprocessing as mp
import os.path as osp
import warnings
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from mmengine.logging import print_log
from mmengine.utils import ProgressBar

# the PNG codecs of the pseudo labels are defined with the datasets that
# read them; the decoders are imported for ``mmdepthseg.stereo``'s names
from mmdepthseg.datasets.png_codecs import decode_conf_png  # noqa: F401
from mmdepthseg.datasets.png_codecs import decode_depth_png  # noqa: F401
from mmdepthseg.datasets.png_codecs import (CONF_PNG_SCALE, DEPTH_PNG_SCALE,
                                            encode_conf_png, encode_depth_png)
from mmdepthseg.datasets.utils import (kitti_stereo_baseline, load_kitti_calib,
                                       read_cityscapes_camera, read_image)
from mmdepthseg.registry import TASK_UTILS
from mmdepthseg.utils.io import atomic_write_bytes
from .confidence import LRConsistencyConfidence
from .matchers import BaseStereoMatcher, SGBMMatcher

#: depth PNG value = round(depth [m] * DEPTH_SCALE)
DEPTH_SCALE = DEPTH_PNG_SCALE
#: confidence PNG value = round(confidence * CONF_SCALE)
CONF_SCALE = CONF_PNG_SCALE
#: output keys of a pair, in writing order
OUTPUT_KEYS = ('conf_left', 'conf_right', 'depth_left', 'depth_right')


def disparity_map_to_depth(disp: np.ndarray,
                           fx_baseline: float) -> np.ndarray:
    """``depth = fx * baseline / disparity``; 0 where disparity is invalid.

    The numpy counterpart, for one matched map, of the torch
    :func:`mmdepthseg.models.layers.disparity_to_depth`.

    Args:
        disp (np.ndarray): (H, W) disparity in pixels (``<= 0`` or non-finite
            = invalid).
        fx_baseline (float): Focal length (pixels) times baseline (metres).

    Returns:
        np.ndarray: (H, W) float32 depth in metres.
    """
    disp = np.asarray(disp, dtype=np.float64)
    valid = np.isfinite(disp) & (disp > 0)
    depth = np.where(valid, fx_baseline / np.where(valid, disp, 1.0), 0.0)
    return depth.astype(np.float32)


#: :func:`disparity_map_to_depth`'s name before it was told apart from the
#: torch ``disparity_to_depth`` of ``mmdepthseg.models.layers``; kept so that
#: ``from mmdepthseg.stereo import disparity_to_depth`` still works.
disparity_to_depth = disparity_map_to_depth


def _write_png(path: str, img: np.ndarray) -> None:
    ok, buf = cv2.imencode('.png', img)
    if not ok:
        raise IOError(f'could not encode a PNG for {path}')
    atomic_write_bytes(path, buf.tobytes())


# ---------------------------------------------------------------------------
# Pair listing
# ---------------------------------------------------------------------------
def list_kitti_stereo_pairs(root: str, img_suffix: str = '.png') -> List[dict]:
    """Stereo pairs of a KITTI raw tree.

    Args:
        root (str): Root holding ``<date>/<date>_drive_<NNNN>_sync``.
        img_suffix (str): Image file ending. Defaults to '.png'.

    Returns:
        list[dict]: Sorted pairs with ``left``, ``right`` (image paths),
        ``calib_dir`` (the date folder), ``fx_baseline`` (None: read from
        the calibration by :func:`pair_fx_baseline`) and ``outputs``
        (``depth_left``, ``depth_right``, ``conf_left``, ``conf_right`` ->
        path). Left frames without a right image are skipped with a
        warning.
    """
    pattern = osp.join(
        osp.abspath(root), '*', '*_sync', 'image_02', 'data', f'*{img_suffix}')
    pairs = []
    for left in sorted(glob.glob(pattern)):
        data_dir = osp.dirname(left)
        drive_dir = osp.dirname(osp.dirname(data_dir))
        frame = osp.splitext(osp.basename(left))[0]
        right = osp.join(drive_dir, 'image_03', 'data', osp.basename(left))
        if not osp.exists(right):
            warnings.warn(f'no right image {right} for {left}; skipped')
            continue

        def out(kind, cam):
            return osp.join(drive_dir, f'pseudo_{kind}_{cam}', 'data',
                            frame + '.png')

        pairs.append(
            dict(
                left=left,
                right=right,
                kind='kitti',
                calib_dir=osp.dirname(drive_dir),
                outputs=dict(
                    depth_left=out('depth', '02'),
                    depth_right=out('depth', '03'),
                    conf_left=out('conf', '02'),
                    conf_right=out('conf', '03'))))
    return pairs


def list_cityscapes_stereo_pairs(root: str,
                                 splits: Optional[Sequence[str]] = None
                                 ) -> List[dict]:
    """Stereo pairs of a Cityscapes tree.

    Args:
        root (str): Root holding ``leftImg8bit``, ``rightImg8bit`` and
            ``camera``.
        splits (Sequence[str], optional): Splits to list (e.g.
            ``['train', 'val']``); all when None.

    Returns:
        list[dict]: Sorted pairs like :func:`list_kitti_stereo_pairs`, with
        ``camera`` (the JSON path) instead of ``calib_dir``.
    """
    root = osp.abspath(root)
    split_glob = '*' if splits is None else None
    lefts: List[str] = []
    for split in ([split_glob] if splits is None else list(splits)):
        lefts += glob.glob(
            osp.join(root, 'leftImg8bit', split, '*', '*_leftImg8bit.png'))
    pairs = []
    for left in sorted(lefts):
        rel = osp.relpath(left, osp.join(root, 'leftImg8bit'))
        stem = rel[:-len('_leftImg8bit.png')]
        right = osp.join(root, 'rightImg8bit', stem + '_rightImg8bit.png')
        if not osp.exists(right):
            warnings.warn(f'no right image {right} for {left}; skipped')
            continue
        pairs.append(
            dict(
                left=left,
                right=right,
                kind='cityscapes',
                camera=osp.join(root, 'camera', stem + '_camera.json'),
                outputs=dict(
                    depth_left=osp.join(root, 'pseudoDepth',
                                        stem + '_leftPseudoDepth.png'),
                    depth_right=osp.join(root, 'pseudoDepth',
                                         stem + '_rightPseudoDepth.png'),
                    conf_left=osp.join(root, 'pseudoConf',
                                       stem + '_leftPseudoConf.png'),
                    conf_right=osp.join(root, 'pseudoConf',
                                        stem + '_rightPseudoConf.png'))))
    return pairs


def pair_fx_baseline(pair: dict, width: int) -> float:
    """``fx * baseline`` (pixels * metres) of a listed pair.

    Args:
        pair (dict): An entry of a ``list_*_stereo_pairs`` result (or any
            dict with ``fx_baseline``).
        width (int): Width of the pair's images (KITTI: ``fx`` is scaled
            by ``width / S_rect_02`` width).
    """
    if pair.get('fx_baseline') is not None:
        return float(pair['fx_baseline'])
    if pair['kind'] == 'kitti':
        calib = load_kitti_calib(pair['calib_dir'])
        fx = float(calib['P_rect_02'][0, 0])
        if 'S_rect_02' in calib and calib['S_rect_02'][0] > 0:
            fx *= width / float(calib['S_rect_02'][0])
        return fx * kitti_stereo_baseline(calib)
    if pair['kind'] == 'cityscapes':
        cam = read_cityscapes_camera(pair['camera'])
        return cam['fx'] * cam['baseline']
    raise ValueError(f"unknown pair kind {pair.get('kind')!r}")


# ---------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------
def _build(cfg, default_type):
    if cfg is None:
        return default_type()
    if isinstance(cfg, dict):
        return TASK_UTILS.build(cfg)
    return cfg


def compute_pseudo_depth(left: np.ndarray, right: np.ndarray,
                         fx_baseline: float, matcher: BaseStereoMatcher,
                         confidence) -> Dict[str, np.ndarray]:
    """Pseudo depth and confidence of both views of one pair.

    Returns:
        dict: ``disp_left``, ``disp_right`` (pixels), ``depth_left``,
        ``depth_right`` (m), ``conf_left``, ``conf_right`` ([0, 1]); (H, W)
        float32, 0 = invalid (confidence is 0 wherever depth is).
    """
    disp_l, disp_r = matcher(left, right)
    conf_l, conf_r = confidence(disp_l, disp_r)
    depth_l = disparity_map_to_depth(disp_l, fx_baseline)
    depth_r = disparity_map_to_depth(disp_r, fx_baseline)
    return dict(
        disp_left=disp_l,
        disp_right=disp_r,
        depth_left=depth_l,
        depth_right=depth_r,
        conf_left=np.where(depth_l > 0, conf_l, 0.0).astype(np.float32),
        conf_right=np.where(depth_r > 0, conf_r, 0.0).astype(np.float32))


def _process_pair(pair: dict, matcher: BaseStereoMatcher,
                  confidence) -> Tuple[str, Optional[str]]:
    """Write the four outputs of one pair.

    Returns:
        tuple[str, str | None]: ``('skipped' | 'written' | 'size_mismatch',
        message)``.
    """
    outputs = pair['outputs']
    if all(osp.exists(outputs[k]) for k in OUTPUT_KEYS):
        return 'skipped', None
    left = read_image(pair['left'])
    right = read_image(pair['right'])
    if left.shape != right.shape:
        return 'size_mismatch', (
            f'stereo pair skipped, image sizes differ: {pair["left"]} is '
            f'{left.shape[1]}x{left.shape[0]} but {pair["right"]} is '
            f'{right.shape[1]}x{right.shape[0]}')
    fxb = pair_fx_baseline(pair, left.shape[1])
    res = compute_pseudo_depth(left, right, fxb, matcher, confidence)
    for key in OUTPUT_KEYS:
        enc = encode_depth_png if key.startswith('depth') else encode_conf_png
        _write_png(outputs[key], enc(res[key]))
    return 'written', None


#: matcher and confidence of a worker process (set by its initializer)
_WORKER: dict = {}


def _init_worker(matcher, confidence) -> None:
    # one thread per worker: the workers are the parallelism
    cv2.setNumThreads(1)
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass
    _WORKER['matcher'] = _build(matcher, SGBMMatcher)
    _WORKER['confidence'] = _build(confidence, LRConsistencyConfidence)


def _worker_pair(pair: dict) -> Tuple[str, Optional[str]]:
    return _process_pair(pair, _WORKER['matcher'], _WORKER['confidence'])


def generate_pseudo_depth(pairs: Sequence[dict],
                          matcher: Union[BaseStereoMatcher, dict, None] = None,
                          confidence: Union[object, dict, None] = None,
                          progress: bool = True,
                          nproc: int = 1,
                          start_method: Optional[str] = None
                          ) -> Dict[str, int]:
    """Write pseudo depth and confidence PNGs for listed stereo pairs.

    With ``nproc > 1`` the pairs are shared among that many worker
    processes (one OpenCV / torch thread each); every pair is computed and
    written by exactly one worker, with the same code as ``nproc=1``, so the
    files are byte-identical. Pairs whose outputs all exist are skipped
    before any work is dispatched (resumable), every file is written
    atomically, and the main process keeps the progress bar and the
    warnings.

    Args:
        pairs (Sequence[dict]): From :func:`list_kitti_stereo_pairs` or
            :func:`list_cityscapes_stereo_pairs`.
        matcher (BaseStereoMatcher | dict, optional): A matcher or its
            ``TASK_UTILS`` config. Defaults to ``SGBMMatcher()``.
        confidence (callable | dict, optional): ``(disp_l, disp_r) ->
            (conf_l, conf_r)`` or its config. Defaults to
            ``LRConsistencyConfidence()``.
        progress (bool): Show an MMEngine progress bar. Defaults to True.
        nproc (int): Worker processes; 1 computes in this process.
            Defaults to 1.
        start_method (str, optional): ``multiprocessing`` start method of
            the workers. Defaults to ``'spawn'``: a process forked after
            torch or OpenCV started their thread pools can wait forever on
            a lock a pool thread held at the fork (objects given as
            ``matcher`` / ``confidence`` must be picklable; configs always
            are).

    Returns:
        dict: ``written``, ``skipped`` (outputs already present) and
        ``size_mismatch`` (pairs reported and skipped) counts.
    """
    if nproc < 1:
        raise ValueError(f'nproc must be >= 1, got {nproc}')
    counts = dict(written=0, skipped=0, size_mismatch=0)
    bar = ProgressBar(len(pairs)) if progress and len(pairs) else None

    def record(status: str, msg: Optional[str]) -> None:
        counts[status] += 1
        if msg is not None:
            warnings.warn(msg)
            print_log(msg, logger='current', level=30)
        if bar is not None:
            bar.update()

    todo = []
    for pair in pairs:
        if all(osp.exists(pair['outputs'][k]) for k in OUTPUT_KEYS):
            record('skipped', None)
        else:
            todo.append(pair)
    if nproc == 1 or len(todo) <= 1:
        matcher = _build(matcher, SGBMMatcher)
        confidence = _build(confidence, LRConsistencyConfidence)
        for pair in todo:
            record(*_process_pair(pair, matcher, confidence))
        return counts
    ctx = mp.get_context(start_method or 'spawn')
    with ctx.Pool(
            min(nproc, len(todo)),
            initializer=_init_worker,
            initargs=(matcher, confidence)) as pool:
        for result in pool.imap(_worker_pair, todo, chunksize=1):
            record(*result)
    return counts


def generate_dataset_pseudo_depth(root: str,
                                  dataset: str = 'kitti',
                                  matcher: Union[BaseStereoMatcher, dict,
                                                 None] = None,
                                  confidence: Union[object, dict, None] = None,
                                  img_suffix: Optional[str] = '.png',
                                  splits: Optional[Sequence[str]] = None,
                                  progress: bool = True,
                                  nproc: int = 1) -> Dict[str, int]:
    """List the pairs of a dataset tree and run
    :func:`generate_pseudo_depth` on them.

    Args:
        root (str): Dataset root.
        dataset (str): ``'kitti'`` (KITTI raw), ``'cityscapes'`` or
            ``'own_video'`` (:class:`~mmdepthseg.datasets.OwnVideoDataset`'s
            layout, see
            :func:`~mmdepthseg.datasets.own_video.list_own_video_stereo_pairs`).
        matcher, confidence, progress, nproc: See
            :func:`generate_pseudo_depth`.
        img_suffix (str, optional): Image ending of KITTI / own-video
            frames; None reads every image ending of own-video frames.
            Defaults to '.png'.
        splits (Sequence[str], optional): Cityscapes splits; all if None.

    Returns:
        dict: Counts of :func:`generate_pseudo_depth` plus ``pairs``.
    """
    if not osp.isdir(root):
        raise FileNotFoundError(f'dataset root not found: {root}')
    if dataset == 'kitti':
        pairs = list_kitti_stereo_pairs(root, img_suffix or '.png')
    elif dataset == 'cityscapes':
        pairs = list_cityscapes_stereo_pairs(root, splits)
    elif dataset == 'own_video':
        from mmdepthseg.datasets.own_video import list_own_video_stereo_pairs
        pairs = list_own_video_stereo_pairs(root, img_suffix=img_suffix)
    else:
        raise ValueError("dataset must be 'own_video', 'kitti' or "
                         f"'cityscapes', got {dataset!r}")
    if not pairs:
        raise FileNotFoundError(f'no {dataset} stereo pairs found under '
                                f'{root} (see docs/en/dataset_formats.md)')
    counts = generate_pseudo_depth(
        pairs, matcher, confidence, progress, nproc=nproc)
    counts['pairs'] = len(pairs)
    return counts
