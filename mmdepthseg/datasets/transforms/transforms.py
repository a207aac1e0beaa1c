# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Geometry-consistent and colour augmentations of multi-view samples.

Every transform acts on all views of a sample at once (views are stacked
along the channels of ``img``/``unaug_img``, per-view maps along the first
axis of every key in ``seg_fields`` / ``depth_fields``) and keeps the
geometry metadata (``intrinsics``, ``stereo_T``, ``img_shape``,
``scale_factor``, ``flip``) consistent with the pixels.

Pixel convention (``docs/en/data_contract.md``): pixel ``(u, v)`` is the
centre of column u / row v. OpenCV's resize aligns pixel *areas*, so a
pixel centre ``u`` maps to ``(u + 0.5) * s - 0.5``; intrinsics follow the
same rule: ``fx' = s * fx`` and ``cx' = (cx + 0.5) * s - 0.5``. A crop at
``(x0, y0)`` gives ``cx' = cx - x0``; a horizontal flip of a width-``W``
image gives ``cx' = W - 1 - cx``.
"""
from typing import List, Optional, Sequence, Tuple, Union

import cv2
import mmcv
import numpy as np
from mmcv.transforms import BaseTransform

from mmdepthseg.registry import TRANSFORMS
# The intrinsics operations live in mmdepthseg.structures.camera; imported
# here (and re-exported) so that the old import path keeps working.
from mmdepthseg.structures.camera import (crop_intrinsics, hflip_intrinsics,
                                          scale_intrinsics)
from mmdepthseg.structures.metainfo import read_view_names

#: Keys holding view-stacked images (H, W, 3V).
IMAGE_KEYS = ('img', 'unaug_img')


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def _map_fields(results: dict) -> List[Tuple[str, bool]]:
    """(key, is_seg) of every per-view map present in ``results``."""
    out = [(k, True) for k in results.get('seg_fields', []) if k in results]
    out += [(k, False) for k in results.get('depth_fields', [])
            if k in results]
    return out


def _check_map_size(results: dict, key: str, shape: Tuple[int, int]) -> None:
    m = results[key]
    if m.ndim != 3 or tuple(m.shape[1:]) != tuple(shape):
        raise ValueError(
            f'results[{key!r}] must be a (V\', H, W) map of the image size '
            f'{tuple(shape)}, got shape {m.shape} (sample '
            f'{results.get("img_path")})')


def _resize_maps(maps: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of (V', H, W) maps to ``size`` = (w, h).

    ``INTER_NEAREST_EXACT`` picks the source pixel whose centre is nearest
    to the destination pixel centre (the same alignment as bilinear image
    resizing), and never mixes labels or valid/invalid depth.
    """
    hwc = np.ascontiguousarray(maps.transpose(1, 2, 0))
    out = cv2.resize(hwc, size, interpolation=cv2.INTER_NEAREST_EXACT)
    if out.ndim == 2:
        out = out[..., None]
    return np.ascontiguousarray(out.transpose(2, 0, 1))


