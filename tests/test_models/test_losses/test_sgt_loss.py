# Copyright (c) mmdepthseg contributors. All rights reserved.
import math

import pytest
import torch

from mmdepthseg.models.losses.sgt_loss import (SemanticGuidedTripletLoss,
                                               _PatchDots, half_patch_offsets)
from mmdepthseg.registry import MODELS


def naive_sgt(feats, label, k, margin, min_count, ignore_index=255):
    """Per-pixel loops, straight from Eq. 5-8 (anchor excluded, no padding
    candidates outside the image, ignored pixels neither pos nor neg)."""
    unit = feats / feats.norm(dim=1, keepdim=True)
    b_size, _, height, width = feats.shape
    r = k // 2
    losses = []
    for b in range(b_size):
        for y in range(height):
            for x in range(width):
                anchor = int(label[b, y, x])
                if anchor == ignore_index:
                    continue
                pos, neg = [], []
                for v in range(y - r, y + r + 1):
                    for u in range(x - r, x + r + 1):
                        if (v, u) == (y, x) or not (0 <= v < height
                                                    and 0 <= u < width):
                            continue
                        lab = int(label[b, v, u])
                        if lab == ignore_index:
                            continue
                        dist = (unit[b, :, y, x] - unit[b, :, v, u]).norm()
                        (pos if lab == anchor else neg).append(dist)
                if len(pos) > min_count and len(neg) > min_count:
                    d_pos = torch.stack(pos).mean()
                    d_neg = torch.stack(neg).mean()
                    losses.append((d_pos - d_neg + margin).clamp(min=0))
    if not losses:
        return torch.tensor(0.)
    return torch.stack(losses).mean()


def offset_loop_sgt(feats, label, k, margin, min_count, ignore_index=255):
    """The straightforward vectorised formulation: a loop over the K*K - 1
    offsets of padded feature / label maps (the loss's former code)."""
    import torch.nn.functional as F
    height, width = feats.shape[-2:]
    r = k // 2
    unit = F.normalize(feats, p=2, dim=1)
    unit_pad = F.pad(unit, (r, r, r, r), value=0.)
    label_pad = F.pad(label, (r, r, r, r), value=ignore_index)
    zeros = unit.new_zeros(label.shape)
    pos_sum, neg_sum = zeros, zeros
    pos_cnt = torch.zeros_like(label)
    neg_cnt = torch.zeros_like(label)
    anchor_valid = label != ignore_index
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            if dy == 0 and dx == 0:
                continue
            nb_unit = unit_pad[:, :, r + dy:r + dy + height,
                               r + dx:r + dx + width]
            nb_label = label_pad[:, r + dy:r + dy + height,
                                 r + dx:r + dx + width]
            sq = (2. - 2. * (unit * nb_unit).sum(dim=1)).clamp(min=0.)
            dist = torch.where(sq > 1e-12, sq.clamp(min=1e-12).sqrt(), zeros)
            pair = anchor_valid & (nb_label != ignore_index)
            same = pair & (nb_label == label)
            other = pair & (nb_label != label)
            pos_sum = pos_sum + torch.where(same, dist, zeros)
            neg_sum = neg_sum + torch.where(other, dist, zeros)
            pos_cnt += same
            neg_cnt += other
    counted = (pos_cnt > min_count) & (neg_cnt > min_count)
    hinge = (pos_sum / pos_cnt.clamp(min=1) - neg_sum / neg_cnt.clamp(min=1) +
             margin).clamp(min=0.)
    return torch.where(counted, hinge,
                       zeros).sum() / counted.sum().clamp(min=1)


@pytest.mark.parametrize('k,t,shape', [(5, 4, (2, 16, 13, 17)),
                                       (3, 0, (1, 8, 6, 7)),
                                       (7, 3, (2, 4, 10, 12))])
