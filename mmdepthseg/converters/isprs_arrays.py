# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The array operations of the ISPRS converter
(:mod:`mmdepthseg.converters.isprs`): the sliding-window patch grid,
colour-coded labels to class indices, nDSM normalisation and resampling.
Pure functions of arrays (no files).
"""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

from mmdepthseg.datasets.isprs import ISPRS_COLOURS


def patch_starts(length: int, size: int, stride: int) -> np.ndarray:
    """Start offsets of a sliding window along one axis.

    Windows start every ``stride`` pixels; if the last one does not reach
    the border, one more window is placed flush with it (start
    ``length - size``). An axis shorter than the window gets one window at
    0 (the tile is padded).

    Args:
        length (int): Axis length (pixels).
        size (int): Window size.
        stride (int): Step between windows.

    Returns:
        np.ndarray: (N,) int64 start offsets, increasing.
    """
    if size <= 0 or stride <= 0:
        raise ValueError(f'size and stride must be > 0, got {size}, {stride}')
    if length <= size:
        return np.zeros(1, dtype=np.int64)
    starts = np.arange(0, length - size + 1, stride, dtype=np.int64)
    if starts[-1] + size < length:
        starts = np.append(starts, length - size)
    return starts


def patch_stride(size: int, overlap: float) -> int:
    """Window step for an overlap fraction: ``size - round(size * overlap)``
    (256 for 512-pixel patches with 50 % overlap)."""
    if not 0 <= overlap < 1:
        raise ValueError(f'overlap must be in [0, 1), got {overlap}')
    return size - int(round(size * overlap))


def patch_grid(height: int,
               width: int,
               size: int = 512,
               overlap: float = 0.5) -> Tuple[np.ndarray, np.ndarray]:
    """Top-left rows and columns of the sliding-window patches of a tile.

    Args:
        height (int): Tile height.
        width (int): Tile width.
        size (int): Patch size. Defaults to 512.
        overlap (float): Overlap of neighbouring patches. Defaults to 0.5.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``ys`` and ``xs``; the patches are
        all pairs ``(y, x)``.
    """
    stride = patch_stride(size, overlap)
    return (patch_starts(height, size,
                         stride), patch_starts(width, size, stride))


def extract_patches(arr: np.ndarray, ys: Sequence[int], xs: Sequence[int],
                    size: int) -> np.ndarray:
    """Gather square patches with one fancy-indexing operation.

    Args:
        arr (np.ndarray): (H, W, ...) array, at least ``max(ys) + size``
            by ``max(xs) + size``.
        ys (Sequence[int]): Top rows of the patches.
        xs (Sequence[int]): Left columns of the patches.
        size (int): Patch size.

    Returns:
        np.ndarray: (len(ys), len(xs), size, size, ...) with
        ``out[i, j] = arr[ys[i]:ys[i] + size, xs[j]:xs[j] + size]``.
    """
    offsets = np.arange(size)
    rows = np.asarray(ys, dtype=np.int64)[:, None] + offsets  # (ny, size)
    cols = np.asarray(xs, dtype=np.int64)[:, None] + offsets  # (nx, size)
    return arr[rows[:, None, :, None], cols[None, :, None, :]]


def rgb_labels_to_index(label_rgb: np.ndarray,
                        tolerance: int = 0) -> np.ndarray:
    """Colour-coded ISPRS labels (RGB) -> MMSegmentation's 0..6 indices.

    The 6 class colours are the 0/255 corners of the RGB cube (white,
    blue, cyan, green, yellow, red); a pixel belongs to the class whose
    colour is within ``tolerance`` in every channel, otherwise (black
    boundary, magenta, mixed colours) it gets 0.

    Args:
        label_rgb (np.ndarray): (H, W, 3) uint8, RGB order.
        tolerance (int): Largest per-channel deviation accepted, in
            [0, 127]. Defaults to 0 (exact colours).

    Returns:
        np.ndarray: (H, W) uint8: class ``k`` of :data:`ISPRS_COLOURS` ->
        ``k + 1``, anything else 0.
    """
    if label_rgb.ndim != 3 or label_rgb.shape[2] != 3:
        raise ValueError('expected an (H, W, 3) colour label tile, got '
                         f'shape {label_rgb.shape}')
    if not 0 <= tolerance < 128:
        raise ValueError(f'tolerance must be in [0, 127], got {tolerance}')
    label_rgb = label_rgb.astype(np.int16)
    bits = label_rgb >= 128  # nearest corner of the RGB cube
    close = np.all(np.abs(label_rgb - 255 * bits) <= tolerance, axis=2)
    corner = bits[..., 0] * 4 + bits[..., 1] * 2 + bits[..., 2]
    lut = np.zeros(8, dtype=np.uint8)
    for k, (r, g, b) in enumerate(ISPRS_COLOURS):
        lut[(r // 255) * 4 + (g // 255) * 2 + (b // 255)] = k + 1
    return np.where(close, lut[corner], 0).astype(np.uint8)


def normalise_ndsm(ndsm: np.ndarray,
                   mode: str = 'global',
                   value_range: Optional[Tuple[float, float]] = None,
                   nodata: Optional[float] = None,
                   name: str = 'nDSM') -> Tuple[np.ndarray, np.ndarray]:
    """Normalise an nDSM tile to [0, 1].

    Args:
        ndsm (np.ndarray): (H, W) heights as stored (any dtype), or (H, W,
            C) grey values stored in C equal channels (averaged).
        mode (str): ``'global'``: ``clip((v - lo) / (hi - lo), 0, 1)``
            with ``value_range = (lo, hi)`` (default ``(0, dtype max)``
            for integer tiles); ``'tile'``: the tile's valid min / max.
        value_range (tuple[float, float], optional): ``(lo, hi)`` of the
            global mode; required for float tiles.
        nodata (float, optional): Stored value marking missing data.
        name (str): Name used in error messages (the file).

    Returns:
        tuple[np.ndarray, np.ndarray]: (H, W) float32 heights in [0, 1]
        (0 where invalid) and the (H, W) bool validity mask.
    """
    raw = np.asarray(ndsm)
    if raw.ndim == 3:
        raw = raw.mean(axis=2)
    if raw.ndim != 2:
        raise ValueError(f'{name}: expected a single-channel nDSM, got shape '
                         f'{np.shape(ndsm)}')
    values = raw.astype(np.float64)
    valid = np.isfinite(values)
    if nodata is not None:
        valid &= values != nodata
    if mode == 'global':
        if value_range is None:
            if not np.issubdtype(np.asarray(ndsm).dtype, np.integer):
                raise ValueError(
                    f'{name}: the nDSM is stored as {np.asarray(ndsm).dtype}'
                    ' (heights in metres?): give ndsm_range=(lo, hi) for the '
                    "global normalisation or use ndsm_norm='tile'")
            value_range = (0.0, float(np.iinfo(np.asarray(ndsm).dtype).max))
        lo, hi = (float(v) for v in value_range)
    elif mode == 'tile':
        if valid.any():
            lo, hi = float(values[valid].min()), float(values[valid].max())
        else:
            lo, hi = 0.0, 1.0
    else:
        raise ValueError(f"ndsm_norm must be 'global' or 'tile', got {mode!r}")
    if hi <= lo:
        if mode == 'global':
            raise ValueError(f'ndsm_range must have hi > lo, got {(lo, hi)}')
        hi = lo + 1.0  # a flat tile is all ground
    h = np.clip((np.where(valid, values, lo) - lo) / (hi - lo), 0.0, 1.0)
    return h.astype(np.float32), valid


def resize_ndsm(ndsm: np.ndarray, valid: np.ndarray,
                size: Tuple[int, int]) -> Tuple[np.ndarray, np.ndarray]:
    """Bilinear resampling that ignores invalid pixels.

    Normalised convolution: ``resize(h * m) / resize(m)`` with the validity
    mask ``m``; an output pixel is valid when at least half of its
    interpolation weight lies on valid input pixels.

    Args:
        ndsm (np.ndarray): (H, W) float heights.
        valid (np.ndarray): (H, W) bool.
        size (tuple[int, int]): Output (h, w).

    Returns:
        tuple[np.ndarray, np.ndarray]: (h, w) float32 heights (0 where
        invalid) and bool validity.
    """
    dsize = (int(size[1]), int(size[0]))
    m = valid.astype(np.float32)
    num = cv2.resize(
        np.where(valid, ndsm, 0).astype(np.float32),
        dsize,
        interpolation=cv2.INTER_LINEAR)
    den = cv2.resize(m, dsize, interpolation=cv2.INTER_LINEAR)
    ok = den >= 0.5
    out = np.where(ok, num / np.maximum(den, 1e-6), 0.0)
    return out.astype(np.float32), ok


def resampled_size(height: int, width: int, src_gsd: float,
                   dst_gsd: float) -> Tuple[int, int]:
    """Tile size after resampling from ``src_gsd`` to ``dst_gsd`` (metres
    per pixel): ``round(n * src_gsd / dst_gsd)`` per axis (6000 px at 5 cm
    -> 3333 px at 9 cm)."""
    if src_gsd <= 0 or dst_gsd <= 0:
        raise ValueError(f'GSDs must be > 0, got {src_gsd}, {dst_gsd}')
    scale = src_gsd / dst_gsd
    return (max(1,
                int(round(height * scale))), max(1, int(round(width * scale))))


def pad_to_patch(arr: np.ndarray, size: int, value) -> np.ndarray:
    """Pad ``arr`` (H, W, ...) at the bottom / right with ``value`` to at
    least ``size`` x ``size`` (tiles smaller than a patch)."""
    h, w = arr.shape[:2]
    ph, pw = max(0, size - h), max(0, size - w)
    if ph == 0 and pw == 0:
        return arr
    pad = [(0, ph), (0, pw)] + [(0, 0)] * (arr.ndim - 2)
    return np.pad(arr, pad, constant_values=value)


__all__ = [
    'patch_starts', 'patch_stride', 'patch_grid', 'extract_patches',
    'rgb_labels_to_index', 'normalise_ndsm', 'resize_ndsm', 'resampled_size',
    'pad_to_patch'
]
