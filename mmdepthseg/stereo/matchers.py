# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Stereo matchers that give a disparity map for each view of a pair.

A matcher maps a rectified pair of BGR images to the left and right
disparity maps (float32 pixels, ``0`` = invalid). The interface is small on
purpose so that a learned matcher (e.g. a stereo network run through
PyTorch) can replace :class:`SGBMMatcher`: subclass
:class:`BaseStereoMatcher`, implement :meth:`~BaseStereoMatcher.match_left`
(or override ``__call__``) and register it in ``TASK_UTILS``.

Disparity convention: a scene point seen at column ``u`` in the left image
is seen at ``u - d_l(u)`` in the right image, and a point at ``u`` in the
right image at ``u + d_r(u)`` in the left one (both ``d >= 0``).
"""
from abc import ABCMeta, abstractmethod
from typing import Optional, Tuple

import cv2
import numpy as np

from mmdepthseg.registry import TASK_UTILS


def _check_pair(left: np.ndarray, right: np.ndarray) -> None:
    if left.shape != right.shape:
        raise ValueError('stereo images must have the same shape, got left '
                         f'{left.shape} and right {right.shape}')
    if left.ndim not in (2, 3):
        raise ValueError('stereo images must be (H, W) or (H, W, 3), got '
                         f'{left.shape}')


class BaseStereoMatcher(metaclass=ABCMeta):
    """Interface of a stereo matcher.

    ``matcher(left_bgr, right_bgr) -> (disp_left, disp_right)``. The default
    ``__call__`` gets the right disparity by running :meth:`match_left` on
    the horizontally flipped pair with the views swapped (the flipped right
    image is a valid "left" image of the flipped rig) and flipping back.
    """

    def __call__(self, left: np.ndarray,
                 right: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Disparity of both views.

        Args:
            left (np.ndarray): (H, W, 3) uint8 BGR left image (or (H, W)).
            right (np.ndarray): Right image of the same shape.

        Returns:
            tuple[np.ndarray, np.ndarray]: ``disp_left``, ``disp_right``,
            (H, W) float32 disparity in pixels, ``0`` where invalid.
        """
        _check_pair(left, right)
        disp_l = self.match_left(left, right)
        flip_r = np.ascontiguousarray(right[:, ::-1])
        flip_l = np.ascontiguousarray(left[:, ::-1])
        disp_r = np.ascontiguousarray(self.match_left(flip_r, flip_l)[:, ::-1])
        return disp_l, disp_r

    @abstractmethod
    def match_left(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """Disparity of the left view: (H, W) float32 pixels, 0 invalid."""


@TASK_UTILS.register_module()
class SGBMMatcher(BaseStereoMatcher):
    """Semi-global (block) matching with OpenCV's ``StereoSGBM``.

    OpenCV's own left-right check (``disp12MaxDiff``) is off by default:
    left-right consistency is measured by
    :class:`~mmdepthseg.stereo.confidence.LRConsistencyConfidence` instead,
    which turns it into a soft confidence rather than a hard mask.

    Args:
        num_disparities (int): Disparity search range ``[min_disparity,
            min_disparity + num_disparities)``; a positive multiple of 16.
            Defaults to 128.
        block_size (int): Odd matching block size. Defaults to 5.
        min_disparity (int): Smallest disparity. Defaults to 0.
        p1 (int, optional): Penalty of disparity changes of 1 between
            neighbours. Defaults to ``8 * channels * block_size**2``.
        p2 (int, optional): Penalty of larger changes. Defaults to
            ``32 * channels * block_size**2``.
        uniqueness_ratio (int): Margin (percent) by which the best cost must
            beat the second best. Defaults to 10.
        disp12_max_diff (int): OpenCV's left-right check; negative disables
            it. Defaults to -1.
        pre_filter_cap (int): Clip of the x-derivative prefilter.
            Defaults to 63.
        speckle_window_size (int): Largest speckle region invalidated;
            0 disables speckle filtering. Defaults to 100.
        speckle_range (int): Disparity variation within a speckle region
            (multiplied by 16 internally by OpenCV). Defaults to 2.
        mode (str): ``'sgbm'`` (5 directions), ``'hh'`` (8 directions),
            ``'3way'`` or ``'hh4'``. Defaults to ``'sgbm'``.
    """

    MODES = {
        'sgbm': cv2.STEREO_SGBM_MODE_SGBM,
        'hh': cv2.STEREO_SGBM_MODE_HH,
        '3way': cv2.STEREO_SGBM_MODE_SGBM_3WAY,
        'hh4': cv2.STEREO_SGBM_MODE_HH4,
    }

    def __init__(self,
                 num_disparities: int = 128,
                 block_size: int = 5,
                 min_disparity: int = 0,
                 p1: Optional[int] = None,
                 p2: Optional[int] = None,
                 uniqueness_ratio: int = 10,
                 disp12_max_diff: int = -1,
                 pre_filter_cap: int = 63,
                 speckle_window_size: int = 100,
                 speckle_range: int = 2,
                 mode: str = 'sgbm') -> None:
        if num_disparities <= 0 or num_disparities % 16 != 0:
            raise ValueError('num_disparities must be a positive multiple of '
                             f'16, got {num_disparities}')
        if block_size < 1 or block_size % 2 == 0:
            raise ValueError(f'block_size must be odd and >= 1, got '
                             f'{block_size}')
        if mode not in self.MODES:
            raise ValueError(f'mode must be one of {sorted(self.MODES)}, got '
                             f'{mode!r}')
        self.num_disparities = num_disparities
        self.block_size = block_size
        self.min_disparity = min_disparity
        self.p1 = p1
        self.p2 = p2
        self.uniqueness_ratio = uniqueness_ratio
        self.disp12_max_diff = disp12_max_diff
        self.pre_filter_cap = pre_filter_cap
        self.speckle_window_size = speckle_window_size
        self.speckle_range = speckle_range
        self.mode = mode

    def _create(self, channels: int) -> 'cv2.StereoSGBM':
        area = channels * self.block_size**2
        p1 = 8 * area if self.p1 is None else self.p1
        p2 = 32 * area if self.p2 is None else self.p2
        return cv2.StereoSGBM_create(
            minDisparity=self.min_disparity,
            numDisparities=self.num_disparities,
            blockSize=self.block_size,
            P1=p1,
            P2=p2,
            disp12MaxDiff=self.disp12_max_diff,
            preFilterCap=self.pre_filter_cap,
            uniquenessRatio=self.uniqueness_ratio,
            speckleWindowSize=self.speckle_window_size,
            speckleRange=self.speckle_range,
            mode=self.MODES[self.mode])

    def match_left(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """Left disparity: (H, W) float32 pixels, 0 where SGBM found none.

        OpenCV returns fixed-point disparity (x16) and ``(min_disparity - 1)
        * 16`` for invalid pixels; disparities ``<= 0`` are reported invalid
        (they would map to infinite depth).
        """
        _check_pair(left, right)
        channels = 1 if left.ndim == 2 else left.shape[2]
        raw = self._create(channels).compute(left, right)
        disp = raw.astype(np.float32) / 16.0
        disp[(raw < self.min_disparity * 16) | (disp <= 0)] = 0.0
        return disp
