# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Loading of per-view stereo pseudo depth and confidence labels."""
from typing import List, Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mmdepthseg.registry import TRANSFORMS
from ..utils import check_file_exists, read_image, stack_views


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

    Added keys: ``gt_pseudo_depth`` (float32 ``(V', H, W)`` metres, 0 =
    invalid), ``gt_confidence`` (float32 ``(V', H, W)`` in [0, 1]),
    ``depth_fields``.

    Args:
        imdecode_backend (str): mmcv decoding backend. Defaults to 'cv2'.
        backend_args (dict, optional): mmengine file backend arguments.
    """

    def __init__(self,
                 imdecode_backend: str = 'cv2',
                 backend_args: Optional[dict] = None) -> None:
        self.imdecode_backend = imdecode_backend
        self.backend_args = backend_args

    def _read(self, path: str, what: str) -> np.ndarray:
        check_file_exists(path, what)
        png = read_image(path, 'unchanged', self.imdecode_backend,
                         self.backend_args)
        if png.ndim != 2 or png.dtype != np.uint16:
            raise ValueError(f'{path}: expected a single-channel uint16 '
                             f'{what} PNG, got shape {png.shape} {png.dtype}')
        return png

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
        # imported here: mmdepthseg.stereo imports mmdepthseg.datasets
        from mmdepthseg.stereo.pseudo_depth import (decode_conf_png,
                                                    decode_depth_png)
        depth = [
            decode_depth_png(self._read(p, 'pseudo depth'))
            for p in depth_paths
        ]
        conf = [
            decode_conf_png(self._read(p, 'pseudo confidence'))
            for p in conf_paths
        ]
        self._check_size(depth, depth_paths, results)
        self._check_size(conf, conf_paths, results)
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
                f"imdecode_backend='{self.imdecode_backend}')")
