# Copyright (c) mmdepthseg contributors. All rights reserved.
import math

import pytest
import torch

from mmdepthseg.models.losses.smoothness_loss import EdgeAwareSmoothnessLoss
from mmdepthseg.registry import MODELS

# 1x1x2x3 disparity used for the hand computation:
#   [[1, 2, 4],
#    [3, 3, 3]]
# |dx| = 1, 2, 0, 0 -> mean 3/4 ; |dy| = 2, 1, 1 -> mean 4/3
HAND_DISP = torch.tensor([[[[1., 2., 4.], [3., 3., 3.]]]])
HAND_RAW = 3 / 4 + 4 / 3
HAND_MEAN = 16 / 6


def test_registered_with_defaults():
    loss = MODELS.build(dict(type='EdgeAwareSmoothnessLoss'))
    assert isinstance(loss, EdgeAwareSmoothnessLoss)
    assert loss.loss_weight == 1e-3 and loss.normalize_disp
    assert loss.loss_name == 'loss_smooth'


def test_constant_disparity_gives_zero():
    loss = EdgeAwareSmoothnessLoss(loss_weight=1.0)
    disp = torch.full((2, 1, 5, 7), 0.3)
    img = torch.rand(2, 3, 5, 7)
    assert loss(disp, img).item() == pytest.approx(0, abs=1e-7)


def test_hand_computed_value_flat_image():
    img = torch.full((1, 3, 2, 3), 0.4)  # flat image: exp(-0) = 1
    loss = EdgeAwareSmoothnessLoss(loss_weight=1.0, normalize_disp=False)
    assert loss(HAND_DISP, img).item() == pytest.approx(HAND_RAW, rel=1e-6)
    loss = EdgeAwareSmoothnessLoss(loss_weight=1.0, normalize_disp=True)
    assert loss(HAND_DISP, img).item() == pytest.approx(
        HAND_RAW / HAND_MEAN, rel=1e-5)
    loss = EdgeAwareSmoothnessLoss()  # default weight 1e-3
    assert loss(HAND_DISP, img).item() == pytest.approx(
        1e-3 * HAND_RAW / HAND_MEAN, rel=1e-5)


def test_image_edge_suppresses_penalty_at_that_edge():
    # disparity step between columns 1 and 2, image step at the same place
    disp = torch.ones(1, 1, 4, 4)
    disp[..., 2:] = 2.0
    flat = torch.zeros(1, 3, 4, 4)
    edge = torch.zeros(1, 3, 4, 4)
    edge[..., 2:] = 1.0
    loss = EdgeAwareSmoothnessLoss(loss_weight=1.0, normalize_disp=False)
    flat_val, edge_val = loss(disp, flat), loss(disp, edge)
    assert edge_val < flat_val
    # by hand: 4 of the 12 x-differences are 1, y-differences are 0
    assert flat_val.item() == pytest.approx(4 / 12, rel=1e-6)
    assert edge_val.item() == pytest.approx(4 / 12 * math.exp(-1), rel=1e-6)


def test_image_gradient_is_averaged_over_channels():
    disp = torch.ones(1, 1, 4, 4)
    disp[..., 2:] = 2.0
    img = torch.zeros(1, 3, 4, 4)
    img[:, 0, :, 2:] = 0.9  # one channel steps by 0.9: mean |dI| = 0.3
    loss = EdgeAwareSmoothnessLoss(loss_weight=1.0, normalize_disp=False)
    assert loss(disp, img).item() == pytest.approx(
        4 / 12 * math.exp(-0.3), rel=1e-6)


def test_normalisation_makes_loss_scale_invariant():
    disp = torch.rand(2, 1, 6, 8) + 0.1
    img = torch.rand(2, 3, 6, 8)
    loss = EdgeAwareSmoothnessLoss(loss_weight=1.0)
    assert torch.allclose(loss(disp, img), loss(disp * 7.0, img), rtol=1e-5)
    raw = EdgeAwareSmoothnessLoss(loss_weight=1.0, normalize_disp=False)
    assert torch.allclose(
        raw(disp * 7.0, img), 7.0 * raw(disp, img), rtol=1e-5)


def test_gradient_flows_to_disparity():
    disp = (torch.rand(1, 1, 5, 6) + 0.1).requires_grad_()
    loss = EdgeAwareSmoothnessLoss()
    loss(disp, torch.rand(1, 3, 5, 6)).backward()
    assert disp.grad is not None and disp.grad.abs().sum() > 0


def test_bad_inputs_raise():
    loss = EdgeAwareSmoothnessLoss()
    with pytest.raises(ValueError, match='disp must be'):
        loss(torch.rand(1, 2, 4, 4), torch.rand(1, 3, 4, 4))
    with pytest.raises(ValueError, match='img must be'):
        loss(torch.rand(1, 1, 4, 4), torch.rand(1, 3, 8, 8))
    with pytest.raises(ValueError, match='H, W >= 2'):
        loss(torch.rand(1, 1, 1, 4), torch.rand(1, 3, 1, 4))


@pytest.mark.parametrize(
    'weighting,expected',
    [
        # per-scale losses 0.1, 0.2, 0.4 (scales 0, 1, 2)
        ('halved_sum', 0.1 + 0.2 / 2 + 0.4 / 4),  # released FSRE code: 0.3
        ('halved_mean', (0.1 + 0.2 / 2 + 0.4 / 4) / 3),  # Monodepth2: 0.1
        ('sum', 0.1 + 0.2 + 0.4),
    ])
def test_multi_scale_weighting_by_hand(weighting, expected):
    # flat image (edge weight 1), horizontal disparity ramps of slope
    # 0.1, 0.2, 0.4 at 8x8, 4x4, 2x2: scale s's loss is its slope
    img = torch.full((1, 3, 8, 8), 0.5, dtype=torch.float64)
    disps = [
        slope *
        torch.arange(8 >> s, dtype=torch.float64).expand(1, 1, 8 >> s, 8 >> s)
        for s, slope in enumerate((0.1, 0.2, 0.4))
    ]
    loss = EdgeAwareSmoothnessLoss(
        loss_weight=1., normalize_disp=False, scale_weighting=weighting)
    assert loss.multi_scale_loss(disps, img).item() == pytest.approx(
        expected, abs=1e-12)


def test_multi_scale_resizes_the_image_to_each_scale():
    # an image edge at column 4 of the 8-wide image is at column 2 of the
    # 4-wide one: the area-resized image suppresses the penalty there
    img = torch.zeros(1, 1, 8, 8, dtype=torch.float64)
    img[..., 4:] = 100.
    disp = torch.zeros(1, 1, 4, 4, dtype=torch.float64)
    disp[..., 2:] = 1.
    loss = EdgeAwareSmoothnessLoss(
        loss_weight=1., normalize_disp=False, scale_weighting='sum')
    assert loss.multi_scale_loss([torch.zeros_like(img), disp],
                                 img).item() == pytest.approx(
                                     0., abs=1e-12)
    assert EdgeAwareSmoothnessLoss().scale_weighting == 'halved_mean'
    with pytest.raises(ValueError, match='scale_weighting'):
        EdgeAwareSmoothnessLoss(scale_weighting='average')
