# Copyright (c) mmdepthseg contributors. All rights reserved.
import math

import pytest
import torch

from mmdepthseg.models.layers.geometry import (backproject_depth,
                                               depth_to_disparity,
                                               disp_to_depth,
                                               disparity_to_depth, pixel_grid,
                                               pixels_to_grid, project_points,
                                               reprojection_grids,
                                               rot_from_axisangle, stereo_warp,
                                               transformation_from_parameters,
                                               view_synthesis)


def _intrinsics(fx=50.0, fy=40.0, cx=7.5, cy=4.5, batch=1):
    K = torch.tensor([[fx, 0., cx], [0., fy, cy], [0., 0., 1.]])
    return K.expand(batch, 3, 3).clone()


def _translation(tx=0.0, ty=0.0, tz=0.0, batch=1):
    T = torch.eye(4)
    T[:3, 3] = torch.tensor([tx, ty, tz])
    return T.expand(batch, 4, 4).clone()


def test_pixel_grid_is_row_major_u_v_one():
    grid = pixel_grid(2, 3)
    expected = torch.tensor([[0., 1., 2., 0., 1.,
                              2.], [0., 0., 0., 1., 1., 1.],
                             [1., 1., 1., 1., 1., 1.]])
    assert grid.shape == (3, 6)
    assert torch.equal(grid, expected)
    assert pixel_grid(2, 3, dtype=torch.float64).dtype == torch.float64


def test_backproject_depth_hand_computed_point():
    # pixel (u=2, v=1) with depth 3, fx=2, fy=4, cx=1, cy=0.5:
    # x = (2 - 1) / 2 * 3 = 1.5, y = (1 - 0.5) / 4 * 3 = 0.375, z = 3
    K = torch.tensor([[[2., 0., 1.], [0., 4., 0.5], [0., 0., 1.]]])
    depth = torch.full((1, 1, 2, 3), 3.0)
    points = backproject_depth(depth, torch.linalg.inv(K))
    assert points.shape == (1, 4, 6)
    index = 1 * 3 + 2  # row-major index of (u=2, v=1)
    assert torch.allclose(points[0, :, index],
                          torch.tensor([1.5, 0.375, 3.0, 1.0]))


def test_backproject_then_project_identity_returns_pixel_grid():
    torch.manual_seed(0)
    batch, height, width = 2, 5, 7
    depth = torch.rand(batch, 1, height, width) * 10 + 0.5
    K = _intrinsics(batch=batch)
    points = backproject_depth(depth, torch.linalg.inv(K))
    pix, z = project_points(points, K, torch.eye(4).expand(batch, 4, 4))
    grid = pixel_grid(height, width)[:2].expand(batch, 2, -1)
    assert pix.shape == (batch, 2, height * width)
    assert torch.allclose(pix, grid, atol=1e-4)
    assert torch.allclose(z, depth.reshape(batch, 1, -1), atol=1e-5)


def test_translation_shifts_pixels_by_fx_t_over_z():
    # fronto-parallel plane at z = 5, camera moved so that X_src = X + t:
    # u' = u + fx * tx / z = u + 100 * 0.5 / 5 = u + 10, v' = v + fy*ty/z.
    height, width = 4, 6
    depth = torch.full((1, 1, height, width), 5.0)
    K = _intrinsics(fx=100.0, fy=80.0, cx=2.5, cy=1.5)
    points = backproject_depth(depth, torch.linalg.inv(K))
    pix, z = project_points(points, K, _translation(tx=0.5, ty=-0.25))
    grid = pixel_grid(height, width)[:2]
    assert torch.allclose(pix[0, 0], grid[0] + 10.0, atol=1e-4)
    assert torch.allclose(pix[0, 1], grid[1] - 4.0, atol=1e-4)
    assert torch.allclose(z, torch.full_like(z, 5.0))


def test_project_points_clamps_depth_and_reports_raw_z():
    points = torch.tensor([[[1.0], [1.0], [0.0], [1.0]]])  # z = 0
    K = _intrinsics(fx=1.0, fy=1.0, cx=0.0, cy=0.0)
    pix, z = project_points(points, K, torch.eye(4)[None], eps=1e-3)
    assert torch.isfinite(pix).all()
    assert torch.allclose(pix[0, :, 0], torch.tensor([1e3, 1e3]))
    assert z.item() == 0.0


def test_pixels_to_grid_maps_corner_centres_to_minus_one_and_one():
    height, width = 3, 5
    pix = pixel_grid(height, width)[:2][None]
    grid = pixels_to_grid(pix, height, width)
    assert grid.shape == (1, height, width, 2)
    assert torch.allclose(grid[0, 0, 0], torch.tensor([-1., -1.]))
    assert torch.allclose(grid[0, -1, -1], torch.tensor([1., 1.]))
    assert torch.allclose(grid[0, 1, 2], torch.tensor([0., 0.]))
    # x = 2u / (W - 1) - 1 for u = 1: -0.5
    assert torch.allclose(grid[0, 0, 1, 0], torch.tensor(-0.5))