def test_matches_offset_loop_formulation(k, t, shape):
    gen = torch.Generator().manual_seed(k)
    feats = torch.randn(*shape, generator=gen, dtype=torch.float64)
    label = torch.randint(0, 4, (shape[0], ) + shape[2:], generator=gen)
    label[label == 3] = 255
    feats[0, :, 2, 3] = 0.  # a zero feature: finite gradients for both
    loss = SemanticGuidedTripletLoss(
        patch_size=k, margin=0.3, min_count=t, loss_weight=1.0)
    new_in = feats.clone().requires_grad_()
    ref_in = feats.clone().requires_grad_()
    value = loss(new_in, label)
    expected = offset_loop_sgt(ref_in, label, k, 0.3, t)
    assert expected > 0
    torch.testing.assert_close(value, expected, rtol=1e-12, atol=1e-14)
    value.backward()
    expected.backward()
    torch.testing.assert_close(new_in.grad, ref_in.grad)
    assert torch.isfinite(new_in.grad).all()
    # float32: equal to rounding
    torch.testing.assert_close(
        loss(feats.float(), label),
        offset_loop_sgt(feats.float(), label, k, 0.3, t),
        rtol=1e-5,
        atol=1e-6)


def test_patch_dots_cover_every_neighbour_once():
    # the dot map of offset (dy, dx) is <f(p), f(p + (dy, dx))>, 0 outside
    gen = torch.Generator().manual_seed(9)
    feats = torch.randn(2, 3, 5, 6, generator=gen, dtype=torch.float64)
    k = 5
    dots = _PatchDots.apply(feats, k)
    assert dots.shape == (2, k * k, 5, 6)
    for j in range(k * k):
        dy, dx = j // k - k // 2, j % k - k // 2
        for y in range(5):
            for x in range(6):
                inside = 0 <= y + dy < 5 and 0 <= x + dx < 6
                expected = torch.zeros(2, dtype=torch.float64)
                if inside and (dy, dx) != (0, 0):
                    expected = (feats[:, :, y, x] *
                                feats[:, :, y + dy, x + dx]).sum(1)
                torch.testing.assert_close(dots[:, j, y, x], expected)
    assert half_patch_offsets(3) == [(0, 1), (1, -1), (1, 0), (1, 1)]
    assert torch.autograd.gradcheck(lambda f: _PatchDots.apply(f, 3),
                                    (feats[:1, :, :4, :4].requires_grad_(), ))


def test_matches_naive_per_pixel_reference():
    gen = torch.Generator().manual_seed(0)
    feats = torch.randn(2, 4, 6, 7, generator=gen)
    label = torch.randint(0, 3, (2, 6, 7), generator=gen)
    label[0, 2, 3] = 255  # an ignored anchor / neighbour
    label[1, 0, :3] = 255
    for k, t in [(3, 0), (3, 2), (5, 4), (5, 1)]:
        loss = SemanticGuidedTripletLoss(
            patch_size=k, margin=0.3, min_count=t, loss_weight=1.0)
        expected = naive_sgt(feats, label, k, 0.3, t)
        assert expected > 0  # the comparison is not trivially 0 == 0
        assert loss(feats, label).item() == pytest.approx(
            expected.item(), abs=1e-5)


