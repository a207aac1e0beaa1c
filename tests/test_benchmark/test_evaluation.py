# Copyright (c) mmdepthseg contributors. All rights reserved.
"""mmdepthseg.benchmark.evaluation: the timed depth evaluation.

Tiny sizes only (5 frames of 30x90 ground truth); times are only checked
to be positive and consistent, the metrics against ``DepthMetric`` fed the
same samples by hand and against the formulas.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config

from mmdepthseg import benchmark as bm
from mmdepthseg.benchmark import evaluation as be
from mmdepthseg.datasets.kitti_raw import MONODEPTH2_NORMALISED_K
from mmdepthseg.evaluation.metrics import DepthMetric

GT_SHAPE, PRED_SHAPE = (30, 90), (16, 48)
EIGEN = dict(
    type='DepthMetric',
    min_depth=1e-3,
    max_depth=80.,
    crop='garg',
    median_scaling=True)


def _cfg(evaluator, batch_size=2, dataset_type='KittiRawDataset') -> Config:
    return Config(
        dict(
            test_evaluator=evaluator,
            test_dataloader=dict(
                batch_size=batch_size, dataset=dict(type=dataset_type))))


def _measure(cfg: Config, **kwargs) -> dict:
    kwargs = dict(
        dict(
            num_frames=5,
            gt_shape=GT_SHAPE,
            pred_shape=PRED_SHAPE,
            density=0.2,
            num_samples=3), **kwargs)
    return be.measure_depth_evaluation(cfg, **kwargs)


def test_samples_are_sparse_lidar_like_with_kitti_intrinsics():
    samples = be.make_eval_samples(
        2, GT_SHAPE, PRED_SHAPE, density=0.2, max_depth=80., seed=1)
    h, w = GT_SHAPE
    for sample in samples:
        gt = sample.gt_depth_map.data
        pred = sample.pred_depth_map.data
        assert gt.shape == (1, h, w) and gt.dtype == torch.float32
        assert pred.shape == (1, *PRED_SHAPE) and pred.dtype == torch.float32
        assert (pred > 0).all()
        valid = gt[0] > 0
        assert int(valid.sum()) == round(0.2 * h * w)
        # mostly below the top 30 % of the image, as projected LiDAR
        assert valid[int(0.3 * h):].sum() > 0.8 * valid.sum()
        assert gt[0][valid].min() >= 1.0 and gt[0][valid].max() < 80.
        assert sample.ori_shape == GT_SHAPE
        assert sample.img_shape == PRED_SHAPE
        assert sample.baseline == 0.54
        assert sample.intrinsics[0, 0] == pytest.approx(
            MONODEPTH2_NORMALISED_K[0][0] * PRED_SHAPE[1])
    # distinct samples
    assert not torch.equal(samples[0].gt_depth_map.data,
                           samples[1].gt_depth_map.data)
    dense = be.make_eval_samples(1, (8, 8), (4, 4), density=1.0)[0]
    assert (dense.gt_depth_map.data > 0).all()
    with pytest.raises(ValueError, match='density'):
        be.make_eval_samples(1, (8, 8), (4, 4), density=0.)


def test_measures_every_frame_with_the_configs_metric():
    result = _measure(_cfg(EIGEN))
    assert result['available']
    assert set(result) >= {
        'num_frames', 'gt_shape', 'pred_shape', 'density', 'batch_size',
        'time_s', 'process_s', 'compute_s', 'frames_per_s', 'ms_per_frame',
        'metrics', 'metric_types', 'protocols'
    }
    assert result['num_frames'] == 5
    assert result['gt_shape'] == GT_SHAPE
    assert result['pred_shape'] == PRED_SHAPE
    assert result['batch_size'] == 2  # test_dataloader.batch_size
    assert result['metric_types'] == ['DepthMetric']
    assert result['protocols'] == [
        'DepthMetric(crop=garg, median scaling, depth 0.001-80)'
    ]
    assert result['process_s'] > 0 and result['compute_s'] > 0
    assert result['time_s'] == pytest.approx(result['process_s'] +
                                             result['compute_s'])
    assert result['ms_per_frame'] == pytest.approx(1e3 * result['time_s'] / 5)
    assert result['frames_per_s'] == pytest.approx(5 / result['time_s'])

    # the same 5 frames (3 distinct samples, cycled) fed to the metric by
    # hand give the same numbers
    metric = DepthMetric(**{k: v for k, v in EIGEN.items() if k != 'type'})
    samples = be.make_eval_samples(3, GT_SHAPE, PRED_SHAPE, density=0.2)
    per_frame = [
        metric.evaluate_sample(samples[i % 3].to_dict()) for i in range(5)
    ]
    expected = {
        f'depth/{k}': v
        for k, v in metric.summarize(per_frame).items()
    }
    assert set(result['metrics']) == set(expected)
    assert 'depth/disp_err' in expected and 'depth/med_ratio' in expected
    for key, value in expected.items():
        assert result['metrics'][key] == pytest.approx(value, rel=1e-9), key
    # batch size 1 processes the frames one by one: same numbers
    single = _measure(_cfg(EIGEN), batch_size=1)
    assert single['batch_size'] == 1
    assert single['metrics'] == pytest.approx(result['metrics'], rel=1e-9)


def test_metrics_follow_the_formulas():
    # no crop: abs_rel and a1 of median-scaled, clipped predictions,
    # averaged over the frames
    cfg = _cfg(
        dict(
            type='DepthMetric',
            max_depth=80.,
            median_scaling=True,
            metrics=('abs_rel', 'a1')),
        batch_size=1)
    result = _measure(cfg)
    samples = be.make_eval_samples(3, GT_SHAPE, PRED_SHAPE, density=0.2)
    abs_rel, a1 = [], []
    for i in range(5):
        sample = samples[i % 3]
        gt = sample.gt_depth_map.data[0].numpy().astype(np.float64)
        pred = F.interpolate(
            sample.pred_depth_map.data[None],
            size=GT_SHAPE,
            mode='bilinear',
            align_corners=False)[0, 0].numpy().astype(np.float64)
        valid = (gt > 1e-3) & (gt < 80.)
        g, p = gt[valid], pred[valid]
        p = np.clip(p * np.median(g) / np.median(p), 1e-3, 80.)
        abs_rel.append(np.mean(np.abs(p - g) / g))
        a1.append(np.mean(np.maximum(p / g, g / p) < 1.25))
    assert result['metrics']['depth/abs_rel'] == pytest.approx(
        np.mean(abs_rel), rel=1e-6)
    assert result['metrics']['depth/a1'] == pytest.approx(np.mean(a1))
    # a sane synthetic prediction: 10 % noise around the scene
    assert 0.02 < result['metrics']['depth/abs_rel'] < 0.3


def test_depth_metric_is_found_in_lists_and_wrappers():
    iou = dict(type='IoUMetric', iou_metrics=['mIoU'])
    cfgs, source = be.depth_metric_cfgs(_cfg([iou, EIGEN]))
    assert [c['type'] for c in cfgs] == ['DepthMetric']
    assert source == 'test_evaluator (IoUMetric, DepthMetric)'
    # DepthSegMetric: the DepthMetric it runs on the depth maps
    wrapped = dict(
        type='DepthSegMetric',
        iou_cfg=iou,
        depth_cfg=dict(type='DepthMetric', max_depth=10., crop='nyu'))
    result = _measure(_cfg(wrapped))
    assert result['available'] and result['metric_types'] == ['DepthMetric']
    assert result['protocols'] == ['DepthMetric(crop=nyu, depth 0.001-10)']
    assert result['evaluator'] == 'test_evaluator (DepthSegMetric)'
    # val_evaluator when there is no test_evaluator
    cfg = Config(
        dict(
            val_evaluator=EIGEN,
            val_dataloader=dict(batch_size=3),
            test_evaluator=None))
    result = _measure(cfg)
    assert result['available'] and result['batch_size'] == 3


@pytest.mark.parametrize('evaluator, names', [
    (dict(type='IoUMetric'), 'IoUMetric'),
    (dict(type='MultiDomainDepthSegMetric'), 'MultiDomainDepthSegMetric'),
    (dict(type='DepthSegMetric',
          depth_cfg=None), 'DepthSegMetric without depth_cfg'),
])
def test_configs_without_a_depth_metric_are_not_available(evaluator, names):
    result = _measure(_cfg(evaluator))
    assert not result['available']
    assert result['reason'] == f'no DepthMetric in test_evaluator ({names})'
    assert be.format_evaluation(result) == \
        f"evaluation: n/a ({result['reason']})"
    result = be.measure_depth_evaluation(Config(dict()), num_frames=1)
    assert not result['available']
    assert 'no test_evaluator or val_evaluator' in result['reason']


def test_gt_layout_follows_the_evaluated_dataset():
    assert be.eval_gt_layout(_cfg(EIGEN)) == dict(
        shape=(375, 1242), density=0.05, dataset='KittiRawDataset')
    city = be.eval_gt_layout(
        _cfg(EIGEN, dataset_type='CityscapesDepthSegDataset'))
    assert city['shape'] == (1024, 2048)
    assert be.eval_gt_layout(_cfg(
        EIGEN, dataset_type='NYUDepthSegDataset'))['shape'] == (480, 640)
    wrapped = Config(
        dict(
            test_evaluator=EIGEN,
            test_dataloader=dict(
                dataset=dict(
                    type='MultiSourceDataset',
                    sources=[
                        dict(
                            domain=1,
                            dataset=dict(type='CityscapesDepthSegDataset'))
                    ]))))
    assert be.eval_gt_layout(wrapped)['shape'] == (1024, 2048)
    # unknown: KITTI's
    assert be.eval_gt_layout(Config(dict()))['shape'] == (375, 1242)


def _report(evaluation) -> dict:
    """A run_benchmark-like result with the fields the reports read."""
    return dict(
        config='configs/fsre/fsre_r18_kitti.py',
        model='FSREDepthSegmentor',
        num_params=14e6,
        device='cpu',
        device_name='cpu',
        num_threads=2,
        torch=torch.__version__,
        input=dict(shape=[192, 640], num_views=1, view_names=['t']),
        warmup=0,
        repeat=1,
        evaluation=evaluation)


def test_reports_show_the_evaluation():
    evaluation = _measure(_cfg(EIGEN))
    table = bm.format_table(_report(evaluation))
    line = table.splitlines()[-1]
    assert line.startswith('evaluation: 5 frames of 30x90 GT (20 % valid, '
                           'predictions 16x48, batch 2; DepthMetric(crop='
                           'garg, median scaling, depth 0.001-80)) in ')
    assert f"{evaluation['ms_per_frame']:.1f} ms/frame" in line

    def eval_cell(evaluation):
        table = bm.format_markdown([_report(evaluation)]).splitlines()
        header = [c.strip() for c in table[0].strip('|').split('|')]
        row = [c.strip() for c in table[2].strip('|').split('|')]
        assert len(row) == len(header)
        return dict(zip(header, row))['eval s (frames)']

    assert eval_cell(evaluation) == f"{evaluation['time_s']:.2f} (5)"
    assert eval_cell(dict(available=False, reason='x')) == 'n/a'
    assert eval_cell(None) == '-'
    assert 'evaluation:' not in bm.format_table(_report(None))
