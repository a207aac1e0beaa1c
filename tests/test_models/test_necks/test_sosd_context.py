# Copyright (c) mmdepthseg contributors. All rights reserved.
import pytest
import torch
from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule

from mmdepthseg.models.necks.sosd_context import SOSDContextNeck
from mmdepthseg.registry import MODELS


def _neck(**kwargs):
    cfg = dict(type='SOSDContextNeck', in_channels=16, channels=8)
    cfg.update(kwargs)
    torch.manual_seed(0)
    return MODELS.build(cfg)


def test_low_level_passes_through_and_global_feature_has_neck_width():
    neck = _neck()
    assert isinstance(neck, SOSDContextNeck)
    low = torch.randn(2, 5, 16, 32)
    high = torch.randn(2, 16, 4, 8)
    out_low, out_global = neck((low, high))
    assert out_low is low
    assert out_global.shape == (2, 8, 4, 8)


@pytest.mark.parametrize('separable', [True, False])
def test_three_parts_have_the_widths_of_fig4(separable):
    """Parameter count by hand: ASPP (rates 6, 12, 18), 1x1 cross-channel
    learner, image pool 1x1 conv, 1x1 fusion of 5 x 256-style branches."""
    c_in, c = 16, 8
    neck = _neck(separable=separable)
    bn = 2 * c  # gamma and beta of a BN after a conv without bias
    if separable:
        # depthwise 3x3 (+BN over c_in) then pointwise 1x1 (+BN over c)
        atrous = 9 * c_in + 2 * c_in + c_in * c + bn
    else:
        atrous = 9 * c_in * c + bn
    expected = (3 * atrous + (c_in * c + bn) + (c_in * c + bn) +
                (5 * c * c + bn))
    assert sum(p.numel() for p in neck.parameters()) == expected
    assert len(neck.aspp) == 3
    kind = DepthwiseSeparableConvModule if separable else ConvModule
    for module, rate in zip(neck.aspp, (6, 12, 18)):
        assert isinstance(module, kind)
        conv = module.depthwise_conv.conv if separable else module.conv
        assert conv.dilation == (rate, rate)
        assert conv.kernel_size == (3, 3)
    assert neck.channel_learner.conv.kernel_size == (1, 1)


def test_full_image_extractor_sees_beyond_the_atrous_receptive_field():
    """A change 70 columns away (receptive field of the 3x3 rate-18 conv:
    +-18) reaches the output only through the global pooling branch."""
    neck = _neck().eval()
    high = torch.randn(1, 16, 4, 80)
    other = high.clone()
    other[..., 79] += 5.0
    with torch.no_grad():
        out_a = neck((None, high))[1]
        out_b = neck((None, other))[1]
        assert not torch.allclose(out_a[..., 0], out_b[..., 0])
        # without the pooling branch the far column has no influence
        neck.image_pool[1].conv.weight.zero_()
        neck.image_pool[1].bn.bias.zero_()
        out_a = neck((None, high))[1]
        out_b = neck((None, other))[1]
        torch.testing.assert_close(out_a[..., :40], out_b[..., :40])


def test_bad_inputs_raise_clear_errors():
    neck = _neck()
    with pytest.raises(ValueError, match='low_level, high_level'):
        neck(torch.randn(1, 16, 4, 4))
    with pytest.raises(ValueError, match='in_channels is 16'):
        neck((None, torch.randn(1, 15, 4, 4)))
    with pytest.raises(ValueError, match='rates > 1'):
        _neck(dilations=(1, 6))