def test_exact_value_by_hand():
    # label (3x3), K=3, T=2. Only the centre patch counts:
    #   centre (class 0): 5 positives, 3 negatives -> both > 2
    #   (0,1): pos 3 / neg 2; (1,2): pos 2 / neg 3; others pos or neg <= 2.
    label = torch.tensor([[[0, 0, 1], [0, 0, 1], [0, 0, 1]]])
    # raw features (C=2); normalised: e=(1,0), n=(0,1), w=(-1,0)
    feats = torch.tensor([
        [[2., 0.], [1., 0.], [3., 0.]],  # row 0: e e e
        [[1., 0.], [2., 0.], [0., 7.]],  # row 1: e e(anchor) n
        [[0., 5.], [0., 5.], [-4., 0.]],  # row 2: n n w
    ]).permute(2, 0, 1)[None]
    # positives of the anchor e: (0,0) e, (0,1) e, (1,0) e -> 0, 0, 0;
    #   (2,0) n, (2,1) n -> sqrt(2) each      => d+ = 2*sqrt(2)/5
    # negatives: (0,2) e -> 0; (1,2) n -> sqrt(2); (2,2) w -> 2
    #                                       => d- = (sqrt(2) + 2)/3
    # m = 1: L = 2*sqrt(2)/5 + 1 - (sqrt(2) + 2)/3 = 0.4276...
    expected = 2 * math.sqrt(2) / 5 + 1 - (math.sqrt(2) + 2) / 3
    loss = SemanticGuidedTripletLoss(
        patch_size=3, margin=1.0, min_count=2, loss_weight=1.0)
    assert loss(feats, label).item() == pytest.approx(expected, abs=1e-5)
    # the anchor itself is not a positive: with it d+ would be 2*sqrt(2)/6
    with_anchor = 2 * math.sqrt(2) / 6 + 1 - (math.sqrt(2) + 2) / 3
    assert loss(feats, label).item() != pytest.approx(with_anchor, abs=1e-3)


def _two_region_case():
    """Left half class 0 with feature (1,0), right half class 1 (0,1)."""
    label = torch.zeros(1, 6, 8, dtype=torch.long)
    label[:, :, 4:] = 1
    feats = torch.zeros(1, 2, 6, 8)
    feats[:, 0, :, :4] = 1.
    feats[:, 1, :, 4:] = 1.
    return feats, label


def test_zero_loss_when_margin_holds():
    # d+ = 0, d- = sqrt(2) >= 0 + m for m = 0.3 (and up to sqrt(2))
    feats, label = _two_region_case()
    for margin in (0.3, 1.0, 1.4):
        loss = SemanticGuidedTripletLoss(
            patch_size=3, margin=margin, min_count=0, loss_weight=1.0)
        assert loss(feats, label).item() == pytest.approx(0., abs=1e-6)
    # the hinge opens once the margin exceeds the gap: m - sqrt(2) per patch
    loss = SemanticGuidedTripletLoss(
        patch_size=3, margin=2.0, min_count=0, loss_weight=1.0)
    assert loss(feats, label).item() == pytest.approx(
        2 - math.sqrt(2), abs=1e-6)


def test_patch_not_counted_at_or_below_threshold():
    # one class-1 pixel inside a class-0 region; features make any counted
    # patch have a positive loss (all features equal -> d+ = d- = 0, L = m)
    label = torch.zeros(1, 5, 5, dtype=torch.long)
    label[0, 2, 2] = 1
    feats = torch.ones(1, 3, 5, 5)
    # K=3, T=2 (default K-1): the odd pixel has |P+| = 0; its neighbours have
    # |P-| = 1 <= 2 -> nothing counts
    loss = SemanticGuidedTripletLoss(patch_size=3, margin=0.3, loss_weight=1.0)
    assert loss.min_count == 2
    assert loss(feats, label).item() == 0.
    # T=0: the 8 neighbours count (|P+| >= 4 > 0, |P-| = 1 > 0), L = m each
    loss = SemanticGuidedTripletLoss(
        patch_size=3, margin=0.3, min_count=0, loss_weight=1.0)
    assert loss(feats, label).item() == pytest.approx(0.3, abs=1e-3)
    # |P-| = 1 is exactly T=1: not counted (strictly greater is required)
    loss = SemanticGuidedTripletLoss(
        patch_size=3, margin=0.3, min_count=1, loss_weight=1.0)
    assert loss(feats, label).item() == 0.