def test_rot_from_axisangle_90_degrees_about_z():
    rot = rot_from_axisangle(torch.tensor([[0., 0., math.pi / 2]]))
    expected = torch.tensor([[0., -1., 0., 0.], [1., 0., 0., 0.],
                             [0., 0., 1., 0.], [0., 0., 0., 1.]])
    assert rot.shape == (1, 4, 4)
    assert torch.allclose(rot[0], expected, atol=1e-6)


def test_rot_from_axisangle_about_x_and_zero_vector():
    angle = 0.3
    rot = rot_from_axisangle(torch.tensor([[angle, 0., 0.], [0., 0., 0.]]))
    c, s = math.cos(angle), math.sin(angle)
    expected = torch.tensor([[1., 0., 0.], [0., c, -s], [0., s, c]])
    assert torch.allclose(rot[0, :3, :3], expected, atol=1e-6)
    assert torch.allclose(rot[1], torch.eye(4))
    # (B, 1, 3) as monodepth2's pose decoder outputs is accepted
    rot_b13 = rot_from_axisangle(torch.tensor([[[angle, 0., 0.]]]))
    assert torch.allclose(rot_b13[0], rot[0])
    with pytest.raises(ValueError):
        rot_from_axisangle(torch.zeros(2, 4))


def test_rot_from_axisangle_small_angles_have_finite_gradients():
    # near 0, R = I + [w]x to first order: R[1, 0] = w_z, R[0, 1] = -w_z
    axisangle = torch.tensor([[0., 0., 0.], [0., 0., 1e-6]],
                             dtype=torch.float64,
                             requires_grad=True)
    rot = rot_from_axisangle(axisangle)
    assert torch.allclose(rot[1, 1, 0], torch.tensor(1e-6).double())
    assert torch.allclose(rot[1, 0, 1], torch.tensor(-1e-6).double())
    rot.sum().backward()
    assert torch.isfinite(axisangle.grad).all()


def test_rot_from_axisangle_is_orthonormal():
    torch.manual_seed(1)
    rot = rot_from_axisangle(torch.randn(8, 3, dtype=torch.float64))[:, :3, :3]
    eye = torch.eye(3, dtype=torch.float64).expand(8, 3, 3)
    assert torch.allclose(rot @ rot.transpose(1, 2), eye, atol=1e-10)
    assert torch.allclose(
        torch.linalg.det(rot), torch.ones(8, dtype=torch.float64))


def test_transformation_from_parameters_and_its_inverse():
    torch.manual_seed(2)
    axisangle = torch.randn(3, 3, dtype=torch.float64)
    translation = torch.randn(3, 3, dtype=torch.float64)
    T = transformation_from_parameters(axisangle, translation)
    T_inv = transformation_from_parameters(axisangle, translation, invert=True)
    assert T.shape == (3, 4, 4)
    assert torch.allclose(T[:, :3, 3], translation)
    assert torch.allclose(T[:, :3, :3],
                          rot_from_axisangle(axisangle)[:, :3, :3])
    assert torch.allclose(T[:, 3], torch.tensor([0., 0., 0., 1.]).double())
    eye = torch.eye(4, dtype=torch.float64).expand(3, 4, 4)
    assert torch.allclose(T_inv @ T, eye, atol=1e-10)
    assert torch.allclose(T_inv, torch.linalg.inv(T), atol=1e-10)


def test_disp_to_depth_is_the_monodepth2_name_of_sigmoid_to_depth():
    from mmdepthseg.models.layers import sigmoid_to_depth
    assert disp_to_depth is sigmoid_to_depth


def test_disp_to_depth_endpoints():
    scaled, depth = disp_to_depth(torch.tensor([0.0, 1.0]))
    assert torch.allclose(depth, torch.tensor([100.0, 0.1]))
    assert torch.allclose(scaled, torch.tensor([0.01, 10.0]))
    _, depth = disp_to_depth(torch.tensor([0.0, 1.0]), 0.5, 20.0)
    assert torch.allclose(depth, torch.tensor([20.0, 0.5]))


def test_depth_disparity_round_trip_and_zeros():
    depth = torch.tensor([[[[0.0, 2.0], [4.0, -1.0]]]])
    disp = depth_to_disparity(depth, focal=100.0, baseline=0.5)
    # 100 * 0.5 / 2 = 25, 100 * 0.5 / 4 = 12.5, invalid stays 0
    assert torch.equal(disp, torch.tensor([[[[0.0, 25.0], [12.5, 0.0]]]]))
    back = disparity_to_depth(disp, focal=100.0, baseline=0.5)
    assert torch.equal(back, torch.tensor([[[[0.0, 2.0], [4.0, 0.0]]]]))


def test_depth_to_disparity_per_sample_focal_and_finite_gradient():
    depth = torch.tensor([2.0, 0.0, 4.0, 8.0]).view(2, 1, 1, 2)
    depth.requires_grad_(True)
    focal = torch.tensor([10.0, 20.0]).view(2, 1, 1, 1)
    disp = depth_to_disparity(depth, focal, torch.tensor(0.4))
    expected = torch.tensor([2.0, 0.0, 2.0, 1.0]).view(2, 1, 1, 2)
    assert torch.allclose(disp, expected)
    disp.sum().backward()
    assert torch.isfinite(depth.grad).all()


