# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The KITTI Eigen benchmark's evaluation, step by step and end to end.

The published numbers come from monodepth2's ``evaluate_depth.py``: the
network's sigmoid output is mapped to a disparity by ``disp_to_depth`` (0.1
to 100 m), optionally blended with the prediction on the mirror image
(``--post_process``), resized **as a disparity** (bilinear, OpenCV) to the
ground truth's size and inverted; then per image: valid pixels (Eigen:
``1e-3 < gt < 80`` inside the Garg crop; other splits: ``gt > 0``), a fixed
factor (5.4 for stereo models), median scaling (monocular), clipping to
``[1e-3, 80]``, the seven errors, averaged over images.
"""
import glob
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from _helpers import REPO_ROOT
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmdepthseg.evaluation.metrics import DepthMetric
from mmdepthseg.models.layers import disp_to_depth, flip_post_process_disparity
from mmdepthseg.registry import MODELS

MIN_DEPTH, MAX_DEPTH = 1e-3, 80.0


@pytest.fixture(scope='module')
def fsre():
    init_default_scope('mmdepthseg')
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', '_base_', 'models', 'fsre_r18.py'))
    model = MODELS.build(cfg.model)
    model.eval()
    return model


def _samples(ori_shape, img_shape, num=1):
    return [
        SegDataSample(
            metainfo=dict(ori_shape=ori_shape, img_shape=img_shape))
        for _ in range(num)
    ]


# ---------------------------------------------------------------------------
# resizing the prediction
# ---------------------------------------------------------------------------
def test_resize_in_disparity_space_hand_computed(fsre):
    # depth [1, 4] (1 x 2) to 1 x 4, bilinear with half-pixel centres:
    # output column c samples x = (c + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75,
    # 1.25 (clamped to [0, 1]): weights of the right value 0, 1/4, 3/4, 1.
    depth = torch.tensor([[[[1.0, 4.0]]]])
    fsre.test_cfg = dict(mode='whole', depth_resize='disparity')
    out = fsre.postprocess_result(None, _samples((1, 4), (1, 2)), depth)
    # disparity [1, 1/4] -> [1, 13/16, 7/16, 1/4] -> depth [1, 16/13, 16/7, 4]
    np.testing.assert_allclose(out[0].pred_depth_map.data[0, 0].numpy(),
                               [1.0, 16 / 13, 16 / 7, 4.0],
                               rtol=1e-6)
    # the depth-space resize (the option kept for other data) differs
    fsre.test_cfg = dict(mode='whole', depth_resize='depth')
    out = fsre.postprocess_result(None, _samples((1, 4), (1, 2)), depth)
    np.testing.assert_allclose(out[0].pred_depth_map.data[0, 0].numpy(),
                               [1.0, 1.75, 3.25, 4.0],
                               rtol=1e-6)
    fsre.test_cfg = dict(mode='whole')  # default: depth space
    out = fsre.postprocess_result(None, _samples((1, 4), (1, 2)), depth)
    np.testing.assert_allclose(out[0].pred_depth_map.data[0, 0].numpy(),
                               [1.0, 1.75, 3.25, 4.0],
                               rtol=1e-6)
    with pytest.raises(ValueError, match='depth_resize'):
        MODELS.build(
            dict(
                type='MultiTaskSegmentor',
                backbone=dict(type='ResNetEncoder', depth=18),
                depth_head=dict(
                    type='UNetDepthHead',
                    in_channels=[64, 64, 128, 256, 512]),
                test_cfg=dict(depth_resize='inverse')))


def test_disparity_resize_equals_the_benchmarks_opencv_resize(fsre):
    rng = np.random.default_rng(0)
    sigmoid = torch.from_numpy(rng.uniform(0, 1, (2, 1, 12, 40))).float()
    scaled_disp, depth = disp_to_depth(sigmoid, 0.1, 100.0)
    fsre.test_cfg = dict(mode='whole', depth_resize='disparity')
    out = fsre.postprocess_result(None, _samples((37, 124), (12, 40), 2),
                                  depth)
    for i in range(2):
        # evaluate_depth.py: cv2.resize(pred_disp, (gt_w, gt_h)); 1 / disp
        expected = 1 / cv2.resize(scaled_disp[i, 0].numpy(), (124, 37))
        # OpenCV's float32 coefficients: up to 3e-5 apart on steep edges
        np.testing.assert_allclose(
            out[i].pred_depth_map.data[0].numpy(), expected, rtol=1e-4)
        depth_space = cv2.resize(depth[i, 0].numpy(), (124, 37))
        assert not np.allclose(depth_space, expected, rtol=1e-2)


# ---------------------------------------------------------------------------
# flip post-processing
# ---------------------------------------------------------------------------
# monodepth2's ramp at W = 41: l = c / 40, 1 - clip(20 (l - 0.05), 0, 1)
# = 1 - clip(c / 2 - 1, 0, 1): 1, 1, 1, 0.5, 0, ... and mirrored on the right.
W_LEFT = np.r_[1.0, 1.0, 1.0, 0.5, np.zeros(37)]


def test_flip_post_process_weights_hand_computed():
    disp = torch.ones(1, 1, 2, 41)  # prediction on the image
    mirrored = torch.full((1, 1, 2, 41), 3.0)  # on the mirror, flipped back
    out = flip_post_process_disparity(disp, mirrored)[0, 0].numpy()
    # left border from the mirror (3), right border from the image (1), the
    # mean (2) in between; column 3: 0.5 * 3 + 0.5 * 2 = 2.5, column 37:
    # 0.5 * 1 + 0.5 * 2 = 1.5
    expected = np.r_[3, 3, 3, 2.5, np.full(33, 2.0), 1.5, 1, 1, 1]
    np.testing.assert_allclose(out, np.stack([expected, expected]))
    np.testing.assert_allclose(W_LEFT, 1 - np.clip(
        np.arange(41) / 2 - 1, 0, 1))
    with pytest.raises(ValueError, match='shape'):
        flip_post_process_disparity(disp, mirrored[..., 1:])


def test_fsre_flip_post_process_blends_the_mirror_prediction(fsre):
    h, w = 2, 41
    col = torch.arange(w, dtype=torch.float32)

    def decoder(feats):
        # a position-dependent "network": sigmoid = image * (c + 1) / w,
        # so the mirror image's prediction differs from the image's
        sig = feats[:, :1] * (col + 1) / w
        return dict(disps=[sig], seg_logits=feats[:, :2] + col)

    fsre.extract_feat = lambda x: x
    fsre.decoder.forward = decoder
    try:
        img = torch.full((1, 3, h, w), 0.5)
        img[..., 10] = 0.9  # not mirror symmetric
        fsre.test_cfg = dict(
            mode='whole', depth_resize='disparity', flip_post_process=True)
        out = fsre.predict(img, _samples((h, w), (h, w)))[0]
        fsre.test_cfg = dict(mode='whole', depth_resize='disparity')
        plain = fsre.predict(img, _samples((h, w), (h, w)))[0]
    finally:
        del fsre.extract_feat, fsre.decoder.forward
    x = img[0, 0].numpy()
    own = x * (col.numpy() + 1) / w
    mirror_back = (x[:, ::-1] * (col.numpy() + 1) / w)[:, ::-1]

    def scaled(s):  # disp_to_depth(s, 0.1, 100)[0]
        return 0.01 + (10 - 0.01) * s

    d_own, d_mirror = scaled(own), scaled(mirror_back)
    w_left, w_right = W_LEFT, W_LEFT[::-1]
    blended = w_right * d_own + w_left * d_mirror + (
        1 - w_left - w_right) * (d_own + d_mirror) / 2
    np.testing.assert_allclose(
        out.pred_depth_map.data[0].numpy(), 1 / blended, rtol=1e-5)
    np.testing.assert_allclose(
        plain.pred_depth_map.data[0].numpy(), 1 / d_own, rtol=1e-5)
    assert not np.allclose(blended, d_own, rtol=1e-3)
    # the segmentation is the image's own
    torch.testing.assert_close(out.seg_logits.data, plain.seg_logits.data)


def test_generic_predict_flip_post_process():
    init_default_scope('mmdepthseg')
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', '_base_', 'models',
                 'baseline_r18_unet.py'))
    cfg.model.test_cfg = dict(mode='whole', flip_post_process=True)
    model = MODELS.build(cfg.model).eval()
    w = 41
    col = torch.arange(w, dtype=torch.float32)
    model.extract_feat = lambda x: x
    model.depth_head.predict = lambda x, metas, cfg: 1 / (
        1 + x[:, :1] * (col + 1))
    model.seg_head.predict = lambda x, metas, cfg: x[:, :2] * (col + 1)
    img = torch.rand(1, 3, 2, w, generator=torch.Generator().manual_seed(0))
    out = model.predict(img, _samples((2, w), (2, w)))[0]
    x = img[0, 0].numpy()
    d_own = 1 + x * (col.numpy() + 1)
    d_mirror = (1 + x[:, ::-1] * (col.numpy() + 1))[:, ::-1]
    w_left, w_right = W_LEFT, W_LEFT[::-1]
    blended = w_right * d_own + w_left * d_mirror + (
        1 - w_left - w_right) * (d_own + d_mirror) / 2
    np.testing.assert_allclose(
        out.pred_depth_map.data[0].numpy(), 1 / blended, rtol=1e-5)
    np.testing.assert_allclose(
        out.seg_logits.data.numpy(),
        img[0, :2].numpy() * (col.numpy() + 1),
        rtol=1e-6)


# ---------------------------------------------------------------------------
# the whole protocol against a reimplementation from its description
# ---------------------------------------------------------------------------
def benchmark_errors(pred_disps, gt_depths, split, scale_factor, median):
    """monodepth2's evaluation loop as described in the module docstring."""
    errors = []
    for disp, gt in zip(pred_disps, gt_depths):
        gt_h, gt_w = gt.shape
        depth = 1 / cv2.resize(disp, (gt_w, gt_h))
        if split == 'eigen':
            mask = (gt > MIN_DEPTH) & (gt < MAX_DEPTH)
            crop = (np.array([0.40810811 * gt_h, 0.99189189 * gt_h,
                              0.03594771 * gt_w, 0.96405229 * gt_w])
                    ).astype(np.int32)
            in_crop = np.zeros(gt.shape, bool)
            in_crop[crop[0]:crop[1], crop[2]:crop[3]] = True
            mask &= in_crop
        else:
            mask = gt > 0
        p, g = depth[mask] * scale_factor, gt[mask]
        if median:
            p = p * np.median(g) / np.median(p)
        p = np.clip(p, MIN_DEPTH, MAX_DEPTH)
        thresh = np.maximum(g / p, p / g)
        errors.append([
            np.mean(np.abs(g - p) / g),
            np.mean((g - p)**2 / g),
            np.sqrt(np.mean((g - p)**2)),
            np.sqrt(np.mean((np.log(g) - np.log(p))**2)),
            np.mean(thresh < 1.25),
            np.mean(thresh < 1.25**2),
            np.mean(thresh < 1.25**3)
        ])
    return dict(
        zip(('abs_rel', 'sq_rel', 'rmse', 'rmse_log', 'a1', 'a2', 'a3'),
            np.mean(errors, axis=0)))


