# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The one adapter from a config's test pipeline to an inference pipeline.

A test pipeline loads labels and may crop; inference has an image only.
:func:`inference_steps` is the common part (the config's test pipeline
with its label transforms dropped, random transforms refused);
:func:`build_inference_pipeline` composes it for image files (the
pseudo-label generator, any MMSegmentation-style config), and
:func:`build_inferencer_pipeline` adds what
:class:`~mmdepthseg.apis.DepthSegInferencer` needs on top: arrays as inputs,
camera intrinsics, predictions at the input image's size and fixed crop
windows pasted back (:func:`paste_crop_window`).
"""
import copy
import inspect
import os.path as osp
from typing import List, Optional, Union

import numpy as np
from mmengine.config import Config
from mmengine.dataset import Compose

from mmdepthseg.registry import TRANSFORMS
from .pointcloud import as_intrinsics_matrix

#: Transforms of a test pipeline that need labels: dropped for inference
#: (as is every type ending in ``Annotations``).
LABEL_TRANSFORMS = ('LoadDepthSegAnnotations', 'LoadPseudoDepth',
                    'MapSegLabels', 'DepthTargetTransform', 'LoadAnnotations',
                    'LoadDepthAnnotation')
#: Random transforms: a test pipeline holding one cannot be used here.
RANDOM_TRANSFORMS = ('MultiViewRandomResize', 'MultiViewRandomCrop',
                     'MultiViewRandomFlip', 'MultiViewColorJitter')


def _cfg_name(cfg) -> str:
    """The config's file name for messages (``'<dict>'`` when built in
    code)."""
    return getattr(cfg, 'filename', None) or '<dict>'


def config_test_pipeline(cfg: Config) -> List[dict]:
    """The config's test pipeline (``test_pipeline`` or the test dataset's),
    as a deep copy."""
    pipeline = cfg.get('test_pipeline', None)
    if pipeline is None:
        try:
            pipeline = cfg.test_dataloader.dataset.pipeline
        except AttributeError:
            raise KeyError(f'config {_cfg_name(cfg)}: neither test_pipeline '
                           'nor test_dataloader.dataset.pipeline') from None
    return copy.deepcopy(list(pipeline))


def is_label_transform(step: dict) -> bool:
    """Whether a pipeline step needs labels (see :data:`LABEL_TRANSFORMS`).
    """
    kind = str(step.get('type', ''))
    return kind in LABEL_TRANSFORMS or kind.endswith('Annotations')


def inference_steps(cfg: Config) -> List[dict]:
    """The config's test pipeline without the steps that need labels.

    Taken from ``cfg.test_pipeline`` or, if absent,
    ``cfg.test_dataloader.dataset.pipeline``; annotation loaders and label
    transforms (:data:`LABEL_TRANSFORMS`, every type ending in
    ``Annotations``, as mmseg's ``inference_model`` drops them) are
    removed, so that the steps run on ``dict(img_path=...)`` alone.

    Args:
        cfg (Config): The model's config.

    Returns:
        list[dict]: The step configs (copies).

    Raises:
        ValueError: The test pipeline holds a random transform.
    """
    steps = []
    for step in config_test_pipeline(cfg):
        kind = str(step.get('type'))
        if kind in RANDOM_TRANSFORMS:
            raise ValueError(f'config {_cfg_name(cfg)}: the test pipeline '
                             f'holds the random transform {kind}')
        if not is_label_transform(step):
            steps.append(step)
    return steps


def build_inference_pipeline(cfg: Config) -> Compose:
    """:func:`inference_steps` composed: the pipeline of image files.

    Args:
        cfg (Config): The model's config.

    Returns:
        Compose: The pipeline, called with ``dict(img_path=...)``.
    """
    return Compose(inference_steps(cfg))


def build_inferencer_pipeline(cfg: Config) -> Compose:
    """:func:`inference_steps` adapted for the inferencer.

    ``LoadMultiViewImages`` becomes :class:`MultiViewInferencerLoader`
    (paths, arrays, intrinsics); ``MultiViewResize`` keeps ``ori_shape``
    (predictions come back at the input image's size); a
    ``MultiViewFixedCrop`` before any resize becomes a
    :class:`FixedCropWindow` whose window reaches the data samples'
    metainfo as ``crop_window``.

    Args:
        cfg (Config): The model's config.

    Returns:
        Compose: The pipeline; its first step is the loader.
    """
    steps: list = []
    seen_resize = False
    for step in inference_steps(cfg):
        kind = str(step.get('type'))
        if kind == 'LoadMultiViewImages':
            steps.append(MultiViewInferencerLoader(step))
            continue
        if kind == 'MultiViewResize':
            step['update_ori_shape'] = False
            seen_resize = True
        elif kind == 'MultiViewFixedCrop':
            if seen_resize:
                raise NotImplementedError(
                    f'config {_cfg_name(cfg)}: a MultiViewFixedCrop after '
                    'a resize cannot be mapped back to the input image')
            steps.append(FixedCropWindow(TRANSFORMS.build(step)))
            continue
        elif kind == 'PackMultiViewInputs':
            packer = TRANSFORMS.get(kind)
            meta_keys = step.get(
                'meta_keys',
                inspect.signature(packer).parameters['meta_keys'].default)
            step['meta_keys'] = tuple(meta_keys) + ('crop_window', )
        steps.append(step)
    if not steps or not isinstance(steps[0], MultiViewInferencerLoader):
        raise ValueError(f'config {_cfg_name(cfg)}: the test pipeline must '
                         'start with LoadMultiViewImages')
    return Compose(steps)


class MultiViewInferencerLoader:
    """First step of the inference pipeline: a path or an array.

    Accepts an image path (read by the config's ``LoadMultiViewImages``,
    which converts grey and RGBA files and refuses 16-bit ones and CMYK
    JPEGs, naming the file), an image array (uint8 ``(H, W, 3)`` **BGR**,
    OpenCV's order, as mmseg's ``LoadImageFromNDArray``; ``(H, W)`` or
    ``(H, W, 1)`` grey is repeated, the alpha channel of ``(H, W, 4)`` BGRA
    dropped; other dtypes are refused), or a dict with
    ``img_path`` or ``img`` and optionally ``intrinsics`` (3x3 at the image's
    size, scaled by the pipeline's resize like a dataset's).

    Args:
        load_cfg (dict): The config's ``LoadMultiViewImages`` step.
    """

    def __init__(self, load_cfg: dict) -> None:
        self.from_file = TRANSFORMS.build(load_cfg)

    @staticmethod
    def check_array(img: np.ndarray) -> np.ndarray:
        """A uint8 ``(H, W, 3)`` copy of an input array."""
        if img.dtype != np.uint8:
            raise ValueError(
                f'array inputs must be 8-bit (uint8), got {img.dtype} '
                f'{img.shape}; scale 16-bit or float images to 0..255 first')
        if img.ndim == 3 and img.shape[2] == 1:
            img = img[..., 0]
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        if img.ndim == 3 and img.shape[2] == 4:
            img = img[..., :3]  # BGRA: drop the alpha channel
        if img.ndim != 3 or img.shape[2] != 3:
            raise ValueError('array inputs must be uint8 (H, W, 3) BGR (or '
                             '(H, W) grey, (H, W, 4) BGRA), got '
                             f'{img.dtype} {img.shape}')
        return np.ascontiguousarray(img)

    def __call__(self, item: Union[str, np.ndarray, dict]) -> dict:
        results = dict(item) if isinstance(item, dict) else (dict(
            img_path=item) if isinstance(item, str) else dict(img=item))
        if results.get('intrinsics') is not None:
            results['intrinsics'] = as_intrinsics_matrix(results['intrinsics'])
        else:
            results.pop('intrinsics', None)
        if results.get('img') is None:
            path = results.get('img_path')
            if not isinstance(path, str):
                raise TypeError('inputs are image paths or arrays, got '
                                f'{type(path).__name__}')
            if not osp.isfile(path):
                raise FileNotFoundError(f'input image not found: {path}')
            return self.from_file(results)
        img = self.check_array(np.asarray(results['img']))
        results.update(
            img=img,
            img_shape=img.shape[:2],
            ori_shape=img.shape[:2],
            view_names=('l', ))
        return results


class FixedCropWindow:
    """A ``MultiViewFixedCrop`` that remembers its window.

    The network sees the crop only, so its predictions cover the window:
    ``ori_shape`` becomes the window's size (the predictions come back at
    it) and ``crop_window = (y0, x0, H, W)`` (window corner, full image
    size) goes into the metainfo, for :func:`paste_crop_window`. The window
    is the transform's: ``offset`` clipped so that ``crop_size`` fits.

    Args:
        crop (MultiViewFixedCrop): The config's crop step, built.
    """

    def __init__(self, crop) -> None:
        self.crop = crop

    def __call__(self, results: dict) -> dict:
        h, w = results['img'].shape[:2]
        ch, cw = min(self.crop.crop_size[0], h), min(self.crop.crop_size[1], w)
        y0, x0 = min(self.crop.offset[0], h - ch), min(self.crop.offset[1],
                                                       w - cw)
        results = self.crop(results)
        results['crop_window'] = (y0, x0, h, w)
        results['ori_shape'] = (ch, cw)
        return results


def paste_crop_window(arr: np.ndarray, window: Optional[tuple],
                      fill: float) -> np.ndarray:
    """Place a crop window's map ``(..., h, w)`` into the full frame.

    Args:
        arr (np.ndarray): The window's map.
        window (tuple, optional): ``(y0, x0, H, W)`` of
            :class:`FixedCropWindow`; None returns ``arr``.
        fill (float): Value outside the window.

    Returns:
        np.ndarray: ``(..., H, W)``.
    """
    if window is None:
        return arr
    y0, x0, height, width = window
    full = np.full(arr.shape[:-2] + (height, width), fill, arr.dtype)
    h, w = arr.shape[-2:]
    full[..., y0:y0 + h, x0:x0 + w] = arr
    return full
