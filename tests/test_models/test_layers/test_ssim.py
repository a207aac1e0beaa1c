# Copyright (c) mmdepthseg contributors. All rights reserved.
import pytest
import torch

from mmdepthseg.models.layers.ssim import (SSIM, box_mean_3x3, box_sum_3x3,
                                           box_sum_3x3_transposed,
                                           reflect_pad_1)


def test_ssim_identical_images_give_zero():
    torch.manual_seed(0)
    img = torch.rand(2, 3, 7, 9)
    out = SSIM()(img, img)
    assert out.shape == img.shape
    assert torch.allclose(out, torch.zeros_like(out), atol=1e-6)


def test_ssim_constant_images_hand_computed():
    # constant x = 0.5, y = 0.25: every variance is 0, so
    # SSIM = (2*0.5*0.25 + C1) / (0.5^2 + 0.25^2 + C1)
    #      = (0.25 + 1e-4) / (0.3125 + 1e-4) and the output is (1 - SSIM)/2.
    x = torch.full((1, 1, 4, 5), 0.5, dtype=torch.float64)
    y = torch.full((1, 1, 4, 5), 0.25, dtype=torch.float64)
    expected = (1 - 0.2501 / 0.3126) / 2
    out = SSIM()(x, y)
    assert torch.allclose(out, torch.full_like(out, expected))
    # black vs white: SSIM = C1 / (1 + C1)
    out = SSIM()(torch.zeros(1, 1, 3, 3), torch.ones(1, 1, 3, 3))
    assert torch.allclose(out, torch.full_like(out, (1 - 1e-4 / 1.0001) / 2))


def test_ssim_is_symmetric_bounded_and_checks_shapes():
    torch.manual_seed(1)
    x, y = torch.rand(1, 3, 6, 6), torch.rand(1, 3, 6, 6)
    ssim = SSIM()
    out = ssim(x, y)
    assert torch.allclose(out, ssim(y, x))
    assert (out >= 0).all() and (out <= 1).all() and (out > 0).any()
    with pytest.raises(ValueError):
        ssim(x, y[..., :5])


def _reference_ssim(x, y, c1=0.01**2, c2=0.03**2):
    """The straightforward formulation (monodepth2's): 3x3 average pooling
    of reflection-padded inputs, autograd through every operation."""
    pool = torch.nn.AvgPool2d(3, 1)
    pad = torch.nn.ReflectionPad2d(1)
    x, y = pad(x), pad(y)
    mu_x, mu_y = pool(x), pool(y)
    sigma_x = pool(x * x) - mu_x**2
    sigma_y = pool(y * y) - mu_y**2
    sigma_xy = pool(x * y) - mu_x * mu_y
    n = (2 * mu_x * mu_y + c1) * (2 * sigma_xy + c2)
    d = (mu_x**2 + mu_y**2 + c1) * (sigma_x + sigma_y + c2)
    return ((1 - n / d) / 2).clamp(0, 1)


def test_box_filters_match_avg_pool_and_are_adjoint():
    gen = torch.Generator().manual_seed(2)
    x = torch.rand(2, 3, 7, 9, dtype=torch.float64, generator=gen)
    torch.testing.assert_close(
        box_mean_3x3(x), torch.nn.functional.avg_pool2d(x, 3, 1))
    assert torch.allclose(box_sum_3x3(x), 9 * box_mean_3x3(x))
    # <box(x), g> == <x, box^T(g)> for any g: the transposed filter is the
    # adjoint used by the hand-written backward pass
    g = torch.rand(2, 3, 5, 7, dtype=torch.float64, generator=gen)
    lhs = (box_sum_3x3(x) * g).sum()
    rhs = (x * box_sum_3x3_transposed(g)).sum()
    assert torch.allclose(lhs, rhs)
    assert box_sum_3x3_transposed(g).shape == x.shape


def test_reflect_padding_of_any_leading_dims():
    gen = torch.Generator().manual_seed(6)
    x = torch.rand(2, 4, 3, 5, 6, dtype=torch.float64, generator=gen)
    padded = reflect_pad_1(x)
    expected = torch.nn.functional.pad(
        x.flatten(0, 1), (1, 1, 1, 1), mode='reflect').view_as(padded)
    assert torch.equal(padded, expected)


def test_backward_keeps_only_the_image():
    # the hand-written backward recomputes the window statistics: autograd
    # keeps the input image and the shared reference, nothing else
    gen = torch.Generator().manual_seed(7)
    xs = torch.rand(3, 2, 3, 6, 8, generator=gen).requires_grad_()
    ssim = SSIM()
    ref = ssim.reference(torch.rand(2, 3, 6, 8, generator=gen))
    saved = []

    def pack(t):
        saved.append(t)
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        ssim.compare(xs, ref)
    assert len(saved) == 4
    assert saved[0] is xs
    assert all(a is b for a, b in zip(saved[1:], ref))


def test_matches_straightforward_formulation_values_and_gradients():
    gen = torch.Generator().manual_seed(3)
    x = torch.rand(2, 3, 9, 11, dtype=torch.float64, generator=gen)
    y = torch.rand(2, 3, 9, 11, dtype=torch.float64, generator=gen)
    y[0, :, :4] = x[0, :, :4]  # identical regions: values near the clamp
    weights = torch.rand(2, 3, 9, 11, dtype=torch.float64, generator=gen)
    x_new = x.clone().requires_grad_()
    x_ref = x.clone().requires_grad_()
    out = SSIM()(x_new, y)
    expected = _reference_ssim(x_ref, y)
    torch.testing.assert_close(out, expected, rtol=1e-12, atol=1e-12)
    (out * weights).sum().backward()
    (expected * weights).sum().backward()
    torch.testing.assert_close(x_new.grad, x_ref.grad, rtol=1e-9, atol=1e-12)
    # float32 agrees to rounding as well
    torch.testing.assert_close(
        SSIM()(x.float(), y.float()),
        _reference_ssim(x.float(), y.float()),
        rtol=0,
        atol=2e-5)


def test_hand_written_backward_passes_gradcheck():
    gen = torch.Generator().manual_seed(4)
    x = torch.rand(1, 2, 5, 6, dtype=torch.float64, generator=gen)
    y = torch.rand(1, 2, 5, 6, dtype=torch.float64, generator=gen)
    ssim = SSIM()
    ref = ssim.reference(y)
    assert torch.autograd.gradcheck(lambda a: ssim.compare(a, ref),
                                    (x.requires_grad_(), ))


def test_reference_shared_by_many_images_and_differentiable_reference():
    gen = torch.Generator().manual_seed(5)
    xs = torch.rand(4, 2, 3, 6, 8, generator=gen)  # 4 images per reference
    y = torch.rand(2, 3, 6, 8, generator=gen)
    ssim = SSIM()
    out = ssim.compare(xs, ssim.reference(y))
    assert out.shape == xs.shape
    for i in range(4):
        assert torch.equal(out[i], ssim(xs[i], y))
    # a reference that requires grad gets gradients too (plain autograd)
    y64 = y.double().requires_grad_()
    x64 = xs[0].double().requires_grad_()
    ssim(x64, y64).sum().backward()
    x_ref = xs[0].double().requires_grad_()
    y_ref = y.double().requires_grad_()
    _reference_ssim(x_ref, y_ref).sum().backward()
    torch.testing.assert_close(y64.grad, y_ref.grad)
    torch.testing.assert_close(x64.grad, x_ref.grad)
    with pytest.raises(ValueError, match='reference shape'):
        ssim.compare(xs[..., :5], ssim.reference(y))
