# Copyright (c) mmdepthseg contributors. All rights reserved.
import math

import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmdepthseg.models.decode_heads import UNetDepthHead
from mmdepthseg.registry import MODELS

ENC_CHANNELS = (64, 64, 128, 256, 512)


def _encoder_feats(batch=2, height=64, width=128):
    return tuple(
        torch.randn(batch, c, height // 2**(k + 1), width // 2**(k + 1))
        for k, c in enumerate(ENC_CHANNELS))


def _samples(depth_views):
    """SegDataSamples with ``gt_depth_map`` (V', H, W) per sample."""
    samples = []
    for depth in depth_views:
        sample = SegDataSample()
        sample.gt_depth_map = PixelData(data=depth)
        samples.append(sample)
    return samples


def test_depth_per_scale_within_range():
    head = MODELS.build(
        dict(
            type='UNetDepthHead',
            in_channels=ENC_CHANNELS,
            num_output_scales=4,
            min_depth=0.5,
            max_depth=80.0))
    depths = head(_encoder_feats())
    assert [tuple(d.shape) for d in depths] == [(2, 1, 64, 128),
                                                (2, 1, 32, 64), (2, 1, 16, 32),
                                                (2, 1, 8, 16)]
    for depth in depths:
        assert depth.min() >= 0.5 and depth.max() <= 80.0


def test_depth_is_monodepth2_conversion_of_the_sigmoid_output():
    head = UNetDepthHead(ENC_CHANNELS, min_depth=0.1, max_depth=100.0)
    feats = _encoder_feats(1)
    with torch.no_grad():
        disp = head.forward_disp(feats)[0]
        depth = head(feats)[0]
    assert disp.min() >= 0 and disp.max() <= 1
    expected = 1.0 / (1 / 100.0 + (1 / 0.1 - 1 / 100.0) * disp)
    assert torch.allclose(depth, expected, rtol=1e-5)


@pytest.mark.parametrize('bias,expected', [(50.0, 0.1), (-50.0, 100.0)])
def test_saturated_disparity_reaches_the_depth_bounds(bias, expected):
    head = UNetDepthHead(ENC_CHANNELS)
    with torch.no_grad():
        head.disp_convs[0].conv.weight.zero_()
        head.disp_convs[0].conv.bias.fill_(bias)
        depth = head(_encoder_feats(1))[0]
    assert torch.allclose(depth, torch.full_like(depth, expected), rtol=1e-4)


def test_initialised_head_starts_from_unsaturated_disparity():
    torch.manual_seed(0)
    head = UNetDepthHead(ENC_CHANNELS)
    head.init_weights()
    feats = tuple(0.6 * f for f in _encoder_feats())
    with torch.no_grad():
        disp = head.forward_disp(feats)[0]
    # the default init gives the disparity conv std 0.01 and bias 0
    assert head.disp_convs[0].conv.weight.std() < 0.02
    assert head.disp_convs[0].conv.bias.abs().max() == 0
    assert 0.02 < disp.min() and disp.max() < 0.98


def test_loss_uses_view_zero_and_valid_pixels():
    head = UNetDepthHead(ENC_CHANNELS)
    gt_view0 = torch.tensor([[2.0, 0.0], [4.0, 8.0]]).repeat(4, 4)
    gt_view1 = torch.full((8, 8), 50.0)
    samples = _samples([torch.stack([gt_view0, gt_view1])] * 2)
    pred = torch.full((2, 1, 8, 8), 3.0)
    losses = head.loss_by_feat([pred], samples)
    assert set(losses) == {'loss_depth'}
    # valid pixels of view 0: |3-2|, |3-4|, |3-8| -> mean 7/3
    assert losses['loss_depth'].item() == pytest.approx(7 / 3)


def test_loss_is_averaged_over_scales_after_upsampling():
    head = UNetDepthHead(ENC_CHANNELS, num_output_scales=2)
    samples = _samples([torch.full((1, 8, 8), 5.0)])
    preds = [torch.full((1, 1, 8, 8), 4.0), torch.full((1, 1, 4, 4), 8.0)]
    losses = head.loss_by_feat(preds, samples)
    assert losses['loss_depth'].item() == pytest.approx((1.0 + 3.0) / 2)


def test_several_losses_are_logged_under_their_names():
    head = UNetDepthHead(
        ENC_CHANNELS,
        loss_depth=[
            dict(type='DepthL1Loss', loss_name='loss_l1'),
            dict(type='DepthL1Loss', loss_weight=2.0, loss_name='loss_l1x2')
        ])
    samples = _samples([torch.full((1, 64, 128), 10.0)] * 2)
    losses = head.loss(_encoder_feats(), samples, train_cfg=None)
    assert set(losses) == {'loss_l1', 'loss_l1x2'}
    assert torch.isfinite(losses['loss_l1'])
    assert losses['loss_l1x2'].item() == pytest.approx(
        2 * losses['loss_l1'].item(), rel=1e-5)
    losses['loss_l1'].backward()
    assert head.decoder.stages[0].conv_in.conv.weight.grad.abs().sum() > 0


def test_predict_resizes_to_the_padded_input_size():
    head = UNetDepthHead(ENC_CHANNELS, num_output_scales=2)
    metas = [dict(img_shape=(60, 120), pad_shape=(64, 128))] * 2
    with torch.no_grad():
        depth = head.predict(_encoder_feats(), metas, test_cfg=None)
    assert depth.shape == (2, 1, 64, 128)
    assert depth.min() >= 0.1 and depth.max() <= 100.0


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match='min_depth'):
        UNetDepthHead(ENC_CHANNELS, min_depth=10.0, max_depth=1.0)
    with pytest.raises(ValueError, match='num_output_scales'):
        UNetDepthHead(ENC_CHANNELS, num_output_scales=6)
    with pytest.raises(TypeError, match='loss_depth'):
        UNetDepthHead(ENC_CHANNELS, loss_depth='DepthL1Loss')
    assert math.isfinite(UNetDepthHead(ENC_CHANNELS).max_depth)