def test_stereo_warp_of_ramp_by_constant_disparity():
    height, width, d = 3, 8, 2.0
    ramp = torch.arange(width, dtype=torch.float32).expand(1, 1, height, width)
    disparity = torch.full((1, 1, height, width), d)
    u = torch.arange(width, dtype=torch.float32)
    r2l = stereo_warp(ramp, disparity, 'r2l')
    # samples at u - d, border padding clamps to column 0
    assert torch.allclose(r2l[0, 0], (u - d).clamp(min=0).expand(height, -1))
    l2r = stereo_warp(ramp, disparity, 'l2r')
    assert torch.allclose(l2r[0, 0],
                          (u + d).clamp(max=width - 1).expand(height, -1))
    # a sub-pixel disparity interpolates linearly on a ramp
    half = stereo_warp(ramp, disparity * 0.25, 'r2l')
    assert torch.allclose(half[0, 0, :, 1:], (u[1:] - 0.5).expand(height, -1))


def test_stereo_warp_invalid_direction_raises():
    img = torch.zeros(1, 1, 2, 2)
    with pytest.raises(ValueError, match='direction'):
        stereo_warp(img, img, direction='up')


def test_view_synthesis_identity_returns_source():
    torch.manual_seed(3)
    src = torch.rand(2, 3, 6, 9)
    depth = torch.rand(2, 1, 6, 9) + 1.0
    warped, valid = view_synthesis(src, depth, _intrinsics(batch=2),
                                   torch.eye(4).expand(2, 4, 4))
    assert torch.allclose(warped, src, atol=1e-5)
    assert valid.dtype == torch.bool and valid.shape == (2, 1, 6, 9)
    assert valid.all()


def test_view_synthesis_pure_x_translation_equals_stereo_warp():
    # left camera = target, right camera = source, X_r = X_l - (b, 0, 0):
    # u_r = u_l - fx * b / z, i.e. stereo disparity d = fx * b / z.
    torch.manual_seed(4)
    height, width = 6, 16
    fx, baseline, z = 50.0, 0.4, 4.0  # d = 5 px
    src = torch.rand(1, 3, height, width)
    depth = torch.full((1, 1, height, width), z)
    K = _intrinsics(fx=fx, cx=7.5, cy=2.5)
    warped, valid = view_synthesis(src, depth, K, _translation(tx=-baseline))
    disparity = depth_to_disparity(depth, fx, baseline)
    assert torch.allclose(disparity, torch.full_like(depth, 5.0))
    expected = stereo_warp(src, disparity, 'r2l')
    assert torch.allclose(warped, expected, atol=1e-5)
    # target columns u < 5 see outside the right image
    assert not valid[..., :5].any()
    assert valid[..., 5:].all()


def test_view_synthesis_valid_excludes_behind_camera_and_zero_depth():
    depth = torch.full((1, 1, 3, 4), 2.0)
    depth[0, 0, 0, 0] = 0.0
    K = _intrinsics(fx=2.0, fy=2.0, cx=1.5, cy=1.0)
    src = torch.rand(1, 1, 3, 4)
    _, valid = view_synthesis(src, depth, K, torch.eye(4)[None])
    assert not valid[0, 0, 0, 0] and valid.sum() == 11
    # source camera 5 m ahead of a plane 2 m away: every point behind it
    _, valid = view_synthesis(src, depth, K, _translation(tz=-5.0))
    assert not valid.any()
    with pytest.raises(ValueError, match='padding_mode'):
        view_synthesis(src, depth, K, torch.eye(4)[None], padding_mode='x')


def test_reprojection_grids_equal_the_unfactorised_projection():
    # N=2 depth maps, S=3 transforms (with rotation and skew-free K): the
    # grids equal backproject -> transform -> project -> normalise
    gen = torch.Generator().manual_seed(7)
    b, h, w = 2, 5, 7
    depth = 1 + 10 * torch.rand(
        2, b, 1, h, w, generator=gen, dtype=torch.float64)
    K = torch.tensor([[6., 0., 3.2], [0., 5., 2.1], [0., 0., 1.]],
                     dtype=torch.float64).repeat(b, 1, 1)
    K[1, 0, 0] = 7.
    T = torch.stack([
        transformation_from_parameters(
            0.1 * torch.randn(b, 3, generator=gen, dtype=torch.float64),
            torch.randn(b, 3, generator=gen, dtype=torch.float64))
        for _ in range(3)
    ])
    grids = reprojection_grids(depth, K, T)
    assert grids.shape == (3, b, 2, h, w, 2)
    for n in range(2):
        points = backproject_depth(depth[n], torch.linalg.inv(K))
        for s in range(3):
            pix, _ = project_points(points, K, T[s])
            torch.testing.assert_close(grids[s, :, n],
                                       pixels_to_grid(pix, h, w))
    with pytest.raises(ValueError, match='depth'):
        reprojection_grids(depth[0], K, T)
    with pytest.raises(ValueError, match='T_tgt2src'):
        reprojection_grids(depth, K, T[0])
