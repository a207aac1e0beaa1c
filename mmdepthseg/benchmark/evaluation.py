# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Time of a config's depth evaluation over a test set.

:func:`measure_depth_evaluation` runs the config's own depth metric (the
:class:`~mmdepthseg.evaluation.metrics.DepthMetric` entries of its
``test_evaluator``, else ``val_evaluator``) inside an
``mmengine.evaluator.Evaluator`` exactly as the test loop does:
``evaluator.process`` per batch of predicted data samples, then
``evaluator.evaluate(num_frames)``. The predictions and ground truth are
synthetic (:func:`make_eval_samples`), so no dataset is needed: a few
distinct samples are cycled over ``num_frames`` frames, with the ground
truth as sparse as projected LiDAR (KITTI, ``density=0.05``) or dense
(Cityscapes disparity, NYUv2; see :data:`EVAL_GT_LAYOUTS`).

The predictions are given at the network's input size (``pred_shape``),
so the bilinear resize to the ground truth's size is timed inside the
metric; in the test loop the model's ``postprocess_result`` does that
resize (to ``ori_shape``) instead, so the time reported here is an upper
bound of the metric's share.
"""
import logging
import time
from collections import OrderedDict
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.logging import MMLogger
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmdepthseg.datasets.kitti_raw import MONODEPTH2_NORMALISED_K
from mmdepthseg.datasets.utils import normalised_to_absolute_intrinsics
from mmdepthseg.evaluation.metrics import DepthMetric
from mmdepthseg.registry import METRICS

#: Ground-truth size ``(H, W)`` and fraction of valid pixels of the
#: datasets whose type name contains the key (case-insensitive): KITTI's
#: projected Velodyne depth (about 5 % of the pixels), Cityscapes'
#: disparity maps (dense but for occlusions, sky and the ego vehicle) and
#: NYUv2's in-painted Kinect depth. Other datasets get the KITTI layout.
EVAL_GT_LAYOUTS = OrderedDict(
    kitti=dict(shape=(375, 1242), density=0.05),
    cityscapes=dict(shape=(1024, 2048), density=0.8),
    nyu=dict(shape=(480, 640), density=1.0))
#: Test set size of the KITTI Eigen split (the default frame count).
EIGEN_TEST_FRAMES = 697
#: Wrapper metrics whose ``depth_cfg`` is a :class:`DepthMetric` config.
_DEPTH_WRAPPERS = ('DepthSegMetric', )


def _metric_class(metric_type: Any) -> Optional[type]:
    """The class of a metric config's ``type`` (a name or a class)."""
    if isinstance(metric_type, type):
        return metric_type
    return METRICS.get(metric_type) if metric_type else None


def _evaluator_cfg(cfg: Config) -> Tuple[Optional[str], Any]:
    """``('test_evaluator', cfg)``, else ``('val_evaluator', cfg)``, else
    ``(None, None)``."""
    for key in ('test_evaluator', 'val_evaluator'):
        if cfg.get(key, None):
            return key, cfg[key]
    return None, None


def depth_metric_cfgs(cfg: Config) -> Tuple[List[dict], str]:
    """The :class:`DepthMetric` configs of a config's evaluator.

    ``test_evaluator`` is read, else ``val_evaluator`` (a dict or a list
    of dicts). Kept: entries whose type is ``DepthMetric`` or a subclass,
    and the ``depth_cfg`` of a ``DepthSegMetric`` (the metric it runs on
    the depth maps; one with ``depth_cfg=None`` evaluates segmentation
    only and is skipped). Other metrics (``IoUMetric``,
    ``MultiDomainDepthSegMetric``, which selects its pixels per domain
    before the shared depth kernel) are skipped.

    Args:
        cfg (Config): The config.

    Returns:
        tuple[list[dict], str]: The depth metric configs (copies, with
        ``type``) and a description of the evaluator they come from, e.g.
        ``"test_evaluator (DepthSegMetric)"``.
    """
    key, evaluator = _evaluator_cfg(cfg)
    if key is None:
        return [], 'no test_evaluator or val_evaluator'
    entries = evaluator if isinstance(evaluator,
                                      (list, tuple)) else [evaluator]
    found, types = [], []
    for entry in entries:
        entry = dict(entry)
        cls = _metric_class(entry.get('type'))
        name = getattr(cls, '__name__', str(entry.get('type')))
        types.append(name)
        if cls is not None and issubclass(cls, DepthMetric):
            found.append(entry)
        elif name in _DEPTH_WRAPPERS and entry.get('depth_cfg'):
            depth = dict(entry['depth_cfg'])
            depth.setdefault('type', 'DepthMetric')
            found.append(depth)
        elif name in _DEPTH_WRAPPERS:
            types[-1] += ' without depth_cfg'
    return found, f"{key} ({', '.join(types)})"


