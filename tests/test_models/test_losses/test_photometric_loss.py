# Copyright (c) mmdepthseg contributors. All rights reserved.
import pytest
import torch

from mmdepthseg.models.layers.ssim import SSIM
from mmdepthseg.models.losses.photometric_loss import \
    PhotometricReprojectionLoss
from mmdepthseg.registry import MODELS


def _rand(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(*shape, generator=g)


def test_registered_with_defaults():
    loss = MODELS.build(dict(type='PhotometricReprojectionLoss'))
    assert isinstance(loss, PhotometricReprojectionLoss)
    assert loss.alpha == 0.85 and loss.automask
    assert loss.identity_noise == 1e-5 and loss.loss_weight == 1.0
    assert loss.loss_name == 'loss_photo'


def test_identical_images_give_zero():
    target = _rand(2, 3, 8, 10)
    loss = PhotometricReprojectionLoss(automask=False)
    assert loss([target.clone()], target).item() == pytest.approx(0, abs=1e-6)
    assert loss.pixel_error(target.clone(), target).shape == (2, 1, 8, 10)


def test_l1_part_by_hand():
    target = torch.full((1, 3, 4, 5), 0.2)
    warped = torch.full((1, 3, 4, 5), 0.5)
    loss = PhotometricReprojectionLoss(alpha=0, automask=False)
    assert loss([warped], target).item() == pytest.approx(0.3, abs=1e-6)
    # loss_weight scales linearly
    loss = PhotometricReprojectionLoss(
        alpha=0, automask=False, loss_weight=2.0)
    assert loss([warped], target).item() == pytest.approx(0.6, abs=1e-6)


def test_l1_averages_over_channels():
    target = torch.zeros(1, 3, 4, 4)
    warped = torch.zeros(1, 3, 4, 4)
    warped[:, 0] = 0.9  # only the red channel differs: mean |.| = 0.3
    loss = PhotometricReprojectionLoss(alpha=0, automask=False)
    err = loss.pixel_error(warped, target)
    assert torch.allclose(err, torch.full((1, 1, 4, 4), 0.3))


def test_alpha_one_equals_ssim_term_mean():
    target, warped = _rand(2, 3, 6, 7, seed=1), _rand(2, 3, 6, 7, seed=2)
    loss = PhotometricReprojectionLoss(alpha=1.0, automask=False)
    expected = SSIM()(warped, target).mean()
    assert torch.allclose(loss([warped], target), expected, atol=1e-6)


def test_default_alpha_mixes_ssim_and_l1():
    target, warped = _rand(1, 3, 6, 7, seed=3), _rand(1, 3, 6, 7, seed=4)
    loss = PhotometricReprojectionLoss(automask=False)
    ssim = SSIM()(warped, target).mean(1, keepdim=True)
    l1 = (warped - target).abs().mean(1, keepdim=True)
    assert torch.allclose(
        loss.pixel_error(warped, target), 0.85 * ssim + 0.15 * l1, atol=1e-6)


def test_min_over_sources_picks_better_source_per_pixel():
    target = _rand(1, 3, 6, 8, seed=5)
    noise = _rand(1, 3, 6, 8, seed=6)
    left = torch.zeros(1, 1, 6, 8, dtype=torch.bool)
    left[..., :4] = True
    good_left = torch.where(left, target, noise)
    good_right = torch.where(left, noise, target)
    loss = PhotometricReprojectionLoss(alpha=0, automask=False)
    assert loss([good_left, good_right], target).item() == pytest.approx(
        0, abs=1e-7)
    # each source alone is clearly bad
    assert loss([good_left], target).item() > 0.05
    assert loss([good_right], target).item() > 0.05
    # with SSIM the minimum is exactly 0 away from the seam (3x3 windows)
    loss = PhotometricReprojectionLoss(automask=False)
    loss_map, mask = loss.min_error([good_left, good_right], target)
    assert loss_map.shape == (1, 1, 6, 8) and mask.all()
    assert loss_map[..., :2].abs().max() < 1e-6
    assert loss_map[..., 6:].abs().max() < 1e-6


def test_automask_static_scene_identity_wins():
    source = _rand(2, 3, 6, 8, seed=7)
    target = source.clone()  # static camera: target equals unwarped source
    bad_warp = _rand(2, 3, 6, 8, seed=8)
    loss = PhotometricReprojectionLoss()
    loss_map, mask = loss.min_error([bad_warp], target, sources=[source])
    assert loss_map.abs().max() < 1e-4  # only the 1e-5 tie-breaking noise
    assert not mask.any()
    assert mask.shape == (2, 1, 6, 8) and mask.dtype == torch.bool
    assert loss([bad_warp], target, sources=[source]).abs().item() < 1e-4
    # without auto-masking the bad warp is penalised
    no_mask = PhotometricReprojectionLoss(automask=False)
    assert no_mask([bad_warp], target).item() > 0.1


def test_automask_mask_true_where_warp_wins():
    target = _rand(1, 3, 6, 8, seed=9)
    source = _rand(1, 3, 6, 8, seed=10)  # unrelated: identity is bad
    loss = PhotometricReprojectionLoss(alpha=0)
    loss_map, mask = loss.min_error([target.clone()], target, sources=[source])
    assert mask.all()
    assert loss_map.abs().max() < 1e-7


def test_precomputed_identity_matches_sources():
    target = _rand(2, 3, 6, 8, seed=11)
    sources = [_rand(2, 3, 6, 8, seed=12), _rand(2, 3, 6, 8, seed=13)]
    warped = [_rand(2, 3, 6, 8, seed=14), _rand(2, 3, 6, 8, seed=15)]
    loss = PhotometricReprojectionLoss(identity_noise=0)
    identity = loss.identity_error(sources, target)
    assert identity.shape == (2, 2, 6, 8)
    assert not identity.requires_grad
    expected = torch.cat([loss.pixel_error(s, target) for s in sources], 1)
    assert torch.allclose(identity, expected)
    assert torch.allclose(
        loss(warped, target, identity=identity),
        loss(warped, target, sources=sources))


def test_identity_noise_is_small_and_random():
    target = _rand(1, 3, 6, 8, seed=16)
    loss = PhotometricReprojectionLoss(alpha=0, identity_noise=1e-5)
    identity = loss.identity_error([target.clone()], target)
    assert identity.abs().max() < 1e-4
    assert identity.abs().max() > 0


def test_gradient_flows_to_winning_warped_source_only():
    target = _rand(1, 3, 6, 8, seed=17)
    w0 = _rand(1, 3, 6, 8, seed=18).requires_grad_()
    w1 = (target + 0.01).requires_grad_()  # w1 wins at every pixel
    loss = PhotometricReprojectionLoss(alpha=0, automask=False)
    loss([w0, w1], target).backward()
    assert w1.grad is not None and w1.grad.abs().sum() > 0
    assert w0.grad is None or w0.grad.abs().sum() == 0


def test_gradient_flows_with_ssim_and_automask():
    target = _rand(1, 3, 6, 8, seed=19)
    source = _rand(1, 3, 6, 8, seed=20)
    warped = (target * 0.5 + 0.25).requires_grad_()
    loss = PhotometricReprojectionLoss()
    loss([warped], target, sources=[source]).backward()
    assert warped.grad is not None and warped.grad.abs().sum() > 0


def test_bad_inputs_raise():
    target = _rand(1, 3, 6, 8)
    loss = PhotometricReprojectionLoss()
    with pytest.raises(ValueError, match='automask needs'):
        loss([target], target)
    with pytest.raises(ValueError, match='not both'):
        loss([target],
             target,
             sources=[target],
             identity=torch.zeros(1, 1, 6, 8))
    with pytest.raises(ValueError, match='identity must be'):
        loss([target], target, identity=torch.zeros(1, 1, 5, 8))
    with pytest.raises(ValueError, match=r'warped\[0\]'):
        loss([target[..., :4]], target, sources=[target])
    with pytest.raises(ValueError, match='non-empty list'):
        loss([], target, sources=[target])
    with pytest.raises(ValueError, match='non-empty list'):
        loss(target, target, sources=[target])
    with pytest.raises(ValueError, match='alpha'):
        PhotometricReprojectionLoss(alpha=1.5)


@pytest.mark.parametrize('automask', [True, False])
def test_multi_scale_loss_equals_loop_over_scales(automask):
    # N=3 scales, S=2 sources: the batched computation against the per-scale
    # loop of forward() (float64, so that no minimum changes by rounding)
    g = torch.Generator().manual_seed(21)
    target = torch.rand(2, 3, 6, 8, generator=g, dtype=torch.float64)
    sources = [
        torch.rand(2, 3, 6, 8, generator=g, dtype=torch.float64)
        for _ in range(2)
    ]
    warped = torch.rand(3, 2, 2, 3, 6, 8, generator=g, dtype=torch.float64)
    warped[1, 0] = target  # a perfect warp at one scale
    loss = PhotometricReprojectionLoss(automask=automask, loss_weight=0.5)
    identity = loss.identity_error(sources, target) if automask else None
    batched_in = warped.clone().requires_grad_()
    looped_in = warped.clone().requires_grad_()
    batched = loss.multi_scale_loss(batched_in, target, identity=identity)
    looped = sum(
        loss(list(looped_in[n]), target, identity=identity)
        for n in range(3)) / 3
    torch.testing.assert_close(batched, looped, rtol=1e-12, atol=0)
    batched.backward()
    looped.backward()
    torch.testing.assert_close(batched_in.grad, looped_in.grad)
    assert batched_in.grad.abs().sum() > 0


def test_multi_scale_loss_ties_go_to_the_identity():
    # identity error exactly equal to the warped error: no gradient
    target = _rand(1, 3, 6, 8, seed=22)
    source = _rand(1, 3, 6, 8, seed=23)
    loss = PhotometricReprojectionLoss(identity_noise=0)
    identity = loss.identity_error([source], target)
    warped = source.clone()[None, None].requires_grad_()  # (1, 1, B, 3, H, W)
    value = loss.multi_scale_loss(warped, target, identity=identity)
    assert value.item() == pytest.approx(identity.mean().item())
    value.backward()
    assert warped.grad.abs().sum() == 0


def test_multi_scale_loss_bad_inputs_raise():
    target = _rand(1, 3, 6, 8)
    loss = PhotometricReprojectionLoss()
    with pytest.raises(ValueError, match=r'\(N, S, B, C, H, W\)'):
        loss.multi_scale_loss(target[None], target, identity=target[:, :1])
    with pytest.raises(ValueError, match='automask needs'):
        loss.multi_scale_loss(target[None, None], target)
    with pytest.raises(ValueError, match='identity must be'):
        loss.multi_scale_loss(
            target[None, None], target, identity=target[:, :1, :5])
    with pytest.raises(ValueError, match='ending in the target shape'):
        loss.pixel_errors(target[..., :5], target)


@pytest.mark.parametrize(
    'weighting,expected',
    [
        # per-scale losses 0.4, 0.2, 0.8 (scales 0, 1, 2)
        ('halved_sum', 0.4 + 0.2 / 2 + 0.8 / 4),  # released FSRE code: 0.7
        ('mean', (0.4 + 0.2 + 0.8) / 3),  # Monodepth2
        ('sum', 0.4 + 0.2 + 0.8),
        ('halved_mean', (0.4 + 0.2 / 2 + 0.8 / 4) / 3),
    ])
def test_multi_scale_weighting_by_hand(weighting, expected):
    # L1 only, no auto-mask: scale n's loss is the constant |warped - 0|
    # of its better source (the second source is worse by 0.5)
    target = torch.zeros(1, 3, 4, 5, dtype=torch.float64)
    values = (0.4, 0.2, 0.8)
    warped = torch.stack([
        torch.stack(
            [torch.full_like(target, v),
             torch.full_like(target, v + 0.5)]) for v in values
    ])
    loss = PhotometricReprojectionLoss(
        alpha=0., automask=False, scale_weighting=weighting)
    assert loss.multi_scale_loss(warped, target).item() == pytest.approx(
        expected, abs=1e-12)


def test_scale_weighting_default_and_bad_name():
    assert PhotometricReprojectionLoss().scale_weighting == 'mean'
    with pytest.raises(ValueError, match='scale_weighting'):
        PhotometricReprojectionLoss(scale_weighting='halving')
