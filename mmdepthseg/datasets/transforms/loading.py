# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Loading of multi-view images and per-view depth / segmentation maps."""
from typing import List, Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mmdepthseg.registry import TRANSFORMS
from ..utils import (cityscapes_disparity_to_depth, map_label_ids,
                     normalised_to_absolute_intrinsics, read_image,
                     read_velodyne_points, stack_views, velodyne_to_depth_map)


def _add_field(results: dict, fields_key: str, name: str) -> None:
    fields = results.setdefault(fields_key, [])
    if name not in fields:
        fields.append(name)


@TRANSFORMS.register_module()
class LoadMultiViewImages(BaseTransform):
    """Read every view of a sample and stack them along channels.

    Required keys: ``img_paths`` (or ``img_path`` for one view).

    Added / modified keys: ``img`` (uint8 ``(H, W, 3V)``, BGR, views in
    ``img_paths`` order), ``img_path`` (first view), ``img_paths``,
    ``view_names`` (kept; ``('l',)`` / ``('v0', 'v1', ...)`` if absent),
    ``img_shape``, ``ori_shape`` (``(H, W)``), ``intrinsics`` (converted to
    pixels of the loaded size if ``intrinsics_normalised``).

    Args:
        to_float32 (bool): Convert the stacked image to float32.
            Defaults to False (the contract's uint8).
        imdecode_backend (str): mmcv decoding backend. Defaults to 'cv2'.
        backend_args (dict, optional): mmengine file backend arguments.
    """

    def __init__(self,
                 to_float32: bool = False,
                 imdecode_backend: str = 'cv2',
                 backend_args: Optional[dict] = None) -> None:
        self.to_float32 = to_float32
        self.imdecode_backend = imdecode_backend
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        paths: List[str] = list(
            results.get('img_paths') or [results['img_path']])
        views = [
            read_image(p, 'color', self.imdecode_backend, self.backend_args)
            for p in paths
        ]
        img = stack_views(views, paths, 'image')
        if self.to_float32:
            img = img.astype(np.float32)
        h, w = img.shape[:2]
        results['img'] = img
        results['img_paths'] = paths
        results['img_path'] = paths[0]
        if 'view_names' not in results:
            results['view_names'] = ('l', ) if len(paths) == 1 else tuple(
                f'v{i}' for i in range(len(paths)))
        elif len(results['view_names']) != len(paths):
            raise ValueError(f'{len(paths)} image paths but view_names '
                             f'{results["view_names"]} for {paths[0]}')
        results['img_shape'] = (h, w)
        results['ori_shape'] = (h, w)
        if results.get('intrinsics_normalised', False):
            results['intrinsics'] = normalised_to_absolute_intrinsics(
                results['intrinsics'], w, h)
            results['intrinsics_normalised'] = False
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(to_float32={self.to_float32}, '
                f"imdecode_backend='{self.imdecode_backend}')")


