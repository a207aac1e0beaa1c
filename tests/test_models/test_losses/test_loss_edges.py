# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The project's depth / segmentation losses at the edges of their inputs:
a sample with all-zero confidence, labels that are all ``ignore_index``,
no valid depth. Exact expected values, no NaN in values or gradients.

The recurring check: a batch whose second sample carries no usable pixel
gives exactly the loss of the first sample alone (the per-sample averages
run over the samples that have pixels, Pseudo-MTL Eq. 1), and a batch with
no usable pixel at all gives exactly 0 with finite gradients.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.models.utils import resize
from mmseg.structures import SegDataSample

from mmdepthseg.models.losses import (BerHuLoss, ConfidenceWeightedL1Loss,
                                      CrossViewDepthConsistencyLoss,
                                      CrossViewSegConsistencyLoss, DepthL1Loss,
                                      PhotometricReprojectionLoss)
from mmdepthseg.models.losses.confidence_l1_loss import \
    confidence_weighted_mean
from mmdepthseg.registry import MODELS

H, W, C = 8, 12, 4
FOCAL, BASELINE = 20.0, 0.5


def _finite_grads(*tensors):
    for t in tensors:
        assert t.grad is not None and torch.isfinite(t.grad).all()


# --------------------------------------------------------------------------
# ConfidenceWeightedL1Loss (Pseudo-MTL Eq. 1): Z_i per sample
# --------------------------------------------------------------------------
def test_confidence_l1_averages_over_samples_with_positive_z():
    pred = torch.tensor([[[[1., 2.], [3., 4.]]]])
    target = torch.tensor([[[[2., 2.], [1., 0.]]]])  # last pixel invalid
    conf = torch.tensor([[[[1., .5], [.25, 1.]]]])
    # sample 0: sum C |d - d*| = 1 * 1 + .5 * 0 + .25 * 2 = 1.5, Z = 1.75;
    # sample 1: valid pseudo depth, far-off prediction, confidence 0
    # everywhere: Z = 0, the sample has no term in Eq. 1
    preds = torch.cat([pred, pred + 100]).requires_grad_(True)
    loss = ConfidenceWeightedL1Loss()(preds, torch.cat([target, target + 1]),
                                      torch.cat([conf, conf * 0]))
    # a mean over the B = 2 samples would give 1.5 / 1.75 / 2
    assert loss.item() == pytest.approx(1.5 / 1.75, rel=1e-6)
    loss.backward()
    _finite_grads(preds)
    assert torch.equal(preds.grad[1], torch.zeros_like(preds.grad[1]))
    # d|x|/dx = sign, weighted by C / Z over the one counted sample
    expected = torch.tensor([[-1., 0.], [.25, 0.]]) / 1.75
    torch.testing.assert_close(preds.grad[0, 0], expected)


def test_confidence_l1_sample_with_one_valid_view_counts_once():
    # (B=2, V=2): sample 0 has Z > 0 in view l only, sample 1 in neither
    values = torch.tensor([3., 5.]).view(1, 2, 1, 1).expand(2, 2, 2, 2)
    weight = torch.zeros(2, 2, 2, 2)
    weight[0, 0] = torch.tensor([[1., 0.], [0., 3.]])
    # sum over views (view r contributes 0), over 1 sample: 3
    assert confidence_weighted_mean(values, weight).item() == 3.0
    weight[1, 1, 0, 0] = 2.  # now sample 1 counts: (3 + 5) / 2
    assert confidence_weighted_mean(values, weight).item() == 4.0


def test_confidence_l1_invalid_everywhere_is_zero_with_finite_grads():
    pred = torch.rand(2, 2, H, W, requires_grad=True)
    for target, conf in ((torch.zeros(2, 2, H, W), torch.ones(2, 2, H, W)),
                         (torch.ones(2, 2, H, W), torch.zeros(2, 2, H, W))):
        loss = ConfidenceWeightedL1Loss(loss_weight=850.)(pred, target, conf)
        assert loss.item() == 0.0
        loss.backward()
        _finite_grads(pred)
        assert pred.grad.abs().sum() == 0
        pred.grad = None


# --------------------------------------------------------------------------
# DepthL1Loss / BerHuLoss: no valid depth
# --------------------------------------------------------------------------
@pytest.mark.parametrize('invalid', [0.0, float('nan')])
def test_depth_losses_without_valid_depth_are_zero(invalid):
    pred = torch.rand(2, 1, H, W, requires_grad=True)
    target = torch.full((2, 1, H, W), invalid)
    loss_fn = DepthL1Loss() if invalid == 0.0 else BerHuLoss()
    loss = loss_fn(pred, target)
    assert loss.item() == 0.0
    loss.backward()
    _finite_grads(pred)
    assert pred.grad.abs().sum() == 0
    # DepthL1 also drops pixels outside [min_depth, max_depth] entirely
    far = torch.full((1, 1, H, W), 200.)
    loss = DepthL1Loss(min_depth=1., max_depth=80.)(pred[:1], far)
    assert loss.item() == 0.0


