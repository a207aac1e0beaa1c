# Copyright (c) mmdepthseg contributors. All rights reserved.
"""DepthMetric: per-image vs pixel-pooled aggregation (SOSD-Net's NYUv2
protocol averages over "all valid pixels of the test set")."""
import math
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmdepthseg.evaluation.functional import depth_metrics
from mmdepthseg.evaluation.metrics import DepthMetric
from mmdepthseg.registry import METRICS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# Two images, 0 = invalid ground truth. Image A has 1 valid pixel,
# (gt, pred) = (2, 1); image B 3 valid pixels: (4, 4), (4, 4), (4, 6).
GT_A = np.array([[2.0, 0.0], [0.0, 0.0]])
PRED_A = np.array([[1.0, 7.0], [7.0, 7.0]])
GT_B = np.array([[4.0, 4.0], [4.0, 0.0]])
PRED_B = np.array([[4.0, 4.0], [6.0, 9.0]])
# f * b = 100 * 0.5 = 50: disparity errors A: |50 - 25| = 25;
# B: 0, 0, |50/6 - 12.5| = 25/6.

# Per image, computed on paper: A: abs_rel 1/2, sq_rel 1/2, rmse 1,
# mae 1, a1 0 (ratio 2), log10 log10(2), rmse_log ln 2, disp 25.
# B: abs_rel (2/4)/3 = 1/6, sq_rel (4/4)/3 = 1/3, rmse sqrt(4/3),
# mae 2/3, a1 2/3 (ratio 1.5 on the third pixel), log10 log10(1.5)/3,
# rmse_log sqrt(ln(1.5)^2 / 3), disp (25/6)/3.
PER_IMAGE = dict(
    abs_rel=(1 / 2 + 1 / 6) / 2,
    sq_rel=(1 / 2 + 1 / 3) / 2,
    rmse=(1 + math.sqrt(4 / 3)) / 2,
    rmse_log=(math.log(2) + math.sqrt(math.log(1.5)**2 / 3)) / 2,
    log10=(math.log10(2) + math.log10(1.5) / 3) / 2,
    a1=(0 + 2 / 3) / 2,
    a2=(0 + 1) / 2,  # A's ratio 2 > 1.25^2 and > 1.25^3 = 1.953125
    a3=(0 + 1) / 2,
    mae=(1 + 2 / 3) / 2,
    disp_err=(25 + 25 / 18) / 2)
# Pooled over the 4 valid pixels of both images, computed on paper.
POOLED = dict(
    abs_rel=(1 / 2 + 0 + 0 + 2 / 4) / 4,
    sq_rel=(1 / 2 + 0 + 0 + 4 / 4) / 4,
    rmse=math.sqrt((1 + 0 + 0 + 4) / 4),
    rmse_log=math.sqrt((math.log(2)**2 + math.log(1.5)**2) / 4),
    log10=(math.log10(2) + math.log10(1.5)) / 4,
    a1=2 / 4,
    a2=3 / 4,
    a3=3 / 4,
    mae=(1 + 0 + 0 + 2) / 4,
    disp_err=(25 + 0 + 0 + 25 / 6) / 4)
METRIC_NAMES = tuple(POOLED)


def _sample(pred, gt, **metainfo):
    sample = SegDataSample(metainfo=metainfo)
    sample.pred_depth_map = PixelData(
        data=torch.as_tensor(pred, dtype=torch.float32)[None])
    sample.gt_depth_map = PixelData(
        data=torch.as_tensor(gt, dtype=torch.float32)[None])
    return sample.to_dict()


def _samples():
    meta = dict(intrinsics=np.diag([100.0, 100.0, 1.0]), baseline=0.5)
    return [_sample(PRED_A, GT_A, **meta), _sample(PRED_B, GT_B, **meta)]


def _run(metric, samples):
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


@pytest.mark.parametrize('aggregation, expected', [('per_image', PER_IMAGE),
                                                   ('pooled', POOLED)])
def test_two_images_per_image_and_pooled_by_hand(aggregation, expected):
    metric = DepthMetric(
        min_depth=1e-3,
        max_depth=10.,
        metrics=METRIC_NAMES,
        aggregation=aggregation)
    summary = _run(metric, _samples())
    for name, value in expected.items():
        assert summary[name] == pytest.approx(value, rel=1e-12), name
    # the two conventions really differ on this case
    for name in ('abs_rel', 'rmse', 'a1', 'mae', 'disp_err'):
        assert abs(PER_IMAGE[name] - POOLED[name]) > 0.03, name


def test_pooled_equals_one_evaluation_of_all_valid_pixels():
    """An independent reimplementation: the metrics of the concatenated
    valid pixels of both images."""
    gt = np.concatenate([GT_A[GT_A > 0], GT_B[GT_B > 0]])
    pred = np.concatenate([PRED_A[GT_A > 0], PRED_B[GT_B > 0]])
    reference = depth_metrics(pred, gt)
    summary = _run(
        DepthMetric(metrics=METRIC_NAMES, aggregation='pooled'), _samples())
    for name in METRIC_NAMES:
        if name != 'disp_err':
            assert summary[name] == pytest.approx(reference[name]), name


def test_per_image_is_the_default_and_bad_aggregation_is_named():
    assert DepthMetric().aggregation == 'per_image'
    assert 'num_pixels' not in DepthMetric().evaluate_sample(_samples()[1])
    result = DepthMetric(aggregation='pooled').evaluate_sample(_samples()[1])
    assert result['num_pixels'] == 3
    with pytest.raises(ValueError, match='aggregation'):
        DepthMetric(aggregation='mean')


def test_sosd_nyu_config_pools_over_pixels_without_eigen_crop():
    """configs/sosd/*nyu*: the paper's protocol (no crop, pooled)."""
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', 'sosd', 'sosd_xception65_nyu.py'))
    depth_cfg = cfg.test_evaluator.depth_cfg
    assert depth_cfg.aggregation == 'pooled'
    assert depth_cfg.get('crop') is None
    metric = METRICS.build(cfg.test_evaluator)
    # samples without segmentation enter the depth evaluation only
    summary = _run(metric, _samples())
    for name in depth_cfg.metrics:
        assert summary[name] == pytest.approx(POOLED[name], rel=1e-12), name
