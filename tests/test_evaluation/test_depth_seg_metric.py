# Copyright (c) mmdepthseg contributors. All rights reserved.
import logging

import pytest
import torch
from mmengine.logging import MMLogger
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmdepthseg.evaluation.metrics import DepthSegMetric
from mmdepthseg.registry import METRICS


def _sample(pred_seg=None, gt_seg=None, pred_depth=None, gt_depth=None):
    sample = SegDataSample(metainfo=dict(img_path='x.png'))
    if pred_seg is not None:
        sample.pred_sem_seg = PixelData(data=torch.tensor(pred_seg)[None])
    if gt_seg is not None:
        sample.gt_sem_seg = PixelData(data=torch.tensor(gt_seg))
    if pred_depth is not None:
        sample.pred_depth_map = PixelData(data=torch.tensor(pred_depth)[None])
    if gt_depth is not None:
        sample.gt_depth_map = PixelData(data=torch.tensor(gt_depth)[None])
    return sample.to_dict()


def test_depth_seg_metric_reports_both_tasks_in_one_table(capsys):
    metric = METRICS.build(
        dict(
            type='DepthSegMetric',
            iou_cfg=dict(iou_metrics=['mIoU']),
            depth_cfg=dict(metrics=('abs_rel', 'a1'))))
    assert isinstance(metric, DepthSegMetric)
    metric.dataset_meta = dict(classes=('a', 'b'), palette=[[0, 0, 0]] * 2)
    # view 0: pred [[0,0],[1,1]] vs gt [[0,1],[1,1]]:
    #   class a: I = 1, U = 2 -> IoU 0.5, acc 1/1
    #   class b: I = 2, U = 3 -> IoU 2/3, acc 2/3; aAcc 3/4
    # view 1 of the GT (all wrong) must be ignored.
    joint = _sample(
        pred_seg=[[0, 0], [1, 1]],
        gt_seg=[[[0, 1], [1, 1]], [[1, 0], [0, 0]]],
        pred_depth=[[1.0, 4.0], [10.0, 5.0]],
        gt_depth=[[2.0, 4.0], [8.0, 0.0]])  # abs_rel 0.25, a1 1/3
    depth_only = _sample(
        pred_depth=[[3.0, 3.0]], gt_depth=[[3.0, 3.0]])  # abs_rel 0, a1 1
    metric.process({}, [joint, depth_only])
    results = metric.evaluate(size=2)
    assert list(results) == ['aAcc', 'mIoU', 'mAcc', 'abs_rel', 'a1']
    assert results['aAcc'] == pytest.approx(75.0)
    assert results['mIoU'] == pytest.approx(100 * (0.5 + 2 / 3) / 2, abs=0.01)
    assert results['mAcc'] == pytest.approx(100 * (1 + 2 / 3) / 2, abs=0.01)
    assert results['abs_rel'] == pytest.approx(0.25 / 2)
    assert results['a1'] == pytest.approx((1 / 3 + 1) / 2)


def test_depth_seg_metric_table_has_every_column():
    metric = DepthSegMetric(depth_cfg=dict(metrics=('rmse', )))
    metric.dataset_meta = dict(classes=('a', 'b'))
    messages = []

    class _Collect(logging.Handler):

        def emit(self, record):
            messages.append(record.getMessage())

    logger = MMLogger.get_instance('test_depth_seg_metric_table')
    handler = _Collect()
    logger.addHandler(handler)
    try:
        metric.process(
            {}, [_sample([[0, 1]], [[[0, 1]]], [[1.0, 1.0]], [[2.0, 2.0]])])
        results = metric.evaluate(size=1)
    finally:
        logger.removeHandler(handler)
    assert results == pytest.approx(
        dict(aAcc=100.0, mIoU=100.0, mAcc=100.0, rmse=1.0))
    table = [m for m in messages if 'rmse' in m and 'mIoU' in m]
    assert len(table) == 1
    assert '1.0000' in table[0] and '100.00' in table[0]
