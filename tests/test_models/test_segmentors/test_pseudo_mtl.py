# Copyright (c) mmdepthseg contributors. All rights reserved.
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from test_models.test_segmentors.batch import (packed_batch, random_depth,
                                               random_labels)

from mmdepthseg.registry import MODELS

H, W = 64, 128
CHANNELS = [64, 64, 128, 256, 512]


def _model(**overrides):
    cfg = dict(
        type='PseudoMTL',
        data_preprocessor=dict(
            type='MultiViewDataPreProcessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            bgr_to_rgb=True,
            size_divisor=32),
        backbone=dict(type='ResNetEncoder', depth=18),
        depth_head=dict(
            type='UNetDepthHead', in_channels=CHANNELS, max_depth=80.),
        seg_head=dict(
            type='UNetSegHead',
            in_channels=CHANNELS,
            in_index=[0, 1, 2, 3, 4],
            input_transform='multiple_select',
            channels=16,
            num_classes=7))
    cfg.update(overrides)
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def _batch(model, views=2, batch=2):
    data = packed_batch(
        batch, (H, W),
        views=views,
        fields=dict(
            gt_pseudo_depth=random_depth(5., 50., (2, H, W)),
            gt_confidence=random_depth(0., 1., (2, H, W)),
            gt_sem_seg=random_labels(7, (2, H, W))),
        metainfo=dict(
            view_names=('l', 'r')[:views],
            intrinsics=np.array([[100., 0, W / 2], [0, 100., H / 2],
                                 [0, 0, 1]]),
            baseline=0.5))
    return model.data_preprocessor(data, True)


def test_eq11_terms_are_logged_and_train_the_network():
    model = _model()
    losses = model(**_batch(model), mode='loss')
    assert {'loss_depth_conf', 'loss_ce'} <= set(losses)
    for prefix in ('loss_depth_cv_', 'loss_seg_cv_'):
        assert {prefix + t for t in ('lr', 'l', 'r')} <= set(losses)
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    assert model.backbone.conv1.weight.grad.abs().sum() > 0
    assert model.seg_head.conv_seg.weight.grad.abs().sum() > 0


def test_consistency_terms_can_be_switched_off():
    model = _model(depth_cv_loss=None, seg_cv_loss=None)
    losses = model(**_batch(model, batch=1), mode='loss')
    assert set(losses) == {'loss_depth_conf', 'loss_ce'}


def test_monocular_input_is_refused():
    model = _model()
    with pytest.raises(ValueError, match='stereo pairs'):
        model(**_batch(model, views=1, batch=1), mode='loss')


def test_stage1_depth_network_trains_only_depth_terms():
    model = _model(seg_head=None)
    assert model.seg_loss is None and model.seg_cv_loss is None
    losses = model(**_batch(model, batch=1), mode='loss')
    assert set(losses) == {'loss_depth_conf'} | {
        'loss_depth_cv_' + t
        for t in ('lr', 'l', 'r')
    }
    sum(losses.values()).backward()
    assert model.backbone.conv1.weight.grad.abs().sum() > 0


def test_stage1_seg_network_trains_only_seg_terms():
    model = _model(depth_head=None)
    losses = model(**_batch(model, batch=1), mode='loss')
    assert set(losses) == {'loss_ce'
                           } | {'loss_seg_cv_' + t
                                for t in ('lr', 'l', 'r')}
    with pytest.raises(ValueError, match='needs a depth_head'):
        _model(
            depth_head=None,
            seg_cv_loss=dict(
                type='CrossViewSegConsistencyLoss', warp_with='pred'))


def test_use_confidence_false_is_the_plain_l1_of_the_baseline():
    """Without confidence L_d is Eq. 1 with C = 1: the mean |d - d_pgt| of
    each view, summed over the two views."""
    model = _model(seg_head=None, depth_cv_loss=None, use_confidence=False)
    data = _batch(model, batch=1)
    with torch.no_grad():
        depth = model._both_views(data['inputs'])['depth']
        loss = model(**data, mode='loss')['loss_depth_conf']
    pseudo = data['data_samples'][0].gt_pseudo_depth.data
    expected = 850. * sum(
        (depth[v, 0, 0] - pseudo[v]).abs().mean() for v in (0, 1))
    torch.testing.assert_close(loss, expected, rtol=1e-4, atol=1e-4)