def _eval_dataset_type(cfg: Config) -> str:
    """Type name of the evaluated dataset (through dataset wrappers, the
    first of ``datasets`` / ``sources``), '' if unknown."""
    key, _ = _evaluator_cfg(cfg)
    loader_key = 'val_dataloader' if key == 'val_evaluator' else \
        'test_dataloader'
    loader = cfg.get(loader_key, None) or {}
    dataset = loader.get('dataset', None)
    while dataset:
        if dataset.get('dataset'):  # RepeatDataset, ClassBalancedDataset
            dataset = dataset['dataset']
        elif dataset.get('datasets'):  # ConcatDataset
            dataset = dataset['datasets'][0]
        elif dataset.get('sources'):  # MultiSourceDataset
            dataset = dataset['sources'][0].get('dataset', None)
        else:
            kind = dataset.get('type', '')
            return kind if isinstance(kind, str) else kind.__name__
    return ''


def eval_gt_layout(cfg: Config) -> Dict[str, Any]:
    """Ground-truth size and density of the dataset a config evaluates on.

    Looked up in :data:`EVAL_GT_LAYOUTS` by the type of
    ``test_dataloader.dataset`` (``val_dataloader`` when only a
    ``val_evaluator`` is set); KITTI's layout when no key matches.

    Args:
        cfg (Config): The config.

    Returns:
        dict: ``shape`` ``(H, W)``, ``density`` and ``dataset`` (the type
        name, '' if unknown).
    """
    dataset = _eval_dataset_type(cfg)
    for key, layout in EVAL_GT_LAYOUTS.items():
        if key in dataset.lower():
            return dict(layout, dataset=dataset)
    return dict(EVAL_GT_LAYOUTS['kitti'], dataset=dataset)