@TRANSFORMS.register_module()
class LoadDepthSegAnnotations(BaseTransform):
    """Load per-view segmentation and depth maps from the dataset's paths.

    Segmentation (``with_seg``): ``seg_map_paths`` (or ``seg_map_path``)
    hold uint8 label PNGs; ``label_id_format`` (``'trainIds'`` default, or
    ``'cityscapes_labelIds'``) says how to map them to trainIds, or
    ``label_id_formats`` one format per map (e.g. left ground truth in
    labelIds, right pseudo labels in trainIds).

    Depth (``with_depth``): ``depth_map_paths`` decoded by ``depth_format``:

    - ``'velodyne'``: KITTI ``.bin`` scans projected with ``velo2img``
      (3x4) into a ``depth_map_shape`` (h, w) map (Eigen protocol, see
      :func:`~mmdepthseg.datasets.utils.velodyne_to_depth_map`; optional
      ``velodyne_pixel_offset``, default 1, and ``velodyne_depth_value``,
      default ``'velodyne_x'``, the benchmark's value);
    - ``'disparity'``: Cityscapes uint16 disparity PNGs with
      ``disp_to_depth = baseline * fx``;
    - ``'png'``: uint16 PNGs divided by ``depth_scale`` (e.g. 1000 for mm,
      256 for the KITTI depth benchmark);
    - ``'npy'``: float arrays in metres.

    A sample without the corresponding paths simply gets no map (sources
    that label only one task). Every map must have the size of the loaded
    images (``ori_shape``); load annotations before any resize when the
    maps should follow the augmentation, or after the test-time resize to
    keep them at full resolution for evaluation.

    Added keys: ``gt_seg_map`` (uint8 ``(V', H, W)``), ``gt_depth_map``
    (float32 ``(V', H, W)``, metres, 0 invalid), ``seg_fields``,
    ``depth_fields``.

    Args:
        with_seg (bool): Load segmentation maps. Defaults to True.
        with_depth (bool): Load depth maps. Defaults to True.
        imdecode_backend (str): mmcv decoding backend. Defaults to 'cv2'.
        backend_args (dict, optional): mmengine file backend arguments.
    """

    def __init__(self,
                 with_seg: bool = True,
                 with_depth: bool = True,
                 imdecode_backend: str = 'cv2',
                 backend_args: Optional[dict] = None) -> None:
        self.with_seg = with_seg
        self.with_depth = with_depth
        self.imdecode_backend = imdecode_backend
        self.backend_args = backend_args

    def _read(self, path: str) -> np.ndarray:
        return read_image(path, 'unchanged', self.imdecode_backend,
                          self.backend_args)

    def _load_seg(self, path: str, fmt: str) -> np.ndarray:
        seg = self._read(path)
        if seg.ndim != 2 or seg.dtype != np.uint8:
            raise ValueError(f'{path}: expected a single-channel uint8 label '
                             f'PNG, got shape {seg.shape} {seg.dtype}')
        return map_label_ids(seg, fmt)

    def _load_depth(self, path: str, results: dict) -> np.ndarray:
        fmt = results.get('depth_format', 'png')
        if fmt == 'velodyne':
            return velodyne_to_depth_map(
                read_velodyne_points(path), results['velo2img'],
                results['depth_map_shape'],
                results.get('velodyne_pixel_offset', 1),
                results.get('velodyne_depth_value', 'velodyne_x'))
        if fmt == 'npy':
            return np.load(path).astype(np.float32)
        raw = self._read(path)
        if raw.ndim != 2 or raw.dtype != np.uint16:
            raise ValueError(f'{path}: expected a single-channel uint16 PNG '
                             f'({fmt!r} depth), got shape {raw.shape} '
                             f'{raw.dtype}')
        if fmt == 'disparity':
            return cityscapes_disparity_to_depth(raw, results['disp_to_depth'])
        if fmt == 'png':
            return raw.astype(np.float32) / float(results['depth_scale'])
        raise ValueError(f"unknown depth_format {fmt!r}; expected 'velodyne',"
                         " 'disparity', 'png' or 'npy'")

    @staticmethod
    def _check_size(maps: List[np.ndarray], paths: List[str],
                    results: dict) -> None:
        expected = results.get('ori_shape')
        if expected is None:
            return
        for m, p in zip(maps, paths):
            if tuple(m.shape[:2]) != tuple(expected[:2]):
                raise ValueError(
                    f'{p}: map size {m.shape[1]}x{m.shape[0]} differs from '
                    f'the image size {expected[1]}x{expected[0]} (w x h) of '
                    f'{results.get("img_path")}')

    def transform(self, results: dict) -> dict:
        if self.with_seg:
            paths = results.get('seg_map_paths') or ([
                results['seg_map_path']
            ] if results.get('seg_map_path') else [])
            if paths:
                fmts = results.get('label_id_formats') or [
                    results.get('label_id_format', 'trainIds')
                ] * len(paths)
                if len(fmts) != len(paths):
                    raise ValueError(
                        f'label_id_formats {fmts} must give one format per '
                        f'label map {paths}')
                maps = [self._load_seg(p, f) for p, f in zip(paths, fmts)]
                self._check_size(maps, paths, results)
                results['gt_seg_map'] = stack_views(maps, paths, 'label map')
                _add_field(results, 'seg_fields', 'gt_seg_map')
        if self.with_depth:
            paths = results.get('depth_map_paths') or []
            if paths:
                maps = [self._load_depth(p, results) for p in paths]
                self._check_size(maps, paths, results)
                results['gt_depth_map'] = stack_views(maps, paths, 'depth map')
                _add_field(results, 'depth_fields', 'gt_depth_map')
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(with_seg={self.with_seg}, '
                f'with_depth={self.with_depth})')
