# Copyright (c) mmdepthseg contributors. All rights reserved.
"""DepthTargetTransform: SemiMTL's depth target, NaN = invalid."""
import numpy as np
import pytest

from mmdepthseg.datasets.transforms.depth_target import DepthTargetTransform
from mmdepthseg.datasets.transforms.formatting import PackMultiViewInputs
from mmdepthseg.datasets.transforms.transforms import (MultiViewRandomCrop,
                                                       MultiViewRandomFlip,
                                                       MultiViewResize)
from mmdepthseg.registry import TRANSFORMS

NAN = np.nan
#: metres, 0 invalid; NaN / inf / negative are broken input
DEPTH = np.array([[[2.0, 4.0, 0.0], [0.5, NAN, -1.0], [np.inf, 8.0, 1.0]]],
                 dtype=np.float32)


def _results(**extra):
    results = dict(
        img_path='frame.png',
        gt_depth_map=DEPTH.copy(),
        depth_fields=['gt_depth_map'])
    results.update(extra)
    return results


def test_inverse_depth_by_hand():
    out = DepthTargetTransform(mode='inverse')(_results())['gt_depth_map']
    expected = np.array([[[0.5, 0.25, NAN], [2.0, NAN, NAN], [NAN, 0.125,
                                                              1.0]]])
    assert out.dtype == np.float32 and out.shape == (1, 3, 3)
    np.testing.assert_allclose(out, expected)  # NaN positions must match


def test_inverse_depth_scale():
    out = DepthTargetTransform(scale=10.0)(_results())['gt_depth_map']
    np.testing.assert_allclose(out[0, 0], [5.0, 2.5, NAN])


def test_sky_becomes_a_valid_zero():
    # trainId 10 = sky; (0, 2) has depth 0 (invalid) and (2, 0) inf
    seg = np.full((1, 3, 3), 8, dtype=np.uint8)
    seg[0, 0, 2] = seg[0, 2, 0] = seg[0, 0, 0] = 10
    out = DepthTargetTransform(
        mode='inverse', sky_label=10)(_results(gt_seg_map=seg))['gt_depth_map']
    expected = np.array([[[0.0, 0.25, 0.0], [2.0, NAN, NAN], [0.0, 0.125,
                                                              1.0]]])
    np.testing.assert_allclose(out, expected)
    assert np.isfinite(out[0, 0, 2]) and out[0, 0, 2] == 0


def test_identity_keeps_zero_heights():
    height = np.array([[[0.0, 0.5, 1.0], [NAN, -0.1, 0.25]]], np.float32)
    results = dict(gt_depth_map=height)
    out = DepthTargetTransform(mode='identity')(dict(results))['gt_depth_map']
    np.testing.assert_allclose(out, [[[0.0, 0.5, 1.0], [NAN, NAN, 0.25]]])
    out = DepthTargetTransform(
        mode='identity', scale=2.0,
        zero_is_invalid=True)(dict(results))['gt_depth_map']
    np.testing.assert_allclose(out, [[[NAN, 1.0, 2.0], [NAN, NAN, 0.5]]])


def test_without_depth_passes_through():
    results = dict(img_path='a.png', gt_seg_map=np.zeros((1, 2, 2), np.uint8))
    out = DepthTargetTransform(sky_label=10)(dict(results))
    assert 'gt_depth_map' not in out


def test_errors():
    with pytest.raises(ValueError, match='mode'):
        DepthTargetTransform(mode='log')
    with pytest.raises(ValueError, match='zero_is_invalid'):
        DepthTargetTransform(mode='inverse', zero_is_invalid=False)
    with pytest.raises(ValueError, match='scale'):
        DepthTargetTransform(scale=0)
    with pytest.raises(KeyError, match='frame.png'):
        DepthTargetTransform(sky_label=10)(_results())
    with pytest.raises(ValueError, match=r"\(V', H, W\)"):
        DepthTargetTransform()(_results(gt_depth_map=DEPTH[0]))


def test_registered():
    t = TRANSFORMS.build(
        dict(type='DepthTargetTransform', mode='identity', scale=2.0))
    assert isinstance(t, DepthTargetTransform) and t.mode == 'identity'


def _sample(h=4, w=6, seed=0):
    rng = np.random.RandomState(seed)
    depth = rng.uniform(1, 50, (1, h, w)).astype(np.float32)
    depth[0, rng.rand(h, w) < 0.3] = 0  # invalid pixels
    seg = rng.randint(0, 19, (1, h, w)).astype(np.uint8)
    return dict(
        img=rng.randint(0, 256, (h, w, 3), dtype=np.uint8),
        img_path='x.png',
        img_shape=(h, w),
        ori_shape=(h, w),
        view_names=('l', ),
        gt_depth_map=depth,
        gt_seg_map=seg,
        seg_fields=['gt_seg_map'],
        depth_fields=['gt_depth_map'])


def test_nan_through_resize_crop_flip_and_pack_by_hand():
    results = _sample()
    depth = results['gt_depth_map'][0]
    target = np.full(depth.shape, NAN, np.float32)
    target[depth > 0] = 1.0 / depth[depth > 0]
    steps = [
        DepthTargetTransform(),
        MultiViewResize(scale=(12, 8)),  # x2: every pixel becomes 2x2
        MultiViewRandomCrop(crop_size=(8, 12)),  # whole image
        MultiViewRandomFlip(prob=1.0),
        PackMultiViewInputs(),
    ]
    for step in steps:
        results = step(results)
    packed = results['data_samples'].gt_depth_map.data.numpy()
    expected = np.repeat(np.repeat(target, 2, axis=0), 2, axis=1)[:, ::-1]
    assert packed.shape == (1, 8, 12)
    assert np.isnan(expected).any()
    np.testing.assert_allclose(packed[0], expected, rtol=1e-6)


def test_target_commutes_with_random_geometry():
    """Before or after resize / random crop / flip: the same target."""

    def geometry():
        return [
            MultiViewResize(scale=(15, 9)),
            MultiViewRandomCrop(crop_size=(5, 7)),
            MultiViewRandomFlip(prob=0.5)
        ]

    outs = []
    for target_first in (True, False):
        np.random.seed(3)
        steps = geometry()
        steps = [DepthTargetTransform(sky_label=3)] + steps if target_first \
            else steps + [DepthTargetTransform(sky_label=3)]
        results = _sample(seed=1)
        for step in steps + [PackMultiViewInputs()]:
            results = step(results)
        outs.append(results['data_samples'].gt_depth_map.data.numpy())
    assert outs[0].shape == (1, 5, 7)
    np.testing.assert_array_equal(outs[0], outs[1])  # NaN == NaN here


def test_depth_offset_keeps_ground_height_zero_valid():
    """ISPRS stores nDSM + 1 so that 0 can mean invalid: the loaded map
    [[0, 1], [1.25, 2]] is [[invalid, 0], [0.25, 1]] in heights."""
    results = dict(
        gt_depth_map=np.array([[[0., 1.], [1.25, 2.]]], np.float32),
        depth_offset=1.0)
    out = DepthTargetTransform(mode='identity')(results)['gt_depth_map']
    assert np.isnan(out[0, 0, 0])
    np.testing.assert_allclose(out[0].ravel()[1:], [0., 0.25, 1.])