def test_right_referenced_pairs_are_reordered_left_right():
    """A KITTI sample referenced on the right camera (views ('r', 'l'))
    gives exactly the losses of the same pair stored left-right."""
    model = _model()
    model.eval()  # BN in inference mode: per-sample results
    ref = _batch(model, batch=1)
    swapped = _batch(model, batch=1)
    inputs = swapped['inputs']
    swapped['inputs'] = torch.cat([inputs[:, 3:], inputs[:, :3]], dim=1)
    sample = swapped['data_samples'][0]
    sample.set_metainfo(dict(view_names=('r', 'l')))
    for key in ('gt_pseudo_depth', 'gt_confidence', 'gt_sem_seg'):
        setattr(sample, key, PixelData(data=getattr(sample, key).data.flip(0)))
    with torch.no_grad():
        expected = model(**ref, mode='loss')
        got = model(**swapped, mode='loss')
    for key, value in expected.items():
        torch.testing.assert_close(got[key], value, msg=key)
    sample.set_metainfo(dict(view_names=('l', 't-1')))
    with pytest.raises(ValueError, match='view_names'):
        model(**swapped, mode='loss')


def test_ls_sums_the_cross_entropy_of_the_two_views():
    """Eq. 2, ``L_s = sum_{i in {l, r}} H(s_i, s_i^gt)``: each view's mean
    cross-entropy over its labelled pixels, added (one mean over the pixels
    of both views gives 2.5 * 3.8686 / 3 = 3.224 here, not 8.647)."""
    model = _model(depth_head=None, seg_cv_loss=None)
    logits = torch.zeros(2, 1, 2, 1, 2)  # (view, B, C, H, W): 2 classes
    logits[0, 0, :, 0, 0] = torch.tensor([2., 0.])  # left px 0, label 0
    logits[1, 0, :, 0, 0] = torch.tensor([0., 3.])  # right px 0, label 0
    model._both_views = lambda inputs: dict(seg=logits)
    sample = SegDataSample()
    sample.set_metainfo(
        dict(view_names=('l', 'r'), intrinsics=np.eye(3), baseline=0.5))
    sample.gt_sem_seg = PixelData(data=torch.tensor([[[0, 1]], [[0, 255]]]))
    sample.gt_pseudo_depth = PixelData(data=torch.ones(2, 1, 2))
    sample.gt_confidence = PixelData(data=torch.ones(2, 1, 2))
    loss = model.loss(torch.zeros(1, 6, 1, 2), [sample])['loss_ce']
    # left: (log(1 + e^-2) + log 2) / 2 = 0.410038; right: log(1 + e^3)
    # = 3.048587 (its second pixel is ignored)
    expected = 2.5 * (0.410038 + 3.048587)
    assert abs(loss.item() - expected) < 1e-4, (loss.item(), expected)


def test_depth_loss_in_disparity_over_width_by_hand():
    """``depth_loss_unit='disparity_width'``: L_d compares fx B / (d W);
    with fx 100 px, B 0.5 m, W 2 px that is 25 / d. Predicted 10 and 20 m
    against pseudo 5 and 0 (invalid) on the left, 25 and 50 m against 50 and
    25 on the right: 850 * (|2.5 - 5| + (|1 - 0.5| + |0.5 - 1|) / 2) =
    850 * 3 = 2550 (in metres it would be 850 * (5 + 25) = 25500)."""
    for unit, expected in (('disparity_width', 2550.), ('metre', 25500.)):
        model = _model(
            seg_head=None,
            depth_cv_loss=None,
            use_confidence=False,
            depth_loss_unit=unit)
        pred = torch.tensor([[10., 20.], [25., 50.]]).view(2, 1, 1, 1, 2)
        model._both_views = lambda inputs: dict(depth=pred)
        sample = SegDataSample()
        sample.set_metainfo(
            dict(
                view_names=('l', 'r'),
                intrinsics=np.array([[100., 0, 1], [0, 100., 0.5],
                                     [0, 0, 1]]),
                baseline=0.5))
        sample.gt_pseudo_depth = PixelData(
            data=torch.tensor([[[5., 0.]], [[50., 25.]]]))
        sample.gt_confidence = PixelData(data=torch.ones(2, 1, 2))
        sample.gt_sem_seg = PixelData(data=torch.zeros(2, 1, 2))
        loss = model.loss(torch.zeros(1, 6, 1, 2), [sample])
        assert loss['loss_depth_conf'].item() == pytest.approx(
            expected, rel=1e-5), unit
    with pytest.raises(ValueError, match='depth_loss_unit'):
        _model(depth_loss_unit='feet')