def test_ignore_index_is_neither_positive_nor_negative():
    label = torch.zeros(1, 5, 5, dtype=torch.long)
    label[0, 2, 2] = 1
    feats = torch.ones(1, 3, 5, 5)
    loss = SemanticGuidedTripletLoss(
        patch_size=3, margin=0.3, min_count=0, loss_weight=1.0)
    # ignoring the only negative: no patch has a negative any more
    ignored = label.clone()
    ignored[0, 2, 2] = 255
    assert loss(feats, ignored).item() == 0.
    # an ignored anchor is not counted: give (1,1) a negative feature gap
    # that would make its loss differ, then ignore it -> only 7 patches left
    feats2 = feats.clone()
    feats2[0, :, 1, 1] = -1.  # opposite direction: distance 2 to all others
    label2 = label.clone()
    label2[0, 1, 1] = 255
    expected = naive_sgt(feats2, label2, 3, 0.3, 0)
    assert loss(feats2, label2).item() == pytest.approx(
        expected.item(), abs=1e-5)
    # 7 counted neighbours of (2,2), d+ = d- = 0 for each -> L = m
    assert expected.item() == pytest.approx(0.3, abs=1e-6)


def test_ignored_anchor_is_not_counted():
    # ignored pixels next to each other must not act as one class: with 255
    # anchors skipped, class-0 anchors see only class-0 pixels -> nothing
    # counts (a 255 anchor would have 255 positives and 0 negatives)
    label = torch.zeros(1, 4, 4, dtype=torch.long)
    label[0, 1::2] = 255
    feats = torch.ones(1, 3, 4, 4)
    loss = SemanticGuidedTripletLoss(
        patch_size=3, margin=0.3, min_count=0, loss_weight=1.0)
    assert loss(feats, label).item() == 0.
    # the same map with the 255 rows as a real class 7 has counted patches
    assert loss(feats, label.masked_fill(label == 255, 7)).item() == \
        pytest.approx(0.3, abs=1e-3)


def test_label_resized_with_nearest_and_channel_dim_accepted():
    gen = torch.Generator().manual_seed(1)
    feats = torch.randn(1, 4, 6, 7, generator=gen)
    big = torch.randint(0, 3, (1, 12, 14), generator=gen)
    loss = SemanticGuidedTripletLoss(patch_size=3, min_count=0)
    expected = loss(feats, big[:, ::2, ::2])
    assert loss(feats, big).item() == pytest.approx(expected.item())
    assert loss(feats, big[:, None]).item() == pytest.approx(expected.item())


def test_gradients_flow_to_feats():
    gen = torch.Generator().manual_seed(2)
    feats = torch.randn(1, 3, 4, 5, dtype=torch.float64, generator=gen)
    label = torch.randint(0, 2, (1, 4, 5), generator=gen)
    loss = SemanticGuidedTripletLoss(patch_size=3, margin=0.5, min_count=0)
    feats.requires_grad_(True)
    loss(feats, label).backward()
    assert torch.isfinite(feats.grad).all() and feats.grad.abs().sum() > 0
    assert torch.autograd.gradcheck(lambda f: loss(f, label), (feats, ))


def test_no_counted_patch_is_zero_connected_to_the_graph():
    feats = torch.randn(1, 3, 4, 4, requires_grad=True)
    label = torch.zeros(1, 4, 4, dtype=torch.long)  # one class: no negatives
    value = SemanticGuidedTripletLoss()(feats, label)
    assert value.item() == 0.
    value.backward()
    assert torch.equal(feats.grad, torch.zeros_like(feats))


def test_loss_weight_scales_the_loss_and_build_from_registry():
    feats, label = _two_region_case()
    unit = SemanticGuidedTripletLoss(
        patch_size=3, margin=2.0, min_count=0, loss_weight=1.0)(feats, label)
    built = MODELS.build(
        dict(
            type='SemanticGuidedTripletLoss',
            patch_size=3,
            margin=2.0,
            min_count=0))  # default loss_weight 0.1
    assert built(feats, label).item() == pytest.approx(0.1 * unit.item())
    assert built.loss_name == 'loss_sgt'
    assert SemanticGuidedTripletLoss(
        loss_name='loss_sgt_l1').loss_name == 'loss_sgt_l1'
    default = SemanticGuidedTripletLoss()
    assert (default.patch_size, default.margin, default.min_count,
            default.loss_weight) == (5, 0.3, 4, 0.1)


