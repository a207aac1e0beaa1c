# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The regression target of SemiMTL's depth task (inverse depth or height).
"""
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mmdepthseg.registry import TRANSFORMS

#: Modes of :class:`DepthTargetTransform`.
TARGET_MODES = ('inverse', 'identity')


@TRANSFORMS.register_module()
class DepthTargetTransform(BaseTransform):
    """Turn ``gt_depth_map`` into the depth-task target of SemiMTL.

    The loaders give depth in metres with 0 = invalid (the data contract);
    SemiMTL regresses (Sec. 4.1, ``docs/en/data_contract.md``):

    - ``mode='inverse'``: inverse depth ``scale / depth`` (1/m for
      ``scale=1``) for the street-view sources (Cityscapes
      disparity-derived depth, Synscapes); the paper configs use
      ``scale = 2262.52 / 2 * 0.209313``, the disparity in pixels of
      Cityscapes' stereo rig at the 1024-pixel network width. Points at
      infinity such as the sky become 0, a valid target: with
      ``sky_label`` every pixel whose ``gt_seg_map`` holds that label gets
      target 0 (Synscapes: trainId 10).
    - ``mode='identity'``: ``scale * value``, e.g. ISPRS nDSM heights
      already normalised to [0, 1].

    Invalid pixels become **NaN** so that 0 can be a valid target: input
    values that are not finite or negative, and input zeros when
    ``zero_is_invalid`` (the default for ``'inverse'``, where a depth of 0
    marks missing disparity / lidar; not for ``'identity'``, where a height
    of 0 is the ground). Sky pixels (``sky_label``) are valid whatever
    their stored depth.

    Datasets whose files cannot store a valid 0 next to the loaders'
    0 = invalid put ``depth_offset`` into the data info (ISPRS: the nDSM
    PNG holds ``height + 1``): then a loaded 0 is invalid and the offset is
    subtracted before ``mode`` applies.

    The transform is per pixel, so it commutes with the geometric
    transforms (their nearest-neighbour map resizing copies NaN like any
    value); place it after them, before ``PackMultiViewInputs``. Note that
    padding with 0 (e.g. by a data preprocessor) would create valid
    0-targets: use fixed-size crops or pad depth with NaN.

    Required keys: ``gt_depth_map`` (float ``(V', H, W)``, metres or height;
    samples without it pass through unchanged); optional ``depth_offset``;
    ``gt_seg_map`` (uint8 ``(V', H, W)``, trainIds) if ``sky_label`` is set:
    its views are matched with the depth views from the first one on.

    Modified keys: ``gt_depth_map`` (float32 ``(V', H, W)``, NaN invalid).

    Args:
        mode (str): ``'inverse'`` (default) or ``'identity'``.
        sky_label (int, optional): Label of ``gt_seg_map`` whose pixels get
            target 0 (valid). Defaults to None (no sky handling).
        scale (float): Multiplies the target (``scale / depth`` or
            ``scale * value``). Defaults to 1.
        zero_is_invalid (bool, optional): Whether an input 0 is invalid.
            Defaults to None: True for ``'inverse'``, False for
            ``'identity'``.
    """

    def __init__(self,
                 mode: str = 'inverse',
                 sky_label: Optional[int] = None,
                 scale: float = 1.0,
                 zero_is_invalid: Optional[bool] = None) -> None:
        if mode not in TARGET_MODES:
            raise ValueError(
                f'mode must be one of {TARGET_MODES}, got {mode!r}')
        if not (np.isfinite(scale) and scale > 0):
            raise ValueError(f'scale must be a finite number > 0, got {scale}')
        if zero_is_invalid is None:
            zero_is_invalid = mode == 'inverse'
        if mode == 'inverse' and not zero_is_invalid:
            raise ValueError("mode='inverse' needs zero_is_invalid=True "
                             '(the inverse of depth 0 is undefined)')
        self.mode = mode
        self.sky_label = sky_label
        self.scale = float(scale)
        self.zero_is_invalid = zero_is_invalid

    def _sky_mask(self, results: dict, shape: tuple) -> np.ndarray:
        """(V', H, W) bool mask of the ``sky_label`` pixels."""
        if 'gt_seg_map' not in results:
            raise KeyError(
                f'DepthTargetTransform(sky_label={self.sky_label}) needs '
                f'gt_seg_map to find the sky of {results.get("img_path")}: '
                'load the class map (LoadDepthSegAnnotations with a '
                'segmentation path) before this transform')
        seg = np.asarray(results['gt_seg_map'])
        if seg.ndim == 2:
            seg = seg[None]
        if seg.shape[1:] != shape[1:]:
            raise ValueError(
                f'gt_seg_map {seg.shape} and gt_depth_map {shape} of '
                f'{results.get("img_path")} must have the same (H, W)')
        mask = np.zeros(shape, dtype=bool)
        views = min(shape[0], seg.shape[0])
        mask[:views] = seg[:views] == self.sky_label
        return mask

    def transform(self, results: dict) -> dict:
        """Replace ``results['gt_depth_map']`` by the target.

        Returns:
            dict: ``results`` with the float32 target (NaN invalid).
        """
        if 'gt_depth_map' not in results:
            return results
        value = np.asarray(results['gt_depth_map'], dtype=np.float32)
        if value.ndim != 3:
            raise ValueError(
                f"gt_depth_map of {results.get('img_path')} must be "
                f"(V', H, W), got shape {value.shape}")
        valid = np.isfinite(value) & (value >= 0)
        offset = float(results.get('depth_offset', 0.0))
        if self.zero_is_invalid or offset:
            valid &= value > 0
        if offset:
            value = value - offset
        target = np.full(value.shape, np.nan, dtype=np.float32)
        if self.mode == 'inverse':
            target[valid] = self.scale / value[valid]
        else:
            target[valid] = self.scale * value[valid]
        if self.sky_label is not None:
            target[self._sky_mask(results, value.shape)] = 0.0
        results['gt_depth_map'] = target
        return results

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(mode='{self.mode}', "
                f'sky_label={self.sky_label}, scale={self.scale}, '
                f'zero_is_invalid={self.zero_is_invalid})')
