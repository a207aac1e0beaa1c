# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Loading of per-view stereo pseudo depth and confidence labels."""
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mmdepthseg.registry import TRANSFORMS
from ..io import check_file_exists, read_image, stack_views
from ..png_codecs import decode_conf_png, decode_depth_png
from ..validation import (DatasetError, check_depth_values, check_map_format,
                          check_map_size, check_policy, handle_defect,
                          load_each)


@TRANSFORMS.register_module()
class LoadPseudoDepth(BaseTransform):
    """Load the stereo pseudo depth and confidence maps of every view.

    Reads the uint16 PNGs written by
    :func:`mmdepthseg.stereo.pseudo_depth.generate_dataset_pseudo_depth`
    (depth ``round(m * 256)``, confidence ``round(c * 65535)``) listed in
    ``pseudo_depth_paths`` / ``pseudo_conf_paths`` (one per view, the
    first ``V'`` views of the sample, in ``img_paths`` order). Both maps
    are registered in ``depth_fields``, so the geometric transforms resize
    them nearest-neighbour, crop, flip and swap them with their stereo
    views like ``gt_depth_map``, and ``PackMultiViewInputs`` packs them as
    float ``PixelData`` of the same names.

    A sample without ``pseudo_depth_paths`` gets no maps. Every map must
    have the size of the loaded images (``ori_shape``): load them before
    any resize.

    Required keys: ``pseudo_depth_paths``, ``pseudo_conf_paths`` (same
    length), ``ori_shape`` (optional, for the size check).

    Every map is checked once, on the whole array (errors are
    :class:`~mmdepthseg.datasets.validation.DatasetError` naming the
    file): single-channel uint16 PNGs of the image size; under
    ``invalid_depth``, a depth map without any valid pixel and a confidence
    map that is 0 everywhere (``'error'`` raises, ``'ignore'`` keeps the
    map, which then supervises nothing, and logs a counted warning).

    Added keys: ``gt_pseudo_depth`` (float32 ``(V', H, W)`` metres, 0 =
    invalid), ``gt_confidence`` (float32 ``(V', H, W)`` in [0, 1]),
    ``depth_fields``.

    Args:
        imdecode_backend (str): mmcv decoding backend. Defaults to 'cv2'.
        backend_args (dict, optional): mmengine file backend arguments.
        invalid_depth (str): ``'error'`` (default) or ``'ignore'``, see
            above.
    """

    def __init__(self,
                 imdecode_backend: str = 'cv2',
                 backend_args: Optional[dict] = None,
                 invalid_depth: str = 'error') -> None:
        self.imdecode_backend = imdecode_backend
        self.backend_args = backend_args
        self.invalid_depth = check_policy('invalid_depth', invalid_depth)

    def _read(self, path: str, what: str) -> np.ndarray:
        check_file_exists(path, what)
        png = read_image(path, 'unchanged', self.imdecode_backend,
                         self.backend_args)
        hint = ('depth = value / 256 m'
                if what == 'pseudo depth' else 'confidence = value / 65535')
        return check_map_format(png, path, np.uint16, f'{what} PNG', hint)

    def _load_depth(self, path: str, results: dict) -> np.ndarray:
        png = check_map_size(
            self._read(path, 'pseudo depth'), path, results,
            'pseudo depth map')
        return check_depth_values(
            decode_depth_png(png), path, 'pseudo depth map',
            self.invalid_depth)

    def _load_conf(self, path: str, results: dict) -> np.ndarray:
        png = check_map_size(
            self._read(path, 'pseudo confidence'), path, results,
            'pseudo confidence map')
        if not png.any():
            handle_defect(
                DatasetError(
                    path, 'confidence map is 0 everywhere (no pixel '
                    'supervises)', "some confidence > 0; invalid_depth="
                    "'ignore' keeps it", 'depth'), self.invalid_depth)
        return decode_conf_png(png)

    def transform(self, results: dict) -> dict:
        depth_paths = list(results.get('pseudo_depth_paths') or [])
        conf_paths = list(results.get('pseudo_conf_paths') or [])
        if not depth_paths:
            return results
        if len(conf_paths) != len(depth_paths):
            raise ValueError(
                f'{len(depth_paths)} pseudo_depth_paths but '
                f'{len(conf_paths)} pseudo_conf_paths for '
                f'{results.get("img_path")}; expected one of each per view')
        num_views = len(results.get('img_paths') or [None])
        if len(depth_paths) > num_views:
            raise ValueError(f'{len(depth_paths)} pseudo depth maps for '
                             f'{num_views} views of {results.get("img_path")}')
        depth = load_each(lambda p: self._load_depth(p, results), depth_paths)
        conf = load_each(lambda p: self._load_conf(p, results), conf_paths)
        if any(m is None for m in depth + conf):  # recorded by a scan
            return results
        results['gt_pseudo_depth'] = stack_views(depth, depth_paths,
                                                 'pseudo depth map')
        results['gt_confidence'] = stack_views(conf, conf_paths,
                                               'pseudo confidence map')
        fields = results.setdefault('depth_fields', [])
        for key in ('gt_pseudo_depth', 'gt_confidence'):
            if key not in fields:
                fields.append(key)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f"imdecode_backend='{self.imdecode_backend}', "
                f"invalid_depth='{self.invalid_depth}')")
