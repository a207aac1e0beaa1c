# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Loading of multi-view images and per-view depth / segmentation maps."""
from typing import List, Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mmdepthseg.registry import TRANSFORMS
from mmdepthseg.structures.camera import normalised_to_absolute_intrinsics
from ..cityscapes_io import cityscapes_disparity_to_depth
from ..io import read_image, stack_views
from ..kitti_io import read_velodyne_points, velodyne_to_depth_map
from ..label_tables import label_table
from ..validation import (DatasetError, check_depth_values, check_label_ids,
                          check_map_format, check_map_size, check_policy,
                          load_each)


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

    Image files are converted as documented in
    :func:`~mmdepthseg.datasets.validation.to_bgr_uint8`: 8-bit grey images
    are repeated into 3 channels (with a logged warning naming the file),
    an alpha channel is dropped; 16-bit or float images and CMYK JPEGs are
    refused with a :class:`~mmdepthseg.datasets.validation.DatasetError`
    naming the file.

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
        views = load_each(
            lambda p: read_image(p, 'color', self.imdecode_backend, self.
                                 backend_args), paths)
        if any(v is None for v in views):  # recorded by a dataset scan
            return results
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

    Every map is checked once, on the whole array (errors are
    :class:`~mmdepthseg.datasets.validation.DatasetError` naming the
    file):

    - format: labels single-channel uint8, depth / disparity PNGs
      single-channel uint16, ``.npy`` depth 2-D float; the size of the
      images;
    - labels (``invalid_label``): stored ids the ``label_id_format`` does
      not define (e.g. a Cityscapes labelId of 200), and training labels
      outside ``[0, num_classes)`` other than the ignore index 255 (e.g. 40
      in a 19-class trainId map, which would crash the loss);
    - depth (``invalid_depth``): NaN, Inf or negative values, and maps
      without any valid pixel.

    With ``'error'`` (default) such a map raises; with ``'ignore'`` the bad
    labels become 255, the bad depths 0 (invalid), an empty map is kept,
    and a warning naming the file is logged and counted (see
    :mod:`mmdepthseg.datasets.validation`).

    Added keys: ``gt_seg_map`` (uint8 ``(V', H, W)``), ``gt_depth_map``
    (float32 ``(V', H, W)``, metres, 0 invalid), ``seg_fields``,
    ``depth_fields``.

    Args:
        with_seg (bool): Load segmentation maps. Defaults to True.
        with_depth (bool): Load depth maps. Defaults to True.
        imdecode_backend (str): mmcv decoding backend. Defaults to 'cv2'.
        backend_args (dict, optional): mmengine file backend arguments.
        num_classes (int, optional): Number of training classes the loaded
            labels must lie in. None (default) takes the sample's
            ``num_classes`` (set by the dataset classes from their
            metainfo); give it when a later ``MapSegLabels`` changes the
            label space (e.g. 19 for trainIds mapped to 7 categories).
        invalid_label (str): ``'error'`` (default) or ``'ignore'``, see
            above.
        invalid_depth (str): ``'error'`` (default) or ``'ignore'``, see
            above.
    """

    def __init__(self,
                 with_seg: bool = True,
                 with_depth: bool = True,
                 imdecode_backend: str = 'cv2',
                 backend_args: Optional[dict] = None,
                 num_classes: Optional[int] = None,
                 invalid_label: str = 'error',
                 invalid_depth: str = 'error') -> None:
        self.with_seg = with_seg
        self.with_depth = with_depth
        self.imdecode_backend = imdecode_backend
        self.backend_args = backend_args
        if num_classes is not None and num_classes < 1:
            raise ValueError(f'num_classes must be >= 1, got {num_classes}')
        self.num_classes = num_classes
        self.invalid_label = check_policy('invalid_label', invalid_label)
        self.invalid_depth = check_policy('invalid_depth', invalid_depth)

    def _read(self, path: str) -> np.ndarray:
        return read_image(path, 'unchanged', self.imdecode_backend,
                          self.backend_args)

    def _load_seg(self, path: str, fmt: str, num_classes: Optional[int],
                  results: dict) -> np.ndarray:
        seg = check_map_format(
            self._read(path), path, np.uint8, 'label map',
            f'label_id_format {fmt!r}')
        check_map_size(seg, path, results, 'label map')
        lut, domain = label_table(fmt)
        return check_label_ids(seg, path, lut, domain, num_classes, fmt,
                               self.invalid_label)

    def _load_depth(self, path: str, results: dict) -> np.ndarray:
        fmt = results.get('depth_format', 'png')
        what = 'disparity map' if fmt == 'disparity' else 'depth map'
        if fmt == 'velodyne':
            depth = velodyne_to_depth_map(
                read_velodyne_points(path), results['velo2img'],
                results['depth_map_shape'],
                results.get('velodyne_pixel_offset', 1),
                results.get('velodyne_depth_value', 'velodyne_x'))
            what = 'velodyne scan (projected into the image)'
        elif fmt == 'npy':
            try:
                raw = np.load(path)
            except FileNotFoundError:
                raise
            except (OSError, ValueError) as err:
                raise DatasetError(path, f'cannot be read ({err})',
                                   'a .npy array of depths in metres',
                                   'depth') from err
            depth = check_map_format(raw, path, 'float', 'depth array',
                                     'metres, 0 = invalid')
            depth = depth.astype(np.float32)
        elif fmt in ('disparity', 'png'):
            raw = check_map_format(
                self._read(path), path, np.uint16, f'{what} PNG',
                'Cityscapes disparity, d = (p - 1) / 256' if fmt == 'disparity'
                else f'depth = value / {results["depth_scale"]}')
            if fmt == 'disparity':
                depth = cityscapes_disparity_to_depth(raw,
                                                      results['disp_to_depth'])
            else:
                depth = raw.astype(np.float32) / float(results['depth_scale'])
        else:
            raise ValueError(f"unknown depth_format {fmt!r}; expected "
                             "'velodyne', 'disparity', 'png' or 'npy'")
        hint = ' (the S_rect size of the calibration)' \
            if fmt == 'velodyne' else ''
        check_map_size(depth, path, results, 'depth map', hint)
        return check_depth_values(depth, path, what, self.invalid_depth)

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
                num_classes = self.num_classes or results.get('num_classes')
                fmt_of = dict(zip(paths, fmts))
                maps = load_each(
                    lambda p: self._load_seg(p, fmt_of[p], num_classes, results
                                             ), paths)
                if all(m is not None for m in maps):
                    results['gt_seg_map'] = stack_views(
                        maps, paths, 'label map')
                    _add_field(results, 'seg_fields', 'gt_seg_map')
        if self.with_depth:
            paths = results.get('depth_map_paths') or []
            if paths:
                maps = load_each(lambda p: self._load_depth(p, results), paths)
                if all(m is not None for m in maps):
                    results['gt_depth_map'] = stack_views(
                        maps, paths, 'depth map')
                    _add_field(results, 'depth_fields', 'gt_depth_map')
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(with_seg={self.with_seg}, '
                f'with_depth={self.with_depth}, '
                f'num_classes={self.num_classes}, '
                f"invalid_label='{self.invalid_label}', "
                f"invalid_depth='{self.invalid_depth}')")
