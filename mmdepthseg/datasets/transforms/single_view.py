# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Our datasets in MMSegmentation's single-view pipelines.

MMSegmentation keeps one view per sample, with ``gt_seg_map`` and
``gt_depth_map`` as ``(H, W)`` arrays listed in ``seg_fields`` (its
``LoadDepthAnnotation`` does the same). Its geometric transforms act on
every key of ``seg_fields``: ``Resize`` / ``RandomResize`` with
nearest-neighbour interpolation (depth values are never mixed: every
resized depth is one of the original ones), ``RandomCrop`` and
``RandomFlip`` with the same window / mirror as the image, and
``PackSegInputs`` packs ``gt_depth_map`` as a ``(1, H, W)`` float tensor.
Two parts are missing for depth, and are added here:

- a loader for our datasets' annotations (depth from Cityscapes disparity,
  KITTI velodyne, NYUv2 PNGs; label-id mapping) in that layout:
  :class:`LoadSingleViewDepthSegAnnotations`;
- MMCV's ``Pad`` pads ``gt_seg_map`` only, so a depth map would keep its
  size; :class:`DepthSegPad` pads every ``seg_fields`` map, depth with
  ``pad_val['depth']`` (0, invalid).

MMCV's nearest resize (``cv2.INTER_NEAREST``) picks source pixel
``floor(u * s)`` where the bilinear image resize samples ``(u + 0.5) * s -
0.5``: maps and image agree to within one source pixel, as mmseg's label
maps do.
"""
from numbers import Number
from typing import Optional, Union

import mmcv
import numpy as np
from mmcv.transforms import Pad

from mmdepthseg.registry import TRANSFORMS
from .loading import LoadDepthSegAnnotations

#: Names of the maps in results.
_SEG, _DEPTH = 'gt_seg_map', 'gt_depth_map'


@TRANSFORMS.register_module()
class LoadSingleViewDepthSegAnnotations(LoadDepthSegAnnotations):
    """Load our datasets' annotations in MMSegmentation's single-view layout.

    Reads what :class:`LoadDepthSegAnnotations` reads (same data infos, same
    decoding) and keeps the reference (first) view's maps as ``(H, W)``:
    ``gt_seg_map`` uint8 and ``gt_depth_map`` float32 (metres, 0 invalid),
    both listed in ``seg_fields`` as mmseg's ``LoadAnnotations`` and
    ``LoadDepthAnnotation`` list them, so that mmseg's ``RandomResize``,
    ``Resize``, ``RandomCrop``, ``RandomFlip`` and ``PackSegInputs`` carry
    them. Use it in place of mmseg's ``LoadAnnotations``, after
    ``LoadImageFromFile``.

    Args:
        with_seg (bool): Load the segmentation map. Defaults to True.
        with_depth (bool): Load the depth map. Defaults to True.
        imdecode_backend (str): mmcv decoding backend. Defaults to 'cv2'.
        backend_args (dict, optional): mmengine file backend arguments.
    """

    def transform(self, results: dict) -> dict:
        results = super().transform(results)
        depth_fields = results.get('depth_fields', [])
        seg_fields = results.setdefault('seg_fields', [])
        for key in (_SEG, _DEPTH):
            if key not in results:
                continue
            maps = results[key]
            if maps.ndim == 3:  # (V', H, W): keep the reference view
                results[key] = np.ascontiguousarray(maps[0])
            if key in depth_fields:
                depth_fields.remove(key)
            if key not in seg_fields:
                seg_fields.append(key)
        results.setdefault('reduce_zero_label', False)
        return results


@TRANSFORMS.register_module()
class DepthSegPad(Pad):
    """MMCV's ``Pad`` for every map of ``seg_fields``, depth included.

    Same arguments as ``mmcv.transforms.Pad``; ``pad_val`` may also give
    ``'depth'`` (default 0, invalid depth) for ``gt_depth_map`` and other
    float maps; integer maps take ``pad_val['seg']`` (default 255).

    Args:
        size (tuple[int, int], optional): Fixed padded size ``(w, h)``.
        size_divisor (int, optional): Pad to multiples of this.
        pad_to_square (bool): Pad to a square. Defaults to False.
        pad_val (Number | dict): Defaults to ``dict(img=0, seg=255,
            depth=0)``.
        padding_mode (str): ``'constant'``, ``'edge'``, ``'reflect'`` or
            ``'symmetric'``. Defaults to ``'constant'``.
    """

    def __init__(self,
                 size: Optional[tuple] = None,
                 size_divisor: Optional[int] = None,
                 pad_to_square: bool = False,
                 pad_val: Union[Number, dict] = dict(img=0, seg=255, depth=0),
                 padding_mode: str = 'constant') -> None:
        super().__init__(size, size_divisor, pad_to_square, pad_val,
                         padding_mode)
        self.pad_val.setdefault('depth', 0)

    def _pad_seg(self, results: dict) -> None:
        """Pad every ``seg_fields`` map to ``results['pad_shape']``."""
        for key in results.get('seg_fields', []):
            value = results.get(key, None)
            if value is None:
                continue
            kind = 'depth' if np.issubdtype(value.dtype,
                                            np.floating) else 'seg'
            results[key] = mmcv.impad(
                value,
                shape=results['pad_shape'][:2],
                pad_val=self.pad_val.get(kind, 0 if kind == 'depth' else 255),
                padding_mode=self.padding_mode)
