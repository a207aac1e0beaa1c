# Copyright (c) mmdepthseg contributors. All rights reserved.
"""MultiDomainDepthSegMetric: per-domain pAcc/mIoU, abs_rel/rmse/δ (the
paper's AbR/RMSE/δ, printed under those names) and ΔM."""
import logging
import math
import re

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.logging import MMLogger
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmdepthseg.evaluation.metrics.multi_domain_metric import (
    MultiDomainDepthSegMetric, delta_m_term)
from mmdepthseg.registry import METRICS

NAN = float('nan')


def _sample(domain,
            tasks,
            pred_seg=None,
            gt_seg=None,
            pred_depth=None,
            gt_depth=None,
            as_dict=True):
    sample = SegDataSample(
        metainfo=dict(
            img_path=f'd{domain}.png', domain=domain, labelled_tasks=tasks))
    if pred_seg is not None:
        sample.pred_sem_seg = PixelData(data=torch.tensor(pred_seg)[None])
    if gt_seg is not None:
        sample.gt_sem_seg = PixelData(data=torch.tensor(gt_seg)[None])
    if pred_depth is not None:
        sample.pred_depth_map = PixelData(
            data=torch.tensor(pred_depth, dtype=torch.float32)[None])
    if gt_depth is not None:
        sample.gt_depth_map = PixelData(
            data=torch.tensor(gt_depth, dtype=torch.float32)[None])
    return sample.to_dict() if as_dict else sample


# Domain 1 (segmentation, 3 classes, 255 = ignore), by hand over both
# images: class 0: I = 1, gt 2, pred 2 -> U = 3; class 1: I = 2, gt 3,
# pred 3 -> U = 4; class 2: predicted only on the ignored pixel -> U = 0,
# left out. pAcc = 3 / 5, mIoU = (1/3 + 1/2) / 2.
SEG_1_ARGS = ([[0, 1], [1, 2]], [[0, 0], [1, 255]])
SEG_1 = _sample(1, ('seg', ), *SEG_1_ARGS)
SEG_2 = _sample(1, ('seg', ), [[1, 0]], [[1, 1]])
# Domain 2 (depth). Image A: finite gt 2, 0, 4 with errors 1, 2, -5 -> SSE
# 30 over 3 pixels; gt > 0: |2-3|/2 = .5, |4+1|/4 = 1.25 -> AbR .875;
# ratios 1.5 and p <= 0 (miss) -> a1 0, a2 .5, a3 .5.
DEPTH_A = _sample(
    2, ('depth', ), pred_depth=[[3, 2], [7, -1]], gt_depth=[[2, 0], [NAN, 4]])
# Image B: errors 0, 0, 0, 2 -> SSE 4 over 4; AbR 2 / 4; ratio 3 misses.
DEPTH_B = _sample(
    2, ('depth', ), pred_depth=[[1, 1], [1, 3]], gt_depth=[[1, 1], [1, 1]])
# Image C: no finite ground truth: left out of the per-image means.
DEPTH_C = _sample(2, ('depth', ), pred_depth=[[5, 5]], gt_depth=[[NAN, NAN]])


def _evaluate(metric, samples):
    metric.process({}, samples)
    return metric.evaluate(size=len(samples))


def test_segmentation_per_domain_by_hand():
    metric = MultiDomainDepthSegMetric(num_classes=3)
    results = _evaluate(metric, [SEG_1, SEG_2])
    assert list(results) == ['d1/pAcc', 'd1/mIoU']
    assert results['d1/pAcc'] == pytest.approx(60.0)
    assert results['d1/mIoU'] == pytest.approx(100 * (1 / 3 + 1 / 2) / 2)


def test_num_classes_from_dataset_meta():
    metric = MultiDomainDepthSegMetric()
    with pytest.raises(ValueError, match='set num_classes'):
        metric.process({}, [SEG_1])
    metric.dataset_meta = dict(classes=('a', 'b', 'c'))
    results = _evaluate(metric, [SEG_1, SEG_2])
    assert results['d1/pAcc'] == pytest.approx(60.0)


@pytest.mark.parametrize('average, expected',
                         [('image',
                           dict(
                               abs_rel=(0.875 + 0.5) / 2,
                               rmse=(math.sqrt(10) + 1) / 2,
                               a1=(0 + 0.75) / 2,
                               a2=(0.5 + 0.75) / 2,
                               a3=(0.5 + 0.75) / 2)),
                          ('pixel',
                           dict(
                               abs_rel=(1.75 + 2) / 6,
                               rmse=math.sqrt(34 / 7),
                               a1=3 / 6,
                               a2=4 / 6,
                               a3=4 / 6))])
def test_depth_per_domain_by_hand(average, expected):
    metric = MultiDomainDepthSegMetric(depth_average=average)
    results = _evaluate(metric, [DEPTH_A, DEPTH_B, DEPTH_C])
    assert list(results) == [f'd2/{k}' for k in expected]
    for key, value in expected.items():
        assert results[f'd2/{key}'] == pytest.approx(value), key


