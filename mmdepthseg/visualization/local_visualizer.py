# Copyright (c) mmdepthseg contributors. All rights reserved.
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import mmcv
import numpy as np
import torch
from mmengine.dist import master_only
from mmengine.structures import PixelData
from mmseg.utils import get_classes, get_palette
from mmseg.visualization import SegLocalVisualizer

from mmdepthseg.registry import VISUALIZERS
from .colormap import (colorize_depth, colorize_values, inverse_depth_range,
                       value_range)
from .side_by_side import (blank_panel, compose_row, depth_panel,
                           draw_class_legend, input_caption, present_classes)


def _to_numpy(data) -> np.ndarray:
    if isinstance(data, torch.Tensor):
        data = data.detach().cpu().numpy()
    return np.asarray(data)


def _first_view(data_sample, key: str) -> Optional[np.ndarray]:
    """View 0 of a ``PixelData`` field as an (H, W) array, or None."""
    field = data_sample.get(key) if data_sample is not None else None
    if field is None:
        return None
    data = _to_numpy(field.get('data'))
    return data[0] if data.ndim == 3 else data


def resize_nearest(array: np.ndarray, height: int, width: int) -> np.ndarray:
    """Nearest-neighbour resize of an (h, w) map of any dtype.

    Output pixel ``i`` takes input pixel ``floor((i + 0.5) * h / H)``, so
    invalid depth (0) and label ids are never blended.

    Args:
        array (np.ndarray): (h, w) map.
        height (int): Output height H.
        width (int): Output width W.

    Returns:
        np.ndarray: (H, W) map of the same dtype.
    """
    h, w = array.shape[:2]
    if (h, w) == (height, width):
        return array
    rows = np.minimum(((np.arange(height) + 0.5) * h / height).astype(int),
                      h - 1)
    cols = np.minimum(((np.arange(width) + 0.5) * w / width).astype(int),
                      w - 1)
    return array[rows[:, None], cols[None, :]]


def default_palette(num_classes: int) -> List[List[int]]:
    """Cityscapes' palette for 19 classes, else a fixed pseudo-random one."""
    if num_classes == 19:
        return [list(c) for c in get_palette('cityscapes')]
    rng = np.random.RandomState(42)
    return rng.randint(0, 256, size=(num_classes, 3)).tolist()


#: How the float maps named ``*depth*`` are coloured (see
#: :class:`DepthSegLocalVisualizer`).
DEPTH_ENCODINGS = ('metres', 'target')


def _caption(panel: np.ndarray, text: str, height: int) -> np.ndarray:
    """``panel`` under a black bar of ``height`` rows holding ``text``."""
    bar = np.zeros((height, panel.shape[1], 3), dtype=np.uint8)
    scale = height / 30.
    cv2.putText(bar, text, (2, int(height * 0.75)), cv2.FONT_HERSHEY_SIMPLEX,
                scale, (255, 255, 255), 1, cv2.LINE_AA)
    return np.concatenate([bar, panel], axis=0)


