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


# A crafted 2x3 map: pixel (0, 0) and the whole row 1 of sample 1 are
# masked (an ignored / invalid ground-truth pixel, padding).
VALID = torch.tensor([[[False, True, True], [True, True, True]],
                      [[True, True, True], [False, False, False]]])


def _varied_logits(num_classes=3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(2, num_classes, 2, 3, generator=gen)


def _poison(logits, valid=VALID, finite=False):
    """The logits with other values (huge, inf, NaN) under the mask."""
    out = logits.clone()
    hidden = (~valid)[:, None].expand_as(out)
    garbage = torch.tensor([1e4, -50.0, 7.0]) if finite else torch.tensor(
        [1e4, float('inf'), float('nan')])
    out[hidden] = garbage.repeat(hidden.sum() // 3 + 1)[:hidden.sum()]
    return out


def _nll(logits, cls):
    """-log softmax(logits)_cls per pixel, (N, H, W)."""
    return -torch.log_softmax(logits, dim=1)[:, cls]


@pytest.mark.parametrize('which', ['intra', 'm1', 'm2', 'm3'])
def test_generator_terms_ignore_the_values_under_the_mask(which):
    logits = _varied_logits()
    domains = torch.tensor([2, 1])

    def loss(x):
        if which == 'intra':
            return intra_domain_loss(x, VALID)
        return inter_domain_loss(x, which, domains, [1], VALID)

    value = loss(logits)
    assert loss(_poison(logits)).item() == pytest.approx(value.item(),
                                                         rel=1e-6)
    # the mean over the 7 valid pixels, computed here independently
    p = torch.softmax(logits, dim=1)
    per_pixel = {
        'intra': -torch.log(p[:, 0]),
        'm2': -torch.log(p[:, 0]),
        'm1': -torch.log(p[:, 1]),
        'm3': -torch.log(1 - p[torch.arange(2), domains]),
    }[which]
    assert value.item() == pytest.approx(per_pixel[VALID].mean().item(),
                                         rel=1e-5)
    assert value.item() != pytest.approx(per_pixel.mean().item(), rel=1e-3)
    # masked pixels get no gradient, valid ones do
    x = _poison(logits, finite=True).requires_grad_(True)
    loss(x).backward()
    assert torch.isfinite(x.grad).all()
    assert (x.grad.abs().sum(1)[~VALID] == 0).all()
    assert (x.grad.abs().sum(1)[VALID] > 0).all()


def test_discriminator_loss_ignores_the_values_under_the_mask():
    # ground truth (term 0, class 0) and a prediction of domain 2 (term 2)
    logits = _varied_logits()
    labels, groups = torch.tensor([0, 2]), torch.tensor([0, 2])
    value = discriminator_loss(logits, labels, groups, VALID)
    poisoned = discriminator_loss(_poison(logits), labels, groups, VALID)
    assert poisoned.item() == pytest.approx(value.item(), rel=1e-6)
    # each term is the mean over its own valid pixels (5 and 3 of them)
    gt_term = _nll(logits, 0)[0][VALID[0]].mean()
    pred_term = _nll(logits, 2)[1][VALID[1]].mean()
    assert value.item() == pytest.approx((gt_term + pred_term).item(),
                                         rel=1e-5)
    # one term of two samples: pooled over their valid pixels (8 of 12)
    pooled = discriminator_loss(logits, labels, torch.tensor([1, 1]), VALID)
    nll = torch.stack([_nll(logits, 0)[0], _nll(logits, 2)[1]])
    assert pooled.item() == pytest.approx(nll[VALID].mean().item(), rel=1e-5)


def test_a_term_without_valid_pixels_is_zero_and_finite():
    logits = _varied_logits().requires_grad_(True)
    none = torch.zeros(2, 2, 3, dtype=torch.bool)
    for value in (intra_domain_loss(logits, none),
                  inter_domain_loss(logits, 'm2', torch.tensor([1, 2]), [1],
                                    none),
                  discriminator_loss(logits, torch.tensor([0, 1]),
                                     torch.tensor([0, 1]), none)):
        assert value.item() == 0.0
        value.backward()
        assert torch.isfinite(logits.grad).all()
    # a fully masked term leaves the other term's value
    half = VALID.clone()
    half[1] = False
    value = discriminator_loss(logits, torch.tensor([0, 1]),
                               torch.tensor([0, 1]), half)
    assert value.item() == pytest.approx(
        _nll(logits, 0)[0][VALID[0]].mean().item(), rel=1e-5)


def test_a_mask_of_the_wrong_shape_raises():
    with pytest.raises(ValueError, match=r'boolean \(N, H, W\) map'):
        intra_domain_loss(_varied_logits(), VALID[:, 0])


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
