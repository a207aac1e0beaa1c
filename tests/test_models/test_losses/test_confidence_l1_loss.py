# Copyright (c) mmdepthseg contributors. All rights reserved.
import pytest
import torch

from mmdepthseg.models.losses.confidence_l1_loss import (
    ConfidenceWeightedL1Loss, confidence_weighted_mean)
from mmdepthseg.registry import MODELS


def _maps():
    pred = torch.tensor([[[[1., 2.], [3., 4.]]]])
    target = torch.tensor([[[[2., 2.], [1., 0.]]]])  # last pixel invalid
    conf = torch.tensor([[[[1., .5], [.25, 1.]]]])
    return pred, target, conf


def test_eq1_hand_computed():
    pred, target, conf = _maps()
    # valid: 3 pixels; sum c|d-d*| = 1*1 + .5*0 + .25*2 = 1.5; Z = 1.75
    loss = ConfidenceWeightedL1Loss(loss_weight=2.0)(pred, target, conf)
    assert loss.item() == pytest.approx(2.0 * 1.5 / 1.75)
    # no confidence: plain mean over the valid pixels (1 + 0 + 2) / 3
    assert ConfidenceWeightedL1Loss()(pred, target).item() == \
        pytest.approx(1.0)
    # caller mask removes the first pixel: (.5*0 + .25*2) / .75
    mask = torch.tensor([[[[False, True], [True, True]]]])
    assert ConfidenceWeightedL1Loss()(pred, target, conf, mask).item() == \
        pytest.approx(0.5 / 0.75)


def test_per_image_normaliser_and_views():
    pred, target, conf = _maps()
    other = ConfidenceWeightedL1Loss()(pred * 3, target, conf * 0.1)
    # image 2 has 10x smaller confidence: Z_i per image, so its value is
    # unchanged by the scale; batch = mean of the two images
    batch = ConfidenceWeightedL1Loss()(torch.cat([pred, pred * 3]),
                                       torch.cat([target, target]),
                                       torch.cat([conf, conf * 0.1]))
    first = 1.5 / 1.75
    assert batch.item() == pytest.approx((first + other.item()) / 2)
    # two views stacked in dim 1: Eq. 1 sums over i in {l, r}
    views = ConfidenceWeightedL1Loss()(torch.cat([pred, pred * 3], 1),
                                       torch.cat([target, target], 1),
                                       torch.cat([conf, conf * 0.1], 1))
    assert views.item() == pytest.approx(first + other.item())


def test_zero_confidence_and_nonfinite_outside():
    pred, target, conf = _maps()
    pred = pred.clone().requires_grad_(True)
    loss = ConfidenceWeightedL1Loss()(pred, target, torch.zeros_like(conf))
    assert loss.item() == 0
    loss.backward()
    assert torch.isfinite(pred.grad).all()
    bad = pred.detach().clone()
    bad[0, 0, 1, 1] = float('inf')  # invalid target pixel
    assert torch.isfinite(ConfidenceWeightedL1Loss()(bad, target, conf))
    assert confidence_weighted_mean(
        torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 2, 2)).item() == 0


def test_errors_and_registry():
    pred, target, conf = _maps()
    loss = MODELS.build(dict(type='ConfidenceWeightedL1Loss', loss_weight=850))
    assert loss.loss_name == 'loss_depth_conf'
    assert loss(pred, target, conf).item() == pytest.approx(850 * 1.5 / 1.75)
    with pytest.raises(ValueError, match='same shape'):
        loss(pred, target[..., :1])
    with pytest.raises(ValueError, match='confidence'):
        loss(pred, target, conf[..., :1])
    with pytest.raises(ValueError, match=r'\(B, V, H, W\)'):
        loss(pred[0], target[0])
