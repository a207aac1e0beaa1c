# Copyright (c) mmdepthseg contributors. All rights reserved.
"""How well a confidence map ranks a disparity map's errors.

For one image, sort the pixels with a valid estimate and ground truth by
decreasing confidence and keep the most confident fraction ``p`` (the
*density*); the bad-k rate of what is kept, as a function of ``p``, is the
**sparsification curve** (a good confidence removes the bad pixels first,
so its curve rises late). Reported, per image and then averaged over the
images:

- ``bad@50``: the bad-k rate (``|d - d_gt| > k``, default k = 2 px) of the
  50 % most confident pixels;
- ``auc``: the area under the sparsification curve sampled at the
  densities 0.05, 0.10, ..., 1.00 (trapezoidal rule over that range, so a
  confidence that keeps no bad pixel before the last 5 % has area ~0); the
  lower the better;
- ``auc_optimal``: the same area for the oracle order (pixels sorted by
  their true error), the lower bound; ``bad_all``: the bad-k rate of all
  the pixels (the curve's last point).

Ties in confidence are broken in a fixed random order (seeded), so that a
measure with many equal values is not helped or hurt by the raster order.
"""
from typing import Dict, Optional, Sequence

import numpy as np

#: Densities of the sparsification curve.
DENSITIES = np.round(np.arange(1, 21) * 0.05, 2)


def sparsification_curve(conf: np.ndarray,
                         err: np.ndarray,
                         bad_px: float = 2.,
                         densities: Sequence[float] = DENSITIES,
                         seed: int = 0) -> np.ndarray:
    """Bad-k rate of the most confident pixels at each density.

    Args:
        conf (np.ndarray): (N,) confidence of the evaluated pixels.
        err (np.ndarray): (N,) their absolute disparity error (pixels).
        bad_px (float): Error above which a pixel is bad. Defaults to 2.
        densities (Sequence[float]): Kept fractions in (0, 1].
        seed (int): Seed of the tie-breaking order.

    Returns:
        np.ndarray: (len(densities),) bad rates.
    """
    conf = np.asarray(conf, dtype=np.float64).ravel()
    err = np.asarray(err, dtype=np.float64).ravel()
    if conf.shape != err.shape or conf.size == 0:
        raise ValueError('sparsification_curve: conf and err must be '
                         f'non-empty and alike, got {conf.shape}, '
                         f'{err.shape}')
    tie = np.random.default_rng(seed).permutation(conf.size)
    order = np.lexsort((tie, -conf))  # most confident first
    bad = np.cumsum(err[order] > bad_px)
    counts = np.maximum(
        np.ceil(np.asarray(densities) * conf.size).astype(np.int64), 1)
    return bad[counts - 1] / counts


def optimal_curve(err: np.ndarray,
                  bad_px: float = 2.,
                  densities: Sequence[float] = DENSITIES) -> np.ndarray:
    """The sparsification curve of the oracle (sorted by true error)."""
    err = np.asarray(err, dtype=np.float64).ravel()
    return sparsification_curve(-err, err, bad_px, densities)


def curve_auc(curve: np.ndarray,
              densities: Sequence[float] = DENSITIES) -> float:
    """Trapezoidal area under a sparsification curve."""
    y = np.asarray(curve, dtype=np.float64)
    x = np.asarray(densities, dtype=np.float64)
    return float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2.)


def confidence_metrics(conf: np.ndarray,
                       disp: np.ndarray,
                       gt: np.ndarray,
                       bad_px: float = 2.,
                       densities: Sequence[float] = DENSITIES,
                       seed: int = 0) -> Optional[Dict[str, float]]:
    """Metrics of one image's confidence (see the module docstring).

    Args:
        conf (np.ndarray): (H, W) confidence.
        disp (np.ndarray): (H, W) estimated disparity (0 invalid).
        gt (np.ndarray): (H, W) ground-truth disparity (0 = none).
        bad_px, densities, seed: See :func:`sparsification_curve`.

    Returns:
        dict | None: ``bad@50``, ``auc``, ``auc_optimal``, ``bad_all``,
        ``pixels``; None when no pixel is evaluable.
    """
    valid = np.isfinite(disp) & (disp > 0) & np.isfinite(gt) & (gt > 0)
    if not valid.any():
        return None
    err = np.abs(disp[valid] - gt[valid])
    c = np.asarray(conf)[valid]
    curve = sparsification_curve(c, err, bad_px, densities, seed)
    dens = np.asarray(densities)
    half = sparsification_curve(c, err, bad_px, [0.5], seed)[0]
    return {
        'bad@50': float(half),
        'auc': curve_auc(curve, dens),
        'auc_optimal': curve_auc(optimal_curve(err, bad_px, dens), dens),
        'bad_all': float(np.mean(err > bad_px)),
        'pixels': int(valid.sum()),
    }


def average_metrics(per_image: Sequence[Optional[dict]]) -> Dict[str, float]:
    """Mean of :func:`confidence_metrics` over the images that have one
    (``images`` counts them, ``pixels`` is summed)."""
    rows = [m for m in per_image if m is not None]
    if not rows:
        raise ValueError('no image with evaluable pixels')
    out = {
        k: float(np.mean([m[k] for m in rows]))
        for k in rows[0] if k != 'pixels'
    }
    out['pixels'] = int(sum(m['pixels'] for m in rows))
    out['images'] = len(rows)
    return out


def evaluate_pairs(items: Sequence[dict],
                   matcher,
                   methods: Dict[str, object],
                   bad_px: float = 2.,
                   seed: int = 0,
                   progress: bool = False) -> Dict[str, Dict[str, float]]:
    """Compare confidence measures on stereo pairs with ground truth.

    Args:
        items (Sequence[dict]): Pairs of
            :func:`~mmdepthseg.stereo.stereo_data.list_stereo_gt`.
        matcher: A stereo matcher (``(left, right) -> (disp_l, disp_r)``).
        methods (dict[str, callable]): Name -> confidence callable
            ``(disp_l, disp_r) -> (conf_l, conf_r)``; the LEFT confidence is
            evaluated (the ground truth is the left view's).
        bad_px (float): Bad-pixel threshold. Defaults to 2.
        seed (int): Tie-breaking seed.
        progress (bool): Show a progress bar.

    Returns:
        dict[str, dict]: Name -> :func:`average_metrics`.
    """
    from mmengine.utils import ProgressBar

    from .stereo_data import load_stereo_gt
    rows = {name: [] for name in methods}
    bar = ProgressBar(len(items)) if progress else None
    for item in items:
        left, right, gt = load_stereo_gt(item)
        disp_l, disp_r = matcher(left, right)
        for name, fn in methods.items():
            conf = fn(disp_l, disp_r)[0]
            rows[name].append(
                confidence_metrics(conf, disp_l, gt, bad_px, seed=seed))
        if bar is not None:
            bar.update()
    return {name: average_metrics(r) for name, r in rows.items()}
