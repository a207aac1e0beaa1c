# Copyright (c) mmdepthseg contributors. All rights reserved.
import pytest
import torch

from mmdepthseg.models.backbones import ResNetEncoder
from mmdepthseg.models.decode_heads import FSREDualDecoder


@pytest.fixture(scope='module')
def feats():
    torch.manual_seed(0)
    enc = ResNetEncoder(depth=18)
    return enc(torch.rand(2, 3, 64, 128)), enc.out_channels


def test_outputs_by_scale_and_layer(feats):
    x, channels = feats
    dec = FSREDualDecoder(channels, num_classes=5)
    dec.init_weights()
    out = dec(x)
    assert [tuple(d.shape) for d in out['disps']] == [(2, 1, 64 >> s, 128 >> s)
                                                      for s in range(4)]
    assert all(((d > 0) & (d < 1)).all() for d in out['disps'])
    assert out['seg_logits'].shape == (2, 5, 64, 128)
    # layer l of (256, 128, 64, 32, 16) sits at 1/2^(4-l)
    assert {
        k: tuple(v.shape)
        for k, v in out['depth_feats'].items()
    } == {
        1: (2, 128, 8, 16),
        2: (2, 64, 16, 32),
        3: (2, 32, 32, 64)
    }
    assert set(dec.cma) == {'0', '1', '2'}


def test_cma_couples_the_decoders_and_can_be_switched_off(feats):
    x, channels = feats
    torch.manual_seed(0)
    with_cma = FSREDualDecoder(channels)
    out = with_cma(x)
    # the depth output depends on the segmentation decoder through CMA
    grads = torch.autograd.grad(
        out['disps'][0].sum(),
        list(with_cma.seg_decoder.parameters()),
        allow_unused=True)
    assert any(g is not None and g.abs().sum() > 0 for g in grads)
    without = FSREDualDecoder(channels, cma_layers=())
    out = without(x)
    grads = torch.autograd.grad(
        out['disps'][0].sum(),
        list(without.seg_decoder.parameters()),
        allow_unused=True)
    assert all(g is None for g in grads)


def test_invalid_layers_are_named(feats):
    _, channels = feats
    with pytest.raises(ValueError, match='cma_layers'):
        FSREDualDecoder(channels, cma_layers=(5, ))
    with pytest.raises(ValueError, match='num_output_scales'):
        FSREDualDecoder(channels, num_output_scales=0)


def _cma_io(dec, x):
    """Run the decoder and record each CMA pair's depth input and output."""
    seen = {}

    def hook(layer):

        def fn(module, args, output):
            seen[layer] = (args[0], output[0])

        return fn

    handles = [
        dec.cma[str(l)].register_forward_hook(hook(l))  # noqa: E741
        for l in dec.cma_layers  # noqa: E741
    ]
    out = dec(x)
    for h in handles:
        h.remove()
    return out, seen


@pytest.mark.parametrize('after', [False, True])
def test_triplet_features_before_or_after_cma(feats, after):
    # released code: the SGT reads the CMA output of layers 1, 2 (its
    # d_feature); text reading: the CMA input F_d^l. Layer 3 has no CMA.
    x, channels = feats
    torch.manual_seed(0)
    dec = FSREDualDecoder(channels, features_after_cma=after)
    out, seen = _cma_io(dec, x)
    for layer in (1, 2):
        cma_in, cma_out = seen[layer]
        assert not torch.allclose(cma_in, cma_out)
        assert out['depth_feats'][layer] is (cma_out if after else cma_in)
    # layer 3 is what layer 4 reads either way: the stage output
    stage_out = {}

    def record(module, args, output):  # returns None: output unchanged
        stage_out[3] = output

    handle = dec.depth_decoder.stages[3].register_forward_hook(record)
    out = dec(x)
    handle.remove()
    assert out['depth_feats'][3] is stage_out[3]


def test_init_modes(feats):
    _, channels = feats
    torch.manual_seed(0)
    mmcv = FSREDualDecoder(channels, init_mode='mmcv')
    mmcv.init_weights()
    torch.manual_seed(0)
    pt = FSREDualDecoder(channels, init_mode='pytorch')
    convs = [(n, m) for n, m in pt.named_modules()
             if isinstance(m, torch.nn.Conv2d)]
    for state in ('built', 'init_weights'):
        if state == 'init_weights':
            pt.init_weights()
        for name, conv in convs:
            # PyTorch's default: weights and bias within 1/sqrt(fan_in)
            bound = 1 / conv.weight[0].numel()**0.5
            assert conv.weight.abs().max() <= bound + 1e-7, name
            if conv.bias is not None:
                assert 0 < conv.bias.abs().max() <= bound + 1e-7, name
    # MMCV: Kaiming normal (fan_out) beyond that bound, zero biases, heads
    # from N(0, 0.01)
    conv = mmcv.depth_decoder.stages[0].conv_in.conv
    assert conv.weight.abs().max() > 1 / conv.weight[0].numel()**0.5
    assert torch.equal(conv.bias, torch.zeros_like(conv.bias))
    assert mmcv.disp_convs[0].conv.weight.std().item() == pytest.approx(
        0.01, rel=0.3)
    with pytest.raises(ValueError, match='init_mode'):
        FSREDualDecoder(channels, init_mode='kaiming')
