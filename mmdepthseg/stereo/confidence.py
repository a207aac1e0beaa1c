# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Per-pixel confidence of stereo disparity from classical measures.

Left-right consistency (LRC): a correct left disparity ``d_l(u)`` points to
the right pixel ``u - d_l(u)`` whose disparity is the same, so the error

    e_l(u) = |d_l(u) - d_r(u - d_l(u))|,   e_r(u) = |d_r(u) - d_l(u + d_r(u))|

is ~0 where the match is right and large at mismatches and occlusions.
``d_r`` is sampled at the non-integer column with linear interpolation
between its two neighbours; where the sample falls outside the image or on
an invalid neighbour the error is infinite (confidence 0).

The error is mapped to ``[0, 1]`` with a soft threshold (``mode``):

- ``'exp'``: ``C = exp(-e / tau)``;
- ``'sigmoid'``: ``C = s((t - e) / tau) / s(t / tau)`` with the logistic
  ``s`` and threshold ``t``: ~1 below ``t``, 0.5/s(t/tau) at ``e = t``, ~0
  well above it (divided by ``s(t / tau)`` so that ``e = 0`` gives exactly
  1);
- ``'hard'``: ``C = 1[e <= t]``.

Invalid disparity (``0`` or non-finite) always gets confidence 0.
"""
from typing import Tuple

import numpy as np

from mmdepthseg.registry import TASK_UTILS


def _valid(disp: np.ndarray) -> np.ndarray:
    return np.isfinite(disp) & (disp > 0)


def sample_rows_linear(values: np.ndarray, valid: np.ndarray,
                       x: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Sample each row of ``values`` at columns ``x`` (linear).

    Args:
        values (np.ndarray): (H, W) map to sample.
        valid (np.ndarray): (H, W) bool validity of ``values``.
        x (np.ndarray): (H, W) float column of every output pixel (row =
            the output pixel's row).

    Returns:
        tuple[np.ndarray, np.ndarray]: (H, W) float32 samples and a bool mask
        that is True where ``x`` lies in ``[0, W - 1]`` and both neighbours
        used are valid.
    """
    H, W = values.shape
    finite = np.isfinite(x)
    xs = np.where(finite, x, -1.0)
    x0 = np.floor(xs).astype(np.int64)
    frac = (xs - x0).astype(np.float32)
    x1 = np.where(frac > 0, x0 + 1, x0)  # exact integers need one neighbour
    inside = finite & (x0 >= 0) & (x1 <= W - 1)
    x0c = np.clip(x0, 0, W - 1)
    x1c = np.clip(x1, 0, W - 1)
    rows = np.arange(H)[:, None]
    v0, v1 = values[rows, x0c], values[rows, x1c]
    ok = inside & valid[rows, x0c] & valid[rows, x1c]
    out = np.where(ok, (1 - frac) * v0 + frac * v1, 0.0).astype(np.float32)
    return out, ok


def lr_consistency_error(
        disp_left: np.ndarray,
        disp_right: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Left-right consistency error of both views (vectorised).

    Args:
        disp_left (np.ndarray): (H, W) left disparity (pixels, 0 invalid).
        disp_right (np.ndarray): (H, W) right disparity.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``err_left``, ``err_right``: (H, W)
        float32 errors in pixels, ``inf`` where not measurable (invalid
        disparity, or the matching pixel outside the image or invalid).
    """
    disp_left = np.asarray(disp_left, dtype=np.float32)
    disp_right = np.asarray(disp_right, dtype=np.float32)
    if disp_left.shape != disp_right.shape or disp_left.ndim != 2:
        raise ValueError('disparity maps must both be (H, W) of the same '
                         f'shape, got {disp_left.shape} and '
                         f'{disp_right.shape}')
    valid_l, valid_r = _valid(disp_left), _valid(disp_right)
    cols = np.arange(disp_left.shape[1], dtype=np.float32)[None, :]

    def one_way(disp, valid, other, other_valid, sign):
        target = np.where(valid, cols + sign * disp, np.nan)
        sampled, ok = sample_rows_linear(other, other_valid, target)
        err = np.abs(np.where(valid, disp, 0.0) - sampled)
        return np.where(valid & ok, err, np.inf).astype(np.float32)

    err_l = one_way(disp_left, valid_l, disp_right, valid_r, -1.0)
    err_r = one_way(disp_right, valid_r, disp_left, valid_l, 1.0)
    return err_l, err_r


def soft_threshold(err: np.ndarray,
                   mode: str = 'exp',
                   tau: float = 1.0,
                   threshold: float = 1.0) -> np.ndarray:
    """Map a non-negative error (``inf`` allowed) to a confidence in [0, 1].

    See the module docstring for the formulas of ``mode`` ``'exp'``,
    ``'sigmoid'`` and ``'hard'``.

    Returns:
        np.ndarray: float32 confidence, same shape as ``err``.
    """
    err = np.asarray(err, dtype=np.float64)
    if mode == 'exp':
        conf = np.exp(-err / tau)
    elif mode == 'sigmoid':

        def sig(z):
            return 0.5 * (1.0 + np.tanh(0.5 * z))  # stable logistic

        conf = sig((threshold - err) / tau) / sig(threshold / tau)
    elif mode == 'hard':
        conf = (err <= threshold).astype(np.float64)
    else:
        raise ValueError("mode must be 'exp', 'sigmoid' or 'hard', got "
                         f'{mode!r}')
    conf = np.where(np.isfinite(err), conf, 0.0)
    return np.clip(conf, 0.0, 1.0).astype(np.float32)


@TASK_UTILS.register_module()
class LRConsistencyConfidence:
    """Confidence of both views from left-right consistency.

    Args:
        mode (str): Soft threshold, ``'exp'``, ``'sigmoid'`` or ``'hard'``.
            Defaults to ``'exp'``.
        tau (float): Softness (pixels). Defaults to 1.0.
        threshold (float): Error threshold of ``'sigmoid'``/``'hard'``
            (pixels). Defaults to 1.0.
    """

    def __init__(self,
                 mode: str = 'exp',
                 tau: float = 1.0,
                 threshold: float = 1.0) -> None:
        if mode not in ('exp', 'sigmoid', 'hard'):
            raise ValueError("mode must be 'exp', 'sigmoid' or 'hard', got "
                             f'{mode!r}')
        if tau <= 0:
            raise ValueError(f'tau must be > 0, got {tau}')
        self.mode = mode
        self.tau = tau
        self.threshold = threshold

    def __call__(self, disp_left: np.ndarray,
                 disp_right: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Confidence maps ``(conf_left, conf_right)``, (H, W) float32 in
        [0, 1], 0 where the disparity is invalid."""
        err_l, err_r = lr_consistency_error(disp_left, disp_right)
        return (soft_threshold(err_l, self.mode, self.tau, self.threshold),
                soft_threshold(err_r, self.mode, self.tau, self.threshold))