# ---------------------------------------------------------------------------
# geometric transforms
# ---------------------------------------------------------------------------
@TRANSFORMS.register_module()
class MultiViewResize(BaseTransform):
    """Resize all views and maps; scale the intrinsics.

    Images (``img``, ``unaug_img``) use ``interpolation``; maps in
    ``seg_fields``/``depth_fields`` nearest neighbour (depth values are
    metric and do not change). ``scale_factor`` accumulates over several
    resizes: it is the ratio of the current size to ``ori_shape``.

    Modified keys: ``img``, ``unaug_img``, every seg/depth field,
    ``intrinsics``, ``img_shape``, ``scale_factor`` ((w, h) ratios),
    ``keep_ratio``.

    Args:
        scale (tuple[int, int], optional): Target (w, h). With
            ``keep_ratio`` the image is rescaled to fit as mmcv's
            ``imrescale`` does (long edge <= max(scale), short edge <=
            min(scale)).
        scale_factor (float | tuple[float, float], optional): Ratio(s) to
            resize by; exactly one of ``scale`` and ``scale_factor``.
        keep_ratio (bool): See ``scale``. Defaults to False.
        interpolation (str): mmcv interpolation for images, e.g.
            'bilinear' (default) or 'area'.
        update_ori_shape (bool): Make the resized image the frame in which
            predictions are evaluated: ``ori_shape`` becomes the new size
            (and ``scale_factor`` 1), so the models' outputs are compared
            with the maps resized here. For benchmarks evaluated at the
            network's resolution (e.g. Pseudo-MTL's Cityscapes crop at
            256x96); load the annotations before this resize. Defaults to
            False (predictions go back to the loaded image size).
    """

    def __init__(self,
                 scale: Optional[Tuple[int, int]] = None,
                 scale_factor: Optional[Union[float, Tuple[float,
                                                           float]]] = None,
                 keep_ratio: bool = False,
                 interpolation: str = 'bilinear',
                 update_ori_shape: bool = False) -> None:
        if (scale is None) == (scale_factor is None):
            raise ValueError('give exactly one of scale and scale_factor')
        self.scale = tuple(scale) if scale is not None else None
        self.scale_factor = scale_factor
        self.keep_ratio = keep_ratio
        self.interpolation = interpolation
        self.update_ori_shape = update_ori_shape

    def _target_size(self, w: int, h: int) -> Tuple[int, int]:
        if self.scale is not None:
            if self.keep_ratio:
                return mmcv.rescale_size((w, h), self.scale)
            return int(self.scale[0]), int(self.scale[1])
        fx, fy = (self.scale_factor, self.scale_factor) if isinstance(
            self.scale_factor, (int, float)) else self.scale_factor
        return int(w * fx + 0.5), int(h * fy + 0.5)

    def transform(self, results: dict) -> dict:
        h, w = results['img'].shape[:2]
        new_w, new_h = self._target_size(w, h)
        sx, sy = new_w / w, new_h / h
        for key in IMAGE_KEYS:
            if key in results:
                results[key] = mmcv.imresize(
                    results[key], (new_w, new_h),
                    interpolation=self.interpolation,
                    backend='cv2')
        for key, _ in _map_fields(results):
            _check_map_size(results, key, (h, w))
            results[key] = _resize_maps(results[key], (new_w, new_h))
        if 'intrinsics' in results:
            results['intrinsics'] = scale_intrinsics(results['intrinsics'], sx,
                                                     sy)
        old_sx, old_sy = results.get('scale_factor', (1.0, 1.0))
        results['scale_factor'] = (old_sx * sx, old_sy * sy)
        results['img_shape'] = (new_h, new_w)
        results['keep_ratio'] = self.keep_ratio
        if self.update_ori_shape:
            results['ori_shape'] = (new_h, new_w)
            results['scale_factor'] = (1.0, 1.0)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale={self.scale}, '
                f'scale_factor={self.scale_factor}, '
                f'keep_ratio={self.keep_ratio}, '
                f"interpolation='{self.interpolation}', "
                f'update_ori_shape={self.update_ori_shape})')


@TRANSFORMS.register_module()
class MultiViewRandomResize(BaseTransform):
    """Resize by a random ratio (scale augmentation), all views alike.

    The ratio is drawn uniformly from ``ratio_range`` or picked from
    ``ratios``; it multiplies ``scale`` if given (then resized with
    ``keep_ratio``), otherwise the current image size.

    Args:
        scale (tuple[int, int], optional): Base (w, h). None: the current
            size.
        ratio_range (tuple[float, float], optional): (min, max) ratio.
        ratios (Sequence[float], optional): Discrete ratios, e.g.
            ``(0.5, 0.75, 1.0, 1.25, 1.5, 1.75)``. Exactly one of
            ``ratio_range`` and ``ratios``.
        keep_ratio (bool): Used with ``scale``. Defaults to True.
        interpolation (str): Image interpolation. Defaults to 'bilinear'.
    """

    def __init__(self,
                 scale: Optional[Tuple[int, int]] = None,
                 ratio_range: Optional[Tuple[float, float]] = None,
                 ratios: Optional[Sequence[float]] = None,
                 keep_ratio: bool = True,
                 interpolation: str = 'bilinear') -> None:
        if (ratio_range is None) == (ratios is None):
            raise ValueError('give exactly one of ratio_range and ratios')
        if ratio_range is not None and not (0 < ratio_range[0] <=
                                            ratio_range[1]):
            raise ValueError(f'invalid ratio_range {ratio_range}')
        self.scale = tuple(scale) if scale is not None else None
        self.ratio_range = ratio_range
        self.ratios = tuple(ratios) if ratios is not None else None
        self.keep_ratio = keep_ratio
        self.interpolation = interpolation

    def _random_ratio(self) -> float:
        if self.ratios is not None:
            return float(self.ratios[np.random.randint(len(self.ratios))])
        return float(np.random.uniform(*self.ratio_range))

    def transform(self, results: dict) -> dict:
        ratio = self._random_ratio()
        if self.scale is not None:
            resize = MultiViewResize(
                scale=(int(self.scale[0] * ratio + 0.5),
                       int(self.scale[1] * ratio + 0.5)),
                keep_ratio=self.keep_ratio,
                interpolation=self.interpolation)
        else:
            resize = MultiViewResize(
                scale_factor=ratio, interpolation=self.interpolation)
        return resize(results)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale={self.scale}, '
                f'ratio_range={self.ratio_range}, ratios={self.ratios}, '
                f'keep_ratio={self.keep_ratio})')


