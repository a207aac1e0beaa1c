# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Pure numpy functions of the depth evaluation protocols.

Everything here works on one image, vectorised over pixels; averaging over
images (the Eigen protocol) is the metric class's job.
"""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

# Fractions of the image kept by the KITTI crops: (top, bottom, left, right);
# rows [top*h, bottom*h), columns [left*w, right*w), truncated to integers
# as in monodepth2's evaluation.
GARG_CROP = (0.40810811, 0.99189189, 0.03594771, 0.96405229)
EIGEN_CROP = (0.3324324, 0.91351351, 0.0359477, 0.96405229)
# Eigen's NYU crop in the 480x640 frame: rows [45, 471), columns [41, 601).
NYU_CROP = (45, 471, 41, 601)
NYU_SIZE = (480, 640)

DEPTH_METRICS = ('abs_rel', 'sq_rel', 'rmse', 'rmse_log', 'log10', 'a1', 'a2',
                 'a3', 'mae')
#: Metrics that are the square root of a mean (pooled over images as the
#: root of the pixel-weighted mean of their squares).
ROOT_MEAN_METRICS = ('rmse', 'rmse_log')
#: Column names of the papers' tables (AbR, RMSE, δ...) for the metric keys,
#: used in printed tables only; the keys themselves are the names above.
PAPER_COLUMN_NAMES = dict(
    abs_rel='AbR',
    sq_rel='SqR',
    rmse='RMSE',
    rmse_log='RMSElog',
    log10='log10',
    a1='δ1',
    a2='δ2',
    a3='δ3',
    mae='MAE')


def _fraction_crop_mask(
        h: int, w: int, fractions: Tuple[float, float, float,
                                         float]) -> np.ndarray:
    top, bottom, left, right = (np.array(fractions) *
                                np.array([h, h, w, w])).astype(np.int64)
    mask = np.zeros((h, w), dtype=bool)
    mask[top:bottom, left:right] = True
    return mask


def garg_crop_mask(h: int, w: int) -> np.ndarray:
    """Garg et al.'s KITTI crop.

    Keeps rows ``[int(0.40810811 h), int(0.99189189 h))`` and columns
    ``[int(0.03594771 w), int(0.96405229 w))``.

    Args:
        h (int): Ground-truth height.
        w (int): Ground-truth width.

    Returns:
        np.ndarray: (h, w) bool mask, True inside the crop.
    """
    return _fraction_crop_mask(h, w, GARG_CROP)


def eigen_crop_mask(h: int, w: int) -> np.ndarray:
    """Eigen et al.'s KITTI crop.

    Keeps rows ``[int(0.3324324 h), int(0.91351351 h))`` and columns
    ``[int(0.0359477 w), int(0.96405229 w))``.

    Args:
        h (int): Ground-truth height.
        w (int): Ground-truth width.

    Returns:
        np.ndarray: (h, w) bool mask, True inside the crop.
    """
    return _fraction_crop_mask(h, w, EIGEN_CROP)


def nyu_crop_mask(h: int, w: int) -> np.ndarray:
    """Eigen's NYUv2 crop.

    Keeps rows ``[45, 471)`` and columns ``[41, 601)`` of a 480x640 frame.
    For other sizes the bounds scale proportionally and are rounded half up
    to an integer: rows ``[round(45 h / 480), round(471 h / 480))``,
    columns ``[round(41 w / 640), round(601 w / 640))``.

    Args:
        h (int): Ground-truth height.
        w (int): Ground-truth width.

    Returns:
        np.ndarray: (h, w) bool mask, True inside the crop.
    """
    top, bottom, left, right = NYU_CROP
    ref_h, ref_w = NYU_SIZE
    top, bottom = (int(np.floor(r * h / ref_h + 0.5)) for r in (top, bottom))
    left, right = (int(np.floor(c * w / ref_w + 0.5)) for c in (left, right))
    mask = np.zeros((h, w), dtype=bool)
    mask[top:bottom, left:right] = True
    return mask


CROP_MASKS = dict(
    garg=garg_crop_mask, eigen=eigen_crop_mask, nyu=nyu_crop_mask)


def crop_mask(crop: Optional[str], h: int, w: int) -> np.ndarray:
    """The evaluation crop by name.

    Args:
        crop (str, optional): None (whole image), 'garg', 'eigen' or 'nyu'.
        h (int): Ground-truth height.
        w (int): Ground-truth width.

    Returns:
        np.ndarray: (h, w) bool mask.
    """
    if crop is None:
        return np.ones((h, w), dtype=bool)
    if crop not in CROP_MASKS:
        raise ValueError(f'crop must be None or one of {tuple(CROP_MASKS)}, '
                         f'got {crop!r}')
    return CROP_MASKS[crop](h, w)


def valid_depth_mask(gt: np.ndarray, min_depth: float,
                     max_depth: float) -> np.ndarray:
    """Pixels with ground truth strictly inside ``(min_depth, max_depth)``.

    Args:
        gt (np.ndarray): Ground-truth depth (metres), 0 = invalid.
        min_depth (float): Lower bound (exclusive).
        max_depth (float): Upper bound (exclusive).

    Returns:
        np.ndarray: Bool mask shaped like ``gt``.
    """
    low, high = float(min_depth), float(max_depth)
    if gt.dtype == np.float32:
        # exact float32 stand-ins of the float64 bounds, so that the map is
        # compared in its own dtype (NumPy 2 would round a Python float to
        # float32 instead, and a float64 copy of the map costs time):
        # x > low  <=>  x > (largest float32 <= low), likewise for high
        low32, high32 = np.float32(low), np.float32(high)
        if float(low32) > low:
            low32 = np.nextafter(low32, np.float32(-np.inf))
        if float(high32) < high:
            high32 = np.nextafter(high32, np.float32(np.inf))
        return (gt > low32) & (gt < high32)
    return (gt > low) & (gt < high)


def median_scale(pred: np.ndarray, gt: np.ndarray) -> float:
    """Per-image median scaling ratio ``median(gt) / median(pred)``.

    Args:
        pred (np.ndarray): Predicted depth on the valid pixels, (N,).
        gt (np.ndarray): Ground-truth depth on the same pixels, (N,).

    Returns:
        float: The ratio to multiply the prediction by.
    """
    return float(np.median(gt) / np.median(pred))


def depth_metrics(pred: np.ndarray,
                  gt: np.ndarray,
                  mask: Optional[np.ndarray] = None,
                  metrics: Sequence[str] = DEPTH_METRICS) -> Dict[str, float]:
    """Standard depth errors of one image (Eigen et al., 2014).

    With ``p`` the prediction and ``g`` the ground truth on the ``N`` valid
    pixels:

    - ``abs_rel = mean(|g - p| / g)``, ``sq_rel = mean((g - p)^2 / g)``
    - ``rmse = sqrt(mean((g - p)^2))``,
      ``rmse_log = sqrt(mean((ln g - ln p)^2))``
    - ``log10 = mean(|log10 g - log10 p|)``, ``mae = mean(|g - p|)``
    - ``a_k`` = fraction of pixels with ``max(g/p, p/g) < 1.25^k``; a pixel
      with ``p <= 0`` is a miss.

    The values may be depths, disparities or any regression target (e.g.
    inverse depth, normalised height): the formulas are the same. Only the
    requested ``metrics`` are computed, so ``rmse`` and ``mae`` accept
    ``g <= 0`` (the ratio and log metrics need ``g > 0``).

    Args:
        pred (np.ndarray): Prediction, positive on the valid pixels for the
            log metrics.
        gt (np.ndarray): Ground truth shaped like ``pred``, positive on the
            valid pixels for the ratio and log metrics.
        mask (np.ndarray, optional): Bool mask of the valid pixels. Defaults
            to all pixels.
        metrics (Sequence[str]): Names out of :data:`DEPTH_METRICS`.
            Defaults to all.

    Returns:
        dict[str, float]: The requested metrics, in :data:`DEPTH_METRICS`
        order.
    """
    if pred.shape != gt.shape:
        raise ValueError('depth_metrics expects pred and gt of one shape, '
                         f'got {pred.shape} and {gt.shape}')
    unknown = set(metrics) - set(DEPTH_METRICS)
    if unknown:
        raise ValueError(f'depth_metrics: unknown metrics {sorted(unknown)}; '
                         f'choose from {DEPTH_METRICS}')
    if mask is not None:
        pred, gt = pred[mask], gt[mask]
    pred = pred.astype(np.float64).ravel()
    gt = gt.astype(np.float64).ravel()
    if pred.size == 0:
        raise ValueError('depth_metrics got no valid pixel')

    wanted = [name for name in DEPTH_METRICS if name in metrics]
    terms = _DepthTerms(pred, gt)
    return {name: float(getattr(terms, name)()) for name in wanted}


class _DepthTerms:
    """The per-pixel terms of :func:`depth_metrics`, each computed once and
    only when a metric asks for it."""

    def __init__(self, pred: np.ndarray, gt: np.ndarray) -> None:
        self.pred, self.gt = pred, gt
        self._diff = self._thresh = None

    @property
    def diff(self) -> np.ndarray:
        if self._diff is None:
            self._diff = self.gt - self.pred
        return self._diff

    @property
    def thresh(self) -> np.ndarray:
        if self._thresh is None:
            pred, gt = self.pred, self.gt
            with np.errstate(divide='ignore', invalid='ignore'):
                thresh = np.maximum(gt / pred, pred / gt)
            miss = pred <= 0
            if miss.any():
                thresh[miss] = np.inf
            self._thresh = thresh
        return self._thresh

    def abs_rel(self) -> float:
        return np.mean(np.abs(self.diff) / self.gt)

    def sq_rel(self) -> float:
        return np.mean(self.diff**2 / self.gt)

    def rmse(self) -> float:
        return np.sqrt(np.mean(self.diff**2))

    def rmse_log(self) -> float:
        return np.sqrt(np.mean((np.log(self.gt) - np.log(self.pred))**2))

    def log10(self) -> float:
        return np.mean(np.abs(np.log10(self.gt) - np.log10(self.pred)))

    def a1(self) -> float:
        return np.mean(self.thresh < 1.25)

    def a2(self) -> float:
        return np.mean(self.thresh < 1.25**2)

    def a3(self) -> float:
        return np.mean(self.thresh < 1.25**3)

    def mae(self) -> float:
        return np.mean(np.abs(self.diff))


def aggregate_depth_metric(name: str,
                           values: Sequence[float],
                           num_pixels: Optional[Sequence[float]] = None
                           ) -> float:
    """One dataset number from per-image values of a metric.

    Without ``num_pixels``: the mean over images (Eigen's protocol). With
    it: the metric of all valid pixels together, i.e. with ``n_i`` pixels
    and value ``m_i`` in image ``i``, ``sum(n_i m_i) / sum(n_i)`` for the
    means and ``sqrt(sum(n_i m_i^2) / sum(n_i))`` for
    :data:`ROOT_MEAN_METRICS` (the numbers of one evaluation of the
    concatenated pixels).

    Args:
        name (str): The metric's name (decides root-mean pooling).
        values (Sequence[float]): Per-image values.
        num_pixels (Sequence[float], optional): Per-image valid-pixel counts
            for pooling. Defaults to None (mean over images).

    Returns:
        float: The aggregated value.
    """
    values = np.asarray(values, dtype=np.float64)
    if num_pixels is None:
        return float(np.mean(values))
    weights = np.asarray(num_pixels, dtype=np.float64)
    if name in ROOT_MEAN_METRICS:
        return float(np.sqrt(np.dot(weights, values**2) / weights.sum()))
    return float(np.dot(weights, values) / weights.sum())


def disparity_error(pred: np.ndarray,
                    gt: np.ndarray,
                    focal_baseline: float,
                    mask: Optional[np.ndarray] = None) -> float:
    """Mean absolute disparity error in pixels.

    ``mean(|f b / p - f b / g|)`` over the valid pixels, with depths ``p``
    and ``g`` in metres and ``f b`` focal length (pixels) times baseline
    (metres).

    Args:
        pred (np.ndarray): Predicted depth, positive on the valid pixels.
        gt (np.ndarray): Ground-truth depth, positive on the valid pixels.
        focal_baseline (float): ``fx * baseline`` at the ground truth's size.
        mask (np.ndarray, optional): Bool mask of the valid pixels.

    Returns:
        float: The error in pixels.
    """
    if mask is not None:
        pred, gt = pred[mask], gt[mask]
    pred = pred.astype(np.float64)
    gt = gt.astype(np.float64)
    return float(np.mean(np.abs(focal_baseline / pred - focal_baseline / gt)))
