# Copyright (c) mmdepthseg contributors. All rights reserved.
"""DepthMetric checked by value: crops, median scaling, depth caps.

Every expectation is computed by hand below, on maps built so that skipping
a step inside the metric (the crop, the median, the valid range, the
clipping) changes the result.
"""
import math

import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmdepthseg.evaluation.metrics import DepthMetric


def _evaluate(pred, gt, **kwargs):
    metric = DepthMetric(
        metrics=('abs_rel', 'rmse', 'a1'), **kwargs)
    sample = SegDataSample()
    sample.pred_depth_map = PixelData(
        data=torch.as_tensor(np.asarray(pred), dtype=torch.float32)[None])
    sample.gt_depth_map = PixelData(
        data=torch.as_tensor(np.asarray(gt), dtype=torch.float32)[None])
    metric.process({}, [sample.to_dict()])
    return metric.compute_metrics(metric.results)


# ---------------------------------------------------------------------------
# crops
# ---------------------------------------------------------------------------
def _kitti_crop_case():
    """10 x 30 map, gt 10 everywhere, pred 10 except marked pixels.

    Garg crop: rows [int(4.08), int(9.92)) = [4, 9), columns
    [int(1.078), int(28.92)) = [1, 28): 5 x 27 = 135 pixels.
    Eigen crop: rows [int(3.324), int(9.135)) = [3, 9), same columns:
    6 x 27 = 162 pixels.
    """
    gt = np.full((10, 30), 10.0)
    pred = np.full((10, 30), 10.0)
    pred[5, 10] = 20.0  # inside both crops: |err| 10, rel 1
    pred[3, 10] = 15.0  # row 3: inside Eigen only: |err| 5, rel 0.5
    pred[0, 0] = 40.0  # outside both: rel 3
    pred[9, 15] = 30.0  # row 9: outside both (last row of each is 8)
    pred[5, 0] = 5.0  # column 0: outside both
    pred[5, 28] = 5.0  # column 28: outside both (last column is 27)
    return pred, gt


def test_garg_crop_by_value():
    pred, gt = _kitti_crop_case()
    out = _evaluate(pred, gt, crop='garg')
    assert out['abs_rel'] == pytest.approx(1 / 135)
    assert out['rmse'] == pytest.approx(math.sqrt(100 / 135))
    assert out['a1'] == pytest.approx(134 / 135)


def test_eigen_crop_by_value():
    pred, gt = _kitti_crop_case()
    out = _evaluate(pred, gt, crop='eigen')
    assert out['abs_rel'] == pytest.approx(1.5 / 162)
    assert out['rmse'] == pytest.approx(math.sqrt((100 + 25) / 162))
    assert out['a1'] == pytest.approx(160 / 162)


def test_no_crop_counts_every_pixel():
    pred, gt = _kitti_crop_case()
    out = _evaluate(pred, gt)
    # rel errors 1, 0.5, 3, 2, 0.5, 0.5 over 300 pixels
    assert out['abs_rel'] == pytest.approx(7.5 / 300)
    assert out['rmse'] == pytest.approx(
        math.sqrt((100 + 25 + 900 + 400 + 25 + 25) / 300))


def test_nyu_crop_by_value_at_480x640():
    # Eigen's NYU crop keeps rows 45..470 and columns 41..600:
    # 426 x 560 = 238,560 pixels
    gt = np.full((480, 640), 5.0)
    pred = np.full((480, 640), 5.0)
    inside = [(45, 100), (470, 100), (100, 41), (100, 600)]
    outside = [(44, 100), (471, 100), (100, 40), (100, 601), (0, 0)]
    for r, c in inside:
        pred[r, c] = 10.0  # rel error 1 each
    for r, c in outside:
        pred[r, c] = 1.0  # rel error 0.8 each, must not count
    out = _evaluate(pred, gt, crop='nyu', max_depth=10.0)
    n = 426 * 560
    assert out['abs_rel'] == pytest.approx(4 / n)
    assert out['rmse'] == pytest.approx(math.sqrt(4 * 25 / n))
    assert out['a1'] == pytest.approx((n - 4) / n)
    assert _evaluate(pred, gt, max_depth=10.0)['abs_rel'] == \
        pytest.approx((4 + 5 * 0.8) / (480 * 640))