@TRANSFORMS.register_module()
class MultiViewRandomCrop(BaseTransform):
    """Crop the same random window from every view and map.

    As mmseg's ``RandomCrop``, the window is clipped to the image, and with
    ``cat_max_ratio < 1`` up to 10 windows are tried until no single class
    covers more than that fraction of the (first view's) labelled pixels.

    Modified keys: ``img``, ``unaug_img``, seg/depth fields,
    ``intrinsics`` (``cx -= x0``, ``cy -= y0``), ``img_shape``.

    Args:
        crop_size (tuple[int, int]): (h, w) of the crop.
        cat_max_ratio (float): See above. Defaults to 1 (off).
        ignore_index (int): Label ignored by ``cat_max_ratio``.
    """

    def __init__(self,
                 crop_size: Tuple[int, int],
                 cat_max_ratio: float = 1.0,
                 ignore_index: int = 255) -> None:
        if len(crop_size) != 2 or min(crop_size) <= 0:
            raise ValueError(f'crop_size must be (h, w) > 0, got {crop_size}')
        self.crop_size = tuple(crop_size)
        self.cat_max_ratio = cat_max_ratio
        self.ignore_index = ignore_index

    def _random_offset(self, h: int, w: int, ch: int,
                       cw: int) -> Tuple[int, int]:
        return (np.random.randint(0, h - ch + 1),
                np.random.randint(0, w - cw + 1))

    def transform(self, results: dict) -> dict:
        h, w = results['img'].shape[:2]
        ch, cw = min(self.crop_size[0], h), min(self.crop_size[1], w)
        y0, x0 = self._random_offset(h, w, ch, cw)
        seg = results.get('gt_seg_map')
        if self.cat_max_ratio < 1.0 and seg is not None:
            for _ in range(10):
                labels, counts = np.unique(
                    seg[0, y0:y0 + ch, x0:x0 + cw], return_counts=True)
                counts = counts[labels != self.ignore_index]
                if len(counts) > 1 and \
                        counts.max() / counts.sum() < self.cat_max_ratio:
                    break
                y0, x0 = self._random_offset(h, w, ch, cw)
        for key in IMAGE_KEYS:
            if key in results:
                results[key] = np.ascontiguousarray(results[key][y0:y0 + ch,
                                                                 x0:x0 + cw])
        for key, _ in _map_fields(results):
            _check_map_size(results, key, (h, w))
            results[key] = np.ascontiguousarray(results[key][:, y0:y0 + ch,
                                                             x0:x0 + cw])
        if 'intrinsics' in results:
            results['intrinsics'] = crop_intrinsics(results['intrinsics'], x0,
                                                    y0)
        results['img_shape'] = (ch, cw)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(crop_size={self.crop_size}, '
                f'cat_max_ratio={self.cat_max_ratio})')


