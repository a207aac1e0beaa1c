# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Camera geometry shared by the self-supervised and stereo methods.

Short pure functions, one job each. Conventions (see
``docs/en/data_contract.md``):

- Camera frame: OpenCV, x right, y down, z forward (metres).
- Pixel ``(u, v)`` is the centre of column ``u`` / row ``v``: pixel centres
  are integer coordinates, so every sampling uses
  ``F.grid_sample(..., align_corners=True)``.
- ``T_a2b`` (B, 4, 4) maps homogeneous points of frame ``a`` to frame ``b``:
  ``X_b = T_a2b @ X_a``.
- Disparity is in pixels at the current image size:
  ``d = fx * baseline / depth``.

Pixel grids are built from the input's shape on every call (nothing about
the batch or image size is stored), which costs one ``arange`` per call.
"""
from typing import Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

Scalar = Union[float, Tensor]

_PADDING_MODES = ('zeros', 'border', 'reflection')
# pixels: a point projecting this close outside the image is still 'inside'
# (float32 round-off on the border columns of an identity warp is ~1e-5 px)
_BOUNDARY_TOL = 1e-3


def pixel_grid(height: int,
               width: int,
               device: Union[str, torch.device, None] = None,
               dtype: Union[torch.dtype, None] = None) -> Tensor:
    """Homogeneous pixel coordinates of an image, row-major.

    Args:
        height (int): Image height H.
        width (int): Image width W.
        device (str | torch.device, optional): Device of the result.
        dtype (torch.dtype, optional): Floating dtype of the result.
            Defaults to ``torch.get_default_dtype()``.

    Returns:
        Tensor: (3, H*W) rows ``(u, v, 1)``, ``u`` the column index and ``v``
        the row index; entry ``k`` is pixel ``(k % W, k // W)``.
    """
    dtype = dtype or torch.get_default_dtype()
    v, u = torch.meshgrid(
        torch.arange(height, device=device, dtype=dtype),
        torch.arange(width, device=device, dtype=dtype),
        indexing='ij')
    return torch.stack(
        [u.reshape(-1),
         v.reshape(-1),
         torch.ones_like(u).reshape(-1)])


def backproject_depth(depth: Tensor, inv_K: Tensor) -> Tensor:
    """Lift every pixel to a 3D camera point with its depth.

    ``X = depth * K^-1 @ (u, v, 1)^T``.

    Args:
        depth (Tensor): (B, 1, H, W) depth along the optical axis (z).
        inv_K (Tensor): (B, 3, 3) inverse intrinsics. A (B, 4, 4) matrix is
            accepted as well (its top-left 3x3 block is used).

    Returns:
        Tensor: (B, 4, H*W) homogeneous camera points ``(x, y, z, 1)``, in
        the row-major pixel order of :func:`pixel_grid`.
    """
    if depth.dim() != 4 or depth.shape[1] != 1:
        raise ValueError('backproject_depth expects depth of shape '
                         f'(B, 1, H, W), got {tuple(depth.shape)}')
    batch, _, height, width = depth.shape
    pix = pixel_grid(height, width, depth.device, depth.dtype)
    rays = inv_K[:, :3, :3].to(depth.dtype) @ pix  # (B, 3, H*W)
    points = rays * depth.reshape(batch, 1, -1)
    ones = torch.ones_like(points[:, :1])
    return torch.cat([points, ones], dim=1)


def project_points(points: Tensor,
                   K: Tensor,
                   T: Tensor,
                   eps: float = 1e-7) -> Tuple[Tensor, Tensor]:
    """Transform 3D points by ``T`` and project them with ``K``.

    Args:
        points (Tensor): (B, 4, N) homogeneous points.
        K (Tensor): (B, 3, 3) intrinsics (a (B, 4, 4) matrix is accepted,
            its top-left 3x3 block is used).
        T (Tensor): (B, 4, 4) transform into the camera that projects.
        eps (float): The depth is clamped to at least ``eps`` before the
            perspective division. Defaults to 1e-7.

    Returns:
        tuple[Tensor, Tensor]: (B, 2, N) pixel coordinates ``(u, v)`` and
        (B, 1, N) depth ``z`` in the projecting camera (not clamped, so
        ``z <= 0`` marks points behind it).
    """
    cam = (T @ points)[:, :3]  # (B, 3, N)
    z = cam[:, 2:3]
    proj = K[:, :3, :3].to(cam.dtype) @ cam
    pix = proj[:, :2] / proj[:, 2:3].clamp(min=eps)
    return pix, z


def pixels_to_grid(pix: Tensor, height: int, width: int) -> Tensor:
    """Normalise pixel coordinates for ``F.grid_sample(align_corners=True)``.

    ``x = 2u / (W - 1) - 1``, ``y = 2v / (H - 1) - 1`` (pixel centres at
    integer coordinates).

    Args:
        pix (Tensor): (B, 2, H*W) pixel coordinates ``(u, v)`` in the
            row-major order of :func:`pixel_grid`.
        height (int): Output height H.
        width (int): Output width W.

    Returns:
        Tensor: (B, H, W, 2) sampling grid in [-1, 1] for in-image points.
    """
    scale = pix.new_tensor([max(width - 1, 1), max(height - 1, 1)])
    grid = 2 * pix / scale.view(1, 2, 1) - 1
    return grid.permute(0, 2, 1).reshape(pix.shape[0], height, width, 2)


def view_synthesis(src_img: Tensor,
                   depth: Tensor,
                   K: Tensor,
                   T_tgt2src: Tensor,
                   padding_mode: str = 'border') -> Tuple[Tensor, Tensor]:
    """Reconstruct the target view by sampling the source image.

    Each target pixel is back-projected with its depth, moved into the
    source camera with ``T_tgt2src`` and projected with ``K``; the source
    image is bilinearly sampled there (monodepth2's warping).

    Training uses the factorised :func:`reprojection_grids` (many depths
    and poses at once); this one-pose, one-depth form is kept as public
    API: it is the readable statement of the warp, the reference the grids
    are tested against, and the call for warping a single prediction.

    Args:
        src_img (Tensor): (B, C, H, W) source image.
        depth (Tensor): (B, 1, H, W) depth of the TARGET view.
        K (Tensor): (B, 3, 3) intrinsics shared by both views.
        T_tgt2src (Tensor): (B, 4, 4) transform from target to source
            camera.
        padding_mode (str): ``grid_sample`` padding for points outside the
            source image. Defaults to 'border'.

    Returns:
        tuple[Tensor, Tensor]: (B, C, H, W) warped image and (B, 1, H, W)
        bool ``valid``: the target pixel has depth > 0 and projects inside
        the source image (pixel centres from 0 to W-1 / H-1, with a
        tolerance of 1e-3 px for rounding) with z > 0.
    """
    if padding_mode not in _PADDING_MODES:
        raise ValueError(f'padding_mode must be one of {_PADDING_MODES}, '
                         f'got {padding_mode!r}')
    batch, _, height, width = depth.shape
    K = K[:, :3, :3].to(depth.dtype)
    points = backproject_depth(depth, torch.linalg.inv(K))
    pix, z = project_points(points, K, T_tgt2src.to(depth.dtype))
    grid = pixels_to_grid(pix, height, width)
    warped = F.grid_sample(
        src_img,
        grid.to(src_img.dtype),
        mode='bilinear',
        padding_mode=padding_mode,
        align_corners=True)
    u, v = pix[:, 0:1], pix[:, 1:2]
    tol = _BOUNDARY_TOL
    valid = (z > 0) & (u >= -tol) & (u <= width - 1 + tol) & (v >= -tol) & (
        v <= height - 1 + tol)
    valid = valid.reshape(batch, 1, height, width) & (depth > 0)
    return warped, valid


def reprojection_grids(depth: Tensor,
                       K: Tensor,
                       T_tgt2src: Tensor,
                       eps: float = 1e-7) -> Tensor:
    """Sampling grids of :func:`view_synthesis` for many depths and poses.

    The projection of :func:`view_synthesis`, factorised for N depth maps
    (e.g. one per decoder scale) and S transforms (one per source view) of
    the same target frames: for a target pixel ``p = (u, v, 1)`` with depth
    ``d`` and ``T = [R | t]``::

        K (R (d K^-1 p) + t) = d * (K R K^-1 p) + K t

    so the depth-independent ``K R K^-1 p`` is computed once per transform
    and every depth map costs a multiply-add per pixel and coordinate (no
    4x4 product over homogeneous points). The values equal those of
    :func:`view_synthesis` up to float rounding; the depth is clamped to
    ``eps`` before the perspective division in the same way.

    Args:
        depth (Tensor): ``(N, B, 1, H, W)`` depths of the target view.
        K (Tensor): ``(B, 3, 3)`` intrinsics shared by all views (a
            ``(B, 4, 4)`` matrix is accepted).
        T_tgt2src (Tensor): ``(S, B, 4, 4)`` transforms from the target to
            each source camera.
        eps (float): Smallest depth in the source camera for the division.
            Defaults to 1e-7.

    Returns:
        Tensor: ``(S, B, N, H, W, 2)`` grids for
        ``F.grid_sample(..., align_corners=True)`` (``(x, y)`` in [-1, 1]
        inside the image): source-major, so that the N grids of one source
        image are one ``(B, N * H, W, 2)`` grid that samples it without
        copying it N times.
    """
    if depth.dim() != 5 or depth.shape[2] != 1:
        raise ValueError('reprojection_grids expects depth of shape '
                         f'(N, B, 1, H, W), got {tuple(depth.shape)}')
    n, b, _, height, width = depth.shape
    if T_tgt2src.dim() != 4 or T_tgt2src.shape[1:] != (b, 4, 4):
        raise ValueError(f'reprojection_grids expects T_tgt2src of shape '
                         f'(S, {b}, 4, 4), got {tuple(T_tgt2src.shape)}')
    K = K[:, :3, :3].to(depth.dtype)
    T = T_tgt2src.to(depth.dtype)
    pix = pixel_grid(height, width, depth.device, depth.dtype)
    rays = torch.linalg.inv(K) @ pix  # (B, 3, H*W)
    coef = (K @ T[..., :3, :3]) @ rays  # (S, B, 3, H*W)
    offset = K @ T[..., :3, 3:]  # (S, B, 3, 1)
    depth = depth.transpose(0, 1).reshape(1, b, n, 1, height * width)
    proj = depth * coef[:, :, None] + offset[:, :, None]  # (S, B, N, 3, HW)
    uv = proj[..., :2, :] / proj[..., 2:, :].clamp(min=eps)
    scale = uv.new_tensor([max(width - 1, 1), max(height - 1, 1)])
    grid = 2 * uv / scale.view(2, 1) - 1  # (S, B, N, 2, H*W)
    return grid.transpose(-1, -2).reshape(-1, b, n, height, width, 2)


def _skew(vec: Tensor) -> Tensor:
    """Cross-product matrices: (B, 3) -> (B, 3, 3), ``[v]x @ a = v x a``."""
    x, y, z = vec.unbind(dim=1)
    zero = torch.zeros_like(x)
    return torch.stack([
        torch.stack([zero, -z, y], dim=1),
        torch.stack([z, zero, -x], dim=1),
        torch.stack([-y, x, zero], dim=1)
    ],
                       dim=1)


def rot_from_axisangle(axisangle: Tensor) -> Tensor:
    """Rotation matrices from axis-angle vectors (Rodrigues' formula).

    ``R = I + (sin(a) / a) [w]x + ((1 - cos(a)) / a^2) [w]x^2`` with angle
    ``a = |w|``. Unlike monodepth2, which normalises the axis by
    ``a + 1e-7``, the two coefficients are evaluated exactly (by their Taylor
    series below ``a = 1e-4``), so ``R`` is orthonormal to working precision
    and the zero vector gives the identity with finite gradients.

    Args:
        axisangle (Tensor): (B, 3) axis-angle vectors ``w`` (radians);
            (B, 1, 3), as monodepth2's pose decoder gives them, is accepted.

    Returns:
        Tensor: (B, 4, 4) homogeneous rotations (zero translation).
    """
    axisangle = axisangle.flatten(1)
    if axisangle.shape[1] != 3:
        raise ValueError('rot_from_axisangle expects axis-angle of shape '
                         f'(B, 3), got {tuple(axisangle.shape)}')
    sq_angle = (axisangle * axisangle).sum(dim=1).view(-1, 1, 1)
    small = sq_angle < 1e-8
    safe_sq = torch.where(small, torch.ones_like(sq_angle), sq_angle)
    angle = safe_sq.sqrt()
    sin_coef = torch.where(small, 1 - sq_angle / 6, torch.sin(angle) / angle)
    cos_coef = torch.where(small, 0.5 - sq_angle / 24,
                           (1 - torch.cos(angle)) / safe_sq)
    skew = _skew(axisangle)
    eye = torch.eye(3, dtype=axisangle.dtype, device=axisangle.device)
    rot = eye + sin_coef * skew + cos_coef * (skew @ skew)
    mat = torch.zeros(
        axisangle.shape[0],
        4,
        4,
        dtype=axisangle.dtype,
        device=axisangle.device)
    mat[:, :3, :3] = rot
    mat[:, 3, 3] = 1
    return mat


def transformation_from_parameters(axisangle: Tensor,
                                   translation: Tensor,
                                   invert: bool = False) -> Tensor:
    """4x4 rigid transforms from pose-network outputs.

    Args:
        axisangle (Tensor): (B, 3) rotation as axis-angle (radians).
        translation (Tensor): (B, 3) translation.
        invert (bool): Return the inverse transform ``[R^T | -R^T t]``
            instead of ``[R | t]``. Defaults to False.

    Returns:
        Tensor: (B, 4, 4) transforms.
    """
    mat = rot_from_axisangle(axisangle)
    rot = mat[:, :3, :3]
    t = translation.flatten(1).unsqueeze(-1)  # (B, 3, 1)
    if invert:
        rot = rot.transpose(1, 2)
        t = -rot @ t
    bottom = mat[:, 3:4]  # (B, 1, 4): (0, 0, 0, 1)
    return torch.cat([torch.cat([rot, t], dim=2), bottom], dim=1)


def sigmoid_to_depth(disp: Tensor,
                     min_depth: float = 0.1,
                     max_depth: float = 100.0) -> Tuple[Tensor, Tensor]:
    """Map a sigmoid output to depth within ``[min_depth, max_depth]``.

    Not a stereo conversion (that is :func:`disparity_to_depth`,
    ``fx * baseline / disparity``): the network's normalised inverse depth
    is scaled into a depth range.

    monodepth2: ``scaled = 1/max + (1/min - 1/max) * disp`` and
    ``depth = 1 / scaled``.

    Args:
        disp (Tensor): Sigmoid output in [0, 1], any shape.
        min_depth (float): Depth at ``disp = 1``. Defaults to 0.1.
        max_depth (float): Depth at ``disp = 0``. Defaults to 100.

    Returns:
        tuple[Tensor, Tensor]: ``scaled_disp`` and ``depth``, shaped like
        ``disp``.
    """
    min_disp = 1 / max_depth
    max_disp = 1 / min_depth
    scaled_disp = min_disp + (max_disp - min_disp) * disp
    return scaled_disp, 1 / scaled_disp


#: monodepth2's name of :func:`sigmoid_to_depth`.
disp_to_depth = sigmoid_to_depth


def flip_post_process_disparity(disp: Tensor, disp_mirrored: Tensor) -> Tensor:
    """Blend the disparities of an image and of its mirror image.

    Monodepth's test-time post-processing (Godard et al., 2017; monodepth2's
    ``--post_process``): the network also sees the horizontally mirrored
    image, whose prediction is mirrored back (``disp_mirrored``). With
    ``l = linspace(0, 1, W)`` over the columns, the ramp
    ``w_l = 1 - clip(20 (l - 0.05), 0, 1)`` is 1 on the left 5 % of the
    image and falls to 0 at 10 %; ``w_r`` is ``w_l`` mirrored. The result is
    ``w_r * disp + w_l * disp_mirrored + (1 - w_l - w_r) * (disp +
    disp_mirrored) / 2``: near the left border (where the image's own
    prediction suffers from disocclusion) the mirror's prediction is taken,
    near the right border the image's own, and the mean in between.

    Args:
        disp (Tensor): ``(..., H, W)`` disparity predicted on the images.
        disp_mirrored (Tensor): ``(..., H, W)`` disparity predicted on the
            mirrored images, already flipped back.

    Returns:
        Tensor: The blended disparity, shaped like ``disp``.
    """
    if disp.shape != disp_mirrored.shape:
        raise ValueError('flip_post_process_disparity expects two maps of one '
                         f'shape, got {tuple(disp.shape)} and '
                         f'{tuple(disp_mirrored.shape)}')
    width = disp.shape[-1]
    ramp = torch.linspace(0, 1, width, dtype=torch.float64,
                          device=disp.device)
    w_left = (1.0 - torch.clamp(20 * (ramp - 0.05), 0, 1)).to(disp.dtype)
    w_right = w_left.flip(0)
    mean = 0.5 * (disp + disp_mirrored)
    return w_right * disp + w_left * disp_mirrored + (
        1.0 - w_left - w_right) * mean


def _safe_reciprocal_scaled(values: Tensor, scale: Tensor) -> Tensor:
    """``scale / values`` where ``values > 0``, else 0 (no inf/NaN grads)."""
    valid = values > 0
    safe = torch.where(valid, values, torch.ones_like(values))
    return torch.where(valid, scale / safe, torch.zeros_like(values))


def depth_to_disparity(depth: Tensor, focal: Scalar,
                       baseline: Scalar) -> Tensor:
    """Disparity in pixels from depth: ``focal * baseline / depth``.

    Args:
        depth (Tensor): Depth (metres), any shape; ``<= 0`` is invalid.
        focal (float | Tensor): Focal length ``fx`` in pixels, a float or a
            tensor broadcastable to ``depth`` (e.g. (B, 1, 1, 1)).
        baseline (float | Tensor): Stereo baseline (metres), same rules.

    Returns:
        Tensor: Disparity shaped like ``depth``, 0 where ``depth <= 0``.
    """
    scale = torch.as_tensor(focal, dtype=depth.dtype, device=depth.device) \
        * torch.as_tensor(baseline, dtype=depth.dtype, device=depth.device)
    return _safe_reciprocal_scaled(depth, scale)


def disparity_to_depth(disparity: Tensor, focal: Scalar,
                       baseline: Scalar) -> Tensor:
    """Depth from disparity in pixels: ``focal * baseline / disparity``.

    The inverse of :func:`depth_to_disparity`. No model calls it (they
    convert labels to disparity, not back); it is public API for turning a
    disparity tensor into metres.

    Args:
        disparity (Tensor): Disparity (pixels), any shape; ``<= 0`` is
            invalid.
        focal (float | Tensor): Focal length ``fx`` in pixels, a float or a
            tensor broadcastable to ``disparity``.
        baseline (float | Tensor): Stereo baseline (metres), same rules.

    Returns:
        Tensor: Depth (metres) shaped like ``disparity``, 0 where
        ``disparity <= 0``.
    """
    scale = torch.as_tensor(
        focal, dtype=disparity.dtype, device=disparity.device) \
        * torch.as_tensor(
            baseline, dtype=disparity.dtype, device=disparity.device)
    return _safe_reciprocal_scaled(disparity, scale)


def stereo_warp(src: Tensor,
                disparity: Tensor,
                direction: str = 'r2l',
                padding_mode: str = 'border') -> Tensor:
    """Warp an image horizontally by a per-pixel disparity.

    - ``'r2l'``: reconstruct the LEFT view from the right image ``src``
      with the LEFT disparity: ``out(u, v) = src(u - d(u, v), v)``.
    - ``'l2r'``: reconstruct the RIGHT view from the left image with the
      RIGHT disparity: ``out(u, v) = src(u + d(u, v), v)``.

    Args:
        src (Tensor): (B, C, H, W) image (or any map) to sample.
        disparity (Tensor): (B, 1, H, W) disparity in pixels of the view
            being reconstructed.
        direction (str): 'r2l' or 'l2r'. Defaults to 'r2l'.
        padding_mode (str): ``grid_sample`` padding. Defaults to 'border'.

    Returns:
        Tensor: (B, C, H, W) warped image.
    """
    if direction == 'r2l':
        sign = -1.0
    elif direction == 'l2r':
        sign = 1.0
    else:
        raise ValueError("stereo_warp direction must be 'r2l' or 'l2r', "
                         f'got {direction!r}')
    if padding_mode not in _PADDING_MODES:
        raise ValueError(f'padding_mode must be one of {_PADDING_MODES}, '
                         f'got {padding_mode!r}')
    batch, _, height, width = disparity.shape
    pix = pixel_grid(height, width, disparity.device, disparity.dtype)[:2]
    pix = pix.unsqueeze(0).repeat(batch, 1, 1)  # (B, 2, H*W)
    u = pix[:, 0:1] + sign * disparity.reshape(batch, 1, -1)
    grid = pixels_to_grid(torch.cat([u, pix[:, 1:2]], dim=1), height, width)
    return F.grid_sample(
        src,
        grid.to(src.dtype),
        mode='bilinear',
        padding_mode=padding_mode,
        align_corners=True)
