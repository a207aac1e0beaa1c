# Copyright (c) mmdepthseg contributors. All rights reserved.
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.modules.batchnorm import _BatchNorm

from mmdepthseg.models.backbones.xception import Xception65, XceptionBlock
from mmdepthseg.registry import MODELS

TINY = 0.125  # every width / 8: low-level 32, high-level 256 channels


def _tiny(**kwargs) -> Xception65:
    return Xception65(width_mult=TINY, **kwargs)


def _num_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _hand_param_count(width: float = 1.0, num_middle: int = 16) -> int:
    """Parameters of aligned Xception-65, from the published layer list.

    A 3x3 separable conv ``cin -> cout`` with BN after the depthwise and the
    pointwise conv holds ``9 cin + 2 cin + cin cout + 2 cout`` parameters; a
    1x1 skip conv with BN ``cin cout + 2 cout``; a dense 3x3 conv with BN
    ``9 cin cout + 2 cout``. No conv has a bias (each is followed by BN).
    """

    def c(n):
        return max(1, int(round(n * width)))

    def sep(cin, cout):
        return 9 * cin + 2 * cin + cin * cout + 2 * cout

    def skip(cin, cout):
        return cin * cout + 2 * cout

    def dense3x3(cin, cout):
        return 9 * cin * cout + 2 * cout

    total = dense3x3(3, c(32)) + dense3x3(c(32), c(64))
    # Entry flow: three blocks with a 1x1 strided conv skip.
    cin = c(64)
    for width_ in (128, 256, 728):
        cout = c(width_)
        total += sep(cin, cout) + 2 * sep(cout, cout) + skip(cin, cout)
        cin = cout
    # Middle flow: identity skip.
    total += num_middle * 3 * sep(c(728), c(728))
    # Exit flow.
    total += (
        sep(c(728), c(728)) + sep(c(728), c(1024)) + sep(c(1024), c(1024)) +
        skip(c(728), c(1024)))
    total += (
        sep(c(1024), c(1536)) + sep(c(1536), c(1536)) + sep(c(1536), c(2048)))
    return total


@pytest.mark.parametrize('output_stride', [8, 16, 32])
def test_output_shapes_and_strides(output_stride):
    model = _tiny(output_stride=output_stride)
    assert model.out_channels == (32, 256)
    low, high = model(torch.randn(2, 3, 64, 96))
    assert tuple(low.shape) == (2, 32, 16, 24)
    assert tuple(high.shape) == (2, 256, 64 // output_stride,
                                 96 // output_stride)


@pytest.fixture(scope='module')
def xception65() -> Xception65:
    """The published-width model, built once for the tests that read it."""
    return Xception65()


def test_published_widths(xception65):
    model = xception65
    assert model.out_channels == (256, 2048)
    assert model.stem[0].conv.out_channels == 32
    assert model.stem[1].conv.out_channels == 64
    assert len(model.middle_flow) == 16
    blocks = [m for m in model.modules() if isinstance(m, XceptionBlock)]
    widths = [[sep.pointwise_conv.conv.out_channels for sep in block.convs]
              for block in blocks]
    entry = [[128] * 3, [256] * 3, [728] * 3]
    middle = [[728] * 3] * 16
    exit_ = [[728, 1024, 1024], [1536, 1536, 2048]]
    assert widths == entry + middle + exit_


def test_parameter_count_matches_hand_count(xception65):
    # 37,867,312 = stem 19,488 + entry 53,696 + 205,696 + 1,457,360
    #   + middle 16 x 1,618,344 + exit 3,104,384 + 7,133,184.
    assert _hand_param_count() == 37_867_312
    assert _num_params(xception65) == 37_867_312
    assert _num_params(_tiny()) == _hand_param_count(TINY)
    assert _num_params(_tiny(num_middle_blocks=2)) == _hand_param_count(
        TINY, num_middle=2)


def test_aligned_form_has_no_pooling_and_bn_relu_after_every_conv():
    model = _tiny()
    assert not any(
        isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)) for m in model.modules())
    for block in model.modules():
        if not isinstance(block, XceptionBlock):
            continue
        for sep in block.convs:
            for conv in (sep.depthwise_conv, sep.pointwise_conv):
                assert conv.with_norm and conv.with_activation
                assert conv.conv.bias is None
            depthwise = sep.depthwise_conv.conv
            assert depthwise.kernel_size == (3, 3)
            assert depthwise.groups == depthwise.in_channels


@pytest.mark.parametrize('output_stride, strides, dilations', [
    (32, (2, 2, 2, 1, 2, 1), (1, 1, 1, 1, 1, 1)),
    (16, (2, 2, 2, 1, 1, 1), (1, 1, 1, 1, 1, 2)),
    (8, (2, 2, 1, 1, 1, 1), (1, 1, 1, 2, 2, 4)),
])
def test_atrous_scheme(output_stride, strides, dilations):
    """(entry1, entry2, entry3, middle, exit1, exit2) as DeepLab builds them:
    once ``output_stride`` is reached, strided blocks run at stride 1 and
    every later block doubles its dilation."""
    model = _tiny(output_stride=output_stride, num_middle_blocks=2)
    blocks = [
        model.entry_block1, model.entry_block2, model.entry_block3,
        model.middle_flow[0], model.exit_block1, model.exit_block2
    ]
    assert tuple(b.convs[-1].depthwise_conv.conv.stride[0]
                 for b in blocks) == strides
    assert tuple(b.convs[0].depthwise_conv.conv.dilation[0]
                 for b in blocks) == dilations
    for block in blocks:
        for sep in block.convs:
            conv = sep.depthwise_conv.conv
            assert conv.padding == conv.dilation
    assert model.middle_flow[1].convs[0].depthwise_conv.conv.dilation[0] == \
        dilations[3]


