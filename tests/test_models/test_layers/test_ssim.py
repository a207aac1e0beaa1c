# Copyright (c) mmdepthseg contributors. All rights reserved.
import pytest
import torch

from mmdepthseg.models.layers.ssim import SSIM


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
