# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Per-domain segmentation and depth metrics with the multi-task gain."""
import logging
import re
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from mmengine.structures import BaseDataElement
from mmseg.evaluation import IoUMetric
from prettytable import PrettyTable

from mmdepthseg.registry import METRICS
from mmdepthseg.structures.keys import TASKS
from ..functional import (PAPER_COLUMN_NAMES, aggregate_depth_metric,
                          depth_metrics)

SEG_KEYS = ('pAcc', 'mIoU')
#: Depth keys (the names of :data:`~..functional.DEPTH_METRICS`); the
#: printed table shows them under the paper's column names (AbR, RMSE, δ).
DEPTH_KEYS = ('abs_rel', 'rmse', 'a1', 'a2', 'a3')
#: Depth keys over the pixels with ``g > 0`` (ratios to the ground truth);
#: the others (rmse) cover every pixel with finite ground truth.
_RATIO_KEYS = ('abs_rel', 'a1', 'a2', 'a3')
#: Representative measure of each task in Eq. 10 and whether lower is
#: better (``l_t = 1``).
DELTA_M_MEASURES = OrderedDict(seg=('mIoU', False), depth=('rmse', True))
#: Key names of ``stl_baselines`` before the depth keys took the names of
#: ``DepthMetric`` (still accepted there, with a warning).
_OLD_BASELINE_NAMES = dict(RMSE='rmse')


