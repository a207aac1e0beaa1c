# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Geometry-consistent and colour transforms of view-stacked samples.

The geometry tests use "ramp" images whose pixels store their own
(u, v) coordinates: after a transform, sampling the image where the new
intrinsics project a 3D point must give back the pixel where the old
intrinsics projected it. This checks the intrinsics against what OpenCV
actually does to the pixels, independently of the formulas in the code.
"""
import numpy as np
import pytest

from mmdepthseg.datasets.transforms import (KeepUnaugmentedImage,
                                            MultiViewColorJitter,
                                            MultiViewFixedCrop,
                                            MultiViewRandomCrop,
                                            MultiViewRandomFlip,
                                            MultiViewRandomResize,
                                            MultiViewResize)

H, W = 40, 60
K = np.array([[50, 0, 27.3], [0, 45, 18.6], [0, 0, 1]], dtype=np.float32)


def ramp(h=H, w=W, markers=(0, )):
    """float32 (h, w, 3V): per view (u, v, marker)."""
    v, u = np.mgrid[0:h, 0:w].astype(np.float32)
    views = [np.stack([u, v, np.full_like(u, m)], axis=2) for m in markers]
    return np.concatenate(views, axis=2)


def bilinear(img, u, v):
    """Sample (H, W, C) at continuous pixel-centre coordinates."""
    u0, v0 = int(np.floor(u)), int(np.floor(v))
    a, b = u - u0, v - v0
    return ((1 - a) * (1 - b) * img[v0, u0] + a * (1 - b) * img[v0, u0 + 1] +
            (1 - a) * b * img[v0 + 1, u0] + a * b * img[v0 + 1, u0 + 1])


def project(k, p):
    q = k @ p
    return q[0] / q[2], q[1] / q[2]


def points_inside(k, n=6, margin=4, seed=0):
    """3D points (camera frame) that project well inside the image."""
    rng = np.random.RandomState(seed)
    pts = []
    while len(pts) < n:
        z = rng.uniform(2, 20)
        u, v = rng.uniform(margin, W - 1 - margin), rng.uniform(
            margin, H - 1 - margin)
        pts.append(np.linalg.inv(k) @ np.array([u, v, 1.0]) * z)
    return pts


def sample_results(markers=(0, ), view_names=('l', )):
    img = ramp(markers=markers)
    return dict(
        img=img,
        intrinsics=K.copy(),
        view_names=view_names,
        img_shape=(H, W),
        ori_shape=(H, W),
        seg_fields=[],
        depth_fields=[])


@pytest.mark.parametrize('scale', [(45, 26), (90, 64), (60, 40)])
def test_resize_keeps_intrinsics_consistent(scale):
    results = MultiViewResize(scale=scale)(sample_results())
    assert results['img'].shape == (scale[1], scale[0], 3)
    assert results['img_shape'] == (scale[1], scale[0])
    assert results['scale_factor'] == pytest.approx(
        (scale[0] / W, scale[1] / H))
    for p in points_inside(K):
        u, v = project(K, p)
        u2, v2 = project(results['intrinsics'], p)
        np.testing.assert_allclose(
            bilinear(results['img'], u2, v2)[:2], [u, v], atol=2e-3)


def test_resize_scales_maps_nearest_and_keeps_depth_values():
    results = sample_results()
    depth = np.zeros((1, H, W), np.float32)
    depth[0, 10:20, 30:40] = 7.5
    seg = np.full((1, H, W), 3, np.uint8)
    results.update(
        gt_depth_map=depth,
        gt_seg_map=seg,
        seg_fields=['gt_seg_map'],
        depth_fields=['gt_depth_map'])
    results = MultiViewResize(scale_factor=0.5)(results)
    assert results['gt_depth_map'].shape == (1, 20, 30)
    assert set(np.unique(results['gt_depth_map'])) == {0.0, 7.5}
    np.testing.assert_array_equal(results['gt_depth_map'][0, 5:10, 15:20], 7.5)
    assert results['gt_seg_map'].dtype == np.uint8
    assert set(np.unique(results['gt_seg_map'])) == {3}


def test_random_crop_keeps_intrinsics_consistent():
    np.random.seed(3)
    results = MultiViewRandomCrop(crop_size=(30, 40))(sample_results())
    assert results['img'].shape == (30, 40, 3)
    assert results['img_shape'] == (30, 40)
    x0, y0 = results['img'][0, 0, :2]
    assert x0 > 0 and y0 > 0  # the seed gives a non-trivial offset
    checked = 0
    for p in points_inside(K, n=20):
        u, v = project(K, p)
        u2, v2 = project(results['intrinsics'], p)
        if 0 <= u2 < 39 and 0 <= v2 < 29:
            np.testing.assert_allclose(
                bilinear(results['img'], u2, v2)[:2], [u, v], atol=1e-4)
            checked += 1
    assert checked >= 5


def test_fixed_crop_takes_the_window_and_shifts_the_principal_point():
    results = sample_results(markers=(0, 1), view_names=('l', 'r'))
    results['gt_seg_map'] = np.arange(2 * H * W).reshape(2, H, W)
    results['seg_fields'] = ['gt_seg_map']
    out = MultiViewFixedCrop(crop_size=(30, 50), offset=(0, 4))(results)
    assert out['img'].shape == (30, 50, 6) and out['img_shape'] == (30, 50)
    # pixel (0, 0) of the crop is pixel (u=4, v=0) of the image, both views
    np.testing.assert_array_equal(out['img'][0, 0], [4, 0, 0, 4, 0, 1])
    assert out['gt_seg_map'][1, 0, 0] == H * W + 4
    np.testing.assert_allclose(out['intrinsics'][:2, 2],
                               [K[0, 2] - 4, K[1, 2]])
    with pytest.raises(ValueError, match='does not fit in the 40x60'):
        MultiViewFixedCrop(
            crop_size=(30, 50), offset=(20, 0))(
                sample_results())


def test_flip_keeps_intrinsics_consistent():
    results = MultiViewRandomFlip(prob=1.0)(sample_results())
    assert results['flip'] and results['flip_direction'] == 'horizontal'
    for p in points_inside(K):
        u, v = project(K, p)
        mirrored = p * np.array([-1, 1, 1])
        u2, v2 = project(results['intrinsics'], mirrored)
        np.testing.assert_allclose(
            bilinear(results['img'], u2, v2)[:2], [u, v], atol=1e-4)


def test_resize_crop_flip_chain_keeps_intrinsics_consistent():
    np.random.seed(0)
    results = sample_results()
    for t in (MultiViewRandomResize(ratio_range=(1.2, 1.6)),
              MultiViewRandomCrop(crop_size=(36, 56)),
              MultiViewRandomFlip(prob=1.0)):
        results = t(results)
    sign = np.array([-1, 1, 1]) if results['flip'] else np.ones(3)
    h, w = results['img'].shape[:2]
    checked = 0
    for p in points_inside(K, n=30, seed=1):
        u, v = project(K, p)
        u2, v2 = project(results['intrinsics'], p * sign)
        if 1 <= u2 < w - 2 and 1 <= v2 < h - 2:
            np.testing.assert_allclose(
                bilinear(results['img'], u2, v2)[:2], [u, v], atol=5e-3)
            checked += 1
    assert checked >= 5


def test_flip_swaps_stereo_views_and_keeps_stereo_geometry():
    baseline = 0.5
    stereo_t = np.eye(4, dtype=np.float32)
    stereo_t[0, 3] = -baseline  # T_left2right
    results = sample_results(markers=(0, 1000), view_names=('l', 'r'))
    results.update(stereo_T=stereo_t, baseline=baseline)
    before = results['img'].copy()
    results = MultiViewRandomFlip(prob=1.0)(results)
    assert results['view_names'] == ('l', 'r')
    # the first view now comes from the right camera (marker 1000)
    assert results['img'][0, 0, 2] == 1000 and results['img'][0, 0, 5] == 0
    k2, t2 = results['intrinsics'], results['stereo_T']
    mirror = np.array([-1, 1, 1])
    checked = 0
    for p_l in points_inside(K, n=12, margin=8):
        p_r = p_l + stereo_t[:3, 3]
        u_l, v_l = project(K, p_l)
        u_r, v_r = project(K, p_r)
        if not (1 <= u_r < W - 2):
            continue
        # new left camera = mirrored old right camera
        p_new_l = p_r * mirror
        p_new_r = p_new_l + t2[:3, 3]
        np.testing.assert_allclose(
            bilinear(results['img'][..., :3], *project(k2, p_new_l)),
            bilinear(before[..., 3:], u_r, v_r),
            atol=1e-3)
        np.testing.assert_allclose(
            bilinear(results['img'][..., 3:], *project(k2, p_new_r)),
            bilinear(before[..., :3], u_l, v_l),
            atol=1e-3)
        checked += 1
    assert checked >= 4


def test_flip_extends_single_view_maps_of_stereo_pairs_and_swaps_them():
    seg = np.full((1, H, W), 4, np.uint8)
    depth = np.full((1, H, W), 2.0, np.float32)

    def with_maps():
        results = sample_results(markers=(0, 1000), view_names=('l', 'r'))
        results.update(
            gt_seg_map=seg.copy(),
            gt_depth_map=depth.copy(),
            seg_fields=['gt_seg_map'],
            depth_fields=['gt_depth_map'])
        return results

    kept = MultiViewRandomFlip(prob=0.0)(with_maps())
    assert not kept['flip'] and kept['flip_direction'] is None
    assert kept['gt_seg_map'].shape == (2, H, W)  # same shape either way
    assert (kept['gt_seg_map'][0] == 4).all()
    assert (kept['gt_seg_map'][1] == 255).all()
    assert (kept['gt_depth_map'][1] == 0).all()
    flipped = MultiViewRandomFlip(prob=1.0)(with_maps())
    # the left view's labels now belong to the second view
    assert (flipped['gt_seg_map'][0] == 255).all()
    assert (flipped['gt_seg_map'][1] == 4).all()
    assert (flipped['gt_depth_map'][0] == 0).all()
    assert (flipped['gt_depth_map'][1] == 2).all()


def test_flip_mirrors_temporal_views_in_place():
    results = sample_results(markers=(0, 1, 2), view_names=('t', 't-1', 't+1'))
    results = MultiViewRandomFlip(prob=1.0)(results)
    np.testing.assert_array_equal(results['img'][0, 0, 2::3], [0, 1, 2])
    np.testing.assert_array_equal(results['img'][0, :, 0], np.arange(W)[::-1])


def test_flip_negates_stereo_partner_of_temporal_views():
    stereo_t = np.eye(4, dtype=np.float32)
    stereo_t[0, 3] = -0.1
    results = sample_results(
        markers=(0, 1, 2, 3), view_names=('t', 't-1', 't+1', 's'))
    results['stereo_T'] = stereo_t
    results = MultiViewRandomFlip(prob=1.0)(results)
    assert results['stereo_T'][0, 3] == pytest.approx(0.1)
    np.testing.assert_array_equal(results['img'][0, 0, 2::3], [0, 1, 2, 3])
    assert stereo_t[0, 3] == pytest.approx(-0.1)  # input not modified


def test_map_of_wrong_size_names_key():
    results = sample_results()
    results.update(
        gt_depth_map=np.zeros((1, H + 1, W), np.float32),
        depth_fields=['gt_depth_map'])
    with pytest.raises(ValueError, match='gt_depth_map'):
        MultiViewRandomFlip(prob=1.0)(results)


def test_crop_cat_max_ratio_retries_single_class_windows(monkeypatch):
    seg = np.zeros((1, H, W), np.uint8)
    seg[0, :, 30:] = 1
    results = sample_results()
    results.update(gt_seg_map=seg, seg_fields=['gt_seg_map'])
    offsets = iter([(0, 0), (0, 25)])  # pure class 0, then 5/10 columns mixed
    crop = MultiViewRandomCrop(crop_size=(H, 10), cat_max_ratio=0.75)
    monkeypatch.setattr(crop, '_random_offset', lambda *a: next(offsets))
    results = crop(results)
    np.testing.assert_array_equal(results['gt_seg_map'][0, 0],
                                  [0] * 5 + [1] * 5)
    assert results['intrinsics'][0, 2] == pytest.approx(27.3 - 25)


def test_random_resize_picks_listed_ratio():
    np.random.seed(1)
    sizes = set()
    for _ in range(20):
        out = MultiViewRandomResize(ratios=(0.5, 1.5))(sample_results())
        sizes.add(out['img'].shape[:2])
    assert sizes == {(20, 30), (60, 90)}
    with pytest.raises(ValueError, match='exactly one'):
        MultiViewRandomResize(ratio_range=(0.5, 2), ratios=(1, ))


def test_keep_unaugmented_then_jitter_identical_across_views():
    rng = np.random.RandomState(0)
    view = rng.randint(0, 256, (H, W, 3), dtype=np.uint8)
    results = dict(img=np.concatenate([view, view, view], axis=2))
    results = KeepUnaugmentedImage()(results)
    np.random.seed(0)
    results = MultiViewColorJitter(prob=1.0)(results)
    img = results['img']
    assert img.dtype == np.uint8 and img.shape == (H, W, 9)
    np.testing.assert_array_equal(img[..., :3], img[..., 3:6])
    np.testing.assert_array_equal(img[..., :3], img[..., 6:])
    assert np.abs(img[..., :3].astype(int) - view).mean() > 1
    np.testing.assert_array_equal(results['unaug_img'][..., :3], view)
    np.testing.assert_array_equal(results['unaug_img'][..., 6:], view)


def test_jitter_probability_zero_is_identity():
    img = np.random.RandomState(0).randint(0, 256, (H, W, 6), np.uint8)
    out = MultiViewColorJitter(prob=0.0)(dict(img=img.copy()))
    np.testing.assert_array_equal(out['img'], img)


def test_jitter_operations_by_hand():
    jitter = MultiViewColorJitter()
    img = np.full((2, 2, 3), 100, np.uint8)
    img[0, 0] = 200
    # brightness x1.5, clipped at 255
    out = jitter.jitter(img, [0], (1.5, 1, 1, 0))
    assert out[0, 0, 0] == 255 and out[1, 1, 0] == 150
    # contrast 0.5 blends each view with the mean of its own grey image:
    # view 0 constant 200 stays; view 1 {0, 200} (mean 100) -> {50, 150}
    two = np.zeros((2, 2, 6), np.uint8)
    two[..., :3] = 200
    two[0, :, 3:] = 200
    out = jitter.jitter(two, [1], (1, 0.5, 1, 0))
    assert (out[..., :3] == 200).all()
    assert (out[0, :, 3:] == 150).all() and (out[1, :, 3:] == 50).all()
    # saturation 0: grey = 0.114 B + 0.587 G + 0.299 R = 21.85 -> 22
    bgr = np.zeros((1, 1, 3), np.uint8)
    bgr[0, 0] = (10, 20, 30)
    assert (jitter.jitter(bgr, [2], (1, 1, 0, 0)) == 22).all()
    # hue: half a turn takes red (BGR 0, 0, 255) to cyan (255, 255, 0)
    red = np.zeros((1, 1, 3), np.uint8)
    red[0, 0] = (0, 0, 255)
    np.testing.assert_array_equal(
        jitter.jitter(red, [3], (1, 1, 1, 0.5))[0, 0], [255, 255, 0])
    np.testing.assert_array_equal(
        jitter.jitter(red, [3], (1, 1, 1, 1 / 3))[0, 0], [0, 255, 0])
