# Copyright (c) mmdepthseg contributors. All rights reserved.
"""One picture per result: input | depth with a colour bar | segmentation
with a legend.

.. code:: text

    +-----------+-----------------+-----------------+
    |  input    | colour-mapped   | class colours   |
    |  image    | inverse depth   | over the image  |
    +-----------+-----------------+-----------------+
    | name, WxH | colour bar with | legend: classes |
    |           | depth ticks     | present         |
    +-----------+-----------------+-----------------+

The depth panel colours inverse depth (near = bright with 'magma', as
:class:`DepthSegLocalVisualizer` does), so the colour bar is linear in
``1 / depth`` and its ticks are labelled in depth (metres, or the model's
relative units for self-supervised models). Text is drawn with OpenCV's
Hershey font, scaled with the panel width; the footer is white.
"""
from typing import List, Optional, Sequence, Tuple

import cv2
import matplotlib
import numpy as np

from .colormap import colorize_depth, inverse_depth_range

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_BLACK = (0, 0, 0)


class _Style:
    """Font and spacing for a panel of width ``width`` pixels."""

    def __init__(self, width: int) -> None:
        self.scale = float(np.clip(width / 900., 0.35, 1.5))
        self.thickness = 1 if self.scale < 0.9 else 2
        (_,
         self.text_h), self.baseline = cv2.getTextSize('Ag', _FONT, self.scale,
                                                       self.thickness)
        self.margin = max(4, int(round(10 * self.scale)))
        self.line_h = self.text_h + self.baseline + self.margin // 2

    def text_width(self, text: str) -> int:
        return cv2.getTextSize(text, _FONT, self.scale, self.thickness)[0][0]

    def put(self, img: np.ndarray, text: str, x: int, y_top: int) -> None:
        """Write ``text`` with its top-left corner at ``(x, y_top)``."""
        cv2.putText(img, text, (int(x), int(y_top + self.text_h)), _FONT,
                    self.scale, _BLACK, self.thickness, cv2.LINE_AA)


def depth_color_range(
        depth: np.ndarray,
        percentile: float = 95.0) -> Optional[Tuple[float, float]]:
    """Inverse-depth range ``(vmin, vmax)`` (1/units) of the colour map.

    ``vmin`` is the smallest valid inverse depth, ``vmax`` the
    ``percentile`` of them (see :func:`inverse_depth_range`); a constant map
    gets a +-10 % range so that the colour bar stays readable.

    Args:
        depth (np.ndarray): ``(H, W)`` depth, 0 / non-finite = invalid.
        percentile (float): See above. Defaults to 95.

    Returns:
        tuple[float, float] | None: The range, None without valid pixels.
    """
    rng = inverse_depth_range([depth], percentile)
    if rng is None:
        return None
    vmin, vmax = rng
    if vmax - vmin <= 1e-6 * max(abs(vmax), 1e-12):
        vmin, vmax = vmin * 0.9, vmax * 1.1
    return vmin, vmax


def _format_depth(value: float) -> str:
    return f'{value:.3g}'


def _depth_ticks(vmin: float, vmax: float, x0: int, bar_w: int,
                 style: _Style) -> List[Tuple[int, str]]:
    """Tick positions and labels (round depths) that do not overlap.

    Candidates are ``{1, 5, 2, 3, 1.5, 4} x 10^k`` depths inside the bar's
    range (1/vmax .. 1/vmin), placed at their inverse depth and accepted
    greedily in that order of preference while their labels fit beside the
    accepted ones; with none accepted, the two ends are labelled.
    """
    near = 1.0 / vmax
    far = 1.0 / vmin if vmin > 0 else np.inf
    gap = style.margin
    candidates = []
    for priority, mult in enumerate((1, 5, 2, 3, 1.5, 4)):
        for exp in range(-3, 6):
            value = mult * 10.0**exp
            if near <= value <= far:
                candidates.append((priority, value))
    accepted: List[Tuple[int, str, int, int]] = []  # x, text, left, right
    for _, value in candidates:
        x = x0 + int(round((1.0 / value - vmin) / (vmax - vmin) * bar_w))
        text = _format_depth(value)
        w = style.text_width(text)
        left, right = x - w // 2, x + w - w // 2
        if left < 0 or right > x0 * 2 + bar_w:
            continue
        if all(right + gap <= a_left or left >= a_right + gap
               for _, _, a_left, a_right in accepted):
            accepted.append((x, text, left, right))
    if not accepted:
        return [(x0, _format_depth(far)), (x0 + bar_w, _format_depth(near))]
    return sorted((x, text) for x, text, _, _ in accepted)