def test_depth_losses_pool_over_the_valid_pixels_of_the_batch():
    pred = torch.tensor([[[[1., 2.]]], [[[7., 9.]]]])
    for invalid, loss_fn in ((0.0, DepthL1Loss()), (float('nan'),
                                                    BerHuLoss())):
        target = torch.tensor([[[[2., 4.]]], [[[invalid, invalid]]]])
        # only sample 0's two pixels: residuals 1 and 2; BerHu c = 0.4:
        # (1 + .16) / .8 and (4 + .16) / .8
        expected = 1.5 if invalid == 0.0 else (1.16 / .8 + 4.16 / .8) / 2
        assert loss_fn(pred, target).item() == pytest.approx(expected)


# --------------------------------------------------------------------------
# cross-view consistency (Pseudo-MTL Eq. 3-10)
# --------------------------------------------------------------------------
def _stereo_inputs(seed=0, batch=2):
    g = torch.Generator().manual_seed(seed)

    def rand(*shape, lo=0., hi=1.):
        return lo + (hi - lo) * torch.rand(*shape, generator=g)

    return dict(
        pred_l=rand(batch, 1, H, W, lo=5, hi=20),
        pred_r=rand(batch, 1, H, W, lo=5, hi=20),
        pseudo_l=rand(batch, 1, H, W, lo=5, hi=20),
        pseudo_r=rand(batch, 1, H, W, lo=5, hi=20),
        conf_l=rand(batch, 1, H, W),
        conf_r=rand(batch, 1, H, W),
        seg_l=rand(batch, C, H, W, lo=-2, hi=2),
        seg_r=rand(batch, C, H, W, lo=-2, hi=2),
        label_l=torch.randint(0, C, (batch, H, W), generator=g),
        label_r=torch.randint(0, C, (batch, H, W), generator=g))


def _depth_cv(x, **kwargs):
    return CrossViewDepthConsistencyLoss(**kwargs)(
        x['pred_l'], x['pred_r'], x['pseudo_l'], x['pseudo_r'], x['conf_l'],
        x['conf_r'], FOCAL, BASELINE)


def _seg_cv(x, **kwargs):
    return CrossViewSegConsistencyLoss(**kwargs)(
        x['seg_l'], x['seg_r'], x['label_l'], x['label_r'], x['pseudo_l'],
        x['pseudo_r'], x['conf_l'], x['conf_r'], FOCAL, BASELINE)


def _sample(x, i):
    return {k: v[i:i + 1] for k, v in x.items()}


def _assert_terms_equal(batch, single):
    assert batch.keys() == single.keys() and batch
    for key in batch:
        assert torch.isfinite(batch[key]), key
        torch.testing.assert_close(batch[key], single[key], msg=key)


@pytest.mark.parametrize('what', ['confidence', 'pseudo_depth'])
def test_cross_view_depth_ignores_a_sample_without_usable_pixels(what):
    x = _stereo_inputs()
    if what == 'confidence':
        x['conf_l'][1] = 0
        x['conf_r'][1] = 0
    else:
        x['pseudo_l'][1] = 0
        x['pseudo_r'][1] = 0
    _assert_terms_equal(_depth_cv(x), _depth_cv(_sample(x, 0)))
    # the seg terms are weighted by the same confidence / warped with the
    # same pseudo depth
    _assert_terms_equal(_seg_cv(x), _seg_cv(_sample(x, 0)))


def test_cross_view_terms_are_zero_without_any_usable_pixel():
    x = _stereo_inputs()
    for key in ('pred_l', 'pred_r', 'seg_l', 'seg_r'):
        x[key].requires_grad_(True)
    for key in ('conf_l', 'conf_r'):
        x[key] = torch.zeros_like(x[key])
    losses = {**_depth_cv(x), **_seg_cv(x)}
    assert len(losses) == 6
    for key, value in losses.items():
        assert value.item() == 0.0, key
    sum(losses.values()).backward()
    _finite_grads(x['pred_l'], x['pred_r'], x['seg_l'], x['seg_r'])


def test_cross_view_seg_with_all_ignore_labels():
    x = _stereo_inputs()
    x['label_l'][1] = 255
    x['label_r'][1] = 255
    # the label terms (Eq. 9, 10) see sample 0 only; Eq. 8 has no labels
    # and keeps sample 1
    batch, single = _seg_cv(x), _seg_cv(_sample(x, 0))
    for key in ('loss_seg_cv_l', 'loss_seg_cv_r'):
        torch.testing.assert_close(batch[key], single[key])
    assert not torch.allclose(batch['loss_seg_cv_lr'],
                              single['loss_seg_cv_lr'])
    # every label ignored: Eq. 9 and 10 are exactly 0, Eq. 8 unchanged
    x['label_l'][:] = 255
    x['label_r'][:] = 255
    x['seg_l'].requires_grad_(True)
    out = _seg_cv(x)
    assert out['loss_seg_cv_l'].item() == 0.0
    assert out['loss_seg_cv_r'].item() == 0.0
    torch.testing.assert_close(out['loss_seg_cv_lr'], batch['loss_seg_cv_lr'])
    sum(out.values()).backward()
    _finite_grads(x['seg_l'])


