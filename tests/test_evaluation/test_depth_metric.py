# Copyright (c) mmdepthseg contributors. All rights reserved.
import math

import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmdepthseg.evaluation.functional import (crop_mask, depth_metrics,
                                              disparity_error, eigen_crop_mask,
                                              garg_crop_mask, nyu_crop_mask,
                                              valid_depth_mask)
from mmdepthseg.evaluation.metrics import DepthMetric
from mmdepthseg.registry import METRICS

# 2x2 example used throughout: the bottom-right GT pixel is invalid (0).
# valid (gt, pred) pairs: (2, 1), (4, 4), (8, 10)
GT = np.array([[2.0, 4.0], [8.0, 0.0]])
PRED = np.array([[1.0, 4.0], [10.0, 5.0]])
# computed on paper:
EXPECTED = dict(
    abs_rel=(1 / 2 + 0 + 2 / 8) / 3,  # 0.25
    sq_rel=(1 / 2 + 0 + 4 / 8) / 3,  # 1/3
    rmse=math.sqrt((1 + 0 + 4) / 3),
    rmse_log=math.sqrt((math.log(2)**2 + math.log(0.8)**2) / 3),
    log10=(math.log10(2) + abs(math.log10(0.8))) / 3,
    # max ratios: 2, 1, 1.25 (1.25 is NOT < 1.25)
    a1=1 / 3,
    a2=2 / 3,
    a3=2 / 3,  # 2 > 1.25**3 = 1.953125
    mae=(1 + 0 + 2) / 3)
# with f * b = 100 * 0.5 = 50: gt disparity 25, 12.5, 6.25; pred 50, 12.5, 5
DISP_ERR = (25 + 0 + 1.25) / 3


def _sample(pred, gt, **metainfo):
    sample = SegDataSample(metainfo=metainfo)
    sample.pred_depth_map = PixelData(
        data=torch.as_tensor(pred, dtype=torch.float32)[None])
    gt = torch.as_tensor(gt, dtype=torch.float32)
    sample.gt_depth_map = PixelData(data=gt if gt.dim() == 3 else gt[None])
    return sample.to_dict()


def test_depth_metrics_hand_computed():
    values = depth_metrics(PRED, GT, GT > 0)
    assert set(values) == set(EXPECTED)
    for name, expected in EXPECTED.items():
        assert values[name] == pytest.approx(expected, abs=1e-12), name
    assert disparity_error(PRED, GT, 50.0, GT > 0) == pytest.approx(DISP_ERR)
    with pytest.raises(ValueError):
        depth_metrics(PRED, GT[:1])


def test_garg_and_eigen_crop_bounds_375x1242():
    h, w = 375, 1242
    # Garg: 0.40810811*375 = 153.04, 0.99189189*375 = 371.96,
    #       0.03594771*1242 = 44.65, 0.96405229*1242 = 1197.35
    garg = garg_crop_mask(h, w)
    rows, cols = np.nonzero(garg)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (153, 370, 44,
                                                                1196)
    assert garg.sum() == (371 - 153) * (1197 - 44)
    # Eigen: 0.3324324*375 = 124.66, 0.91351351*375 = 342.57
    eigen = eigen_crop_mask(h, w)
    rows, cols = np.nonzero(eigen)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (124, 341, 44,
                                                                1196)
    assert eigen.sum() == (342 - 124) * (1197 - 44)
    assert crop_mask(None, 3, 4).all()
    with pytest.raises(ValueError, match='crop'):
        crop_mask('kitti', 3, 4)


def test_nyu_crop_bounds_and_proportional_scaling():
    rows, cols = np.nonzero(nyu_crop_mask(480, 640))
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (45, 470, 41,
                                                                600)
    # half size: 22.5 -> 23, 235.5 -> 236, 20.5 -> 21, 300.5 -> 301
    rows, cols = np.nonzero(nyu_crop_mask(240, 320))
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (23, 235, 21,
                                                                300)