@pytest.mark.parametrize('output_stride', [8, 16])
@pytest.mark.parametrize('size', [(33, 50), (65, 97), (17, 23)])
def test_sizes_not_multiple_of_16_round_up(output_stride, size):
    h, w = size
    low, high = _tiny(
        output_stride=output_stride, num_middle_blocks=1)(
            torch.randn(1, 3, h, w))
    assert low.shape[-2:] == (math.ceil(h / 4), math.ceil(w / 4))
    assert high.shape[-2:] == (math.ceil(h / output_stride),
                               math.ceil(w / output_stride))


def test_low_level_is_the_second_conv_of_entry_block2():
    model = _tiny(num_middle_blocks=1).eval()
    x = torch.randn(1, 3, 32, 48)
    with torch.no_grad():
        low, _ = model(x)
        feat = model.entry_block1(model.stem(x))
        expected = model.entry_block2.convs[1](
            model.entry_block2.convs[0](feat))
    assert torch.allclose(low, expected)
    assert low.min() >= 0  # after BN + ReLU


def test_middle_block_is_identity_when_its_branch_is_silenced():
    block = XceptionBlock(8, (8, 8, 8), skip='sum').eval()
    with torch.no_grad():
        block.convs[-1].pointwise_conv.conv.weight.zero_()
        block.convs[-1].pointwise_conv.bn.bias.zero_()
    x = torch.randn(2, 8, 5, 7)
    assert torch.equal(block(x), x)


def test_entry_block_skip_is_a_strided_1x1_conv_with_bn():
    block = XceptionBlock(4, (6, 6, 6), stride=2, skip='conv').eval()
    with torch.no_grad():
        block.convs[-1].pointwise_conv.conv.weight.zero_()
        block.convs[-1].pointwise_conv.bn.bias.zero_()
        bn = block.shortcut.bn
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
        bn.weight.uniform_(0.5, 2)
        bn.bias.uniform_(-1, 1)
        x = torch.randn(2, 4, 7, 9)
        weight = block.shortcut.conv.weight
        expected = F.conv2d(x, weight, stride=2)
        expected = ((expected - bn.running_mean[:, None, None]) /
                    torch.sqrt(bn.running_var[:, None, None] + bn.eps) *
                    bn.weight[:, None, None] + bn.bias[:, None, None])
        out = block(x)
    assert out.shape == (2, 6, 4, 5)
    assert torch.allclose(out, expected, atol=1e-5)


@pytest.mark.parametrize('norm_eval', [True, False])
def test_norm_eval_freezes_bn_statistics(norm_eval):
    model = _tiny(num_middle_blocks=1, norm_eval=norm_eval)
    model.train()
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert all(bn.training is not norm_eval for bn in bns)
    before = [bn.running_mean.clone() for bn in bns]
    model(torch.randn(2, 3, 32, 32) * 3 + 1)
    changed = [
        not torch.equal(b, bn.running_mean) for b, bn in zip(before, bns)
    ]
    if norm_eval:
        assert not any(changed)
    else:
        assert all(changed)


def test_gradients_reach_the_first_conv():
    model = _tiny(num_middle_blocks=1)
    low, high = model(torch.randn(2, 3, 32, 48))
    (low.mean() + high.mean()).backward()
    grad = model.stem[0].conv.weight.grad
    assert grad is not None and torch.isfinite(grad).all()
    assert grad.abs().sum() > 0


def test_registry_builds_it_in_the_default_scope():
    model = MODELS.build(
        dict(type='Xception65', width_mult=TINY, num_middle_blocks=1))
    assert isinstance(model, Xception65)
    assert MODELS.get('mmdepthseg.Xception65') is Xception65


@pytest.mark.parametrize('kwargs, match', [
    (dict(output_stride=12), 'output_stride.*12'),
    (dict(output_stride=4), 'output_stride.*4'),
    (dict(width_mult=0), 'width_mult.*0'),
    (dict(num_middle_blocks=-1), 'num_middle_blocks.*-1'),
])
def test_bad_arguments_raise_naming_the_value(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Xception65(**kwargs)


def test_wrong_input_channels_raise_a_clear_error():
    model = _tiny(in_channels=4, num_middle_blocks=1)
    with pytest.raises(ValueError, match=r'\(B, 4, H, W\)'):
        model(torch.randn(1, 3, 32, 32))


def test_pretrained_weights_load_from_a_local_file(tmp_path):
    source = _tiny(num_middle_blocks=1)
    with torch.no_grad():
        source.exit_block2.convs[-1].pointwise_conv.conv.weight.uniform_(-1, 1)
    ckpt = tmp_path / 'xception.pth'
    torch.save(source.state_dict(), ckpt)

    target = _tiny(
        num_middle_blocks=1,
        init_cfg=dict(type='Pretrained', checkpoint=str(ckpt)))
    target.init_weights()
    for name, value in source.state_dict().items():
        assert torch.equal(target.state_dict()[name], value), name