@TRANSFORMS.register_module()
class MultiViewFixedCrop(MultiViewRandomCrop):
    """Crop the same fixed window from every view and map.

    E.g. Pseudo-MTL keeps the ``[2048, 768]`` top part of Cityscapes frames
    to drop the ego car's bonnet: ``crop_size=(768, 2048), offset=(0, 0)``.
    Train and test pipelines use the same window, so the intrinsics stay
    consistent (``cx -= x0``, ``cy -= y0``).

    Args:
        crop_size (tuple[int, int]): (h, w) of the window.
        offset (tuple[int, int]): (y0, x0) of its top-left pixel.
            Default: (0, 0).
        strict (bool): Raise if the window does not fit in the image
            (instead of clipping it). Default: True.
    """

    def __init__(self,
                 crop_size: Tuple[int, int],
                 offset: Tuple[int, int] = (0, 0),
                 strict: bool = True) -> None:
        super().__init__(crop_size)
        if len(offset) != 2 or min(offset) < 0:
            raise ValueError(f'offset must be (y0, x0) >= 0, got {offset}')
        self.offset = tuple(int(o) for o in offset)
        self.strict = strict

    def _random_offset(self, h: int, w: int, ch: int,
                       cw: int) -> Tuple[int, int]:
        y0, x0 = self.offset
        if self.strict and (y0 + self.crop_size[0] > h
                            or x0 + self.crop_size[1] > w):
            raise ValueError(
                f'{self.__class__.__name__}: window {self.crop_size} at '
                f'{self.offset} does not fit in the {h}x{w} image')
        return min(y0, h - ch), min(x0, w - cw)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(crop_size={self.crop_size}, '
                f'offset={self.offset})')


@TRANSFORMS.register_module()
class MultiViewRandomFlip(BaseTransform):
    """Horizontal flip of every view and map; stereo pairs swap views.

    Mirroring a stereo pair turns the left camera into the right one of the
    mirrored scene, so when ``view_names`` holds both ``'l'`` and ``'r'``
    the two views (and their maps) are swapped after mirroring: every view
    keeps its name, the first view keeps its side and ``stereo_T`` stays
    valid. A stereo partner ``'s'`` that travels with temporal neighbours
    cannot be swapped (the neighbours belong to the reference camera);
    there the translation of ``stereo_T`` changes sign instead (the
    monodepth2 way).

    Per-view maps of a stereo pair that cover only the first view(s)
    (``V' < V``) are always (flipped or not, so that batch shapes agree)
    extended to ``V`` maps, the missing views filled with ``ignore_index``
    (segmentation) or 0 (depth), so that after a swap every map still
    belongs to its view.

    Modified keys: ``img``, ``unaug_img``, seg/depth fields,
    ``intrinsics`` (``cx' = W - 1 - cx``), ``stereo_T`` (see above),
    ``flip``, ``flip_direction``.

    Args:
        prob (float): Flip probability. Defaults to 0.5.
        ignore_index (int): Fill value of added segmentation maps.
    """

    def __init__(self, prob: float = 0.5, ignore_index: int = 255) -> None:
        if not 0 <= prob <= 1:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        self.prob = prob
        self.ignore_index = ignore_index

    @staticmethod
    def _swap_views(arr: np.ndarray, i: int, j: int, axis: int,
                    step: int) -> np.ndarray:
        """Swap view blocks ``i`` and ``j`` (``step`` entries each)."""
        order = np.arange(arr.shape[axis])
        order[i * step:(i + 1) * step], order[j * step:(j + 1) * step] = \
            order[j * step:(j + 1) * step].copy(), \
            order[i * step:(i + 1) * step].copy()
        return np.take(arr, order, axis=axis)

    def transform(self, results: dict) -> dict:
        views = read_view_names(results, default=())
        pair = (views.index('l'), views.index('r')) \
            if 'l' in views and 'r' in views else None
        h, w = results['img'].shape[:2]
        for key, is_seg in _map_fields(results):
            _check_map_size(results, key, (h, w))
            num = results[key].shape[0]
            if pair is not None and num < len(views):
                fill = self.ignore_index if is_seg else 0
                pad = np.full((len(views) - num, h, w),
                              fill,
                              dtype=results[key].dtype)
                results[key] = np.concatenate([results[key], pad], axis=0)

        flip = bool(np.random.rand() < self.prob)
        results['flip'] = flip
        results['flip_direction'] = 'horizontal' if flip else None
        if not flip:
            return results
        for key in IMAGE_KEYS:
            if key in results:
                img = results[key][:, ::-1]
                if pair is not None:
                    img = self._swap_views(img, *pair, axis=2, step=3)
                results[key] = np.ascontiguousarray(img)
        for key, _ in _map_fields(results):
            maps = results[key][:, :, ::-1]
            if pair is not None:
                maps = self._swap_views(maps, *pair, axis=0, step=1)
            results[key] = np.ascontiguousarray(maps)
        if 'intrinsics' in results:
            results['intrinsics'] = hflip_intrinsics(results['intrinsics'], w)
        if pair is None and 'stereo_T' in results:
            stereo_t = np.array(results['stereo_T'], copy=True)
            stereo_t[0, 3] = -stereo_t[0, 3]
            results['stereo_T'] = stereo_t
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(prob={self.prob})'