def test_bad_arguments_and_inputs_raise():
    with pytest.raises(ValueError, match='patch_size'):
        SemanticGuidedTripletLoss(patch_size=4)
    with pytest.raises(ValueError, match='min_count'):
        SemanticGuidedTripletLoss(min_count=-1)
    loss = SemanticGuidedTripletLoss()
    with pytest.raises(ValueError, match='feats'):
        loss(torch.randn(3, 4, 5), torch.zeros(3, 4, 5, dtype=torch.long))
    with pytest.raises(ValueError, match='seg_label'):
        loss(torch.randn(2, 3, 4, 5), torch.zeros(3, 4, 5, dtype=torch.long))
    with pytest.raises(TypeError, match='integer'):
        loss(torch.randn(1, 3, 4, 5), torch.zeros(1, 4, 5))


# ---------------------------------------------------------------------------
# The released code's counting (hyBlue/FSRE-Depth ``compute_sgt_loss``):
# each switch alone against values worked out by hand, then all of them
# against a per-pixel reimplementation of the released procedure.
# ---------------------------------------------------------------------------
R2 = math.sqrt(2)


def _hand_case():
    """3x3 labels / unit features of ``test_exact_value_by_hand``::

        labels   features (e=(1,0), n=(0,1), w=(-1,0))
        0 0 1    e e e
        0 0 1    e e n
        0 0 1    n n w

    Distances: e-e 0, e-n sqrt(2), n-w sqrt(2), e-w 2.
    """
    label = torch.tensor([[[0, 0, 1], [0, 0, 1], [0, 0, 1]]])
    e, n, w = (1., 0.), (0., 1.), (-1., 0.)
    rows = [[e, e, e], [e, e, n], [n, n, w]]
    feats = torch.tensor(rows, dtype=torch.float64).permute(2, 0, 1)[None]
    return feats, label


def _sgt(**kwargs):
    kwargs = {
        **dict(patch_size=3, margin=1.0, min_count=2, loss_weight=1.0),
        **kwargs
    }
    return SemanticGuidedTripletLoss(**kwargs)


def test_text_counting_by_hand():
    # K=3, T=2, '>', anchor excluded, out-of-image ignored: only the centre
    # (5 positives, 3 negatives) counts
    feats, label = _hand_case()
    centre = 2 * R2 / 5 + 1 - (R2 + 2) / 3
    assert _sgt()(feats, label).item() == pytest.approx(centre, abs=1e-12)


def test_anchor_counted_among_positives_by_hand():
    # with the anchor a positive (distance 0), (1,2) (class 1) has 2 + 1
    # positives > 2 and 3 negatives and counts too; the centre's d+ has 6
    # terms.
    #   centre: d+ = 2 sqrt2 / 6, d- = (sqrt2 + 2) / 3
    #   (1,2) n: positives (0,2) e, (2,2) w, itself -> d+ = 2 sqrt2 / 3;
    #            negatives (0,1) e, (1,1) e, (2,1) n -> d- = 2 sqrt2 / 3
    feats, label = _hand_case()
    centre = 2 * R2 / 6 + 1 - (R2 + 2) / 3
    right = 2 * R2 / 3 + 1 - 2 * R2 / 3
    value = _sgt(count_anchor=True)(feats, label)
    assert value.item() == pytest.approx((centre + right) / 2, abs=1e-12)


def test_inclusive_threshold_by_hand():
    # '>= 2' instead of '> 2' (anchor excluded): (0,1), (1,2) and (2,1)
    # with exactly 2 negatives or positives count as well
    #   (0,1) e: positives e e e -> 0; negatives e, n -> sqrt2 / 2
    #   (1,2) n: positives e, w -> sqrt2; negatives e, e, n -> 2 sqrt2 / 3
    #   (2,1) n: positives e, e, n -> 2 sqrt2 / 3; negatives n, w -> sqrt2/2
    feats, label = _hand_case()
    losses = [
        2 * R2 / 5 + 1 - (R2 + 2) / 3,  # centre
        0 + 1 - R2 / 2,
        R2 + 1 - 2 * R2 / 3,
        2 * R2 / 3 + 1 - R2 / 2,
    ]
    value = _sgt(inclusive_threshold=True)(feats, label)
    assert value.item() == pytest.approx(sum(losses) / 4, abs=1e-12)