@pytest.mark.parametrize('split,scale_factor,median',
                         [('eigen', 1.0, True), ('eigen', 5.4, False),
                          ('eigen_benchmark', 1.0, True)])
def test_protocol_end_to_end_equals_the_benchmark(fsre, split, scale_factor,
                                                  median):
    rng = np.random.default_rng(1)
    gt_h, gt_w = 46, 152
    sigmoids = torch.from_numpy(rng.uniform(0.002, 0.3,
                                            (3, 1, 16, 48))).float()
    if scale_factor != 1:
        sigmoids = sigmoids * 2  # stereo units: depths about 5.4x smaller
    scaled_disps, depths = disp_to_depth(sigmoids, 0.1, 100.0)
    gts = []
    for _ in range(3):
        gt = rng.uniform(0.5, 95, (gt_h, gt_w)).astype(np.float32)
        gt[rng.random((gt_h, gt_w)) < 0.6] = 0  # sparse
        gts.append(gt)
    expected = benchmark_errors([d[0].numpy() for d in scaled_disps], gts,
                                split, scale_factor, median)

    def ours(depth_resize):
        fsre.test_cfg = dict(mode='whole', depth_resize=depth_resize)
        samples = fsre.postprocess_result(None,
                                          _samples((gt_h, gt_w), (16, 48),
                                                   3), depths)
        metric = DepthMetric(
            crop='garg' if split == 'eigen' else None,
            gt_in_range=split == 'eigen',
            median_scaling=median,
            pred_depth_scale_factor=scale_factor,
            metrics=('abs_rel', 'sq_rel', 'rmse', 'rmse_log', 'a1', 'a2',
                     'a3'))
        for sample, gt in zip(samples, gts):
            sample.gt_depth_map = PixelData(data=torch.from_numpy(gt)[None])
            metric.process({}, [sample.to_dict()])
        return metric.compute_metrics(metric.results)

    results = ours('disparity')
    for name, value in expected.items():
        assert results[name] == pytest.approx(value, rel=2e-5, abs=1e-6), name
    # resizing depth instead gives other numbers
    assert ours('depth')['abs_rel'] != pytest.approx(
        expected['abs_rel'], rel=1e-3)


