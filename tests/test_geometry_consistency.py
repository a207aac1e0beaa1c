# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The generator's exact depth and poses + the project's warping agree.

Frames t-1, t, t+1 and the right view of t are rendered by the synthetic
generator. Warping a source view into frame t with the project's geometry
(``view_synthesis`` / ``stereo_warp``), frame t's exact depth and the exact
relative pose must reproduce frame t up to bilinear resampling of textured
surfaces. This only holds if intrinsics (integer pixel centres), pose
convention (``T_tgt2src = inv(T_src_cam2world) @ T_tgt_cam2world``),
depth (camera z) and disparity direction all agree; a perturbed pose or
baseline must give a much larger error, so the test can fail.

Error budget: pixels are compared on RGB in grey levels (0..255), over
pixels that are not sky, project inside the source view and are not
occluded there (the depth they would have in the source matches the
source's depth sampled at that location within 1 %). What remains is the
resampling error of bilinear interpolation on high-frequency texture, which
grows with distance (texture finer than a pixel); at 192x640 the measured
mean is about 1.3-1.5 (temporal) and 0.9 (stereo) grey levels, against
11-19 for a pose 0.3 m off or inverted and about 5 for a baseline 15 % off.

Photometric errors hardly see a half-pixel error of the principal point
(it nearly cancels between back-projection and projection), so two exact
tests complete them: points back-projected with ``backproject_depth`` must
lie on the surfaces the renderer hits, and points projected with
``project_points`` into the previous camera must be where that camera's
ray meets the scene. A half-pixel shift of the pixel grid fails all six
tests; an inverted pose fails the projection test.
"""
import numpy as np
import pytest
import torch

from mmdepthseg.models.layers.geometry import (backproject_depth,
                                               depth_to_disparity,
                                               project_points, stereo_warp,
                                               view_synthesis)
from mmdepthseg.synthetic import StreetScene, stereo_right_pose

H, W = 192, 640
BASELINE = 0.54
SKY = 10
MAX_TEMPORAL_ERROR = 2.0  # grey levels
MAX_STEREO_ERROR = 1.5


def _kitti_K():
    return np.array([[0.58 * W, 0, 0.5 * W], [0, 1.92 * H, 0.5 * H],
                     [0, 0, 1.0]])


def _img(frame):
    return torch.from_numpy(frame['img']).permute(2, 0, 1)[None].float()


def _map(array):
    return torch.from_numpy(np.ascontiguousarray(array))[None, None].float()


def _aim_at(K, uv):
    """Intrinsics of a 1x1 camera whose only pixel looks along the ray of
    pixel ``uv`` of a camera with intrinsics ``K``."""
    K1 = K.copy()
    K1[:2, 2] -= np.asarray(uv, dtype=np.float64)
    return K1


@pytest.fixture(scope='module', autouse=True)
def single_thread():
    """One intra-op thread: these small ops are 50x slower when OpenMP
    threads wait on a busy 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='module')
def frames():
    scene = StreetScene(seed=3)
    K = _kitti_K()
    poses = scene.camera_trajectory(8, step=1.0)
    t = 5
    out = {
        name: scene.render(pose, K, H, W)
        for name, pose in (('t-1', poses[t - 1]), ('t', poses[t]),
                           ('t+1', poses[t + 1]),
                           ('right', stereo_right_pose(poses[t], BASELINE)))
    }
    return out, {
        't-1': poses[t - 1],
        't': poses[t],
        't+1': poses[t + 1]
    }, K, scene


def _temporal_warp(frames, src, T_tgt2src):
    """Warp view ``src`` into frame t; return warped image and the mask of
    valid, non-occluded, non-sky pixels (computed with the given pose)."""
    images, _, K, _ = frames
    Kt = torch.from_numpy(K)[None].float()
    T = torch.from_numpy(T_tgt2src)[None].float()
    depth = _map(images['t']['depth'])
    warped, valid = view_synthesis(_img(images[src]), depth, Kt, T)
    # Depth of each target point in the source camera vs. the source's own
    # depth sampled at the same place: a mismatch means occlusion.
    src_depth, _ = view_synthesis(_map(images[src]['depth']), depth, Kt, T)
    points = backproject_depth(depth, torch.linalg.inv(Kt))
    _, z = project_points(points, Kt, T)
    z = z.reshape(1, 1, H, W)
    visible = (src_depth - z).abs() < 0.01 * z
    not_sky = _map(images['t']['label'] != SKY).bool()
    return warped, valid & visible & not_sky


def _mean_error(a, b, mask):
    return (a - b).abs().mean(dim=1, keepdim=True)[mask].mean().item()


@pytest.mark.parametrize('src', ['t-1', 't+1'])
def test_temporal_warp_with_exact_depth_and_pose(frames, src):
    images, poses, _, _ = frames
    T_tgt2src = np.linalg.inv(poses[src]) @ poses['t']
    warped, mask = _temporal_warp(frames, src, T_tgt2src)
    # Most of the image is compared (moving forward, the border of frame t
    # leaves frame t+1: about 70 % of the pixels remain, 90 % for t-1).
    assert mask.float().mean() > 0.5
    target = _img(images['t'])
    err = _mean_error(warped, target, mask)
    assert err < MAX_TEMPORAL_ERROR

    # The test can fail: a pose 0.3 m off, or the inverse convention.
    wrong = T_tgt2src.copy()
    wrong[0, 3] += 0.3
    warped_wrong, _ = _temporal_warp(frames, src, wrong)
    err_wrong = _mean_error(warped_wrong, target, mask)
    assert err_wrong > 4 * err and err_wrong > 6
    inverse = np.linalg.inv(T_tgt2src)
    warped_inv, _ = _temporal_warp(frames, src, inverse)
    assert _mean_error(warped_inv, target, mask) > 4 * err