# ---------------------------------------------------------------------------
# photometric transforms
# ---------------------------------------------------------------------------
@TRANSFORMS.register_module()
class KeepUnaugmentedImage(BaseTransform):
    """Copy ``img`` to ``unaug_img`` before colour augmentation.

    Geometric transforms later in the pipeline act on both copies alike;
    photometric ones only on ``img``. Self-supervised losses compare the
    un-augmented views.
    """

    def transform(self, results: dict) -> dict:
        results['unaug_img'] = results['img'].copy()
        return results


@TRANSFORMS.register_module()
class MultiViewColorJitter(BaseTransform):
    """Random brightness, contrast, saturation and hue, same for all views.

    With probability ``prob`` one set of factors and one random order of the
    four operations is drawn per sample (as torchvision's ``ColorJitter``
    does, which monodepth2 applies to all frames of a sample) and applied to
    every view of ``img``; ``unaug_img`` is left untouched. Factors:
    brightness / contrast / saturation ``~ U[1 - x, 1 + x]``, hue shift
    ``~ U[-hue, hue]`` of a full turn. Contrast blends each view with the
    mean of its own grey image; saturation blends every pixel with its grey
    value (BT.601 weights); hue rotates H in OpenCV's float HSV. Values are
    clipped to [0, 255] after every operation.

    Args:
        brightness (float): Defaults to 0.2.
        contrast (float): Defaults to 0.2.
        saturation (float): Defaults to 0.2.
        hue (float): At most 0.5. Defaults to 0.1.
        prob (float): Probability to jitter a sample. Defaults to 0.5.
    """

    #: BT.601 grey weights in BGR order.
    GREY_BGR = np.array([0.114, 0.587, 0.299], dtype=np.float32)

    def __init__(self,
                 brightness: float = 0.2,
                 contrast: float = 0.2,
                 saturation: float = 0.2,
                 hue: float = 0.1,
                 prob: float = 0.5) -> None:
        if not 0 <= hue <= 0.5:
            raise ValueError(f'hue must be in [0, 0.5], got {hue}')
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
        self.hue = hue
        self.prob = prob

    @staticmethod
    def _factor(x: float) -> float:
        return float(np.random.uniform(max(0., 1 - x), 1 + x))

    def _grey(self, img: np.ndarray) -> np.ndarray:
        return (img @ self.GREY_BGR)[..., None]

    def jitter(self, img: np.ndarray, order: Sequence[int],
               factors: Sequence[float]) -> np.ndarray:
        """Apply the ops in ``order`` (0 brightness, 1 contrast, 2 saturation,
        3 hue) with ``factors`` to a uint8 (H, W, 3V) image.

        Returns:
            np.ndarray: uint8 (H, W, 3V).
        """
        h, w, c = img.shape
        x = img.reshape(h, w, c // 3, 3).astype(np.float32)
        for op in order:
            f = factors[op]
            if op == 0:
                x = x * f
            elif op == 1:
                mean = self._grey(x).mean(axis=(0, 1), keepdims=True)
                x = f * x + (1 - f) * mean
            elif op == 2:
                x = f * x + (1 - f) * self._grey(x)
            else:
                hsv = cv2.cvtColor(x.reshape(h, -1, 3), cv2.COLOR_BGR2HSV)
                hsv[..., 0] = np.mod(hsv[..., 0] + f * 360.0, 360.0)
                x = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR).reshape(x.shape)
            x = np.clip(x, 0, 255)
        return np.round(x).astype(np.uint8).reshape(h, w, c)

    def transform(self, results: dict) -> dict:
        if np.random.rand() >= self.prob:
            return results
        order = np.random.permutation(4)
        factors = (self._factor(self.brightness), self._factor(self.contrast),
                   self._factor(self.saturation),
                   float(np.random.uniform(-self.hue, self.hue)))
        results['img'] = self.jitter(results['img'], order, factors)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(brightness={self.brightness}, '
                f'contrast={self.contrast}, saturation={self.saturation}, '
                f'hue={self.hue}, prob={self.prob})')