def test_padding_counted_as_negative_by_hand():
    # out-of-image positions are negatives at distance sqrt(2) (a unit
    # feature against a zero-padded one): corners get 5, edges 3 of them.
    # Counted ('> 2', anchor excluded):
    #   (0,0) e: 3 pos (0) / 5 pad            -> hinge(1 - sqrt2) = 0
    #   (0,1) e: 3 pos (0) / e, n + 3 pad     -> d- = 4 sqrt2 / 5 -> 0
    #   (1,0) e: pos e e e n n / 3 pad        -> 2 sqrt2 / 5 + 1 - sqrt2
    #   (1,1):   as in the text
    #   (2,0) n: pos e e n / 5 pad            -> 2 sqrt2 / 3 + 1 - sqrt2
    #   (2,1) n: pos e e n / n, w + 3 pad     -> 2 sqrt2 / 3 + 1 - 4 sqrt2/5
    # (0,2), (1,2), (2,2) have at most 2 positives: 6 patches count.
    feats, label = _hand_case()
    losses = [
        0., 0., 2 * R2 / 5 + 1 - R2, 2 * R2 / 5 + 1 - (R2 + 2) / 3,
        2 * R2 / 3 + 1 - R2, 2 * R2 / 3 + 1 - 4 * R2 / 5
    ]
    value = _sgt(padding_as_negative=True)(feats, label)
    assert value.item() == pytest.approx(sum(losses) / 6, abs=1e-12)
    # gradients of the border patches (padding terms are constant) agree
    # with finite differences
    feats.requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda f: _sgt(padding_as_negative=True, margin=2.0)(f, label),
        (feats, ))


def test_min_sq_distance_floors_the_distance():
    # identical unit features: distance sqrt(1e-9) instead of 0. Two
    # regions (class 0 feature e, class 1 feature n), margin 2, K=3, T=0:
    # every counted patch has d+ = floor, d- = sqrt2 (released floor) or
    # d+ = 0 (default), hinge = d+ + 2 - sqrt2
    feats, label = _two_region_case()
    feats = feats.double()
    loss = _sgt(min_count=0, margin=2.0)
    floored = _sgt(min_count=0, margin=2.0, min_sq_distance=1e-9)
    assert loss(feats, label).item() == pytest.approx(2 - R2, abs=1e-12)
    assert floored(feats, label).item() == pytest.approx(
        2 - R2 + math.sqrt(1e-9), abs=1e-12)


def released_sgt(feats, label, k, margin):
    """The released code's procedure, per pixel: labels padded with -1 and
    features with zeros (after L2 normalisation); every position of the
    K x K patch, the centre included, is a positive when its label equals
    the anchor's and a negative otherwise; distance sqrt(max(1e-9, 2 -
    2 a.b)); a patch counts when |P+| >= K - 1 and |P-| >= K - 1; the loss
    is the mean over counted patches."""
    import torch.nn.functional as F
    r = k // 2
    unit = F.normalize(feats, dim=1)
    unit = F.pad(unit, (r, r, r, r), value=0.)
    lab = F.pad(label, (r, r, r, r), value=-1)
    b_size, _, height, width = feats.shape
    losses = []
    for b in range(b_size):
        for y in range(height):
            for x in range(width):
                a = unit[b, :, y + r, x + r]
                anchor = int(lab[b, y + r, x + r])
                pos, neg = [], []
                for v in range(y, y + k):
                    for u in range(x, x + k):
                        sim = (a * unit[b, :, v, u]).sum()
                        dist = torch.clamp(2 - 2 * sim, min=1e-9).sqrt()
                        same = int(lab[b, v, u]) == anchor
                        (pos if same else neg).append(dist)
                if len(pos) >= k - 1 and len(neg) >= k - 1:
                    d_pos = torch.stack(pos).mean()
                    d_neg = torch.stack(neg).mean()
                    losses.append((d_pos - d_neg + margin).clamp(min=0))
    return torch.stack(losses).mean()