# ---------------------------------------------------------------------------
# the KITTI configs evaluate with the benchmark's protocol by default
# ---------------------------------------------------------------------------
KITTI_DEPTH_CONFIGS = sorted(
    p for pattern in ('fsre/*kitti*.py', 'pseudo_mtl/*kitti*.py')
    for p in glob.glob(osp.join(REPO_ROOT, 'configs', pattern))
    if 'semantic-eval' not in p and 'stage1-seg' not in p)


def _depth_metric(evaluator):
    if evaluator.type == 'DepthSegMetric':
        return evaluator.depth_cfg
    assert evaluator.type == 'DepthMetric'
    return evaluator


@pytest.mark.parametrize(
    'path', KITTI_DEPTH_CONFIGS, ids=lambda p: osp.relpath(p, REPO_ROOT))
def test_kitti_configs_use_the_benchmark_protocol(path):
    cfg = Config.fromfile(path)
    assert cfg.model.test_cfg.depth_resize == 'disparity'
    assert cfg.model.test_cfg.flip_post_process is False
    metric = _depth_metric(cfg.test_evaluator)
    # the choice is explicit: median scaling and the fixed factor
    assert 'median_scaling' in metric and 'pred_depth_scale_factor' in metric
    assert metric.pred_depth_scale_factor == 1.0
    assert metric.median_scaling is ('/fsre/' in path)  # FSRE monocular
    assert (metric.min_depth, metric.max_depth) == (MIN_DEPTH, MAX_DEPTH)
    dataset = cfg.test_dataloader.dataset
    assert dataset.load_gt_depth is True
    if path.endswith('_improved-gt.py'):
        assert dataset.gt_depth == 'improved'
        assert dataset.split_file.endswith(
            'eigen_benchmark/test_files.txt')
        assert metric.crop is None and metric.gt_in_range is False
    else:
        assert dataset.gt_depth == 'velodyne_x'
        assert dataset.split_file.endswith('eigen/test_files.txt')
        assert metric.crop == 'garg' and metric.get('gt_in_range', True)
    # validation uses the same ground truth
    assert cfg.val_dataloader.dataset.gt_depth == 'velodyne_x'


def test_every_method_has_an_improved_gt_config():
    names = [osp.basename(p) for p in KITTI_DEPTH_CONFIGS]
    assert 'fsre_r18_kitti_improved-gt.py' in names
    assert 'pseudo_mtl_vgg16_kitti_improved-gt.py' in names