# ---------------------------------------------------------------------------
# median scaling
# ---------------------------------------------------------------------------
def test_median_scaling_on_a_non_proportional_prediction():
    # valid pixels: gt 1, 2, 3, 10, 20 and pred 2, 2, 2, 2, 50;
    # 90 and 95 m are beyond the 80 m cap and 0 is invalid: none of them
    # may enter the medians (with them median(gt) would be 10).
    gt = np.array([[1, 2, 3, 10, 20, 90, 95, 0]], dtype=np.float64)
    pred = np.array([[2, 2, 2, 2, 50, 0.5, 0.5, 7]], dtype=np.float64)
    metric = DepthMetric(
        median_scaling=True, metrics=('abs_rel', 'mae'))
    sample = SegDataSample()
    sample.pred_depth_map = PixelData(data=torch.tensor(pred)[None].float())
    sample.gt_depth_map = PixelData(data=torch.tensor(gt)[None].float())
    metric.process({}, [sample.to_dict()])
    out = metric.compute_metrics(metric.results)
    # ratio = median(gt) / median(pred) = 3 / 2 (the means would give
    # 7.2 / 11.6); scaled pred 3, 3, 3, 3, 75
    assert out['med_ratio'] == pytest.approx(1.5)
    # |1-3|/1, |2-3|/2, 0, 7/10, 55/20
    assert out['abs_rel'] == pytest.approx((2 + 0.5 + 0 + 0.7 + 2.75) / 5)
    assert out['mae'] == pytest.approx((2 + 1 + 0 + 7 + 55) / 5)


def test_fixed_scale_factor_comes_before_median_scaling():
    gt = np.array([[5.4, 10.8, 27.0]])
    pred = gt / 5.4  # a stereo model's depth in 0.1-baseline units
    out = _evaluate(pred, gt, pred_depth_scale_factor=5.4)
    assert out['abs_rel'] == pytest.approx(0, abs=1e-6)
    assert _evaluate(pred, gt)['abs_rel'] == pytest.approx(1 - 1 / 5.4)
    # with median scaling the factor cancels
    pred = np.array([[1.0, 3.0, 4.0]])
    a = _evaluate(pred, gt, median_scaling=True)
    b = _evaluate(pred, gt, median_scaling=True, pred_depth_scale_factor=5.4)
    assert a['med_ratio'] == pytest.approx(5.4 * b['med_ratio'])
    for name in ('abs_rel', 'rmse', 'a1'):
        assert a[name] == pytest.approx(b[name]), name
    with pytest.raises(ValueError, match='pred_depth_scale_factor'):
        DepthMetric(pred_depth_scale_factor=0)


# ---------------------------------------------------------------------------
# min / max depth: valid range of the ground truth and clipping of the
# prediction
# ---------------------------------------------------------------------------
def test_depth_caps_by_value():
    # gt below min_depth, exactly at max_depth (strict inequality) or 0 is
    # invalid; pred is clipped to [min_depth, max_depth] = [1e-3, 80]
    gt = np.array([[5e-4, 80.0, 79.0, 2.0, 40.0, 0.0]])
    pred = np.array([[5.0, 5.0, 200.0, 1e-6, 40.0, 9.0]])
    out = _evaluate(pred, gt)
    # valid: (79, 200 -> 80), (2, 1e-6 -> 1e-3), (40, 40)
    assert out['abs_rel'] == pytest.approx(
        (1 / 79 + (2 - 1e-3) / 2 + 0) / 3)
    assert out['rmse'] == pytest.approx(
        math.sqrt((1 + (2 - 1e-3)**2) / 3))
    # the improved-ground-truth rule: every gt > 0 counts (also 80 m and
    # 5e-4 m), the prediction is still clipped
    out = _evaluate(pred, gt, gt_in_range=False)
    gt32 = float(np.float32(5e-4))
    rel = [(5 - gt32) / gt32, 75 / 80, 1 / 79, (2 - 1e-3) / 2, 0]
    assert out['abs_rel'] == pytest.approx(sum(rel) / 5)
    # other bounds move both the range and the clipping; gt exactly at
    # min_depth is invalid too
    out = _evaluate(pred, gt, min_depth=2.0, max_depth=50.0)
    # valid: (40, 40) only
    assert out['abs_rel'] == pytest.approx(0)
    out = _evaluate([[60.0, 1.0]], [[45.0, 4.0]], min_depth=3.0,
                    max_depth=50.0)
    # pred 60 -> 50, 1 -> 3
    assert out['abs_rel'] == pytest.approx((5 / 45 + 1 / 4) / 2)