def test_stereo_warp_with_exact_disparity(frames):
    images, _, K, _ = frames
    left, right = _img(images['t']), _img(images['right'])
    depth_l = _map(images['t']['depth'])
    disp = depth_to_disparity(depth_l, float(K[0, 0]), BASELINE)
    recon = stereo_warp(right, disp, 'r2l')
    # Visible in the right view: lands inside it with the right's depth.
    right_depth = stereo_warp(_map(images['right']['depth']), disp, 'r2l')
    u = torch.arange(W, dtype=torch.float32).view(1, 1, 1, W)
    mask = (depth_l > 0) & (u - disp >= 0) & (
        (right_depth - depth_l).abs() < 0.01 * depth_l)
    assert mask.float().mean() > 0.5
    err = _mean_error(recon, left, mask)
    assert err < MAX_STEREO_ERROR

    # A wrong baseline (+-15 %) or the wrong direction fails.
    for scale in (0.85, 1.15):
        wrong = stereo_warp(right, disp * scale, 'r2l')
        assert _mean_error(wrong, left, mask) > 2.5 * err
    flipped = stereo_warp(right, disp, 'l2r')
    assert _mean_error(flipped, left, mask) > 4 * err

    # The general view synthesis with the stereo transform (left camera ->
    # right camera is a shift by -baseline along x) gives the same warp.
    T_l2r = torch.eye(4)[None]
    T_l2r[0, 0, 3] = -BASELINE
    Kt = torch.from_numpy(K)[None].float()
    via_pose, valid = view_synthesis(right, depth_l, Kt, T_l2r)
    both = mask & valid
    assert (via_pose - recon).abs().amax(dim=1, keepdim=True)[both].max() \
        < 0.05


def test_stereo_warp_left_to_right(frames):
    """'l2r' rebuilds the right view from the left with RIGHT disparity."""
    images, _, K, _ = frames
    left, right = _img(images['t']), _img(images['right'])
    depth_r = _map(images['right']['depth'])
    disp_r = depth_to_disparity(depth_r, float(K[0, 0]), BASELINE)
    recon = stereo_warp(left, disp_r, 'l2r')
    left_depth = stereo_warp(_map(images['t']['depth']), disp_r, 'l2r')
    u = torch.arange(W, dtype=torch.float32).view(1, 1, 1, W)
    mask = (depth_r > 0) & (u + disp_r <= W - 1) & (
        (left_depth - depth_r).abs() < 0.01 * depth_r)
    assert mask.float().mean() > 0.5
    err = _mean_error(recon, right, mask)
    assert err < MAX_STEREO_ERROR
    assert _mean_error(stereo_warp(left, disp_r, 'r2l'), right, mask) > \
        4 * err


def test_backprojected_points_lie_on_the_rendered_surfaces(frames):
    """Exact check of the pixel-centre convention of ``backproject_depth``.

    The ray through a back-projected point, cast again by the renderer from
    the same camera, must hit the scene at the point's own depth; with a
    half-pixel offset the points would float off every surface that is not
    fronto-parallel.
    """
    images, poses, K, scene = frames
    depth = _map(images['t']['depth'])
    Kt = torch.from_numpy(K)[None].float()
    points = backproject_depth(depth, torch.linalg.inv(Kt))[0].double()
    rng = np.random.default_rng(0)
    idx = rng.choice(
        np.flatnonzero(images['t']['depth'].ravel() > 0), 100, replace=False)
    for k in idx:
        x, y, z = points[:3, k].tolist()
        uv = (K[0, 0] * x / z + K[0, 2], K[1, 1] * y / z + K[1, 2])
        hit = scene.render(poses['t'], _aim_at(K, uv), 1, 1)['depth'][0, 0]
        assert hit == pytest.approx(z, rel=1e-4)


def test_projected_points_match_the_source_camera(frames):
    """Exact check of ``project_points`` and ``T_tgt2src``.

    Points of frame t moved into camera t-1 and projected there: the ray
    of t-1 through that projection hits the scene exactly at the point's
    depth, or in front of it where the point is occluded in t-1, never
    behind it.
    """
    images, poses, K, scene = frames
    depth = _map(images['t']['depth'])
    Kt = torch.from_numpy(K)[None].float()
    T = torch.from_numpy(np.linalg.inv(poses['t-1']) @ poses['t'])[None]
    points = backproject_depth(depth, torch.linalg.inv(Kt))
    pix, z = project_points(points.double(), Kt.double(), T)
    rng = np.random.default_rng(1)
    idx = rng.choice(
        np.flatnonzero(images['t']['depth'].ravel() > 0), 100, replace=False)
    same = 0
    for k in idx:
        uv, zk = pix[0, :, k].tolist(), z[0, 0, k].item()
        hit = scene.render(poses['t-1'], _aim_at(K, uv), 1, 1)['depth'][0, 0]
        assert hit < zk * (1 + 1e-4)  # never passes behind the point
        same += abs(hit - zk) < 1e-4 * zk
    assert same > 0.9 * len(idx)  # occlusions are rare one frame apart
