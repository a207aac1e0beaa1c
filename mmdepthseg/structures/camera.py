# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Pinhole-camera operations on numpy arrays, in one place.

Conventions (``docs/en/data_contract.md``): OpenCV camera frame (x right,
y down, z forward, metres); ``K`` is a float32 ``(3, 3)`` matrix in pixels
of the image it travels with; pixel ``(u, v)`` is the centre of column u /
row v. OpenCV's resize aligns pixel *areas*, so a pixel centre ``u`` maps to
``(u + 0.5) * s - 0.5``; intrinsics follow the same rule: ``fx' = s * fx``
and ``cx' = (cx + 0.5) * s - 0.5``. A crop at ``(x0, y0)`` gives
``cx' = cx - x0``; a horizontal flip of a width-``W`` image gives
``cx' = W - 1 - cx``. A pixel with depth ``z`` back-projects to

.. math::

    X = (u - c_x) z / f_x, \\quad Y = (v - c_y) z / f_y, \\quad Z = z.

The batched torch counterparts used by the models (``backproject_depth``,
``project_points``) live in :mod:`mmdepthseg.models.layers.geometry`.
"""
from typing import Sequence, Union

import cv2
import numpy as np

IntrinsicsType = Union[np.ndarray, Sequence[float]]


# ---------------------------------------------------------------------------
# intrinsics under image operations ((3, 3) float32 in, new array out)
# ---------------------------------------------------------------------------
def scale_intrinsics(k: np.ndarray, sx: float, sy: float) -> np.ndarray:
    """K of an image resized by ``(sx, sy)`` (integer pixel centres)."""
    k = np.array(k, dtype=np.float32, copy=True)
    k[0, :2] *= sx
    k[1, :2] *= sy
    k[0, 2] = (k[0, 2] + 0.5) * sx - 0.5
    k[1, 2] = (k[1, 2] + 0.5) * sy - 0.5
    return k


def crop_intrinsics(k: np.ndarray, x0: int, y0: int) -> np.ndarray:
    """K of the crop whose top-left pixel is ``(x0, y0)``."""
    k = np.array(k, dtype=np.float32, copy=True)
    k[0, 2] -= x0
    k[1, 2] -= y0
    return k


def hflip_intrinsics(k: np.ndarray, width: int) -> np.ndarray:
    """K of a horizontally mirrored image of ``width`` pixels.

    ``u' = W - 1 - u`` for every pixel; with ``X' = -X`` (the mirrored
    scene) this keeps ``fx`` and gives ``cx' = W - 1 - cx`` (a skew term
    changes sign).
    """
    k = np.array(k, dtype=np.float32, copy=True)
    k[0, 1] = -k[0, 1]
    k[0, 2] = width - 1 - k[0, 2]
    return k


def normalised_to_absolute_intrinsics(k_norm: np.ndarray, width: int,
                                      height: int) -> np.ndarray:
    """Scale monodepth2-style normalised intrinsics to pixels.

    Row 0 is multiplied by the width and row 1 by the height, exactly as
    monodepth2 does (so the normalised ``c = 0.5`` maps to ``W / 2``).

    Returns:
        np.ndarray: (3, 3) float32.
    """
    k = np.array(k_norm, dtype=np.float32).reshape(3, 3).copy()
    k[0] *= width
    k[1] *= height
    return k


def undistorted_intrinsics(K: np.ndarray,
                           distortion: np.ndarray,
                           width: int,
                           height: int,
                           alpha: float = 0.0) -> np.ndarray:
    """Intrinsics of the undistorted frame (``cv2.getOptimalNewCameraMatrix``).

    Args:
        K (np.ndarray): (3, 3) pixel intrinsics of the distorted frame.
        distortion (np.ndarray): OpenCV distortion coefficients.
        width (int): Frame width.
        height (int): Frame height.
        alpha (float): 0 keeps only valid pixels (no black border, a
            slight zoom), 1 keeps every source pixel (black corners).

    Returns:
        np.ndarray: (3, 3) float64.
    """
    new_k, _ = cv2.getOptimalNewCameraMatrix(
        np.asarray(K, np.float64), np.asarray(distortion, np.float64),
        (int(width), int(height)), float(alpha), (int(width), int(height)))
    return new_k.astype(np.float64)


def as_intrinsics_matrix(intrinsics: IntrinsicsType) -> np.ndarray:
    """A camera matrix from a 3x3 matrix or ``(fx, fy, cx, cy)``.

    Args:
        intrinsics (np.ndarray | Sequence[float]): ``(3, 3)`` matrix or the
            four values ``fx, fy, cx, cy`` (pixels).

    Returns:
        np.ndarray: float32 ``(3, 3)`` matrix
        ``[[fx, 0, cx], [0, fy, cy], [0, 0, 1]]``.
    """
    k = np.asarray(intrinsics, dtype=np.float64)
    if k.shape == (4, ):
        fx, fy, cx, cy = k
        k = np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1]])
    if k.shape != (3, 3):
        raise ValueError('intrinsics must be a 3x3 matrix or (fx, fy, cx, '
                         f'cy), got shape {k.shape}')
    if not np.all(np.isfinite(k)) or k[0, 0] <= 0 or k[1, 1] <= 0:
        raise ValueError(f'intrinsics need finite values and fx, fy > 0, '
                         f'got {k.tolist()}')
    if k[1, 0] != 0 or k[2, 0] != 0 or k[2, 1] != 0 or k[2, 2] != 1:
        raise ValueError('intrinsics must have the form [[fx, s, cx], [0, '
                         f'fy, cy], [0, 0, 1]] (invertible), got {k.tolist()}')
    return k.astype(np.float32)


# ---------------------------------------------------------------------------
# stereo rig and back-projection
# ---------------------------------------------------------------------------
def stereo_transform(baseline: float, side: str = 'l') -> np.ndarray:
    """``stereo_T``: ``T_ref2other`` of a rectified stereo pair.

    The right camera sits at ``+baseline`` along x of the left one, so a
    left reference gets the translation ``(-baseline, 0, 0)`` and a right
    reference ``(+baseline, 0, 0)``.

    Args:
        baseline (float): Stereo baseline in metres.
        side (str): ``'l'`` or ``'r'``, the reference camera.

    Returns:
        np.ndarray: float32 ``(4, 4)``.
    """
    if side not in ('l', 'r'):
        raise ValueError(f"side must be 'l' or 'r', got {side!r}")
    stereo_t = np.eye(4, dtype=np.float32)
    stereo_t[0, 3] = -baseline if side == 'l' else baseline
    return stereo_t


def backproject_depth_map(depth: np.ndarray,
                          intrinsics: IntrinsicsType) -> np.ndarray:
    """Camera coordinates of every pixel of one numpy depth map.

    The numpy counterpart, for one map, of the batched torch
    :func:`mmdepthseg.models.layers.backproject_depth` (which returns
    homogeneous ``(B, 4, H*W)`` points for view synthesis).

    Args:
        depth (np.ndarray): ``(H, W)`` depth along the optical axis.
        intrinsics (np.ndarray | Sequence[float]): ``K`` at the depth map's
            size, see :func:`as_intrinsics_matrix`.

    Returns:
        np.ndarray: float32 ``(H, W, 3)`` points ``(X, Y, Z)``; invalid
        depths are back-projected as they are (filter them afterwards).
    """
    depth = np.asarray(depth, dtype=np.float32)
    if depth.ndim != 2:
        raise ValueError(f'depth must be (H, W), got shape {depth.shape}')
    k = as_intrinsics_matrix(intrinsics)
    height, width = depth.shape
    u = np.arange(width, dtype=np.float32)[None, :]
    v = np.arange(height, dtype=np.float32)[:, None]
    x = (u - k[0, 2]) / k[0, 0] * depth
    y = (v - k[1, 2]) / k[1, 1] * depth
    return np.stack([x, y, depth], axis=-1)
