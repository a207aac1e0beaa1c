# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The drawing module of every depth + segmentation picture: one row per
result, input | depth with a colour bar | segmentation with a legend.

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

The inferencer and the demos draw one row per image with
:func:`draw_side_by_side`; :class:`DepthSegLocalVisualizer` (``tools/test.py
--show-dir``, validation pictures) stacks a ground-truth row and a
prediction row built from the same pieces (:func:`input_caption`,
:func:`depth_panel`, :func:`seg_panel`, :func:`compose_row`). Sparse depth
(lidar ground truth) is drawn with every point grown to a small disc
(:func:`dilate_sparse_depth`), so it stays visible on the dark end of the
colour map.
"""
from typing import List, Optional, Sequence, Tuple

import cv2
import matplotlib
import numpy as np

from .colormap import (colorize_depth, colorize_values, inverse_depth,
                       inverse_depth_range, value_range)

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
    return _widen(inverse_depth_range([depth], percentile))


def _widen(
    rng: Optional[Tuple[float, float]]
) -> Optional[Tuple[float, float]]:
    """A constant range ``(v, v)`` widened to ``(0.9 v, 1.1 v)`` so that a
    colour bar can be drawn."""
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
    return _colorbar(width, label, cmap,
                     lambda x0, bar_w, style: _depth_ticks(
                         vmin, vmax, x0, bar_w, style))


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


def _linear_ticks(vmin: float, vmax: float, x0: int, bar_w: int,
                  style: _Style) -> List[Tuple[int, str]]:
    """Round values between ``vmin`` and ``vmax`` (matplotlib's
    ``MaxNLocator``) whose labels do not overlap."""
    from matplotlib.ticker import MaxNLocator
    values = [
        v for v in MaxNLocator(nbins=6).tick_values(vmin, vmax)
        if vmin - 1e-12 <= v <= vmax + 1e-12
    ]
    accepted: List[Tuple[int, str, int, int]] = []
    for value in values:
        x = x0 + int(round((value - vmin) / (vmax - vmin) * bar_w))
        text = f'{value:.3g}'
        w = style.text_width(text)
        left, right = x - w // 2, x + w - w // 2
        if left < 0 or right > x0 * 2 + bar_w:
            continue
        if all(right + style.margin <= a_left or left >= a_right +
               style.margin for _, _, a_left, a_right in accepted):
            accepted.append((x, text, left, right))
    if not accepted:
        return [(x0, f'{vmin:.3g}'), (x0 + bar_w, f'{vmax:.3g}')]
    return [(x, text) for x, text, _, _ in accepted]


def draw_value_colorbar(width: int,
                        vmin: float,
                        vmax: float,
                        label: str,
                        cmap: str = 'magma') -> np.ndarray:
    """A horizontal colour bar of a linear colour map
    (:func:`colorize_values`) with round ticks.

    Args:
        width (int): Width of the strip.
        vmin (float): Value at the left end.
        vmax (float): Value at the right end (> vmin).
        label (str): Caption under the ticks.
        cmap (str): Matplotlib colormap name. Defaults to 'magma'.

    Returns:
        np.ndarray: uint8 RGB ``(h, width, 3)`` strip on white.
    """
    if vmax - vmin <= 1e-12 * max(abs(vmax), 1.):
        vmin, vmax = vmin - 0.5 * max(abs(vmin), 1e-6), vmax + 0.5 * max(
            abs(vmax), 1e-6)
    return _colorbar(width, label, cmap,
                     lambda x0, bar_w, style: _linear_ticks(
                         vmin, vmax, x0, bar_w, style))


def _colorbar(width: int, label: str, cmap: str, ticks) -> np.ndarray:
    """A colour bar strip with ``ticks(x0, bar_w, style)`` labels."""
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
    for x, text in ticks(x0, bar_w, style):
        x = int(np.clip(x, x0, x0 + bar_w - 1))
        cv2.line(strip, (x, y_tick), (x, y_tick + tick_h), _BLACK, 1)
        style.put(strip, text, x - style.text_width(text) // 2,
                  y_tick + tick_h + style.margin // 4)
    style.put(strip, label, (width - style.text_width(label)) // 2,
              y_tick + tick_h + style.line_h)
    return strip


def text_strip(width: int, lines: Sequence[str]) -> np.ndarray:
    """Lines of text on white, ``width`` pixels wide."""
    style = _Style(width)
    strip = np.full(
        (2 * style.margin + max(len(lines), 1) * style.line_h, width, 3),
        255,
        dtype=np.uint8)
    for i, line in enumerate(lines):
        style.put(strip, line, style.margin, style.margin + i * style.line_h)
    return strip


def input_caption(width: int,
                  height: int,
                  title: Optional[str] = None) -> np.ndarray:
    """The footer of the input panel: ``title`` (a file name, a row label
    such as 'ground truth') and the image size."""
    return text_strip(width, ([title] if title else []) +
                      [f'input {width}x{height}'])


def sparse_radius(width: int) -> int:
    """Radius (pixels) of a point of a sparse depth map in a panel
    ``width`` pixels wide: 1 up to 750 px, then one more per 500 px."""
    return max(1, int(round(width / 500.)))


def dilate_sparse_depth(depth: np.ndarray,
                        radius: Optional[int] = None,
                        max_fraction: float = 0.3) -> np.ndarray:
    """Grow the points of a sparse depth map into discs, for drawing.

    Lidar ground truth covers a few percent of the pixels; drawn as it is,
    its points vanish on the dark (far) end of the colour map. When less
    than ``max_fraction`` of the pixels are valid, every valid pixel becomes
    a disc of ``radius`` (a grey dilation of the inverse depth: where discs
    overlap the nearer point is drawn). Denser maps are returned as they are.

    Args:
        depth (np.ndarray): ``(H, W)`` depth, 0 / non-finite = invalid.
        radius (int, optional): Disc radius in pixels. Defaults to
            :func:`sparse_radius` of the width.
        max_fraction (float): Valid fraction below which the map counts as
            sparse. Defaults to 0.3.

    Returns:
        np.ndarray: ``(H, W)`` float32 depth.
    """
    depth = np.asarray(depth, dtype=np.float32)
    inv = inverse_depth(depth).astype(np.float32)
    valid = inv > 0
    if not valid.any() or valid.mean() >= max_fraction:
        return depth
    radius = sparse_radius(depth.shape[1]) if radius is None else radius
    if radius < 1:
        return depth
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE,
                                       (2 * radius + 1, 2 * radius + 1))
    grown = cv2.dilate(inv, kernel)
    out = np.zeros_like(depth)
    np.divide(1.0, grown, out=out, where=grown > 0)
    return out


def depth_panel(depth: np.ndarray,
                vrange: Optional[Tuple[float, float]] = None,
                label: str = 'depth [m]',
                cmap: str = 'magma',
                percentile: float = 95.0,
                encoding: str = 'metres',
                dilate_sparse: bool = True) -> Tuple[np.ndarray, np.ndarray]:
    """A depth map as a colour panel and its colour bar.

    Args:
        depth (np.ndarray): ``(H, W)`` map.
        vrange (tuple[float, float], optional): Colour range (inverse depth
            for ``'metres'``, values for ``'target'``), e.g. one shared by
            the rows of a picture. Defaults to the map's own
            (:func:`depth_color_range` / :func:`value_range` with
            ``percentile``).
        label (str): Colour bar caption.
        cmap (str): Matplotlib colormap. Defaults to 'magma'.
        percentile (float): See :func:`depth_color_range`. Defaults to 95.
        encoding (str): ``'metres'`` (depth, coloured as inverse depth,
            0 / non-finite invalid) or ``'target'`` (a regression target
            coloured linearly, non-finite invalid).
        dilate_sparse (bool): Grow sparse maps' points
            (:func:`dilate_sparse_depth`, metres only). Defaults to True.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``(H, W, 3)`` panel and its footer,
        uint8 RGB.
    """
    depth = np.asarray(depth, dtype=np.float32)
    height, width = depth.shape
    if encoding == 'metres':
        rng = _widen(vrange) if vrange else depth_color_range(
            depth, percentile)
        if rng is None:
            return blank_panel(height, width, f'{label}: no valid pixel')
        shown = dilate_sparse_depth(depth) if dilate_sparse else depth
        return (colorize_depth(shown, rng[0], rng[1], cmap=cmap),
                draw_depth_colorbar(width, rng[0], rng[1], label, cmap))
    rng = vrange or value_range([depth], percentile)
    if rng is None:
        return blank_panel(height, width, f'{label}: no valid pixel')
    return (colorize_values(depth, rng[0], rng[1], cmap=cmap),
            draw_value_colorbar(width, rng[0], rng[1], label, cmap))


def seg_overlay(image: np.ndarray, sem_seg: np.ndarray, palette: np.ndarray,
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


def present_classes(sem_seg: np.ndarray,
                    num_classes: int,
                    ignore_index: int = 255) -> List[int]:
    """Class ids of a map, most frequent first (``ignore_index`` and ids
    outside the palette left out)."""
    ids, counts = np.unique(np.asarray(sem_seg), return_counts=True)
    keep = (ids >= 0) & (ids < num_classes) & (ids != ignore_index)
    order = np.argsort(-counts[keep], kind='stable')
    return [int(i) for i in ids[keep][order]]


def seg_panel(image: np.ndarray,
              sem_seg: np.ndarray,
              classes: Sequence[str],
              palette: np.ndarray,
              alpha: float = 0.6,
              ignore_index: int = 255) -> Tuple[np.ndarray, np.ndarray]:
    """A segmentation over the image and the legend of its classes.

    Args:
        image (np.ndarray): ``(H, W, 3)`` uint8 RGB.
        sem_seg (np.ndarray): ``(H, W)`` class ids.
        classes (Sequence[str]): Class names.
        palette (np.ndarray): ``(C, 3)`` RGB colours.
        alpha (float): Weight of the class colours. Defaults to 0.6.
        ignore_index (int): Id left out of the legend. Defaults to 255.

    Returns:
        tuple[np.ndarray, np.ndarray]: Panel and legend, uint8 RGB.
    """
    palette = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
    seg = np.asarray(sem_seg).astype(np.int64)
    return (seg_overlay(image, seg, palette, alpha),
            draw_class_legend(image.shape[1],
                              present_classes(seg, len(palette),
                                              ignore_index), classes,
                              palette))


def blank_panel(height: int, width: int,
                text: str) -> Tuple[np.ndarray, np.ndarray]:
    """A black panel (a map that is missing) and a footer saying so."""
    return (np.zeros((height, width, 3), dtype=np.uint8),
            text_strip(width, [text]))


def _pad_height(block: np.ndarray, height: int) -> np.ndarray:
    if block.shape[0] >= height:
        return block
    pad = np.full(
        (height - block.shape[0], ) + block.shape[1:], 255, dtype=np.uint8)
    return np.concatenate([block, pad], axis=0)


def compose_row(panels: Sequence[np.ndarray],
                footers: Sequence[np.ndarray]) -> np.ndarray:
    """Panels side by side, each with its footer under it (footers padded
    with white to one height).

    Args:
        panels (Sequence[np.ndarray]): ``(H, W_i, 3)`` panels.
        footers (Sequence[np.ndarray]): ``(h_i, W_i, 3)`` footers.

    Returns:
        np.ndarray: ``(H + max h_i, sum W_i, 3)`` uint8 RGB.
    """
    footer_h = max(f.shape[0] for f in footers)
    footer = np.concatenate([_pad_height(f, footer_h) for f in footers],
                            axis=1)
    return np.concatenate([np.concatenate(panels, axis=1), footer], axis=0)


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
            invalid, drawn black; sparse maps drawn as discs). None leaves
            the panel out.
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
    panels: List[np.ndarray] = [image]
    footers: List[np.ndarray] = [input_caption(width, height, title)]
    if depth is not None:
        panel, footer = depth_panel(
            depth,
            label=depth_label,
            cmap=depth_cmap,
            percentile=depth_percentile)
        panels.append(panel)
        footers.append(footer)
    if sem_seg is not None:
        if classes is None or palette is None:
            raise ValueError('draw_side_by_side needs classes and palette to '
                             'draw sem_seg')
        panel, footer = seg_panel(image, sem_seg, classes, palette, alpha,
                                  ignore_index)
        panels.append(panel)
        footers.append(footer)
    return compose_row(panels, footers)