@METRICS.register_module()
class MultiDomainDepthSegMetric(BaseMetric):
    """Segmentation and depth metrics per domain, and the multi-task gain
    ΔM (SemiMTL, Sec. 4.1, Eq. 10).

    The evaluation set is a ``MultiSourceDataset`` of every domain's
    validation set: each sample's metainfo carries ``domain`` (int k >= 1)
    and ``labelled_tasks`` (the tasks its source labels), and a task is
    evaluated on a sample iff it is labelled there (the sample then must
    hold the ground truth and the prediction). Keys, for every domain k and
    every task evaluated on it:

    - ``d{k}/pAcc``, ``d{k}/mIoU`` (percent): pixel accuracy over all
      non-ignored pixels and the mean IoU over the classes (NaN classes,
      absent from both prediction and ground truth of the domain, left
      out), from MMSegmentation's ``IoUMetric.intersect_and_union`` /
      ``total_area_to_metrics`` on the domain's summed areas.
    - ``d{k}/abs_rel``, ``d{k}/rmse``, ``d{k}/a1``..``a3`` (the paper's
      AbR, RMSE, δ1-δ3, the key names of :class:`DepthMetric`, from the
      same kernel :func:`~mmdepthseg.evaluation.functional.depth_metrics`):
      depth errors in the
      units of the regression target (inverse depth, normalised height;
      ``pred_depth_map`` must be in the same units). rmse covers every
      pixel with finite ground truth (NaN = invalid, 0 is a valid target,
      e.g. Synscapes's sky in inverse depth); abs_rel ``|g - p| / g`` and the
      δ accuracies (fraction of pixels with ``max(p/g, g/p) < 1.25^i``,
      in [0, 1]) cover the finite pixels with ``g > 0``, since both are
      ratios to ``g`` (a prediction ``p <= 0`` there counts as a miss).
      With ``depth_average='image'`` (default, the protocol of Eigen et
      al. that the paper follows) the errors are computed per image and
      averaged over the domain's images; with ``'pixel'`` they are pooled
      over all pixels of the domain.
    - ``d{k}/delta_m`` (percent), for the domains given in
      ``stl_baselines``: ``100 / |T| * sum_t (-1)^{l_t} (M_t - B_t) / B_t``
      over the tasks T evaluated on domain k, with ``M`` = mIoU (higher is
      better, ``l = 0``) for 'seg' and rmse (lower is better, ``l = 1``)
      for 'depth', and B the single-task baseline's value.
    - ``delta_m`` (percent): the same average over every (domain, task)
      pair that enters a ``d{k}/delta_m``.

    A table (one row per domain, with the paper's column names AbR, RMSE,
    δ1-δ3) is printed to the current logger. Logs written before the depth
    keys were renamed hold ``d{k}/AbR`` and ``d{k}/RMSE`` for today's
    ``d{k}/abs_rel`` and ``d{k}/rmse`` (same values).
    Results are gathered across ranks by ``BaseMetric`` (one entry per
    sample).

    Args:
        num_classes (int, optional): Number of segmentation classes.
            Defaults to None: ``len(dataset_meta['classes'])``.
        ignore_index (int): Label of ignored pixels. Defaults to 255.
        stl_baselines (dict, optional): ``dict(d1=dict(mIoU=...,
            rmse=...), d2=...)``: per domain, the single-task baselines'
            mIoU (percent, as reported here) and/or rmse (target units), all
            positive. Every task evaluated on a listed domain needs its
            measure, else that domain's ΔM is skipped with a warning.
            Defaults to None (no ΔM).
        depth_average (str): 'image' or 'pixel', see above. Defaults to
            'image'.
        collect_device (str): 'cpu' or 'gpu'. Defaults to 'cpu'.
        prefix (str, optional): Prefix of the keys. Defaults to None (keys
            as listed above).
        collect_dir (str, optional): Folder for gathering results on the
            CPU. Defaults to None.
    """
    # no prefix by default, without BaseMetric's "prefix is not set" warning
    default_prefix: Optional[str] = ''

    def __init__(self,
                 num_classes: Optional[int] = None,
                 ignore_index: int = 255,
                 stl_baselines: Optional[dict] = None,
                 depth_average: str = 'image',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(
            collect_device=collect_device,
            prefix=prefix,
            collect_dir=collect_dir)
        if num_classes is not None and (isinstance(num_classes, bool)
                                        or not isinstance(num_classes, int)
                                        or num_classes < 1):
            raise ValueError('MultiDomainDepthSegMetric: num_classes must be '
                             f'a positive int or None, got {num_classes!r}')
        if depth_average not in ('image', 'pixel'):
            raise ValueError("MultiDomainDepthSegMetric: depth_average must "
                             f"be 'image' or 'pixel', got {depth_average!r}")
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.depth_average = depth_average
        self.stl_baselines = _check_baselines(stl_baselines)

    # ------------------------------------------------------------------
    # per sample
    # ------------------------------------------------------------------
    def _num_classes(self) -> int:
        if self.num_classes is not None:
            return self.num_classes
        classes = (self.dataset_meta or {}).get('classes')
        if not classes:
            raise ValueError(
                'MultiDomainDepthSegMetric: set num_classes, or evaluate a '
                "dataset whose metainfo has 'classes'")
        return len(classes)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Store per sample its domain, the segmentation areas and the depth
        errors (with their pixel counts) of the tasks it labels.

        Args:
            data_batch (dict): A batch from the dataloader (unused).
            data_samples (Sequence[dict]): Outputs of ``model.predict`` (as
                dicts or ``SegDataSample``), with the metainfo ``domain`` and
                ``labelled_tasks``, ``pred_sem_seg`` / ``gt_sem_seg`` (1, H,
                W) and ``pred_depth_map`` / ``gt_depth_map`` (1, H, W) (view
                0 of a multi-view ground truth is used).
        """
        for sample in data_samples:
            if isinstance(sample, BaseDataElement):
                sample = sample.to_dict()
            img_path = sample.get('img_path', '<unknown image>')
            domain, tasks = _domain_and_tasks(sample, img_path)
            record = dict(domain=domain, seg=None, depth=None)
            if 'seg' in tasks:
                pred, gt = _pair(sample, 'pred_sem_seg', 'gt_sem_seg',
                                 img_path)
                areas = IoUMetric.intersect_and_union(pred, gt.to(pred.device),
                                                      self._num_classes(),
                                                      self.ignore_index)
                record['seg'] = torch.stack(areas).double().cpu()
            if 'depth' in tasks:
                pred, gt = _pair(sample, 'pred_depth_map', 'gt_depth_map',
                                 img_path)
                record['depth'] = image_depth_errors(pred, gt)
            # one entry per sample: BaseMetric.evaluate gathers the ranks'
            # lists and cuts them to the dataset size
            self.results.append(record)

    # ------------------------------------------------------------------
    # over the dataset
    # ------------------------------------------------------------------
    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Per-domain metrics, ΔM and the printed table.

        Args:
            results (list[dict]): The records of :meth:`process` of all
                ranks.

        Returns:
            dict[str, float]: See the class docstring for the keys.
        """
        logger: MMLogger = MMLogger.get_current_instance()
        by_domain: Dict[int, List[dict]] = OrderedDict()
        for record in sorted(results, key=lambda r: r['domain']):
            by_domain.setdefault(record['domain'], []).append(record)

        metrics: Dict[str, float] = OrderedDict()
        per_domain: Dict[int, Dict[str, float]] = OrderedDict()
        all_terms: List[float] = []
        for domain, records in by_domain.items():
            values: Dict[str, float] = OrderedDict()
            seg = [r['seg'] for r in records if r['seg'] is not None]
            depth = [r['depth'] for r in records if r['depth'] is not None]
            if seg:
                values.update(seg_metrics(torch.stack(seg).sum(0)))
            if depth:
                values.update(
                    aggregate_domain_depth(depth, self.depth_average))
            tasks = [t for t, found in zip(TASKS, (seg, depth)) if found]
            terms = self._delta_m_terms(domain, tasks, values, logger)
            if terms:
                values['delta_m'] = 100.0 * float(np.mean(terms))
                all_terms += terms
            per_domain[domain] = values
            for key, value in values.items():
                metrics[f'd{domain}/{key}'] = value
        for name in self.stl_baselines:
            if int(name[1:]) not in by_domain:
                print_log(
                    f'MultiDomainDepthSegMetric: stl_baselines has {name} '
                    'but no sample of that domain was evaluated.',
                    logger=logger,
                    level=logging.WARNING)
        if all_terms:
            metrics['delta_m'] = 100.0 * float(np.mean(all_terms))
        print_log(
            'per-domain results (pAcc, mIoU, delta_m in %; depth errors in '
            'the target units):\n' + _format_table(per_domain, metrics),
            logger=logger)
        return metrics

    def _delta_m_terms(self, domain: int, tasks: List[str],
                       values: Dict[str, float], logger) -> List[float]:
        """The signed relative gains of Eq. 10 for one domain."""
        baselines = self.stl_baselines.get(f'd{domain}')
        if baselines is None or not tasks:
            return []
        missing = [
            DELTA_M_MEASURES[t][0] for t in tasks
            if DELTA_M_MEASURES[t][0] not in baselines
        ]
        if missing:
            print_log(
                f'MultiDomainDepthSegMetric: stl_baselines.d{domain} lacks '
                f'{missing} for the evaluated tasks {tasks}; no delta_m for '
                f'domain {domain}.',
                logger=logger,
                level=logging.WARNING)
            return []
        return [
            delta_m_term(values[DELTA_M_MEASURES[t][0]],
                         baselines[DELTA_M_MEASURES[t][0]],
                         DELTA_M_MEASURES[t][1]) for t in tasks
        ]


# ----------------------------------------------------------------------
# pure functions
# ----------------------------------------------------------------------
def delta_m_term(value: float, baseline: float,
                 lower_is_better: bool) -> float:
    """One task's term of Eq. 10: ``(-1)^{l_t} (M_t - B_t) / B_t``.

    Args:
        value (float): The multi-task model's measure ``M_t``.
        baseline (float): The single-task baseline's measure ``B_t`` (> 0).
        lower_is_better (bool): ``l_t = 1`` (e.g. RMSE).

    Returns:
        float: The relative gain (a fraction, positive = better).
    """
    gain = (value - baseline) / baseline
    return -gain if lower_is_better else gain


def image_depth_errors(pred: torch.Tensor,
                       gt: torch.Tensor) -> Dict[str, Tuple[float, int]]:
    """One image's depth errors and the pixels they cover.

    ``rmse`` over the pixels with finite ground truth; ``abs_rel`` and
    ``a1``..``a3`` over those with ``g > 0`` (a prediction ``p <= 0``
    there is a miss), all by
    :func:`~mmdepthseg.evaluation.functional.depth_metrics`.

    Args:
        pred (Tensor): Prediction, (H, W), in the target's units.
        gt (Tensor): Ground truth, (H, W), NaN where invalid.

    Returns:
        dict[str, tuple[float, int]]: Key of :data:`DEPTH_KEYS` ->
        (value, number of pixels); ``(nan, 0)`` where no pixel counts.
    """
    pred = pred.detach().double().cpu().numpy()
    gt = gt.detach().double().cpu().numpy()
    finite = np.isfinite(gt)
    positive = finite & (gt > 0)
    errors = {}
    for keys, mask in ((('rmse', ), finite), (_RATIO_KEYS, positive)):
        count = int(mask.sum())
        values = depth_metrics(pred, gt, mask, keys) if count else {}
        for key in keys:
            errors[key] = (values.get(key, float('nan')), count)
    return {key: errors[key] for key in DEPTH_KEYS}


def aggregate_domain_depth(records: List[Dict[str, Tuple[float, int]]],
                           average: str) -> Dict[str, float]:
    """A domain's depth metrics from its images' errors.

    Args:
        records (list[dict]): Outputs of :func:`image_depth_errors`.
        average (str): 'image' (mean of the per-image values; images
            without a counted pixel left out of that value) or 'pixel'
            (pooled over the pixels, see
            :func:`~mmdepthseg.evaluation.functional.aggregate_depth_metric`).

    Returns:
        dict[str, float]: :data:`DEPTH_KEYS` (NaN if no pixel counts).
    """
    out = OrderedDict()
    for key in DEPTH_KEYS:
        kept = [r[key] for r in records if r[key][1] > 0]
        if not kept:
            out[key] = float('nan')
            continue
        values, counts = zip(*kept)
        out[key] = aggregate_depth_metric(
            key, values, counts if average == 'pixel' else None)
    return out


def seg_metrics(areas: torch.Tensor) -> Dict[str, float]:
    """pAcc and mIoU (percent) from summed areas.

    Args:
        areas (Tensor): (4, C) summed intersection, union, predicted and
            ground-truth areas per class (``IoUMetric.intersect_and_union``
            order).

    Returns:
        dict[str, float]: ``pAcc`` (all-pixel accuracy) and ``mIoU`` (mean
        over classes with a non-empty union).
    """
    ret = IoUMetric.total_area_to_metrics(*areas.unbind(0), metrics=['mIoU'])
    return OrderedDict(
        pAcc=100.0 * float(ret['aAcc']),
        mIoU=100.0 * float(np.nanmean(ret['IoU'])))


def _domain_and_tasks(sample: dict, img_path: str) -> Tuple[int, tuple]:
    """The sample's ``domain`` and ``labelled_tasks``, checked."""
    domain = sample.get('domain')
    tasks = sample.get('labelled_tasks')
    if domain is None or tasks is None:
        raise KeyError(
            f'MultiDomainDepthSegMetric: the data sample of {img_path} has '
            "no 'domain' / 'labelled_tasks' metainfo; evaluate a "
            'MultiSourceDataset (and keep both keys in the meta_keys of '
            'PackMultiViewInputs)')
    if isinstance(domain, torch.Tensor):
        domain = domain.item()
    if isinstance(domain, bool) or not isinstance(domain,
                                                  (int, np.integer)) or \
            domain < 1:
        raise ValueError(f'MultiDomainDepthSegMetric: domain of {img_path} '
                         f'must be an int >= 1, got {domain!r}')
    if isinstance(tasks, str):
        tasks = (tasks, )
    unknown = set(tasks) - set(TASKS)
    if unknown:
        raise ValueError(f'MultiDomainDepthSegMetric: labelled_tasks of '
                         f'{img_path} holds unknown tasks {sorted(unknown)}; '
                         f'expected a subset of {TASKS}')
    return int(domain), tuple(tasks)


def _pair(sample: dict, pred_key: str, gt_key: str,
          img_path: str) -> Tuple[torch.Tensor, torch.Tensor]:
    """(H, W) prediction and view 0 of the ground truth, same shape."""
    for key in (pred_key, gt_key):
        if sample.get(key) is None:
            raise KeyError(f'MultiDomainDepthSegMetric: {img_path} labels '
                           f"this task but its data sample has no '{key}'")
    pred = torch.as_tensor(sample[pred_key]['data'])
    gt = torch.as_tensor(sample[gt_key]['data'])
    pred = pred[0] if pred.dim() == 3 else pred
    gt = gt[0] if gt.dim() == 3 else gt
    if pred.shape != gt.shape or pred.dim() != 2:
        raise ValueError(
            f'MultiDomainDepthSegMetric: {pred_key} and {gt_key} of '
            f'{img_path} must be (1, H, W) of one size, got '
            f'{tuple(sample[pred_key]["data"].shape)} and '
            f'{tuple(sample[gt_key]["data"].shape)}')
    return pred, gt


def _check_baselines(stl_baselines: Optional[dict]) -> Dict[str, dict]:
    """Validate ``stl_baselines``; returns a plain dict (empty if None)."""
    if stl_baselines is None:
        return {}
    where = 'MultiDomainDepthSegMetric: stl_baselines'
    if not isinstance(stl_baselines, dict):
        raise TypeError(f'{where} must be a dict such as dict(d1=dict('
                        f'mIoU=..., rmse=...)), got {stl_baselines!r}')
    measures = {m for m, _ in DELTA_M_MEASURES.values()}
    checked = {}
    for name, values in stl_baselines.items():
        if not isinstance(name, str) or not re.fullmatch(r'd[1-9]\d*', name):
            raise ValueError(f"{where}: keys must name domains as 'd1', "
                             f"'d2', ..., got {name!r}")
        if isinstance(values, dict):
            values = _renamed_baselines(values, f'{where}.{name}')
        if not isinstance(values, dict) or not values or \
                not set(values) <= measures:
            raise ValueError(f'{where}.{name} must be a non-empty dict with '
                             f'keys out of {sorted(measures)}, got {values!r}')
        for key, value in values.items():
            if isinstance(value, bool) or not isinstance(
                    value, (int, float)) or not np.isfinite(value) or \
                    value <= 0:
                raise ValueError(f'{where}.{name}.{key} must be a positive '
                                 f'number, got {value!r}')
        checked[name] = {k: float(v) for k, v in values.items()}
    return checked


def _renamed_baselines(values: dict, where: str) -> dict:
    """``values`` with the old key names (``RMSE``) renamed, warning."""
    old = sorted(set(values) & set(_OLD_BASELINE_NAMES))
    if not old:
        return values
    print_log(
        f'{where}: {old} are the old key names; use '
        f'{[_OLD_BASELINE_NAMES[k] for k in old]} (the keys of the results)',
        logger='current',
        level=logging.WARNING)
    return {_OLD_BASELINE_NAMES.get(k, k): v for k, v in values.items()}


def _format_table(per_domain: Dict[int, Dict[str, float]],
                  metrics: Dict[str, float]) -> str:
    """One row per domain; '-' where a task is not evaluated."""
    columns = SEG_KEYS + DEPTH_KEYS + ('delta_m', )
    table = PrettyTable()
    table.field_names = ('domain', ) + tuple(
        PAPER_COLUMN_NAMES.get(key, key) for key in columns)
    for domain, values in per_domain.items():
        row = [f'd{domain}']
        for key in columns:
            digits = 2 if key in SEG_KEYS + ('delta_m', ) else 4
            row.append(f'{values[key]:.{digits}f}' if key in values else '-')
        table.add_row(row)
    text = table.get_string()
    if 'delta_m' in metrics:
        text += f'\ndelta_m (all domains): {metrics["delta_m"]:.2f} %'
    return text