def draw_depth_colorbar(width: int,
                        vmin: float,
                        vmax: float,
                        label: str,
                        cmap: str = 'magma') -> np.ndarray:
    """A horizontal colour bar of inverse depth with depth ticks.

    Colour ``cmap(t)`` sits at ``t = (1/d - vmin) / (vmax - vmin)`` along the
    bar, the mapping of :func:`colorize_depth`: far (small ``1/d``) on the
    left, near on the right.

    Args:
        width (int): Width of the strip (the depth panel's width).
        vmin (float): Inverse depth at the left end (> 0 for ticks).
        vmax (float): Inverse depth at the right end (> vmin).
        label (str): Caption under the ticks, e.g. ``'depth [m]'``.
        cmap (str): Matplotlib colormap name. Defaults to 'magma'.

    Returns:
        np.ndarray: uint8 RGB ``(h, width, 3)`` strip on white.
    """
    style = _Style(width)
    m = style.margin
    bar_h = max(6, int(round(16 * style.scale)))
    tick_h = max(3, int(round(5 * style.scale)))
    height = m + bar_h + tick_h + 2 * style.line_h + m
    strip = np.full((height, width, 3), 255, dtype=np.uint8)
    x0, bar_w = m, max(1, width - 2 * m)
    ramp = matplotlib.colormaps[cmap](
        np.linspace(0., 1., bar_w), bytes=True)[:, :3]
    strip[m:m + bar_h, x0:x0 + bar_w] = ramp[None]
    cv2.rectangle(strip, (x0 - 1, m - 1), (x0 + bar_w, m + bar_h), _BLACK, 1)
    y_tick = m + bar_h
    for x, text in _depth_ticks(vmin, vmax, x0, bar_w, style):
        x = int(np.clip(x, x0, x0 + bar_w - 1))
        cv2.line(strip, (x, y_tick), (x, y_tick + tick_h), _BLACK, 1)
        style.put(strip, text, x - style.text_width(text) // 2,
                  y_tick + tick_h + style.margin // 4)
    style.put(strip, label, (width - style.text_width(label)) // 2,
              y_tick + tick_h + style.line_h)
    return strip


def draw_class_legend(width: int,
                      labels: Sequence[int],
                      classes: Sequence[str],
                      palette: np.ndarray,
                      min_height: int = 0) -> np.ndarray:
    """Colour swatches and names of some classes, in a grid.

    Args:
        width (int): Width of the strip (the segmentation panel's width).
        labels (Sequence[int]): Class ids to list, in order.
        classes (Sequence[str]): Name of every class id.
        palette (np.ndarray): ``(C, 3)`` RGB colour of every class id.
        min_height (int): Pad the strip to at least this height.

    Returns:
        np.ndarray: uint8 RGB ``(h, width, 3)`` strip on white.
    """
    style = _Style(width)
    m = style.margin
    swatch = style.text_h + style.baseline
    names = [str(classes[i]) if i < len(classes) else str(i) for i in labels]
    col_w = max([style.text_width(n) for n in names] + [1]) + swatch + 2 * m
    num_cols = max(1, min(len(names), (width - m) // col_w))
    num_rows = -(-len(names) // num_cols) if names else 0
    height = max(min_height, 2 * m + num_rows * style.line_h)
    strip = np.full((height, width, 3), 255, dtype=np.uint8)
    for k, (label, name) in enumerate(zip(labels, names)):
        row, col = divmod(k, num_cols)
        x, y = m + col * col_w, m + row * style.line_h
        color = tuple(int(c) for c in palette[label])
        cv2.rectangle(strip, (x, y), (x + swatch, y + swatch), color, -1)
        cv2.rectangle(strip, (x, y), (x + swatch, y + swatch), _BLACK, 1)
        style.put(strip, name, x + swatch + m // 2, y)
    return strip


def _seg_overlay(image: np.ndarray, sem_seg: np.ndarray, palette: np.ndarray,
                 alpha: float) -> np.ndarray:
    """Class colours blended over the image; unknown ids (e.g. 255) show
    the image darkened by ``1 - alpha``."""
    seg = sem_seg.astype(np.int64)
    known = (seg >= 0) & (seg < len(palette))
    colors = np.zeros_like(image)
    colors[known] = palette[seg[known]]
    blend = image * (1. - alpha) + colors * alpha
    return np.where(known[..., None], blend,
                    image * (1. - alpha)).astype(np.uint8)


def _pad_height(block: np.ndarray, height: int) -> np.ndarray:
    if block.shape[0] >= height:
        return block
    pad = np.full(
        (height - block.shape[0], ) + block.shape[1:], 255, dtype=np.uint8)
    return np.concatenate([block, pad], axis=0)


def draw_side_by_side(image: np.ndarray,
                      depth: Optional[np.ndarray] = None,
                      sem_seg: Optional[np.ndarray] = None,
                      classes: Optional[Sequence[str]] = None,
                      palette: Optional[np.ndarray] = None,
                      depth_label: str = 'depth [m]',
                      depth_cmap: str = 'magma',
                      depth_percentile: float = 95.0,
                      alpha: float = 0.6,
                      title: Optional[str] = None,
                      ignore_index: int = 255) -> np.ndarray:
    """Input | depth with a colour bar | segmentation with a legend.

    Args:
        image (np.ndarray): ``(H, W, 3)`` uint8 RGB input.
        depth (np.ndarray, optional): ``(H, W)`` depth (0 / non-finite =
            invalid, drawn black). None leaves the panel out.
        sem_seg (np.ndarray, optional): ``(H, W)`` class ids. None leaves the
            panel out.
        classes (Sequence[str], optional): Class names (needed with
            ``sem_seg``).
        palette (np.ndarray, optional): ``(C, 3)`` RGB class colours (needed
            with ``sem_seg``).
        depth_label (str): Colour bar caption, e.g. ``'depth [m]'`` or
            ``'relative depth (up to scale)'``.
        depth_cmap (str): Matplotlib colormap of inverse depth.
            Defaults to 'magma'.
        depth_percentile (float): Percentile of the valid inverse depths at
            the bright end (see :func:`depth_color_range`). Defaults to 95.
        alpha (float): Weight of the class colours over the image.
            Defaults to 0.6.
        title (str, optional): Text under the input panel (e.g. file name).
        ignore_index (int): Class id left out of the legend. Defaults to 255.

    Returns:
        np.ndarray: uint8 RGB ``(H + footer, panels * W, 3)`` picture.
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError('image must be uint8 (H, W, 3) RGB, got '
                         f'{image.dtype} {image.shape}')
    height, width = image.shape[:2]
    for name, arr in (('depth', depth), ('sem_seg', sem_seg)):
        if arr is not None and np.asarray(arr).shape != (height, width):
            raise ValueError(f'{name} must be {(height, width)} like the '
                             f'image, got {np.asarray(arr).shape}')
    style = _Style(width)
    panels: List[np.ndarray] = [image]
    footers: List[np.ndarray] = []

    caption = np.full((2 * style.margin + 2 * style.line_h, width, 3),
                      255,
                      dtype=np.uint8)
    lines = ([title] if title else []) + [f'input {width}x{height}']
    for i, line in enumerate(lines):
        style.put(caption, line, style.margin, style.margin + i * style.line_h)
    footers.append(caption)

    if depth is not None:
        depth = np.asarray(depth, dtype=np.float32)
        rng = depth_color_range(depth, depth_percentile)
        if rng is None:
            panels.append(np.zeros_like(image))
            strip = np.full_like(caption, 255)
            style.put(strip, f'{depth_label}: no valid pixel', style.margin,
                      style.margin)
        else:
            panels.append(
                colorize_depth(depth, rng[0], rng[1], cmap=depth_cmap))
            strip = draw_depth_colorbar(width, rng[0], rng[1], depth_label,
                                        depth_cmap)
        footers.append(strip)

    if sem_seg is not None:
        if classes is None or palette is None:
            raise ValueError('draw_side_by_side needs classes and palette to '
                             'draw sem_seg')
        palette = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
        seg = np.asarray(sem_seg).astype(np.int64)
        panels.append(_seg_overlay(image, seg, palette, alpha))
        ids, counts = np.unique(seg, return_counts=True)
        keep = (ids >= 0) & (ids < len(palette)) & (ids != ignore_index)
        order = np.argsort(-counts[keep], kind='stable')
        present = [int(i) for i in ids[keep][order]]
        footers.append(draw_class_legend(width, present, classes, palette))

    footer_h = max(f.shape[0] for f in footers)
    footer = np.concatenate([_pad_height(f, footer_h) for f in footers],
                            axis=1)
    return np.concatenate([np.concatenate(panels, axis=1), footer], axis=0)