def make_eval_samples(num_samples: int,
                      gt_shape: Tuple[int, int],
                      pred_shape: Tuple[int, int],
                      density: float = 0.05,
                      max_depth: float = 80.0,
                      baseline: float = 0.54,
                      seed: int = 0) -> List[SegDataSample]:
    """Predicted data samples with ground truth, as the test loop hands
    them to the evaluator.

    Each sample is drawn from a road-like scene (a ground plane below the
    horizon at 40 % of the height, far values above it, 10 % log-normal
    texture) scaled to ``max_depth`` (KITTI: about 5 m at the bottom row up
    to 80 m): the ground truth keeps a random ``density`` fraction of the
    pixels at the ground truth's size, 20 times as likely in the lower 70 %
    of the image (as projected LiDAR), 0 elsewhere; the prediction is the
    scene resized to ``pred_shape`` with a per-sample scale in [0.8, 1.2]
    and 10 % log-normal noise.

    Args:
        num_samples (int): Number of distinct samples.
        gt_shape (tuple[int, int]): Ground-truth size ``(H', W')``.
        pred_shape (tuple[int, int]): Prediction size ``(H, W)`` (the
            network's input).
        density (float): Fraction of valid ground-truth pixels, in (0, 1].
            Defaults to 0.05.
        max_depth (float): The metric's upper bound; depths lie in
            ``[max_depth / 80, max_depth)``. Defaults to 80.
        baseline (float): Stereo baseline in metres (metainfo ``baseline``,
            for disparity metrics). Defaults to 0.54 (KITTI's rig).
        seed (int): Seed of the random content. Defaults to 0.

    Returns:
        list[SegDataSample]: Samples with ``pred_depth_map`` (float32
        ``(1, H, W)``), ``gt_depth_map`` (float32 ``(1, H', W')``) and the
        metainfo ``img_path``, ``ori_shape`` (= ``gt_shape``),
        ``img_shape`` (= ``pred_shape``), ``intrinsics`` (monodepth2's KITTI
        intrinsics at ``pred_shape``) and ``baseline``.
    """
    gh, gw = (int(s) for s in gt_shape)
    ph, pw = (int(s) for s in pred_shape)
    if min(gh, gw, ph, pw) < 1 or num_samples < 1:
        raise ValueError(f'need positive shapes and sample count, got '
                         f'{gt_shape}, {pred_shape} and {num_samples}')
    if not 0 < density <= 1:
        raise ValueError(f'density must be in (0, 1], got {density}')
    gen = torch.Generator().manual_seed(seed)
    low, high = max_depth / 80.0, max_depth * 0.999
    rows = torch.arange(gh, dtype=torch.float32)[:, None]
    horizon = 0.4 * gh
    below = (rows - horizon).clamp(min=1e-3)  # rows under the horizon
    ground = 0.06 * max_depth * (gh - horizon) / below
    base = torch.where(rows > horizon, ground,
                       torch.full_like(ground, high)).expand(gh, gw)
    weights = torch.where(rows >= 0.3 * gh, 1.0, 0.05).expand(gh, gw)
    num_valid = max(1, round(density * gh * gw))
    intrinsics = normalised_to_absolute_intrinsics(MONODEPTH2_NORMALISED_K, pw,
                                                   ph)
    samples = []
    for i in range(num_samples):
        scene = base * torch.exp(0.1 * torch.randn((gh, gw), generator=gen))
        scene = scene.clamp(low, high)
        if num_valid >= gh * gw:
            gt = scene.clone()
        else:
            keep = torch.multinomial(
                weights.reshape(-1), num_valid, generator=gen)
            gt = torch.zeros(gh * gw)
            gt[keep] = scene.reshape(-1)[keep]
            gt = gt.reshape(gh, gw)
        pred = F.interpolate(
            scene[None, None], (ph, pw), mode='bilinear',
            align_corners=False)[0]
        scale = 0.8 + 0.4 * torch.rand((), generator=gen)
        pred = pred * scale * torch.exp(
            0.1 * torch.randn(pred.shape, generator=gen))
        sample = SegDataSample()
        sample.set_data(
            dict(
                pred_depth_map=PixelData(data=pred.float()),
                gt_depth_map=PixelData(data=gt[None].float())))
        sample.set_metainfo(
            dict(
                img_path=f'synthetic/eval/{i:06d}.png',
                ori_shape=(gh, gw),
                img_shape=(ph, pw),
                intrinsics=intrinsics.copy(),
                baseline=baseline))
        samples.append(sample)
    return samples


@contextmanager
def _quiet_info_logs() -> Iterator[None]:
    """Hide the current MMLogger's info messages (the metric's result
    table); warnings and errors still show."""
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _describe(metric: DepthMetric) -> str:
    """``'DepthMetric(crop=garg, median scaling)'``."""
    parts = [f'crop={metric.crop}'] if metric.crop else []
    if metric.median_scaling:
        parts.append('median scaling')
    if metric.eval_on_disparity:
        parts.append('on disparity')
    parts.append(f'depth {metric.min_depth:g}-{metric.max_depth:g}')
    return f"{type(metric).__name__}({', '.join(parts)})"