# --------------------------------------------------------------------------
# photometric
# --------------------------------------------------------------------------
def test_photometric_on_black_images_is_exactly_zero():
    # SSIM of two all-zero windows is C1 C2 / (C1 C2) = 1: no 0 / 0
    target = torch.zeros(2, 3, H, W)
    warped = torch.zeros(2, 3, H, W, requires_grad=True)
    loss_fn = PhotometricReprojectionLoss(identity_noise=0.)
    loss = loss_fn([warped], target, sources=[target.clone()])
    assert loss.item() == 0.0
    loss.backward()
    _finite_grads(warped)


def test_photometric_where_identity_wins_everywhere():
    """A static scene: every identity error is 0, so no warped source
    wins; the loss is the mean of the (noise-only) identity errors and no
    gradient reaches the warped images."""
    g = torch.Generator().manual_seed(0)
    target = torch.rand(1, 3, H, W, generator=g)
    warped = (target + 0.1).clamp(0, 1).requires_grad_(True)
    loss_fn = PhotometricReprojectionLoss(identity_noise=0.)
    loss_map, automask = loss_fn.min_error([warped], target,
                                           sources=[target.clone()])
    assert not automask.any()
    assert torch.equal(loss_map, torch.zeros_like(loss_map))
    loss_fn([warped], target, sources=[target.clone()]).backward()
    assert torch.equal(warped.grad, torch.zeros_like(warped.grad))


# --------------------------------------------------------------------------
# through the heads: CE with all-ignore labels, L1 without valid depth
# --------------------------------------------------------------------------
CHANNELS = [64, 64, 128, 256, 512]
HH, WW = 64, 96


def _baseline_model():
    torch.manual_seed(0)
    model = MODELS.build(
        dict(
            type='MultiTaskSegmentor',
            data_preprocessor=dict(
                type='MultiViewDataPreProcessor',
                mean=[123.675, 116.28, 103.53],
                std=[58.395, 57.12, 57.375],
                size_divisor=32),
            backbone=dict(type='ResNetEncoder', depth=18),
            depth_head=dict(
                type='UNetDepthHead',
                in_channels=CHANNELS,
                channels=(32, 32, 16, 16, 8),
                loss_depth=dict(type='DepthL1Loss')),
            seg_head=dict(
                type='UNetSegHead',
                in_channels=CHANNELS,
                in_index=[0, 1, 2, 3, 4],
                input_transform='multiple_select',
                channels=8,
                decoder_channels=(32, 32, 16, 16, 8),
                num_classes=C,
                dropout_ratio=0.,
                loss_decode=dict(
                    type='CrossEntropyLoss', avg_non_ignore=True))))
    return model


def _head_batch(model, labels, depths):
    rng = np.random.default_rng(0)
    inputs, samples = [], []
    for label, depth in zip(labels, depths):
        s = SegDataSample()
        s.set_metainfo(dict(img_shape=(HH, WW), ori_shape=(HH, WW)))
        s.gt_sem_seg = PixelData(data=label[None])
        s.gt_depth_map = PixelData(data=depth[None])
        inputs.append(
            torch.from_numpy(rng.integers(0, 255, (3, HH, WW),
                                          dtype=np.uint8)))
        samples.append(s)
    return model.data_preprocessor(
        dict(inputs=inputs, data_samples=samples), True)


def test_head_losses_with_all_ignore_labels_and_no_valid_depth():
    model = _baseline_model()
    g = torch.Generator().manual_seed(1)
    label = torch.randint(0, C, (HH, WW), generator=g)
    depth = 1 + 50 * torch.rand(HH, WW, generator=g)
    ignored = torch.full_like(label, 255)
    no_depth = torch.zeros_like(depth)

    # sample 1 has neither labels nor depth: the losses are sample 0's
    data = _head_batch(model, [label, ignored], [depth, no_depth])
    losses = model(**data, mode='loss')
    with torch.no_grad():
        out = model(data['inputs'], mode='tensor')
    logits = resize(out['seg_logits'], size=(HH, WW), mode='bilinear')
    pred = resize(out['depth'][0], size=(HH, WW), mode='bilinear')
    # mean CE over sample 0's pixels (the ignored ones of sample 1 are out
    # of numerator and denominator, avg_non_ignore) and mean |error|
    expected_ce = F.cross_entropy(logits[:1], label[None])
    expected_l1 = (pred[0, 0] - depth).abs().mean()
    torch.testing.assert_close(losses['seg.loss_ce'], expected_ce)
    torch.testing.assert_close(losses['depth.loss_depth'], expected_l1)

    # nothing usable anywhere: both exactly 0, finite gradients
    data = _head_batch(model, [ignored, ignored], [no_depth, no_depth])
    losses = model(**data, mode='loss')
    assert losses['seg.loss_ce'].item() == 0.0
    assert losses['depth.loss_depth'].item() == 0.0
    model.zero_grad()
    sum(losses.values()).backward()
    for name, param in model.named_parameters():
        if param.grad is not None:
            assert torch.isfinite(param.grad).all(), name
