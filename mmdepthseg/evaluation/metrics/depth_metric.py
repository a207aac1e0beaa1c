# Copyright (c) mmdepthseg contributors. All rights reserved.
import logging
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from prettytable import PrettyTable

from mmdepthseg.registry import METRICS
from mmdepthseg.structures import read_fx_baseline, sample_name
from ..functional import ROOT_MEAN_METRICS  # noqa: F401 (old import path)
from ..functional import (DEPTH_METRICS, aggregate_depth_metric, crop_mask,
                          depth_metrics, disparity_error, median_scale,
                          valid_depth_mask)

ALL_DEPTH_METRICS = DEPTH_METRICS + ('disp_err', )
#: How per-image values become dataset numbers (``DepthMetric.aggregation``).
AGGREGATIONS = ('per_image', 'pooled')
#: Arguments that only MMSegmentation's ``DepthMetric`` takes: a
#: ``DepthMetric`` config with one of them is built as mmseg's metric.
MMSEG_DEPTH_METRIC_ARGS = ('depth_metrics', 'min_depth_eval', 'max_depth_eval',
                           'crop_type', 'depth_scale_factor', 'output_dir',
                           'format_only')
#: Arguments that only ours takes.
OWN_DEPTH_METRIC_ARGS = ('min_depth', 'max_depth', 'crop', 'median_scaling',
                         'pred_depth_scale_factor', 'gt_in_range',
                         'eval_on_disparity', 'clip_pred', 'metrics',
                         'aggregation')