def test_delta_m_by_hand_eq10():
    """mIoU 50 vs baseline 40 and RMSE 4 vs baseline 5:
    ((50 - 40) / 40 + (5 - 4) / 5) / 2 = 0.225, reported as 22.5 (%)."""
    assert delta_m_term(50, 40, lower_is_better=False) == pytest.approx(0.25)
    assert delta_m_term(4, 5, lower_is_better=True) == pytest.approx(0.2)
    # one domain labelling both tasks: class 0 I 1 / U 2, class 1 I 1 / U 2
    # -> mIoU 50; depth errors 4, 4 (the NaN pixel is left out) -> RMSE 4
    both = _sample(
        1, ('seg', 'depth'),
        pred_seg=[[0, 1, 1]],
        gt_seg=[[0, 0, 1]],
        pred_depth=[[5, 6, 100]],
        gt_depth=[[1, 2, NAN]])
    # domain 2: RMSE 1 vs baseline 2 -> +0.5
    depth = _sample(2, ('depth', ), pred_depth=[[3]], gt_depth=[[2]])
    metric = MultiDomainDepthSegMetric(
        num_classes=2,
        stl_baselines=dict(d1=dict(mIoU=40, rmse=5), d2=dict(rmse=2)))
    results = _evaluate(metric, [both, depth])
    assert results['d1/mIoU'] == pytest.approx(50.0)
    assert results['d1/rmse'] == pytest.approx(4.0)
    assert results['d1/delta_m'] == pytest.approx(22.5)
    assert results['d2/delta_m'] == pytest.approx(50.0)
    # over every (domain, task) pair: (0.25 + 0.2 + 0.5) / 3
    assert results['delta_m'] == pytest.approx(100 * 0.95 / 3)

    # no baselines: no delta_m at all
    results = _evaluate(MultiDomainDepthSegMetric(num_classes=2), [both])
    assert not any('delta_m' in key for key in results)


def test_delta_m_skipped_with_a_warning_when_a_measure_is_missing():
    both = _sample(
        1, ('seg', 'depth'),
        pred_seg=[[0]],
        gt_seg=[[0]],
        pred_depth=[[1]],
        gt_depth=[[1]])
    messages = []
    logger = MMLogger.get_current_instance()
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    logger.addHandler(handler)
    try:
        metric = MultiDomainDepthSegMetric(
            num_classes=2,
            stl_baselines=dict(d1=dict(mIoU=40), d3=dict(rmse=1)))
        results = _evaluate(metric, [both])
    finally:
        logger.removeHandler(handler)
    assert 'd1/delta_m' not in results and 'delta_m' not in results
    text = '\n'.join(messages)
    assert "stl_baselines.d1 lacks ['rmse']" in text
    assert 'stl_baselines has d3 but no sample' in text
    # the table: one row per domain, every column
    # the paper's column names in the table, the metric names in the keys
    assert re.search(
        r'\| domain \|\s+pAcc\s+\|\s+mIoU\s+\|\s+AbR\s+\|\s+RMSE\s+\|'
        r'\s+δ1\s+\|', text)
    assert re.search(r'\|\s+d1\s+\|\s+100\.00\s+\|', text)


def test_domains_and_tasks_come_from_the_metainfo():
    """Through MMEngine's Evaluator with SegDataSample objects; a ground
    truth of a task the source does not label is not evaluated."""
    evaluator = Evaluator(
        METRICS.build(dict(type='MultiDomainDepthSegMetric', num_classes=3)))
    extra_gt = _sample(
        3, ('seg', ),
        pred_seg=[[0, 0]],
        gt_seg=[[0, 1]],
        pred_depth=[[1, 1]],
        gt_depth=[[1, 2]],
        as_dict=False)
    evaluator.process(
        [extra_gt, _sample(1, ('seg', ), *SEG_1_ARGS, as_dict=False)])
    results = evaluator.evaluate(2)
    assert sorted(results) == ['d1/mIoU', 'd1/pAcc', 'd3/mIoU', 'd3/pAcc']
    assert results['d3/pAcc'] == pytest.approx(50.0)


def test_padding_samples_beyond_the_dataset_size_are_dropped():
    metric = MultiDomainDepthSegMetric(num_classes=3)
    metric.process({}, [SEG_1, SEG_2, DEPTH_A])  # DEPTH_A is padding
    results = metric.evaluate(size=2)
    assert sorted(results) == ['d1/mIoU', 'd1/pAcc']


