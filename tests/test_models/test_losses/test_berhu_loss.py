# Copyright (c) mmdepthseg contributors. All rights reserved.
import math

import pytest
import torch

from mmdepthseg.models.losses.berhu_loss import BerHuLoss, berhu
from mmdepthseg.registry import MODELS

NAN = float('nan')


def test_registered_and_named_loss_depth():
    loss = MODELS.build(dict(type='BerHuLoss'))
    assert isinstance(loss, BerHuLoss)
    assert loss.loss_name == 'loss_depth'


def test_values_in_both_regimes_with_c_a_fifth_of_the_largest_residual():
    # residuals 0.5, -1, 5, 2  ->  c = 0.2 * 5 = 1
    pred = torch.tensor([[[[1.5, 1.0], [8.0, 4.0]]]])
    gt = torch.tensor([[[[1.0, 2.0], [3.0, 2.0]]]])
    # |r| <= c: |r|          -> 0.5, 1
    # |r| >  c: (r^2+c^2)/2c -> (25 + 1) / 2 = 13, (4 + 1) / 2 = 2.5
    expected = (0.5 + 1.0 + 13.0 + 2.5) / 4
    assert BerHuLoss()(pred, gt).item() == pytest.approx(expected)


def test_threshold_and_weight_are_configurable():
    pred = torch.tensor([[[[0.0, 0.0]]]])
    gt = torch.tensor([[[[1.0, 4.0]]]])
    # tau = 0.5: c = 2; |1| -> 1, |4| -> (16 + 4) / 4 = 5
    value = BerHuLoss(threshold=0.5, loss_weight=3.0)(pred, gt)
    assert value.item() == pytest.approx(3.0 * (1.0 + 5.0) / 2)


def test_threshold_is_taken_over_valid_pixels_only():
    # The NaN pixel is invalid; a huge residual on a masked pixel must
    # not move c either.
    pred = torch.tensor([[[[0.0, 0.0, 0.0, 100.0]]]])
    gt = torch.tensor([[[[1.0, 10.0, NAN, 0.0]]]])
    mask = torch.tensor([[[[True, True, True, False]]]])
    # valid residuals 1, 10 -> c = 2: |1| <= c -> 1; |10| -> (100 + 4) / 4
    value = BerHuLoss()(pred, gt, valid_mask=mask)
    assert value.item() == pytest.approx((1.0 + 26.0) / 2)


def test_zero_is_a_valid_target_and_nan_is_not():
    pred = torch.tensor([[[[0.5, 7.0]]]])
    gt = torch.tensor([[[[0.0, NAN]]]])
    # only the first pixel: r = 0.5 = max -> c = 0.1, (0.25 + 0.01) / 0.2
    assert BerHuLoss()(pred, gt).item() == pytest.approx(0.26 / 0.2)


def test_threshold_is_detached():
    pred = torch.tensor([[[[0.0, 0.0]]]], requires_grad=True)
    gt = torch.tensor([[[[1.0, 10.0]]]])
    BerHuLoss()(pred, gt).backward()
    # c = 2 constant: d|r|/dpred = sign(r) = -1 for the first pixel;
    # d((r^2 + c^2) / 2c)/dpred = r / c = -10 / 2 for the second; mean / 2.
    expected = torch.tensor([[[[-1.0, -5.0]]]]) / 2
    assert torch.allclose(pred.grad, expected)


def test_perfect_prediction_gives_zero_and_finite_gradient():
    # c = 0: every residual is 0, the linear branch; no division by zero.
    pred = torch.tensor([[[[1.0, 2.0]]]], requires_grad=True)
    value = BerHuLoss()(pred, pred.detach().clone())
    assert value.item() == 0.0
    value.backward()
    assert torch.isfinite(pred.grad).all()
    assert torch.equal(pred.grad, torch.zeros_like(pred))


def test_no_valid_pixel_gives_zero_connected_to_the_graph():
    pred = torch.ones(1, 1, 2, 2, requires_grad=True)
    value = BerHuLoss()(pred, torch.full((1, 1, 2, 2), NAN))
    assert value.item() == 0.0
    value.backward()
    assert torch.equal(pred.grad, torch.zeros_like(pred))


def test_berhu_function_is_continuous_at_the_threshold():
    c = torch.tensor(1.5)
    at = berhu(torch.tensor([1.5, -1.5]), c)
    above = berhu(torch.tensor([1.5 + 1e-4]), c)
    assert torch.allclose(at, torch.tensor([1.5, 1.5]))
    assert math.isclose(above.item(), 1.5, rel_tol=1e-3)


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match='same shape'):
        BerHuLoss()(torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 2, 3))
    with pytest.raises(ValueError, match='valid_mask'):
        BerHuLoss()(
            torch.zeros(1, 1, 2, 2),
            torch.zeros(1, 1, 2, 2),
            valid_mask=torch.ones(1, 1, 1, 2, dtype=torch.bool))
    with pytest.raises(ValueError, match='threshold'):
        BerHuLoss(threshold=0.0)
