# Copyright (c) mmdepthseg contributors. All rights reserved.
import pytest
import torch
import torch.nn as nn
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmdepthseg.models.decode_heads.conv_depth_head import ConvDepthHead
from mmdepthseg.registry import MODELS

NAN = float('nan')


def _feats(batch=2, channels=16, height=8, width=12):
    """Backbone-like features: only the last one is decoded by default."""
    return (torch.randn(batch, 4, height * 2,
                        width * 2), torch.randn(batch, channels, height,
                                                width))


def _samples(targets):
    samples = []
    for target in targets:
        sample = SegDataSample()
        sample.gt_depth_map = PixelData(data=target)
        samples.append(sample)
    return samples


def test_stages_upsample_by_two_each_to_output_stride_one():
    head = MODELS.build(
        dict(type='ConvDepthHead', in_channels=16, channels=(8, 8, 4)))
    assert isinstance(head, ConvDepthHead)
    out = head(_feats())
    assert isinstance(out, list) and len(out) == 1
    assert out[0].shape == (2, 1, 64, 96)  # 8x12 at output stride 8


def test_output_is_a_plain_linear_regression():
    # No sigmoid / depth mapping: the regression layer's bias shifts the
    # output one to one, also to negative values.
    head = ConvDepthHead(16, channels=(4, ))
    feats = _feats()
    with torch.no_grad():
        base = head(feats)[0]
        head.conv_depth.bias.add_(-7.5)
        shifted = head(feats)[0]
    assert torch.allclose(shifted, base - 7.5, atol=1e-5)
    assert shifted.max() < 0


def test_in_index_selects_the_feature_and_channels_are_checked():
    head = ConvDepthHead(4, channels=(4, ), in_index=0, scale_factor=1)
    assert head(_feats())[0].shape == (2, 1, 16, 24)
    with pytest.raises(ValueError, match=r'\(B, 16, h, w\)'):
        ConvDepthHead(16, channels=(4, ), in_index=0)(_feats())


def test_loss_is_berhu_on_finite_targets_at_the_target_size():
    head = ConvDepthHead(16, channels=(4, ), scale_factor=1)
    pred = torch.zeros(2, 1, 4, 4)
    targets = [torch.full((1, 8, 8), 2.0), torch.full((1, 8, 8), NAN)]
    targets[1][0, :4] = 0.0  # 0 is a valid target, NaN is not
    losses = head.loss_by_feat([pred], _samples(targets))
    assert set(losses) == {'loss_depth'}
    # residuals: 64 x (-2), 32 x 0 -> c = 0.4; |2| -> (4 + 0.16) / 0.8
    expected = 64 * (4.16 / 0.8) / 96
    assert losses['loss_depth'].item() == pytest.approx(expected, rel=1e-6)


def test_loss_forward_path_and_configurable_losses():
    head = ConvDepthHead(
        16,
        channels=(4, ),
        loss_depth=[
            dict(type='BerHuLoss'),
            dict(type='BerHuLoss', loss_name='loss_aux', loss_weight=0.5)
        ])
    feats = _feats()
    targets = [torch.rand(1, 16, 24), torch.rand(1, 16, 24)]
    losses = head.loss(feats, _samples(targets), None)
    assert set(losses) == {'loss_depth', 'loss_aux'}
    assert losses['loss_aux'].item() == pytest.approx(
        0.5 * losses['loss_depth'].item(), rel=1e-5)
    losses['loss_depth'].backward()
    assert head.conv_depth.weight.grad is not None


def test_predict_resizes_to_the_padded_input_size():
    head = ConvDepthHead(16, channels=(4, 4)).eval()
    feats = _feats()
    with torch.no_grad():
        out = head.predict(feats,
                           [dict(img_shape=(60, 90), pad_shape=(64, 96))],
                           None)
        raw = head(feats)[0]
    assert out.shape == (2, 1, 64, 96)
    assert torch.allclose(
        out,
        nn.functional.interpolate(
            raw, size=(64, 96), mode='bilinear', align_corners=False))


def test_bad_config_raises():
    with pytest.raises(ValueError, match='channels'):
        ConvDepthHead(16, channels=())
    with pytest.raises(TypeError, match='loss_depth'):
        ConvDepthHead(16, loss_depth='BerHuLoss')