def test_depth_metric_process_evaluate_hand_computed():
    metric = METRICS.build(dict(type='DepthMetric'))
    assert isinstance(metric, DepthMetric)
    metric.dataset_meta = dict(classes=('a', ))
    sample = _sample(
        PRED,
        GT,
        intrinsics=np.diag([100.0, 100.0, 1.0]),
        baseline=0.5,
        img_shape=(2, 2),
        img_path='x.png')
    metric.process({}, [sample])
    results = metric.evaluate(size=1)
    for name, expected in EXPECTED.items():
        assert results[f'depth/{name}'] == pytest.approx(expected), name
    assert results['depth/disp_err'] == pytest.approx(DISP_ERR)


def test_depth_metric_averages_over_images_and_skips_empty_ones():
    metric = DepthMetric(metrics=('abs_rel', 'mae'), prefix='d')
    good = _sample(PRED, GT)  # abs_rel 0.25, mae 1
    perfect = _sample(np.full((2, 2), 3.0), np.full((2, 2), 3.0))
    empty = _sample(np.ones((2, 2)), np.zeros((2, 2)))
    metric.process({}, [good, perfect, empty])
    assert len(metric.results) == 3 and metric.results[2] is None
    results = metric.evaluate(size=3)
    assert results == pytest.approx({'d/abs_rel': 0.125, 'd/mae': 0.5})


def test_depth_metric_range_and_clipping():
    # 90 m is outside (1e-3, 80) and ignored; pred 200 is clipped to 80
    metric = DepthMetric(metrics=('abs_rel', ))
    metric.process({}, [_sample([[200.0, 1.0]], [[50.0, 90.0]])])
    assert metric.compute_metrics(metric.results)['abs_rel'] == \
        pytest.approx(30 / 50)
    metric = DepthMetric(metrics=('abs_rel', ), clip_pred=False)
    metric.process({}, [_sample([[200.0, 1.0]], [[50.0, 90.0]])])
    assert metric.compute_metrics(metric.results)['abs_rel'] == \
        pytest.approx(150 / 50)


def test_median_scaling_makes_scaled_prediction_exact():
    rng = np.random.default_rng(0)
    gts = [rng.uniform(1, 15, (6, 7)) for _ in range(2)]  # 4*gt < 80
    samples = [_sample(2 * gts[0], gts[0]), _sample(4 * gts[1], gts[1])]
    metric = DepthMetric(median_scaling=True)
    metric.process({}, samples)
    results = metric.compute_metrics(metric.results)
    for name in ('abs_rel', 'sq_rel', 'rmse', 'rmse_log', 'log10', 'mae'):
        assert results[name] == pytest.approx(0, abs=1e-5), name
    assert results['a1'] == 1.0
    # ratios 1/2 and 1/4: median 0.375; monodepth2 prints
    # std(ratios / median) = std(4/3, 2/3) = 1/3
    assert results['med_ratio'] == pytest.approx(0.375)
    assert results['med_std'] == pytest.approx(1 / 3)
    # without median scaling the same predictions are off by 2x / 4x
    metric = DepthMetric(metrics=('abs_rel', ))
    metric.process({}, samples)
    assert metric.compute_metrics(metric.results)['abs_rel'] == \
        pytest.approx((1 + 3) / 2, rel=1e-5)


def test_eval_on_disparity_hand_computed():
    metric = DepthMetric(
        eval_on_disparity=True, metrics=('abs_rel', 'mae', 'disp_err'))
    sample = _sample(
        PRED, GT, intrinsics=np.diag([100.0, 100.0, 1.0]), baseline=0.5)
    metric.process({}, [sample])
    results = metric.compute_metrics(metric.results)
    # disparity: gt 25, 12.5, 6.25; pred 50, 12.5, 5
    assert results['abs_rel'] == pytest.approx((25 / 25 + 0 + 1.25 / 6.25) / 3)
    assert results['mae'] == pytest.approx(DISP_ERR)
    assert results['disp_err'] == pytest.approx(DISP_ERR)
    with pytest.raises(ValueError, match='baseline'):
        metric.process({}, [_sample(PRED, GT, img_path='no_calib.png')])


