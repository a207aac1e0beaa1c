# Copyright (c) mmdepthseg contributors. All rights reserved.
import math

import pytest
import torch

from mmdepthseg.models.losses.adversarial_loss import (class_set_nll,
                                                       discriminator_loss,
                                                       inter_domain_loss,
                                                       intra_domain_loss)


def _constant_logits(values, num=1, size=(2, 3)):
    """Logits equal to ``values`` (one per class) at every pixel."""
    v = torch.tensor(values, dtype=torch.float32)
    return v.view(1, -1, 1, 1).expand(num, -1, *size).clone()


def _probs(values):
    e = [math.exp(x) for x in values]
    return [x / sum(e) for x in e]


# Three-way discriminator (K = 2): ground truth, domain 1, domain 2.
LOGITS = [0.3, -1.2, 0.9]
P = _probs(LOGITS)


def test_intra_domain_loss_is_minus_log_p0():
    value = intra_domain_loss(_constant_logits(LOGITS, num=2))
    assert value.item() == pytest.approx(-math.log(P[0]), rel=1e-6)


def test_inter_m2_targets_the_ground_truth_class():
    value = inter_domain_loss(
        _constant_logits(LOGITS), 'm2', torch.tensor([2]), [1])
    assert value.item() == pytest.approx(-math.log(P[0]), rel=1e-6)


def test_inter_m1_targets_the_labelled_domain_class():
    # Domain 1 labels the task (the paper's dataset A, class 1) ...
    value = inter_domain_loss(
        _constant_logits(LOGITS), 'm1', torch.tensor([2]), [1])
    assert value.item() == pytest.approx(-math.log(P[1]), rel=1e-6)
    # ... or domain 2 labels it and the prediction comes from domain 1.
    value = inter_domain_loss(
        _constant_logits(LOGITS), 'm1', torch.tensor([1]), [2])
    assert value.item() == pytest.approx(-math.log(P[2]), rel=1e-6)


def test_inter_m1_with_several_labelled_domains_uses_their_union():
    logits = [0.1, 0.5, -0.4, 1.0]  # K = 3
    p = _probs(logits)
    value = inter_domain_loss(
        _constant_logits(logits), 'm1', torch.tensor([3]), [1, 2])
    assert value.item() == pytest.approx(-math.log(p[1] + p[2]), rel=1e-6)


def test_inter_m3_pushes_away_from_the_own_domain_class():
    # Samples from domain 2 and domain 1 (one each): -log(1 - p_k).
    logits = torch.cat([_constant_logits(LOGITS), _constant_logits(LOGITS)])
    value = inter_domain_loss(logits, 'm3', torch.tensor([2, 1]), [1])
    expected = (-math.log(1 - P[2]) - math.log(1 - P[1])) / 2
    assert value.item() == pytest.approx(expected, rel=1e-6)


def test_m3_is_stable_when_the_own_class_is_certain():
    logits = _constant_logits([0.0, 0.0, 200.0])
    value = inter_domain_loss(logits, 'm3', torch.tensor([2]), [1])
    # 1 - p_2 = 2 e^-200 / (1 + ...): -log = 200 - log 2
    assert value.item() == pytest.approx(200 - math.log(2), rel=1e-5)


def test_losses_average_over_pixels_and_samples():
    # Pixel 0 votes ground truth strongly, pixel 1 not at all: the mean.
    logits = torch.zeros(1, 2, 1, 2)
    logits[0, 0, 0, 0] = 5.0
    value = intra_domain_loss(logits)
    expected = (-math.log(_probs([5.0, 0.0])[0]) - math.log(0.5)) / 2
    assert value.item() == pytest.approx(expected, rel=1e-6)


def test_discriminator_loss_sums_per_term_means():
    # Eq. 9 with K = 2: one ground truth sample (class 0, term 0), two
    # predictions from domain 1 and one from domain 2. The pixels of each
    # term are averaged, then the terms are summed.
    logits = torch.cat([
        _constant_logits(LOGITS),
        _constant_logits([0.0, 1.0, 0.0]),
        _constant_logits([0.0, 3.0, 0.0]),
        _constant_logits([2.0, 0.0, 0.0]),
    ])
    labels = torch.tensor([0, 1, 1, 2])
    groups = torch.tensor([0, 1, 1, 2])
    gt_term = -math.log(P[0])
    d1_term = (-math.log(_probs([0.0, 1.0, 0.0])[1]) -
               math.log(_probs([0.0, 3.0, 0.0])[1])) / 2
    d2_term = -math.log(_probs([2.0, 0.0, 0.0])[2])
    value = discriminator_loss(logits, labels, groups)
    assert value.item() == pytest.approx(gt_term + d1_term + d2_term, rel=1e-6)


def test_semisd_discriminator_loss_labels_every_prediction_one():
    logits = torch.cat([_constant_logits([0.2, -0.3])] * 3)
    value = discriminator_loss(logits, torch.tensor([0, 1, 1]),
                               torch.tensor([0, 1, 2]))
    p = _probs([0.2, -0.3])
    assert value.item() == pytest.approx(
        -math.log(p[0]) - 2 * math.log(p[1]), rel=1e-6)


def test_gradients_of_the_generator_losses_reach_the_logits():
    logits = _constant_logits(LOGITS, num=2).requires_grad_(True)
    inter_domain_loss(logits, 'm3', torch.tensor([1, 2]), [1]).backward()
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0


def test_class_set_nll_of_all_classes_is_zero():
    logits = torch.randn(2, 3, 4, 4)
    nll = class_set_nll(logits, torch.ones(2, 3, dtype=torch.bool))
    assert nll.shape == (2, 4, 4)
    assert torch.allclose(nll, torch.zeros_like(nll), atol=1e-6)


def test_bad_arguments_raise():
    logits = _constant_logits(LOGITS)
    with pytest.raises(ValueError, match='mode'):
        inter_domain_loss(logits, 'm4', torch.tensor([1]), [1])
    with pytest.raises(ValueError, match='labelled domains'):
        inter_domain_loss(logits, 'm1', torch.tensor([2]), [])
    with pytest.raises(ValueError, match='domains must be >= 1'):
        inter_domain_loss(logits, 'm3', torch.tensor([0]), [1])
    with pytest.raises(ValueError, match='classes must lie'):
        discriminator_loss(logits, torch.tensor([3]), torch.tensor([0]))
    with pytest.raises(ValueError, match='K\\+1'):
        intra_domain_loss(torch.zeros(1, 1, 2, 2))
