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
