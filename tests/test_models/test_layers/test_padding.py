# Copyright (c) mmdepthseg contributors. All rights reserved.
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule

from mmdepthseg.models.layers.padding import (LeanReflectionPad2d,
                                              conv_padding_mode,
                                              reflection_pad_adjoint)


@pytest.mark.parametrize('padding', [(1, 1, 1, 1), (2, 1, 0, 3), (0, 0, 2, 0),
                                     (3, 3, 3, 3)])
def test_adjoint_equals_autograd_of_reflection_padding(padding):
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 5, 6, dtype=torch.float64, generator=gen)
    padded = F.pad(x, padding, mode='reflect')
    g = torch.rand(padded.shape, dtype=torch.float64, generator=gen)
    adjoint = reflection_pad_adjoint(g, padding)
    assert adjoint.shape == x.shape
    # <pad(x), g> == <x, pad^T(g)> and pad^T is what autograd computes
    torch.testing.assert_close((padded * g).sum(), (x * adjoint).sum())
    xg = x.clone().requires_grad_()
    (F.pad(xg, padding, mode='reflect') * g).sum().backward()
    torch.testing.assert_close(adjoint, xg.grad, rtol=0, atol=1e-12)


def test_lean_pad_values_gradients_and_saved_tensors():
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(2, 4, 7, 9, generator=gen)
    lean, plain = LeanReflectionPad2d((1, 2, 2, 1)), nn.ReflectionPad2d(
        (1, 2, 2, 1))
    assert isinstance(lean, nn.ReflectionPad2d)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    saved = []

    def pack(t):
        saved.append(t)
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = lean(x1)
    assert saved == []  # nothing kept for backward: only the padding sizes
    expected = plain(x2)
    assert torch.equal(out, expected)
    g = torch.rand(out.shape, generator=gen)
    out.backward(g)
    expected.backward(g)
    torch.testing.assert_close(x1.grad, x2.grad)
    with torch.no_grad():  # inference: the plain op
        assert torch.equal(lean(x), expected.detach())


def test_conv_module_gets_the_lean_padding_layer():
    assert conv_padding_mode('reflect') is LeanReflectionPad2d
    assert conv_padding_mode('zeros') == 'zeros'
    conv = ConvModule(
        3, 4, 3, padding=1, padding_mode=conv_padding_mode('reflect'))
    assert type(conv.padding_layer) is LeanReflectionPad2d
    assert conv.padding_layer.padding == (1, 1, 1, 1)
    plain = ConvModule(3, 4, 3, padding=1, padding_mode='reflect')
    plain.load_state_dict(conv.state_dict())
    x = torch.rand(1, 3, 6, 8)
    assert torch.equal(conv(x), plain(x))
