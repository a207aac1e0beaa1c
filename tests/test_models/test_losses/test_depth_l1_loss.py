# Copyright (c) mmdepthseg contributors. All rights reserved.
import pytest
import torch

from mmdepthseg.models.losses import DepthL1Loss
from mmdepthseg.registry import MODELS

# pred and ground truth used by most tests; gt 0 marks an invalid pixel.
PRED = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
GT = torch.tensor([[[[2.0, 0.0], [1.0, 4.0]]]])


def test_mean_absolute_error_over_valid_pixels():
    loss = MODELS.build(dict(type='DepthL1Loss'))
    # valid: |1-2| + |3-1| + |4-4| = 3 over 3 pixels
    assert loss(PRED, GT).item() == pytest.approx(1.0)


def test_loss_weight_scales_the_loss():
    assert DepthL1Loss(loss_weight=2.5)(PRED, GT).item() == pytest.approx(2.5)


def test_depth_range_restricts_the_valid_pixels():
    # gt 4 > max_depth is ignored: (1 + 2) / 2
    assert DepthL1Loss(max_depth=3.0)(PRED, GT).item() == pytest.approx(1.5)
    # gt 1 < min_depth is ignored: (1 + 0) / 2
    assert DepthL1Loss(min_depth=1.5)(PRED, GT).item() == pytest.approx(0.5)


def test_extra_valid_mask_is_combined_with_gt_validity():
    mask = torch.tensor([[[[True, True], [False, True]]]])
    # pixel (1, 0) masked out, (0, 1) invalid gt: (1 + 0) / 2
    assert DepthL1Loss()(PRED, GT, valid_mask=mask).item() == \
        pytest.approx(0.5)


def test_gradient_is_sign_over_number_of_valid_pixels():
    pred = PRED.clone().requires_grad_(True)
    DepthL1Loss()(pred, GT).backward()
    expected = torch.tensor([[[[-1.0, 0.0], [1.0, 0.0]]]]) / 3
    assert torch.allclose(pred.grad, expected)


def test_no_valid_pixel_gives_zero_connected_to_the_graph():
    pred = PRED.clone().requires_grad_(True)
    value = DepthL1Loss()(pred, torch.zeros_like(GT))
    assert value.item() == 0.0
    value.backward()
    assert torch.equal(pred.grad, torch.zeros_like(pred))


def test_non_finite_prediction_on_invalid_pixel_does_not_leak():
    pred = PRED.clone()
    pred[0, 0, 0, 1] = float('nan')
    assert DepthL1Loss()(pred, GT).item() == pytest.approx(1.0)


def test_loss_name_and_errors():
    assert DepthL1Loss().loss_name == 'loss_depth'
    assert DepthL1Loss(loss_name='loss_l1').loss_name == 'loss_l1'
    with pytest.raises(ValueError, match='same shape'):
        DepthL1Loss()(PRED, GT[..., :1])
    with pytest.raises(ValueError, match='min_depth'):
        DepthL1Loss(min_depth=10.0, max_depth=1.0)