@VISUALIZERS.register_module()
class DepthSegLocalVisualizer(SegLocalVisualizer):
    """Draws input, depth and segmentation side by side.

    Panels of one row: input image | depth (colour-mapped INVERSE depth,
    near = bright with 'magma'; invalid pixels black; sparse maps such as
    lidar ground truth drawn as small discs) | segmentation (palette
    colours, optionally blended over the image). One row for the ground
    truth (view 0 of ``gt_depth_map`` / ``gt_sem_seg``) and one for the
    predictions (``pred_depth_map`` / ``pred_sem_seg``), each drawn when
    present. A column appears when any drawn row has that map; a row lacking
    it shows a black panel there. Ground truth and prediction of one sample
    share one colour range (unless ``shared_depth_range=False``). Maps of
    another size than the image are resized to it by nearest neighbour.

    With ``decorate=True`` (default) every row has a footer, drawn by
    :mod:`mmdepthseg.visualization.side_by_side` like the inferencer's
    pictures: the row's label ('ground truth' / 'prediction') and the image
    size under the input, a colour bar with depth ticks under the depth and
    a legend of the classes present under the segmentation.
    ``decorate=False`` gives the bare grid of panels.

    :meth:`draw_input_sample` draws a packed training sample instead (every
    view and every per-pixel map; ``tools/misc/browse_dataset.py``).

    Works with MMSegmentation's ``SegVisualizationHook`` (and so with
    ``tools/test.py --show-dir``): pictures go to the visualizer's backends
    (``add_image``) or to ``out_file``.

    Args:
        name (str): Instance name. Defaults to 'visualizer'.
        image (np.ndarray, optional): RGB image to draw on.
        vis_backends (list[dict], optional): Visual backend configs.
        save_dir (str, optional): Directory of the backends' files.
        classes (list[str], optional): Class names; default Cityscapes'.
        palette (list[list[int]], optional): RGB colour per class; default
            Cityscapes' palette for 19 classes, else a fixed random one.
        dataset_name (str, optional): MMSegmentation dataset name whose
            classes/palette are the defaults. Defaults to 'cityscapes'.
        alpha (float): Weight of the palette colour over the image in the
            segmentation panel; 1 gives plain label colours. Defaults to 1.
        depth_cmap (str): Matplotlib colormap of inverse depth. Defaults to
            'magma'.
        depth_percentile (float): Percentile of the sample's valid inverse
            depths mapped to the brightest colour. Defaults to 95.
        shared_depth_range (bool): Colour ground truth and prediction with
            one range (metric models: equal colours mean equal depths).
            Self-supervised models predict depth only up to scale, so their
            configs set False and each map gets its own range.
            Defaults to True.
        depth_encoding (str): What the depth maps hold. ``'metres'``
            (default): depth, coloured as inverse depth (0 / non-finite =
            invalid). ``'target'``: a regression target coloured linearly
            (high = bright, non-finite = invalid), for SemiMTL's inverse
            depth or height targets (``DepthTargetTransform``).
        decorate (bool): Footers with row labels, colour bars and legends.
            Defaults to True.
        depth_label (str, optional): Colour bar caption. Defaults to
            'depth [m]' ('depth (own scale per row)' without a shared
            range, 'depth target' for ``depth_encoding='target'``).
    """

    #: Maps drawn first by :meth:`draw_input_sample`, in this order; other
    #: ``PixelData`` fields follow alphabetically.
    INPUT_FIELD_ORDER = ('gt_sem_seg', 'gt_depth_map', 'gt_pseudo_depth',
                         'gt_confidence')

    def __init__(self,
                 name: str = 'visualizer',
                 image: Optional[np.ndarray] = None,
                 vis_backends: Optional[List[dict]] = None,
                 save_dir: Optional[str] = None,
                 classes: Optional[List[str]] = None,
                 palette: Optional[List[List[int]]] = None,
                 dataset_name: Optional[str] = None,
                 alpha: float = 1.0,
                 depth_cmap: str = 'magma',
                 depth_percentile: float = 95.0,
                 shared_depth_range: bool = True,
                 depth_encoding: str = 'metres',
                 decorate: bool = True,
                 depth_label: Optional[str] = None,
                 **kwargs) -> None:
        if depth_encoding not in DEPTH_ENCODINGS:
            raise ValueError(f'depth_encoding must be one of '
                             f'{DEPTH_ENCODINGS}, got {depth_encoding!r}')
        # mmseg 1.2.2's __init__ passes (palette, classes) swapped to
        # ``set_dataset_meta``; set the meta ourselves afterwards.
        super().__init__(
            name, image, vis_backends, save_dir, alpha=alpha, **kwargs)
        self.set_dataset_meta(classes, palette, dataset_name)
        self.depth_cmap = depth_cmap
        self.depth_percentile = depth_percentile
        self.shared_depth_range = shared_depth_range
        self.depth_encoding = depth_encoding
        self.decorate = decorate
        if depth_label is None:
            depth_label = 'depth target' if depth_encoding == 'target' else (
                'depth [m]'
                if shared_depth_range else 'depth (own scale per row)')
        self.depth_label = depth_label

    def set_dataset_meta(self,
                         classes: Optional[List] = None,
                         palette: Optional[List] = None,
                         dataset_name: Optional[str] = None) -> None:
        """Set class names and palette (missing ones get defaults).

        Args:
            classes (list, optional): Class names.
            palette (list, optional): RGB colour per class.
            dataset_name (str, optional): MMSegmentation dataset whose meta
                gives the defaults. Defaults to 'cityscapes'.
        """
        dataset_name = dataset_name or 'cityscapes'
        classes = list(classes) if classes else get_classes(dataset_name)
        if not palette:
            palette = get_palette(dataset_name) if len(classes) == len(
                get_classes(dataset_name)) else default_palette(len(classes))
        if len(classes) != len(palette):
            raise ValueError(f'{len(classes)} classes but {len(palette)} '
                             'palette colours')
        self.dataset_meta = dict(classes=classes, palette=palette)

    def _depth_range(
            self, maps: Sequence[np.ndarray]) -> Optional[Tuple[float, float]]:
        """Colour range of depth maps after ``depth_encoding``."""
        if self.depth_encoding == 'metres':
            return inverse_depth_range(maps, self.depth_percentile)
        return value_range(maps, self.depth_percentile)

    def _colorize_depth(self, depth: np.ndarray,
                        vrange: Optional[Tuple[float, float]]) -> np.ndarray:
        """(H, W, 3) RGB panel of a depth map after ``depth_encoding``."""
        vmin, vmax = vrange if vrange else (None, None)
        if self.depth_encoding == 'metres':
            # exact pixels: browse_dataset shows every lidar point as it is
            return colorize_depth(depth, vmin, vmax, cmap=self.depth_cmap)
        return colorize_values(depth, vmin, vmax, cmap=self.depth_cmap)

    def _classes_and_palette(self):
        meta = self.dataset_meta or {}
        classes = meta.get('classes') or get_classes('cityscapes')
        palette = meta.get('palette') or default_palette(len(classes))
        return list(classes), np.asarray(palette, dtype=np.uint8)

    def _seg_panel(self, image: np.ndarray, seg: np.ndarray,
                   classes: Sequence[str], palette: np.ndarray,
                   with_labels: bool) -> np.ndarray:
        """(H, W, 3) RGB segmentation panel; ids >= num_classes stay dark."""
        seg = seg.astype(np.int64)
        known = (seg >= 0) & (seg < len(palette))
        colors = np.zeros(image.shape, dtype=np.uint8)
        colors[known] = palette[seg[known]]
        blend = image * (1 - self.alpha) + colors * self.alpha
        panel = np.where(known[..., None], blend,
                         image * (1 - self.alpha)).astype(np.uint8)
        if with_labels:
            panel = self._draw_class_names(panel, seg, known, classes, palette)
        return panel

    @staticmethod
    def _draw_class_names(panel: np.ndarray, seg: np.ndarray,
                          known: np.ndarray, classes: Sequence[str],
                          palette: np.ndarray) -> np.ndarray:
        """Write each class name at the middle of its widest row."""
        height, width = seg.shape
        font = cv2.FONT_HERSHEY_SIMPLEX
        scale = min(height, width) / 500
        thickness = 1 if min(height, width) < 300 else 2
        panel = np.ascontiguousarray(panel)
        for label in np.unique(seg[known]):
            rows, cols = np.nonzero(seg == label)
            row = np.bincount(rows).argmax()
            cols_in_row = cols[rows == row]
            col = int(cols_in_row[len(cols_in_row) // 2])
            text = str(classes[label]) if label < len(classes) else str(label)
            (text_w, text_h), base = cv2.getTextSize(text, font, scale,
                                                     thickness)
            corner = (col + text_w + base, int(row) + text_h + base)
            color = tuple(int(c) for c in palette[label])
            cv2.rectangle(panel, (col, int(row)), corner, color, -1)
            cv2.rectangle(panel, (col, int(row)), corner, (0, 0, 0), 1)
            cv2.putText(panel, text, (col, int(row) + text_h), font, scale,
                        (255, 255, 255), thickness, cv2.LINE_AA)
        return panel

    #: Labels of the ground-truth and prediction rows.
    ROW_LABELS = dict(gt='ground truth', pred='prediction')

    def draw_panels(self,
                    image: np.ndarray,
                    data_sample=None,
                    draw_gt: bool = True,
                    draw_pred: bool = True,
                    with_labels: bool = True,
                    decorate: Optional[bool] = None) -> np.ndarray:
        """Compose the picture of one sample.

        Args:
            image (np.ndarray): (H, W, 3) RGB uint8 input image.
            data_sample (SegDataSample | dict, optional): Ground truth and /
                or predictions.
            draw_gt (bool): Draw the ground-truth row. Defaults to True.
            draw_pred (bool): Draw the prediction row. Defaults to True.
            with_labels (bool): Write class names on segmentation panels.
                Defaults to True.
            decorate (bool, optional): Footers (row label, colour bar,
                legend) under every row. Defaults to the visualizer's
                ``decorate``.

        Returns:
            np.ndarray: RGB uint8 picture: ``rows * H`` high (plus a footer
            per row when decorated), ``columns * W`` wide.
        """
        decorate = self.decorate if decorate is None else decorate
        image = np.asarray(image)
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        image = image[..., :3].astype(np.uint8)
        height, width = image.shape[:2]

        rows = []
        for enabled, prefix in ((draw_gt, 'gt'), (draw_pred, 'pred')):
            if not enabled:
                continue
            depth = _first_view(data_sample, f'{prefix}_depth_map')
            seg = _first_view(data_sample, f'{prefix}_sem_seg')
            if depth is not None or seg is not None:
                rows.append((self.ROW_LABELS[prefix],
                             None if depth is None else resize_nearest(
                                 depth.astype(np.float32), height, width),
                             None if seg is None else resize_nearest(
                                 seg, height, width)))
        if not rows:
            return image

        shared = self._depth_range([d for _, d, _ in rows if d is not None])
        classes, palette = self._classes_and_palette()
        has_depth = any(d is not None for _, d, _ in rows)
        has_seg = any(s is not None for _, _, s in rows)

        lines = []
        for label, depth, seg in rows:
            panels = [image]
            footers = [input_caption(width, height, label)]
            if has_depth and depth is None:
                panel, footer = blank_panel(height, width, 'no depth')
            elif has_depth:
                own = shared if self.shared_depth_range else \
                    self._depth_range([depth])
                panel, footer = depth_panel(
                    depth,
                    own,
                    label=self.depth_label,
                    cmap=self.depth_cmap,
                    percentile=self.depth_percentile,
                    encoding=self.depth_encoding)
            if has_depth:
                panels.append(panel)
                footers.append(footer)
            if has_seg and seg is None:
                panel, footer = blank_panel(height, width, 'no labels')
            elif has_seg:
                panel = self._seg_panel(image, seg, classes, palette,
                                        with_labels)
                footer = draw_class_legend(
                    width, present_classes(seg, len(palette)), classes,
                    palette)
            if has_seg:
                panels.append(panel)
                footers.append(footer)
            lines.append(
                compose_row(panels, footers) if decorate else np.
                concatenate(panels, axis=1))
        return np.concatenate(lines, axis=0)

    def _map_panel(self, name: str, data: np.ndarray, image: np.ndarray,
                   depth_range: Optional[Tuple[float, float]]) -> np.ndarray:
        """(H, W, 3) RGB panel of one view of a per-pixel field."""
        if not np.issubdtype(data.dtype, np.floating):
            classes, palette = self._classes_and_palette()
            return self._seg_panel(image, data, classes, palette, False)
        if 'confidence' in name:
            return colorize_values(data, 0., 1., cmap='viridis')
        if 'depth' in name:
            return self._colorize_depth(data, depth_range)
        return colorize_values(data, *(value_range([data]) or (None, None)))

    def draw_input_sample(self,
                          inputs,
                          data_sample=None,
                          caption_height: Optional[int] = None) -> np.ndarray:
        """Draw what a pipeline feeds the model: every view, every map.

        One row per view (``view_names`` order): the view as the model gets
        it, the un-augmented view (``unaug_img``, when present), then one
        panel per ``PixelData`` field of the sample (``gt_sem_seg`` with the
        palette, ``gt_depth_map`` / ``gt_pseudo_depth`` coloured after
        ``depth_encoding`` with one range for all depth maps of the sample,
        ``gt_confidence`` with 'viridis' on [0, 1], other fields in that
        order). A field with fewer views than the sample (``V' < V``) leaves
        the later rows black. Every panel has the size of the largest map
        (test pipelines keep the ground truth at its original size, which a
        sparse lidar map would not survive downsampling): smaller views and
        maps are enlarged by nearest neighbour and their caption gives their
        own size.

        Args:
            inputs (Tensor | np.ndarray): uint8 ``(3V, h, w)`` BGR views
                stacked on channels (``PackMultiViewInputs``' ``inputs``).
            data_sample (SegDataSample, optional): The packed sample.
            caption_height (int, optional): Height of the caption bars.
                Defaults to ``max(12, H // 12)``.

        Returns:
            np.ndarray: ``(V * (caption + H), columns * W, 3)`` RGB uint8,
            ``(H, W)`` the largest size of the views and maps.
        """
        inputs = _to_numpy(inputs)
        if inputs.ndim != 3 or inputs.shape[0] % 3 != 0:
            raise ValueError('inputs must be (3V, H, W) with the views '
                             f'stacked on channels, got {inputs.shape}')
        num_views = inputs.shape[0] // 3
        meta = data_sample.metainfo if data_sample is not None else {}
        view_names = [str(v) for v in meta.get('view_names', ())]
        view_names += [str(v) for v in range(len(view_names), num_views)]

        fields: Dict[str, np.ndarray] = {}
        if data_sample is not None:
            for key in data_sample.keys():
                value = data_sample.get(key)
                if isinstance(value, PixelData) and 'data' in value:
                    data = _to_numpy(value.data)
                    fields[key] = data[None] if data.ndim == 2 else data
        height, width = max(
            [inputs.shape[1:]] + [m.shape[1:] for m in fields.values()],
            key=lambda hw: hw[0] * hw[1])
        caption_height = caption_height or max(12, height // 12)

        def size_note(hw) -> str:
            return '' if tuple(hw) == (height, width) else \
                f' {hw[0]}x{hw[1]}'

        def rgb_views(stacked: np.ndarray) -> List[np.ndarray]:
            return [
                resize_nearest(
                    np.ascontiguousarray(stacked[3 * v:3 * v + 3].transpose(
                        1, 2, 0)[..., ::-1]).astype(np.uint8), height, width)
                for v in range(num_views)
            ]

        images = rgb_views(inputs)
        columns = []
        unaug = fields.pop('unaug_img', None)
        if unaug is not None:
            columns.append(
                ('unaugmented' + size_note(unaug.shape[1:]), rgb_views(unaug)))
        order = [k for k in self.INPUT_FIELD_ORDER if k in fields]
        order += sorted(k for k in fields if k not in order)
        depth_range = self._depth_range([
            resize_nearest(m, height, width) for k in order
            if 'depth' in k and np.issubdtype(fields[k].dtype, np.floating)
            for m in fields[k]
        ])

        blank = np.zeros((height, width, 3), dtype=np.uint8)
        rows = []
        for v in range(num_views):
            panels = [
                _caption(images[v],
                         view_names[v] + size_note(inputs.shape[1:]),
                         caption_height)
            ]
            for title, views in columns:
                panels.append(_caption(views[v], title, caption_height))
            for key in order:
                maps = fields[key]
                if v >= len(maps):
                    panels.append(_caption(blank, f'{key}: -', caption_height))
                    continue
                panel = self._map_panel(key,
                                        resize_nearest(maps[v], height, width),
                                        images[v], depth_range)
                panels.append(
                    _caption(panel, key + size_note(maps.shape[1:]),
                             caption_height))
            rows.append(np.concatenate(panels, axis=1))
        return np.concatenate(rows, axis=0)

    @master_only
    def add_datasample(self,
                       name: str,
                       image: np.ndarray,
                       data_sample=None,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: Optional[str] = None,
                       step: int = 0,
                       with_labels: Optional[bool] = True) -> None:
        """Draw a sample and save it to every backend (or ``out_file``).

        Args:
            name (str): Image identifier.
            image (np.ndarray): (H, W, 3) RGB uint8 image.
            data_sample (SegDataSample, optional): Ground truth and / or
                predictions (``gt_depth_map``, ``gt_sem_seg``,
                ``pred_depth_map``, ``pred_sem_seg``).
            draw_gt (bool): Draw the ground truth. Defaults to True.
            draw_pred (bool): Draw the predictions. Defaults to True.
            show (bool): Display the picture in a window. Defaults to False.
            wait_time (float): Display time in seconds. Defaults to 0.
            out_file (str, optional): Write the picture there (PNG/JPEG by
                extension) instead of to the backends.
            step (int): Global step recorded with the image. Defaults to 0.
            with_labels (bool): Write class names on segmentation panels.
                Defaults to True.
        """
        drawn = self.draw_panels(image, data_sample, draw_gt, draw_pred,
                                 bool(with_labels))
        self.set_image(drawn)
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmcv.imwrite(mmcv.rgb2bgr(drawn), out_file)
        else:
            self.add_image(name, drawn, step)