@pytest.mark.parametrize('sample, error, match', [
    (dict(img_path='x.png'), KeyError, "no 'domain' / 'labelled_tasks'"),
    (_sample(0, ('seg', ), [[0]], [[0]]), ValueError, 'int >= 1'),
    (_sample(1, ('normals', ), [[0]], [[0]]), ValueError, 'unknown tasks'),
    (_sample(1, ('seg', 'depth'), [[0]],
             [[0]]), KeyError, "has no 'pred_depth_map'"),
    (_sample(1, ('seg', ), [[0, 0]], [[0]]), ValueError, 'of one size'),
])
def test_bad_samples_are_named(sample, error, match):
    metric = MultiDomainDepthSegMetric(num_classes=3)
    with pytest.raises(error, match=match):
        metric.process({}, [sample])


@pytest.mark.parametrize('kwargs, match', [
    (dict(stl_baselines=dict(city=dict(mIoU=1))), "'d1', 'd2'"),
    (dict(stl_baselines=dict(d1=dict(AbR=1))), 'keys out of'),
    (dict(stl_baselines=dict(d1=dict(mIoU=0))), 'positive number'),
    (dict(depth_average='median'), "'image' or 'pixel'"),
    (dict(num_classes=0), 'positive int'),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MultiDomainDepthSegMetric(**kwargs)


def test_old_baseline_key_rmse_is_read_with_a_warning():
    depth = _sample(2, ('depth', ), pred_depth=[[3]], gt_depth=[[2]])
    metric = MultiDomainDepthSegMetric(stl_baselines=dict(d2=dict(RMSE=2)))
    assert metric.stl_baselines == dict(d2=dict(rmse=2.0))
    assert _evaluate(metric, [depth])['d2/delta_m'] == pytest.approx(50.0)


def _old_depth_values(samples, average):
    """The depth numbers of the metric before it used the shared kernel,
    written out here from its definition: per image the float64 sums of
    squared errors over the finite ground truth, of ``|g - p| / g`` and of
    the δ hits (``p > 0`` and ``max(p/g, g/p) < 1.25^i``) over ``g > 0``;
    'image' averages the per-image ratios, 'pixel' divides the summed
    sums."""
    stats = []
    for sample in samples:
        pred = np.asarray(sample['pred_depth_map']['data'][0], np.float64)
        gt = np.asarray(sample['gt_depth_map']['data'][0], np.float64)
        finite = np.isfinite(gt)
        sq = ((pred[finite] - gt[finite])**2).sum()
        pos = finite & (gt > 0)
        p, g = pred[pos], gt[pos]
        hits = []
        for i in (1, 2, 3):
            ok = np.zeros(p.shape, bool)
            ok[p > 0] = np.maximum(p[p > 0] / g[p > 0],
                                   g[p > 0] / p[p > 0]) < 1.25**i
            hits.append(ok.sum())
        stats.append([finite.sum(), sq, pos.sum(),
                      (np.abs(g - p) / g).sum()] + hits)
    stats = np.array(stats, np.float64)
    if average == 'pixel':
        stats = stats.sum(0, keepdims=True)
    n_fin, sq, n_pos = stats[:, 0], stats[:, 1], stats[:, 2]
    old = dict(RMSE=np.sqrt(sq[n_fin > 0] / n_fin[n_fin > 0]).mean(),
               AbR=(stats[:, 3][n_pos > 0] / n_pos[n_pos > 0]).mean())
    for i in (1, 2, 3):
        old[f'a{i}'] = (stats[:, 3 + i][n_pos > 0] / n_pos[n_pos > 0]).mean()
    return old


@pytest.mark.parametrize('average', ['image', 'pixel'])
def test_same_predictions_give_the_old_values_under_the_new_names(average):
    """Random maps (negative and zero predictions, zero and NaN ground
    truth) against the old definition: AbR -> abs_rel, RMSE -> rmse, a1-a3
    kept."""
    rng = np.random.default_rng(0)
    samples = []
    for k in range(4):
        gt = rng.uniform(0, 3, (6, 7))
        gt[rng.random(gt.shape) < 0.2] = NAN
        gt[rng.random(gt.shape) < 0.1] = 0
        pred = gt * rng.uniform(0.6, 1.5, gt.shape) + rng.normal(
            0, 0.3, gt.shape)
        pred = np.nan_to_num(pred, nan=1.0)
        pred[0, :2] = (0, -0.5)
        samples.append(
            _sample(2, ('depth', ), pred_depth=pred.tolist(),
                    gt_depth=gt.tolist()))
    results = _evaluate(
        MultiDomainDepthSegMetric(depth_average=average), samples)
    old = _old_depth_values(samples, average)
    renamed = dict(AbR='abs_rel', RMSE='rmse', a1='a1', a2='a2', a3='a3')
    assert sorted(results) == sorted(f'd2/{k}' for k in renamed.values())
    for old_key, new_key in renamed.items():
        assert results[f'd2/{new_key}'] == pytest.approx(
            old[old_key], rel=1e-12, abs=1e-15), old_key
