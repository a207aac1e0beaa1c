# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Depth colouring for pictures: colour-mapped inverse depth."""
from typing import Optional, Sequence, Tuple

import matplotlib
import numpy as np


def inverse_depth(depth: np.ndarray) -> np.ndarray:
    """``1 / depth`` on valid pixels (finite, > 0), 0 elsewhere.

    Args:
        depth (np.ndarray): Depth in metres, any shape.

    Returns:
        np.ndarray: float64 inverse depth shaped like ``depth``.
    """
    depth = np.asarray(depth, dtype=np.float64)
    valid = np.isfinite(depth) & (depth > 0)
    out = np.zeros_like(depth)
    out[valid] = 1.0 / depth[valid]
    return out


def inverse_depth_range(
        depths: Sequence[np.ndarray],
        percentile: float = 95.0) -> Optional[Tuple[float, float]]:
    """A shared colour range for several depth maps of one sample.

    Args:
        depths (Sequence[np.ndarray]): Depth maps (metres, 0 = invalid).
        percentile (float): ``vmax`` is this percentile of the valid
            inverse depths of all maps together (95, as monodepth2's
            pictures, keeps a few very near pixels from darkening the rest;
            100 takes the maximum). ``vmin`` is their minimum.

    Returns:
        tuple[float, float] | None: ``(vmin, vmax)`` in 1/metres, or None
        when no map has a valid pixel.
    """
    values = [inverse_depth(d) for d in depths]
    values = np.concatenate([v[v > 0] for v in values]) if values else []
    if len(values) == 0:
        return None
    return float(values.min()), float(np.percentile(values, percentile))


def colorize_depth(
    depth: np.ndarray,
    vmin: Optional[float] = None,
    vmax: Optional[float] = None,
    cmap: str = 'magma',
    invalid_color: Tuple[int, int, int] = (0, 0, 0)
) -> np.ndarray:
    """Colour-map the INVERSE of a depth map (near = bright in 'magma').

    Args:
        depth (np.ndarray): (H, W) depth in metres; pixels that are not
            finite or ``<= 0`` are invalid.
        vmin (float, optional): Inverse depth (1/m) mapped to the first
            colour of ``cmap``. Defaults to the minimum over valid pixels.
        vmax (float, optional): Inverse depth (1/m) mapped to the last
            colour (larger values saturate). Defaults to the maximum over
            valid pixels.
        cmap (str): A matplotlib colormap name. Defaults to 'magma'.
        invalid_color (tuple[int, int, int]): RGB of invalid pixels.
            Defaults to black.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB image.
    """
    depth = np.asarray(depth)
    if depth.ndim != 2:
        raise ValueError('colorize_depth expects an (H, W) depth map, got '
                         f'shape {depth.shape}')
    inv = inverse_depth(depth)
    valid = inv > 0
    if valid.any():
        vmin = float(inv[valid].min()) if vmin is None else vmin
        vmax = float(inv[valid].max()) if vmax is None else vmax
    else:
        vmin, vmax = 0.0, 1.0
    span = max(vmax - vmin, 1e-12)
    normed = np.clip((inv - vmin) / span, 0.0, 1.0)
    colors = matplotlib.colormaps[cmap](normed, bytes=True)[..., :3]
    colors[~valid] = np.asarray(invalid_color, dtype=np.uint8)
    return np.ascontiguousarray(colors)


def value_range(maps: Sequence[np.ndarray],
                percentile: float = 95.0) -> Optional[Tuple[float, float]]:
    """A shared linear colour range of several maps.

    Args:
        maps (Sequence[np.ndarray]): Maps; non-finite values are invalid.
        percentile (float): ``vmax`` is this percentile of the finite values
            of all maps together, ``vmin`` their minimum.

    Returns:
        tuple[float, float] | None: ``(vmin, vmax)``, or None when no map
        has a finite value.
    """
    values = [np.asarray(m, dtype=np.float64) for m in maps]
    values = [v[np.isfinite(v)] for v in values]
    values = np.concatenate(values) if values else np.zeros(0)
    if values.size == 0:
        return None
    return float(values.min()), float(np.percentile(values, percentile))


def colorize_values(
    values: np.ndarray,
    vmin: Optional[float] = None,
    vmax: Optional[float] = None,
    cmap: str = 'magma',
    invalid_color: Tuple[int, int, int] = (0, 0, 0)
) -> np.ndarray:
    """Colour-map a map linearly: ``vmin`` darkest, ``vmax`` brightest.

    For maps that are not metric depth: SemiMTL's depth targets (inverse
    depth, so near = bright as in :func:`colorize_depth`; nDSM height),
    confidences.

    Args:
        values (np.ndarray): (H, W) map; non-finite values are invalid.
        vmin (float, optional): Value of the first colour. Defaults to the
            minimum of the finite values.
        vmax (float, optional): Value of the last colour (larger values
            saturate). Defaults to the maximum of the finite values.
        cmap (str): A matplotlib colormap name. Defaults to 'magma'.
        invalid_color (tuple[int, int, int]): RGB of invalid pixels.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB image.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError('colorize_values expects an (H, W) map, got shape '
                         f'{values.shape}')
    valid = np.isfinite(values)
    if valid.any():
        vmin = float(values[valid].min()) if vmin is None else vmin
        vmax = float(values[valid].max()) if vmax is None else vmax
    else:
        vmin, vmax = 0.0, 1.0
    normed = np.clip(
        (np.where(valid, values, vmin) - vmin) / max(vmax - vmin, 1e-12), 0.0,
        1.0)
    colors = matplotlib.colormaps[cmap](normed, bytes=True)[..., :3]
    colors[~valid] = np.asarray(invalid_color, dtype=np.uint8)
    return np.ascontiguousarray(colors)