@METRICS.register_module(name=['DepthMetric', 'MonoDepthMetric'])
class DepthMetric(BaseMetric):
    """Monocular depth evaluation (KITTI Eigen / NYUv2 / Cityscapes
    protocols).

    Per image, in the order of the KITTI Eigen benchmark (monodepth2's
    ``evaluate_depth.py``): the prediction is resized (bilinear) to the
    ground truth's size if the model did not already return it there;
    valid pixels are those with ``min_depth < gt < max_depth`` (or
    ``gt > 0`` with ``gt_in_range=False``) inside the optional crop; the
    prediction is multiplied by ``pred_depth_scale_factor``, then optionally
    median-scaled (``pred *= median(gt) / median(pred)`` on the valid
    pixels), then clipped to ``[min_depth, max_depth]``; the metrics of
    :func:`mmdepthseg.evaluation.functional.depth_metrics` are computed on
    the valid pixels. The reported numbers are the means over images
    (``aggregation='per_image'``, the Eigen / KITTI protocol) or over all
    valid pixels of the dataset (``aggregation='pooled'``: every pixel
    weighs the same, as SOSD-Net's NYUv2 protocol defines ``N`` as "the
    total number of valid pixels in all images").

    The benchmark resizes the predicted *disparity* and inverts it
    afterwards; in mmdepthseg the model returns depth already at the
    original image size, so that choice is the segmentor's
    ``test_cfg.depth_resize`` (``'disparity'`` in the KITTI configs), see
    :class:`~mmdepthseg.models.segmentors.MultiTaskSegmentor`. The resize
    here (in depth space) only serves predictions whose size differs from
    their ground truth's.

    It reads from each data sample (as MMEngine hands them over after
    ``model.predict``): ``pred_depth_map.data`` (1, H, W) in metres,
    ``gt_depth_map.data`` (V', H', W') of which view 0 is used, and, for
    disparity, the metainfo ``intrinsics`` (3x3, for ``img_shape``) and
    ``baseline``. The focal length is rescaled to the ground truth's width:
    ``f = intrinsics[0, 0] * W' / img_shape[1]``.

    Args:
        min_depth (float): Lower bound of valid ground truth and of the
            clipped prediction. Defaults to 1e-3.
        max_depth (float): Upper bound, likewise. Defaults to 80.
        crop (str, optional): Evaluation crop: None, 'garg' or 'eigen'
            (KITTI), 'nyu' (Eigen's NYUv2 crop, scaled proportionally for
            sizes other than 480x640). Defaults to None.
        median_scaling (bool): Per-image median scaling (self-supervised
            monocular protocol). The ratios' median and the standard
            deviation of ``ratios / median`` (monodepth2's printout) are
            reported as ``med_ratio`` and ``med_std``. Defaults to False.
        pred_depth_scale_factor (float): Fixed factor applied to every
            prediction before median scaling (monodepth2's
            ``pred_depth_scale_factor``). The KITTI benchmark evaluates
            stereo-trained models (M+S, S) without median scaling and with
            5.4: their depth is in units of the nominal 0.1 baseline used in
            training, and KITTI's rig has a 0.54 m baseline. Metric-depth
            models keep 1. Defaults to 1.
        gt_in_range (bool): Whether valid ground truth must lie strictly
            inside ``(min_depth, max_depth)`` (the Eigen split's rule).
            False keeps every ``gt > 0``, the benchmark's rule for the
            improved ground truth of ``eigen_benchmark`` (whose maps reach
            beyond 80 m); the prediction is still clipped to
            ``[min_depth, max_depth]``. Defaults to True.
        eval_on_disparity (bool): Compute the metrics on disparity
            ``f b / depth`` instead of depth (Cityscapes protocol). Needs
            ``intrinsics`` and ``baseline`` in every sample. Defaults to
            False.
        clip_pred (bool): Clip the prediction to ``[min_depth, max_depth]``.
            Without clipping, non-positive predictions are still raised to
            1e-6 so that logarithms stay finite. Defaults to True.
        metrics (Sequence[str]): Metrics to report, out of abs_rel, sq_rel,
            rmse, rmse_log, log10, a1, a2, a3, mae (in the evaluated space)
            and disp_err (mean absolute disparity error in pixels; skipped
            with a warning for samples without intrinsics/baseline).
        aggregation (str): 'per_image' (mean of the per-image metrics) or
            'pooled' (each metric over the union of the valid pixels of all
            images: means weighted by the images' valid-pixel counts, and
            ``rmse`` / ``rmse_log`` as the root of the pooled mean square).
            Median scaling, when on, stays per image. Defaults to
            'per_image'.
        collect_device (str): 'cpu' or 'gpu', for gathering results across
            ranks. Defaults to 'cpu'.
        prefix (str, optional): Prefix of the returned keys. Defaults to
            'depth' (keys such as 'depth/abs_rel').

    Note:
        MMSegmentation registers another ``DepthMetric`` (scope ``mmseg``,
        arguments ``depth_metrics``, ``min_depth_eval``, ``max_depth_eval``,
        ``crop_type``, ``depth_scale_factor``...). A config gets the one it
        names: ``type='mmseg.DepthMetric'`` is mmseg's,
        ``type='mmdepthseg.DepthMetric'`` or ``type='MonoDepthMetric'`` is
        this one, and a plain ``type='DepthMetric'`` is the one of the
        config's ``default_scope``, except that under ``mmdepthseg`` a
        config written for mmseg's metric (any of
        :data:`MMSEG_DEPTH_METRIC_ARGS`) still builds mmseg's, so an mmseg
        config keeps its evaluator when switched to our scope. Mixing the
        two argument sets raises a ``TypeError`` naming both.
    """
    default_prefix: Optional[str] = 'depth'

    def __new__(cls, *args, **kwargs):
        mmseg_args = sorted(set(kwargs) & set(MMSEG_DEPTH_METRIC_ARGS))
        if cls is not DepthMetric or not mmseg_args:
            return super().__new__(cls)
        own_args = sorted(set(kwargs) & set(OWN_DEPTH_METRIC_ARGS))
        if own_args:
            raise TypeError(
                f'DepthMetric got arguments of mmseg.DepthMetric '
                f'{mmseg_args} and of mmdepthseg.DepthMetric {own_args}; '
                "name the one you mean: type='mmseg.DepthMetric' or "
                "type='mmdepthseg.MonoDepthMetric'")
        from mmseg.evaluation.metrics import DepthMetric as MMSegDepthMetric
        return MMSegDepthMetric(*args, **kwargs)

    def __init__(self,
                 min_depth: float = 1e-3,
                 max_depth: float = 80.0,
                 crop: Optional[str] = None,
                 median_scaling: bool = False,
                 pred_depth_scale_factor: float = 1.0,
                 gt_in_range: bool = True,
                 eval_on_disparity: bool = False,
                 clip_pred: bool = True,
                 metrics: Sequence[str] = ALL_DEPTH_METRICS,
                 aggregation: str = 'per_image',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(
            collect_device=collect_device, prefix=prefix, **kwargs)
        if not 0 <= min_depth < max_depth:
            raise ValueError('DepthMetric needs 0 <= min_depth < max_depth, '
                             f'got {min_depth} and {max_depth}')
        crop_mask(crop, 1, 1)  # validates the name
        if not pred_depth_scale_factor > 0:
            raise ValueError('DepthMetric needs pred_depth_scale_factor > 0, '
                             f'got {pred_depth_scale_factor}')
        if isinstance(metrics, str):
            metrics = (metrics, )
        unknown = set(metrics) - set(ALL_DEPTH_METRICS)
        if unknown:
            raise ValueError(f'DepthMetric got unknown metrics '
                             f'{sorted(unknown)}; choose from '
                             f'{ALL_DEPTH_METRICS}')
        if aggregation not in AGGREGATIONS:
            raise ValueError(f'DepthMetric: aggregation must be one of '
                             f'{AGGREGATIONS}, got {aggregation!r}')
        self.aggregation = aggregation
        self.min_depth = min_depth
        self.max_depth = max_depth
        self.crop = crop
        self.median_scaling = median_scaling
        self.pred_depth_scale_factor = float(pred_depth_scale_factor)
        self.gt_in_range = gt_in_range
        self.eval_on_disparity = eval_on_disparity
        self.clip_pred = clip_pred
        self.metrics = tuple(metrics)
        self._kernel_metrics = tuple(m for m in self.metrics
                                     if m in DEPTH_METRICS)
        self._warned_no_focal_baseline = False
        self._crop_masks: Dict[tuple, np.ndarray] = {}

    # ------------------------------------------------------------------
    # per sample
    # ------------------------------------------------------------------
    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Evaluate each sample and store its per-image metrics.

        Args:
            data_batch (dict): A batch from the dataloader (unused).
            data_samples (Sequence[dict]): Outputs of ``model.predict`` as
                dicts (or ``SegDataSample``).
        """
        # One entry per sample (None for an image without valid ground
        # truth): ``BaseMetric.evaluate`` gathers the ranks' lists in sample
        # order and cuts them to the dataset size.
        depths = self._read_batch(data_samples)
        for data_sample, (pred, gt) in zip(data_samples, depths):
            self.results.append(self._evaluate(data_sample, pred, gt))

    def evaluate_sample(self, data_sample: dict) -> Optional[Dict[str, float]]:
        """Per-image metrics of one data sample.

        Args:
            data_sample (dict): A prediction with ground truth (see the class
                docstring for the keys read).

        Returns:
            dict[str, float] | None: The requested metrics (plus ``ratio``
            with median scaling, and ``num_pixels``, the count of valid
            pixels, with ``aggregation='pooled'``), or None (with a warning)
            when the image has no valid ground-truth pixel.
        """
        pred, gt = self._read_batch([data_sample])[0]
        return self._evaluate(data_sample, pred, gt)

    def _evaluate(self, data_sample: dict, pred: np.ndarray,
                  gt: np.ndarray) -> Optional[Dict[str, float]]:
        """:meth:`evaluate_sample` on the depths read by
        :meth:`_read_batch` (float32 ``(H', W')`` prediction at the GT size
        and GT)."""
        img_path = sample_name(data_sample)
        width = gt.shape[1]
        # masks and selection on the float32 maps; only the selected pixels
        # are converted to float64 (the thresholds compare in float64)
        if self.gt_in_range:
            mask = valid_depth_mask(gt, self.min_depth, self.max_depth)
        else:
            mask = gt > 0
        if self.crop is not None:
            mask &= self._crop_mask(*gt.shape)
        if not mask.any():
            print_log(
                f'DepthMetric: no valid ground-truth pixel in {img_path}; '
                'the image is left out of the averages.',
                logger='current',
                level=logging.WARNING)
            return None
        keep = np.flatnonzero(mask)
        pred = pred.reshape(-1)[keep].astype(np.float64)
        gt = gt.reshape(-1)[keep].astype(np.float64)

        result = OrderedDict()
        if self.aggregation == 'pooled':
            result['num_pixels'] = int(keep.size)
        if self.pred_depth_scale_factor != 1.0:
            pred = pred * self.pred_depth_scale_factor
        if self.median_scaling:
            ratio = median_scale(pred, gt)
            pred = pred * ratio
            result['ratio'] = ratio
        if self.clip_pred:
            pred = np.clip(pred, self.min_depth, self.max_depth)
        else:
            pred = np.maximum(pred, 1e-6)

        focal_baseline = self._focal_baseline(
            data_sample, gt_width=width, img_path=img_path)
        if self.eval_on_disparity:
            if focal_baseline is None:
                raise ValueError(
                    'DepthMetric(eval_on_disparity=True) needs the metainfo '
                    f"keys 'intrinsics' and 'baseline'; {img_path} lacks "
                    'them.')
            values = depth_metrics(focal_baseline / pred, focal_baseline / gt,
                                   metrics=self._kernel_metrics)
        else:
            values = depth_metrics(pred, gt, metrics=self._kernel_metrics)
        for name in self.metrics:
            if name in values:
                result[name] = values[name]
        if 'disp_err' in self.metrics and focal_baseline is not None:
            result['disp_err'] = disparity_error(pred, gt, focal_baseline)
        return result

    def _crop_mask(self, height: int, width: int) -> np.ndarray:
        """The evaluation crop at a ground-truth size, built once per size
        (read-only: never modify it in place)."""
        key = (height, width)
        if key not in self._crop_masks:
            mask = crop_mask(self.crop, height, width)
            mask.setflags(write=False)
            self._crop_masks[key] = mask
        return self._crop_masks[key]

    @staticmethod
    def _read_depths(data_sample: dict, img_path: str):
        """``(1, H, W)`` prediction and ``(H', W')`` GT, float32 CPU
        tensors."""
        for key in ('pred_depth_map', 'gt_depth_map'):
            if data_sample.get(key) is None:
                raise KeyError(f"DepthMetric: the data sample of {img_path} "
                               f"has no '{key}'")
        pred = data_sample.get('pred_depth_map').get('data')
        gt = data_sample.get('gt_depth_map').get('data')
        pred = torch.as_tensor(pred).detach().float().cpu()
        gt = torch.as_tensor(gt).detach().float().cpu()
        if pred.dim() == 2:
            pred = pred[None]
        if gt.dim() == 2:
            gt = gt[None]
        if pred.dim() != 3 or gt.dim() != 3:
            raise ValueError(
                f'DepthMetric: expected pred_depth_map (1, H, W) and '
                f'gt_depth_map (V, H, W) for {img_path}, got '
                f'{tuple(pred.shape)} and {tuple(gt.shape)}')
        return pred[:1], gt[0]

    def _read_batch(self, data_samples: Sequence[dict]) -> list:
        """Predictions resized (bilinear) to their GT, and the GTs.

        Predictions of one size with GTs of one size are resized by one
        ``F.interpolate`` call (each map is resized independently, so the
        values are those of one call per sample; one parallel call instead
        of many small ones).

        Returns:
            list[tuple[np.ndarray, np.ndarray]]: Per sample, the float32
            ``(H', W')`` prediction at the GT size and the ``(H', W')`` GT
            (no copy where the inputs already are float32 CPU tensors).
        """
        depths = [
            self._read_depths(ds, sample_name(ds))
            for ds in data_samples
        ]
        groups: Dict[tuple, List[int]] = {}
        for i, (pred, gt) in enumerate(depths):
            if pred.shape[-2:] != gt.shape:
                groups.setdefault((pred.shape[-2:], gt.shape), []).append(i)
        resized = {}
        for (_, size), idx in groups.items():
            # numpy copies single-threaded: a small torch.cat would start
            # a parallel region for a memcpy
            preds = torch.from_numpy(
                np.concatenate([depths[i][0].numpy() for i in idx]))[None]
            out = F.interpolate(
                preds, size=size, mode='bilinear', align_corners=False)[0]
            resized.update(zip(idx, out))
        return [(resized.get(i, pred[0]).numpy(), gt.numpy())
                for i, (pred, gt) in enumerate(depths)]

    def _focal_baseline(self, data_sample: dict, gt_width: int,
                        img_path: str) -> Optional[float]:
        """``fx * baseline`` at the GT's width, or None if not available."""
        needed = self.eval_on_disparity or 'disp_err' in self.metrics
        if not needed:
            return None
        fx_baseline = read_fx_baseline(
            data_sample, width=gt_width, required=False)
        if fx_baseline is None and not self.eval_on_disparity and \
                not self._warned_no_focal_baseline:
            print_log(
                f'DepthMetric: {img_path} has no intrinsics/baseline in '
                'its metainfo; disp_err is skipped for such samples.',
                logger='current',
                level=logging.WARNING)
            self._warned_no_focal_baseline = True
        return fx_baseline

    # ------------------------------------------------------------------
    # over the dataset
    # ------------------------------------------------------------------
    def summarize(self, results: List[dict]) -> Dict[str, float]:
        """Aggregate the per-image metrics over the dataset.

        With ``aggregation='per_image'`` every metric is the mean of its
        per-image values. With ``'pooled'`` it is the metric of all valid
        pixels together: with ``n_i`` valid pixels and value ``m_i`` in
        image ``i``, ``sum(n_i m_i) / sum(n_i)`` for the means (abs_rel,
        sq_rel, log10, mae, disp_err, the δ fractions) and
        ``sqrt(sum(n_i m_i^2) / sum(n_i))`` for rmse and rmse_log (the same
        numbers as one evaluation of the concatenated pixels).

        Args:
            results (list[dict | None]): Outputs of :meth:`evaluate_sample`
                (None entries, images without valid pixels, are skipped).

        Returns:
            dict[str, float]: Every requested metric (``disp_err`` over the
            images that have it, left out if none has), plus ``med_ratio``
            / ``med_std`` (median of the scaling ratios and standard deviation
            of ``ratios / median``) with median scaling.
        """
        summary = OrderedDict()
        results = [r for r in results if r is not None]
        if not results:
            return summary
        pooled = self.aggregation == 'pooled'
        for name in self.metrics:
            have = [r for r in results if name in r]
            if not have:
                continue
            values = [r[name] for r in have]
            if not pooled:
                summary[name] = aggregate_depth_metric(name, values)
                continue
            if any('num_pixels' not in r for r in have):
                raise KeyError(
                    "DepthMetric(aggregation='pooled') needs 'num_pixels' in "
                    'every per-image result (results of a per-image metric '
                    'cannot be pooled)')
            summary[name] = aggregate_depth_metric(
                name, values, [r['num_pixels'] for r in have])
        if self.median_scaling:
            ratios = np.array([r['ratio'] for r in results])
            med = float(np.median(ratios))
            summary['med_ratio'] = med
            # relative spread, as monodepth2's evaluate_depth.py prints it
            summary['med_std'] = float(np.std(ratios / med))
        return summary

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Average over images and print a table.

        Args:
            results (list[dict]): Per-image metrics of all ranks.

        Returns:
            dict[str, float]: Metric name -> value (see :meth:`summarize`).
        """
        logger: MMLogger = MMLogger.get_current_instance()
        summary = self.summarize(results)
        space = 'disparity' if self.eval_on_disparity else 'depth'
        num_images = sum(r is not None for r in results)
        print_log(
            f'depth results over {num_images} images ({space} space, '
            f'crop={self.crop}, median_scaling={self.median_scaling}, '
            f'aggregation={self.aggregation}):', logger)
        print_log('\n' + format_metric_table(summary), logger=logger)
        return summary


def format_metric_table(
        summary: Dict[str, float],
        digits: int = 4,
        digits_by_name: Optional[Dict[str, int]] = None) -> str:
    """One-row PrettyTable of named values.

    Args:
        summary (dict[str, float]): Column name -> value.
        digits (int): Decimals shown. Defaults to 4.
        digits_by_name (dict[str, int], optional): Decimals for particular
            columns (e.g. 2 for percentages).

    Returns:
        str: The rendered table.
    """
    digits_by_name = digits_by_name or {}
    table = PrettyTable()
    for name, value in summary.items():
        ndigits = digits_by_name.get(name, digits)
        table.add_column(name, [f'{float(value):.{ndigits}f}'])
    return table.get_string()