def test_prediction_resized_to_gt_and_focal_rescaled():
    # pred (1, 2) is resized to the (2, 4) GT; intrinsics belong to the
    # 1x2 network input: f = 50 * 4 / 2 = 100, f*b = 20 -> disparity
    # gt 20/10 = 2, pred 20/5 = 4.
    metric = DepthMetric(metrics=('abs_rel', 'disp_err'))
    sample = _sample([[5.0, 5.0]],
                     np.full((2, 4), 10.0),
                     intrinsics=np.diag([50.0, 50.0, 1.0]),
                     baseline=0.2,
                     img_shape=(1, 2))
    metric.process({}, [sample])
    results = metric.compute_metrics(metric.results)
    assert results['abs_rel'] == pytest.approx(0.5)
    assert results['disp_err'] == pytest.approx(2.0)


def test_disp_err_skipped_without_calibration_and_view_zero_used():
    metric = DepthMetric(metrics=('abs_rel', 'disp_err'))
    gt = np.stack([GT, np.full((2, 2), 100.0)])  # view 1 must be ignored
    metric.process({}, [_sample(PRED, gt)])
    results = metric.compute_metrics(metric.results)
    assert results == pytest.approx({'abs_rel': EXPECTED['abs_rel']})


def test_depth_metric_rejects_bad_arguments_and_samples():
    with pytest.raises(ValueError, match='unknown'):
        DepthMetric(metrics=('abs_rel', 'delta'))
    with pytest.raises(ValueError, match='crop'):
        DepthMetric(crop='kitti')
    with pytest.raises(ValueError, match='min_depth'):
        DepthMetric(min_depth=10, max_depth=1)
    sample = _sample(PRED, GT, img_path='a.png')
    del sample['gt_depth_map']
    with pytest.raises(KeyError, match='gt_depth_map'):
        DepthMetric().process({}, [sample])


def test_valid_depth_mask_float32_compares_like_float64():
    # bounds that float32 cannot represent: the float32 map must be compared
    # with the float64 bounds, not with their float32 roundings
    low, high = 1e-3, 80.3
    lo32, hi32 = np.float32(low), np.float32(high)
    gt = np.array([
        np.nextafter(lo32, np.float32(0)), lo32,
        np.nextafter(lo32, np.float32(1)), 1.0,
        np.nextafter(hi32, np.float32(0)), hi32,
        np.nextafter(hi32, np.float32(100)), 0.0, np.nan
    ],
                  dtype=np.float32)
    expected = (gt.astype(np.float64) > low) & (gt.astype(np.float64) < high)
    assert expected.any() and not expected.all()
    np.testing.assert_array_equal(valid_depth_mask(gt, low, high), expected)
    np.testing.assert_array_equal(
        valid_depth_mask(gt.astype(np.float64), low, high), expected)


def test_batch_of_mixed_sizes_equals_samples_one_by_one():
    rng = np.random.default_rng(4)
    samples = []
    for pred_hw, gt_hw in [((6, 20), (11, 37)), ((6, 20), (11, 37)),
                           ((5, 9), (11, 37)), ((11, 37), (11, 37)),
                           ((6, 20), (13, 30))]:
        gt = rng.uniform(1, 80, gt_hw) * (rng.random(gt_hw) < 0.5)
        pred = rng.uniform(1, 100, pred_hw)
        samples.append(
            _sample(
                pred,
                gt,
                img_path=f'{len(samples)}.png',
                intrinsics=np.eye(3) * 50,
                baseline=0.5,
                img_shape=pred_hw))
    metric = DepthMetric(crop='garg', median_scaling=True)
    metric.process({}, samples)
    batched = list(metric.results)
    one_by_one = [metric.evaluate_sample(s) for s in samples]
    assert len(batched) == 5 and all(r is not None for r in batched)
    for a, b in zip(batched, one_by_one):
        assert a == b  # bit-identical: each map is resized on its own