RELEASED = dict(
    inclusive_threshold=True,
    count_anchor=True,
    padding_as_negative=True,
    min_sq_distance=1e-9)


@pytest.mark.parametrize('k', [3, 5])
def test_released_options_match_the_released_procedure(k):
    gen = torch.Generator().manual_seed(k)
    feats = torch.randn(2, 4, 7, 9, generator=gen, dtype=torch.float64)
    label = torch.randint(0, 3, (2, 7, 9), generator=gen)
    loss = SemanticGuidedTripletLoss(
        patch_size=k, margin=0.3, loss_weight=1.0, **RELEASED)
    expected = released_sgt(feats, label, k, 0.3)
    assert expected > 0
    assert loss(feats, label).item() == pytest.approx(
        expected.item(), abs=1e-10)
    # the text's counting gives another value on the same input
    text = SemanticGuidedTripletLoss(patch_size=k, margin=0.3, loss_weight=1.)
    assert abs(text(feats, label).item() - expected.item()) > 1e-3
    # and the gradients equal the reference's (autograd through the loops)
    new_in = feats.clone().requires_grad_()
    ref_in = feats.clone().requires_grad_()
    loss(new_in, label).backward()
    released_sgt(ref_in, label, k, 0.3).backward()
    torch.testing.assert_close(new_in.grad, ref_in.grad)


def test_k5_counts_three_neighbours_plus_anchor_only_when_released():
    # K=5, T=4 on a 9x9 map: a 2x2 block of class 0 (feature e) beside a
    # 2x2 block of class 1 (feature n) in the middle, everything else
    # ignored. Every one of the 8 anchors sees, inside the image, 3
    # same-class neighbours and 4 of the other class:
    #   text      |P+| = 3 > 4? no           -> nothing counts, loss 0
    #   anchor    |P+| = 4 > 4? no           -> 0
    #   '>='      |P+| = 3 >= 4? no          -> 0
    #   both      |P+| = 4 >= 4, |P-| = 4 >= 4 -> all 8 count:
    #             d+ = 0, d- = sqrt2, m = 2  -> 2 - sqrt2 each
    label = torch.full((1, 9, 9), 255, dtype=torch.long)
    label[0, 3:5, 3:5] = 0
    label[0, 3:5, 5:7] = 1
    feats = torch.zeros(1, 2, 9, 9, dtype=torch.float64)
    feats[0, 0] = 1.
    feats[0, :, 3:5, 5:7] = torch.tensor([0., 1.])[:, None, None]

    def sgt(**kwargs):
        return SemanticGuidedTripletLoss(
            patch_size=5, margin=2.0, loss_weight=1.0, **kwargs)(feats, label)

    assert sgt().item() == 0.
    assert sgt(count_anchor=True).item() == 0.
    assert sgt(inclusive_threshold=True).item() == 0.
    assert sgt(count_anchor=True, inclusive_threshold=True).item() == \
        pytest.approx(2 - R2, abs=1e-12)


def test_released_option_defaults_and_bad_floor():
    default = SemanticGuidedTripletLoss()
    assert (default.inclusive_threshold, default.count_anchor,
            default.padding_as_negative, default.min_sq_distance,
            default.scale_weighting) == (False, False, False, None, 'sum')
    with pytest.raises(ValueError, match='min_sq_distance'):
        SemanticGuidedTripletLoss(min_sq_distance=0.)
    with pytest.raises(ValueError, match='scale_weighting'):
        SemanticGuidedTripletLoss(scale_weighting='halved')
    assert SemanticGuidedTripletLoss(
        scale_weighting='halved_sum').layer_weights([3, 2,
                                                     1]) == [0.125, 0.25, 0.5]
    assert SemanticGuidedTripletLoss().layer_weights([3, 2, 1]) == [1.] * 3