def measure_depth_evaluation(cfg: Config,
                             num_frames: int = EIGEN_TEST_FRAMES,
                             gt_shape: Tuple[int, int] = (375, 1242),
                             pred_shape: Tuple[int, int] = (192, 640),
                             density: float = 0.05,
                             batch_size: Optional[int] = None,
                             seed: int = 0,
                             num_samples: int = 8) -> Dict[str, Any]:
    """Wall time of a config's depth evaluation over ``num_frames`` frames.

    The :class:`DepthMetric` configs of the config's evaluator
    (:func:`depth_metric_cfgs`) are built into an ``Evaluator``, which
    gets ``num_frames`` frames (``num_samples`` distinct samples of
    :func:`make_eval_samples`, cycled) through ``evaluator.process`` in
    batches of ``batch_size``, then ``evaluator.evaluate(num_frames)``, all
    timed by ``time.perf_counter`` (the metric's info log, its result
    table, is hidden meanwhile).

    Args:
        cfg (Config): The config.
        num_frames (int): Frames evaluated. Defaults to 697 (KITTI Eigen).
        gt_shape (tuple[int, int]): Ground-truth size ``(H', W')``.
            Defaults to KITTI's (375, 1242).
        pred_shape (tuple[int, int]): Prediction size ``(H, W)``.
            Defaults to (192, 640).
        density (float): Fraction of valid ground-truth pixels. Defaults
            to 0.05 (projected LiDAR).
        batch_size (int, optional): Samples per ``process`` call. Default:
            the evaluated dataloader's ``batch_size``, else 1.
        seed (int): Seed of the samples. Defaults to 0.
        num_samples (int): Distinct samples cycled over the frames.
            Defaults to 8.

    Returns:
        dict: ``available``; when False ``reason``; when True also
        ``num_frames``, ``gt_shape``, ``pred_shape``, ``density``,
        ``batch_size``, ``time_s`` (``process_s + compute_s``),
        ``process_s``, ``compute_s``, ``frames_per_s``, ``ms_per_frame``,
        ``num_threads``, ``metrics`` (what ``evaluate`` returned),
        ``metric_types`` (class names) and ``protocols`` (e.g.
        ``'DepthMetric(crop=garg, median scaling, depth 0.001-80)'``).
    """
    if num_frames < 1:
        raise ValueError(f'num_frames must be >= 1, got {num_frames}')
    metric_cfgs, source = depth_metric_cfgs(cfg)
    if not metric_cfgs:
        return dict(
            available=False,
            reason=f'no DepthMetric in {source}',
            num_frames=num_frames)
    metrics = [METRICS.build(metric_cfg) for metric_cfg in metric_cfgs]
    evaluator = Evaluator(metrics)
    if batch_size is None:
        key, _ = _evaluator_cfg(cfg)
        loader = cfg.get(
            'val_dataloader' if key == 'val_evaluator' else 'test_dataloader',
            None) or {}
        batch_size = int(loader.get('batch_size', 1) or 1)
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    samples = make_eval_samples(
        min(num_samples, num_frames),
        gt_shape,
        pred_shape,
        density=density,
        max_depth=min(m.max_depth for m in metrics),
        seed=seed)
    with _quiet_info_logs():
        start = time.perf_counter()
        for first in range(0, num_frames, batch_size):
            batch = [
                samples[i % len(samples)]
                for i in range(first, min(first + batch_size, num_frames))
            ]
            evaluator.process(data_samples=batch)
        processed = time.perf_counter()
        values = evaluator.evaluate(num_frames)
        end = time.perf_counter()
    total = end - start
    return dict(
        available=True,
        num_frames=num_frames,
        gt_shape=tuple(int(s) for s in gt_shape),
        pred_shape=tuple(int(s) for s in pred_shape),
        density=density,
        batch_size=batch_size,
        time_s=total,
        process_s=processed - start,
        compute_s=end - processed,
        frames_per_s=num_frames / total,
        ms_per_frame=1e3 * total / num_frames,
        num_threads=torch.get_num_threads(),
        metrics={
            k: float(v)
            for k, v in values.items()
        },
        metric_types=[type(m).__name__ for m in metrics],
        protocols=[_describe(m) for m in metrics],
        evaluator=source)


def format_evaluation(evaluation: Dict[str, Any]) -> str:
    """One line on :func:`measure_depth_evaluation`'s result."""
    if not evaluation.get('available'):
        return f"evaluation: n/a ({evaluation.get('reason')})"
    h, w = evaluation['gt_shape']
    ph, pw = evaluation['pred_shape']
    return (f"evaluation: {evaluation['num_frames']} frames of {h}x{w} GT "
            f"({100 * evaluation['density']:g} % valid, predictions "
            f"{ph}x{pw}, batch {evaluation['batch_size']}; "
            f"{', '.join(evaluation['protocols'])}) in "
            f"{evaluation['time_s']:.2f} s = "
            f"{evaluation['ms_per_frame']:.1f} ms/frame (process "
            f"{evaluation['process_s']:.2f} s, evaluate "
            f"{evaluation['compute_s']:.2f} s)")
