# Copyright (c) mmdepthseg contributors. All rights reserved.
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from mmengine.structures import BaseDataElement
from mmseg.evaluation import IoUMetric  # noqa: F401 (registers it)

from mmdepthseg.registry import METRICS
from .depth_metric import DepthMetric, format_metric_table

SEG_SUMMARY_KEYS = ('aAcc', 'mIoU', 'mAcc', 'mDice', 'mFscore', 'mPrecision',
                    'mRecall')


@METRICS.register_module()
class DepthSegMetric(BaseMetric):
    """Segmentation and depth evaluated together, reported in one table.

    Composes MMSegmentation's ``IoUMetric`` (on view 0 of ``gt_sem_seg``)
    and :class:`DepthMetric`. A sample enters the segmentation evaluation
    when it has both ``pred_sem_seg`` and ``gt_sem_seg``, and the depth
    evaluation when it has both ``pred_depth_map`` and ``gt_depth_map``, so
    datasets that label only some tasks can be evaluated too. The per-class
    IoU table of ``IoUMetric`` is printed as usual, followed by one summary
    table with aAcc, mIoU, mAcc (percent) and the depth metrics.

    Args:
        iou_cfg (dict, optional): Config of the segmentation metric; the
            type defaults to 'IoUMetric'. Defaults to ``dict()``.
        depth_cfg (dict, optional): Config of the depth metric; the type
            defaults to 'DepthMetric'. Defaults to ``dict()``.
        collect_device (str): 'cpu' or 'gpu'. Defaults to 'cpu'.
        prefix (str, optional): Prefix of the returned keys. Defaults to
            None: flat keys such as 'mIoU' and 'abs_rel'.
    """
    # flat keys by default, without BaseMetric's "prefix is not set" warning
    default_prefix: Optional[str] = ''

    def __init__(self,
                 iou_cfg: Optional[dict] = None,
                 depth_cfg: Optional[dict] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        iou_cfg = dict(iou_cfg or {})
        iou_cfg.setdefault('type', 'IoUMetric')
        # the sub-metrics' prefixes are unused (we return flat keys); set
        # one to silence BaseMetric's "prefix is not set" warning
        iou_cfg.setdefault('prefix', 'seg')
        depth_cfg = dict(depth_cfg or {})
        depth_cfg.setdefault('type', 'DepthMetric')
        # built in our scope even inside a loop inherited through mmseg::
        # (whose dicts carry _scope_='mmseg', where DepthMetric is mmseg's)
        depth_cfg.setdefault('_scope_', 'mmdepthseg')
        self.iou_metric: BaseMetric = METRICS.build(iou_cfg)
        self.depth_metric: DepthMetric = METRICS.build(depth_cfg)
        if not hasattr(self.depth_metric, 'summarize'):
            raise TypeError('DepthSegMetric needs a depth metric with a '
                            '`summarize` method (a DepthMetric), got '
                            f'{type(self.depth_metric).__name__}')

    @property
    def dataset_meta(self) -> Optional[dict]:
        """Meta info of the dataset, shared with both metrics."""
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, dataset_meta: dict) -> None:
        self._dataset_meta = dataset_meta
        self.iou_metric.dataset_meta = dataset_meta
        self.depth_metric.dataset_meta = dataset_meta

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Run both metrics on each sample; keep one result pair per sample.

        Args:
            data_batch (dict): A batch from the dataloader.
            data_samples (Sequence[dict]): Outputs of ``model.predict``.
        """
        for sample in data_samples:
            if isinstance(sample, BaseDataElement):
                sample = sample.to_dict()
            seg_result = depth_result = None
            if _has(sample, 'pred_sem_seg') and _has(sample, 'gt_sem_seg'):
                seg_result = self._process_one(
                    self.iou_metric, data_batch,
                    _first_view(sample, 'gt_sem_seg'))
            if _has(sample, 'pred_depth_map') and _has(sample, 'gt_depth_map'):
                depth_result = self._process_one(self.depth_metric, data_batch,
                                                 sample)
            # One entry per sample, as ``BaseMetric.evaluate`` expects (it
            # gathers ``self.results`` across ranks and cuts it to the
            # dataset size).
            self.results.append((seg_result, depth_result))

    @staticmethod
    def _process_one(metric: BaseMetric, data_batch: dict, sample: dict):
        """The result ``metric`` stores for one sample (None if none)."""
        metric.process(data_batch, [sample])
        result = metric.results[0] if metric.results else None
        metric.results.clear()
        return result

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        """Summarise both tasks and print one table.

        Args:
            results (list[tuple]): Per sample, the (segmentation, depth)
                results of the two metrics, None where not evaluated.

        Returns:
            dict[str, float]: aAcc, mIoU, mAcc (percent, as IoUMetric) and
            the depth metrics (e.g. abs_rel, a1).
        """
        logger: MMLogger = MMLogger.get_current_instance()
        seg_results = [seg for seg, _ in results if seg is not None]
        depth_results = [depth for _, depth in results if depth is not None]
        summary = OrderedDict()
        if seg_results:
            seg = self.iou_metric.compute_metrics(seg_results)
            for key in SEG_SUMMARY_KEYS:
                if key in seg:
                    summary[key] = float(seg[key])
        if depth_results:
            summary.update(self.depth_metric.summarize(depth_results))
        print_log(
            f'segmentation ({len(seg_results)} images) and depth '
            f'({len(depth_results)} images) results:', logger)
        print_log(
            '\n' + format_metric_table(
                summary, digits_by_name={key: 2
                                         for key in SEG_SUMMARY_KEYS}),
            logger=logger)
        return summary


def _has(sample: dict, key: str) -> bool:
    return sample.get(key) is not None


def _first_view(sample: dict, key: str) -> dict:
    """Shallow copy of ``sample`` whose ``key`` PixelData keeps view 0."""
    field = sample[key]
    data = field['data']
    if data.dim() == 3 and data.shape[0] > 1:
        sample = dict(sample)
        sample[key] = dict(field, data=data[:1])
    return sample
