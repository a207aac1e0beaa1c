# Copyright (c) mmdepthseg contributors. All rights reserved.
import copy

import pytest
import torch
import torch.nn as nn
from mmengine.runner import load_checkpoint, save_checkpoint

from mmdepthseg.models.discriminators.task_discriminator import (
    DiscriminatorDict, TaskDiscriminator)
from mmdepthseg.registry import MODELS


def _convs(disc):
    return [m for m in disc.modules() if isinstance(m, nn.Conv2d)]


def test_architecture_follows_sec_3_4():
    disc = MODELS.build(
        dict(type='TaskDiscriminator', in_channels=19, num_domains=2))
    convs = _convs(disc)
    assert [c.out_channels for c in convs] == [64, 128, 256, 512, 3]
    assert convs[0].in_channels == 19
    for conv in convs:
        assert conv.kernel_size == (4, 4) and conv.stride == (2, 2)
    # spectral norm + LeakyReLU(0.2) on the first four, not on the last
    for layer in disc.layers:
        assert hasattr(layer.conv, 'weight_orig')
        assert hasattr(layer.conv, 'weight_u')
        assert isinstance(layer.activate, nn.LeakyReLU)
        assert layer.activate.negative_slope == 0.2
        assert not layer.with_norm
    assert not hasattr(disc.classifier, 'weight_orig')


def test_output_has_k_plus_one_classes_at_the_input_size():
    disc = TaskDiscriminator(in_channels=1, num_domains=3, channels=(8, 8))
    out = disc(torch.randn(2, 1, 40, 56))
    assert out.shape == (2, 4, 40, 56)
    semisd = TaskDiscriminator(in_channels=5, num_domains=1, channels=(8, 8))
    assert semisd(torch.randn(1, 5, 16, 16)).shape == (1, 2, 16, 16)


def test_minimum_input_size_is_32_with_four_hidden_layers():
    disc = TaskDiscriminator(1, 2, channels=(4, 4, 4, 4))
    assert disc.min_size == 32
    assert disc(torch.randn(1, 1, 32, 33)).shape == (1, 3, 32, 33)
    with pytest.raises(ValueError, match='minimum size 32x32'):
        disc(torch.randn(1, 1, 31, 64))
    with pytest.raises(ValueError, match=r'\(N, 1, H, W\)'):
        disc(torch.randn(1, 2, 32, 32))


def test_singular_vectors_are_converged_at_construction():
    torch.manual_seed(0)
    disc = TaskDiscriminator(3, 2, channels=(8, 16, 16, 16))
    for layer in disc.layers:
        conv = layer.conv
        weight = conv.weight_orig.detach().flatten(1)
        sigma = conv.weight_u @ weight @ conv.weight_v
        assert sigma.item() == pytest.approx(
            torch.linalg.matrix_norm(weight, 2).item(), rel=2e-2)
    # so eval mode (stored vectors) and train mode (one more power
    # iteration) see (almost) the same normalised weights
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        out_eval = disc.eval()(x)
        out_train = disc.train()(x)
    assert torch.allclose(out_eval, out_train, atol=1e-3)


def test_eval_forward_leaves_buffers_unchanged_train_forward_iterates():
    disc = TaskDiscriminator(3, 2, channels=(4, 4, 4, 4))
    before = {k: v.clone() for k, v in disc.state_dict().items()}
    disc.eval()(torch.randn(1, 3, 32, 32))
    after = disc.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    with torch.no_grad():
        disc.layers[0].conv.weight_orig.mul_(-1).add_(0.5)
    disc.train()(torch.randn(1, 3, 32, 32))
    assert not torch.equal(before['layers.0.conv.weight_u'],
                           disc.state_dict()['layers.0.conv.weight_u'])


def test_state_dict_round_trip_through_an_mmengine_checkpoint(tmp_path):
    torch.manual_seed(0)
    src = TaskDiscriminator(3, 2, channels=(4, 8, 8, 8))
    src.train()(torch.randn(2, 3, 32, 32))  # move u, v
    torch.manual_seed(1)
    dst = TaskDiscriminator(3, 2, channels=(4, 8, 8, 8))
    path = str(tmp_path / 'disc.pth')
    save_checkpoint(src.state_dict(), path)
    load_checkpoint(dst, path, strict=True)
    x = torch.randn(2, 3, 32, 32)
    src.eval()
    dst.eval()
    assert torch.equal(src(x), dst(x))
    for key, value in src.state_dict().items():
        assert torch.equal(value, dst.state_dict()[key]), key


def test_module_pickles_whole():
    """The spectral-norm hooks survive pickling (deepcopy pickles)."""
    disc = TaskDiscriminator(3, 2, channels=(4, 4, 4, 4)).eval()
    clone = copy.deepcopy(disc).eval()
    x = torch.randn(1, 3, 32, 32)
    assert torch.equal(disc(x), clone(x))


def test_discriminator_dict_runs_every_task_in_one_call():
    discs = DiscriminatorDict(
        dict(
            seg=TaskDiscriminator(4, 2, channels=(4, 4)),
            depth=TaskDiscriminator(1, 2, channels=(4, 4)))).eval()
    assert list(discs.keys()) == ['seg', 'depth']
    seg, depth = torch.randn(2, 4, 8, 8), torch.randn(3, 1, 8, 8)
    out = discs(dict(seg=seg, depth=depth))
    assert torch.equal(out['seg'], discs['seg'](seg))
    assert out['depth'].shape == (3, 3, 8, 8)
    with pytest.raises(KeyError, match='normals'):
        discs(dict(normals=seg))


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match='num_domains'):
        TaskDiscriminator(3, 0)
    with pytest.raises(ValueError, match='in_channels'):
        TaskDiscriminator(0, 2)
