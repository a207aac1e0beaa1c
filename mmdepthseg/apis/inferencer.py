# Copyright (c) mmdepthseg contributors. All rights reserved.
"""``DepthSegInferencer``: depth + segmentation of your own images.

In the style of MMSegmentation's ``MMSegInferencer`` and built on MMEngine's
``BaseInferencer``, which gives the config / metafile / checkpoint loading,
the collate function and the batching. What differs:

- the pipeline is the config's test pipeline with the project's multi-view
  transforms: ``LoadMultiViewImages`` is replaced by
  :class:`MultiViewInferencerLoader` (an image path or a BGR array, plus
  optional camera intrinsics that the following ``MultiViewResize`` scales
  to the network's input), the annotation loaders and target transforms are
  dropped, ``update_ori_shape`` is switched off so that predictions come back
  at the input image's size, and a fixed crop (Pseudo-MTL's Cityscapes
  window) is remembered so that its predictions are pasted back into the full
  frame;
- :meth:`DepthSegInferencer.__call__` processes one batch at a time
  (prediction, picture, files), so that a long folder or video never holds
  more than a batch of full-resolution probability maps, and it names its
  arguments instead of dispatching ``**kwargs``;
- pictures are drawn by
  :func:`~mmdepthseg.visualization.side_by_side.draw_side_by_side` (input |
  depth with a colour bar | segmentation with a legend), not by the config's
  visualizer (which draws ground truth against predictions for the hooks);
- depth is returned in metres, except for self-supervised models (FSRE-Depth,
  or any config evaluated with median scaling), whose depth is known only
  up to scale: ``depth_kind`` says ``'relative'`` then. Models that regress
  inverse depth (SemiMTL street configs, ``DepthTargetTransform`` with
  ``mode='inverse'``) are converted to metres; those that regress heights
  (``mode='identity'``, ISPRS nDSM) report ``depth_kind='height'``.
"""
import copy
import glob
import inspect
import io
import os.path as osp
import warnings
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import cv2
import mmengine
import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.infer.infer import BaseInferencer, ModelType
from mmengine.logging import print_log
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import _load_checkpoint_to_model
from mmengine.structures import BaseDataElement
from mmseg.utils import get_classes, get_palette
from rich.progress import track

from mmdepthseg.registry import DATASETS, TRANSFORMS
from mmdepthseg.utils.io import atomic_write_bytes, write_image
from mmdepthseg.visualization.local_visualizer import default_palette
from mmdepthseg.visualization.side_by_side import draw_side_by_side
from .pointcloud import (IntrinsicsType, as_intrinsics_matrix,
                         depth_to_point_cloud, label_colors, write_ply)

InputType = Union[str, np.ndarray]
InputsType = Union[InputType, Sequence[InputType]]

#: File endings taken from an input folder.
IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
#: Transforms of a test pipeline that need labels: dropped for inference.
LABEL_TRANSFORMS = ('LoadDepthSegAnnotations', 'LoadPseudoDepth',
                    'MapSegLabels', 'DepthTargetTransform', 'LoadAnnotations',
                    'LoadDepthAnnotation')
#: Random transforms: a test pipeline holding one cannot be used here.
RANDOM_TRANSFORMS = ('MultiViewRandomResize', 'MultiViewRandomCrop',
                     'MultiViewRandomFlip', 'MultiViewColorJitter')
#: ``weights`` value asking for a randomly initialised model.
RANDOM_WEIGHTS = 'random'
#: ``depth_kind`` values of the results.
DEPTH_KINDS = ('metric', 'relative', 'height')
#: Label of the depth colour bar per ``depth_kind``.
DEPTH_LABELS = dict(
    metric='depth [m]',
    relative='relative depth (self-supervised, up to scale)',
    height='height (model units)')


def repo_root() -> str:
    """The folder holding ``mmdepthseg/`` and ``configs/``."""
    import mmdepthseg
    return osp.dirname(osp.dirname(osp.abspath(mmdepthseg.__file__)))


def find_metafile_model(name: str,
                        root: Optional[str] = None
                        ) -> Tuple[str, Optional[str]]:
    """Config file and weights of a model named in ``configs/*/metafile.yaml``.

    Args:
        name (str): ``Name`` (or one of the ``Alias``) of a model entry,
            case-insensitive, e.g. ``'fsre_r18_kitti'``.
        root (str, optional): Repository root. Defaults to the one of the
            installed package.

    Returns:
        tuple[str, str | None]: Config path and the entry's ``Weights``
        (None when the metafile gives none).
    """
    root = root or repo_root()
    metafiles = sorted(
        glob.glob(osp.join(root, 'configs', '*', 'metafile.yaml')))
    known = []
    for metafile in metafiles:
        for entry in mmengine.load(metafile).get('Models', []) or []:
            aliases = entry.get('Alias', []) or []
            aliases = [aliases] if isinstance(aliases, str) else aliases
            names = [entry['Name']] + list(aliases)
            known.append(entry['Name'])
            if name.lower() in (n.lower() for n in names):
                weights = entry.get('Weights')
                if isinstance(weights, list):
                    weights = weights[0] if weights else None
                return osp.join(root, entry['Config']), weights
    raise FileNotFoundError(
        f'{name!r} is neither a config file nor a model name of '
        f'{osp.join(root, "configs", "*", "metafile.yaml")} (known: '
        f'{", ".join(sorted(known)) or "none"})')


def _cfg_name(cfg) -> str:
    """The config's file name for messages (``'<dict>'`` when built in
    code)."""
    return getattr(cfg, 'filename', None) or '<dict>'


def _find_values(obj, key: str) -> list:
    """Every value stored under ``key`` in nested dicts / lists."""
    found = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == key:
                found.append(v)
            found.extend(_find_values(v, key))
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            found.extend(_find_values(v, key))
    return found


def config_test_pipeline(cfg: Config) -> List[dict]:
    """The config's test pipeline (``test_pipeline`` or the test dataset's).
    """
    pipeline = cfg.get('test_pipeline', None)
    if pipeline is None:
        try:
            pipeline = cfg.test_dataloader.dataset.pipeline
        except AttributeError:
            raise KeyError(f'config {_cfg_name(cfg)}: neither test_pipeline '
                           'nor test_dataloader.dataset.pipeline') from None
    return copy.deepcopy(list(pipeline))


def _find_transforms(obj, type_name: str) -> List[dict]:
    """Every dict of type ``type_name`` in nested dicts / lists (steps
    inside ``TestTimeAug`` and multi-source datasets included)."""
    found = []
    if isinstance(obj, dict):
        if obj.get('type') == type_name:
            found.append(obj)
        for value in obj.values():
            found.extend(_find_transforms(value, type_name))
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            found.extend(_find_transforms(value, type_name))
    return found


def depth_target_mode(cfg: Config) -> Tuple[Optional[str], Optional[float]]:
    """``mode`` and ``scale`` of the ``DepthTargetTransform`` of the
    config's test pipeline (``'inverse'``: the model regresses
    ``scale / depth``; ``'identity'``: a height), or ``(None, None)``.

    Args:
        cfg (Config): The config.

    Returns:
        tuple[str | None, float | None]: Mode and scale.
    """
    pipeline = cfg.get('test_pipeline', None)
    if pipeline is None:
        pipeline = cfg.get('test_dataloader', {}).get('dataset', {})
    steps = _find_transforms(pipeline, 'DepthTargetTransform')
    if not steps:
        return None, None
    mode = steps[0].get('mode', 'inverse')
    return mode, float(steps[0].get('scale', 1.0)) if mode == 'inverse' \
        else None


def depth_output_kind(model: nn.Module,
                      cfg: Config) -> Tuple[str, Optional[float]]:
    """What the model's ``pred_depth_map`` means.

    - A ``DepthTargetTransform`` in the test pipeline: the model regresses
      its target; ``mode='inverse'`` (``scale / depth``) is converted back
      to metres (``'metric'``, with the scale returned), ``'identity'`` is a
      height (``'height'``).
    - A self-supervised model (:class:`FSREDepth`, or a config whose depth
      evaluation uses ``median_scaling=True``): ``'relative'``.
    - Otherwise ``'metric'`` (metres).

    Args:
        model (nn.Module): The built model.
        cfg (Config): Its config.

    Returns:
        tuple[str, float | None]: The kind (one of :data:`DEPTH_KINDS`) and,
        for inverse-depth targets, their scale.
    """
    from mmdepthseg.models.segmentors.fsre_depth import FSREDepth
    mode, scale = depth_target_mode(cfg)
    if mode == 'inverse':
        return 'metric', scale
    if mode is not None:
        return 'height', None
    if isinstance(model, FSREDepth):
        return 'relative', None
    evaluators = [cfg.get('test_evaluator'), cfg.get('val_evaluator')]
    if any(_find_values(evaluators, 'median_scaling')):
        return 'relative', None
    return 'metric', None


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

    def __call__(self, item: Union[InputType, dict]) -> dict:
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
    size) goes into the metainfo for the inferencer to paste them back.
    The window is the transform's: ``offset`` clipped so that
    ``crop_size`` fits.

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


class DepthSegInferencer(BaseInferencer):
    """Depth and segmentation inferencer.

    .. code:: python

        inferencer = DepthSegInferencer('configs/fsre/fsre_r18_kitti.py',
                                        'fsre_r18_kitti.pth')
        out = inferencer('demo/frames/', out_dir='outputs')
        out['predictions'][0]['depth']     # (H, W) float32
        out['predictions'][0]['sem_seg']   # (H, W) uint8 class ids
        out['predictions'][0]['seg_probs'] # (C, H, W) float32 softmax

    Inputs are monocular: one view per image (models that train on several
    views, e.g. FSRE-Depth's video frames or Pseudo-MTL's stereo pairs,
    predict from one).

    Args:
        model (str | Config | dict): Config file, config, or a model name of
            ``configs/*/metafile.yaml`` (e.g. ``'fsre_r18_kitti'``).
        weights (str, optional): Checkpoint, or ``'random'`` for a
            randomly initialised model. None: the metafile's weights for a
            model name (a name without released weights is refused), a
            randomly initialised model (with a warning) for a config.
        device (str): e.g. ``'cpu'`` (default) or ``'cuda:0'``.
        intrinsics (np.ndarray | Sequence[float], optional): Camera matrix
            (3x3) or ``(fx, fy, cx, cy)`` in pixels **at the input images'
            size**, for every input; needed for point clouds. The test
            pipeline's resize scales it to the network's input (metainfo
            ``intrinsics`` of the data samples).
        batch_size (int): Images per forward pass. Defaults to 1.
    """

    preprocess_kwargs: set = set()
    forward_kwargs: set = set()
    visualize_kwargs: set = {'opacity', 'titles'}
    postprocess_kwargs: set = {'return_datasamples', 'return_seg_probs'}

    def __init__(self,
                 model: Union[ModelType, str],
                 weights: Optional[str] = None,
                 device: str = 'cpu',
                 intrinsics: Optional[IntrinsicsType] = None,
                 batch_size: int = 1) -> None:
        from mmdepthseg.set_env import register_all_modules
        register_all_modules(init_default_scope=False)
        if isinstance(model, str) and model.endswith('.py') \
                and not osp.isfile(model):
            raise FileNotFoundError(f'config file not found: {model}')
        self.random_weights = weights == RANDOM_WEIGHTS
        if self.random_weights:
            weights = None
        elif weights is None and isinstance(model, str) \
                and not osp.isfile(model):
            _, released = find_metafile_model(model)
            if released is None:
                raise ValueError(
                    f'{model!r} is a model of configs/*/metafile.yaml '
                    'without released weights: give a checkpoint '
                    "(weights='path/to.pth'), or weights='random' for a "
                    'randomly initialised model')
        if weights is not None and '://' not in weights \
                and not osp.isfile(weights):
            raise FileNotFoundError(f'checkpoint not found: {weights}')
        if int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f'batch_size must be an integer >= 1, got '
                             f'{batch_size}')
        scope = 'mmdepthseg'
        if isinstance(model, (Config, dict)):
            scope = model.get('default_scope', scope)
        elif isinstance(model, str) and osp.isfile(model):
            scope = Config.fromfile(model).get('default_scope', scope)
        init_default_scope(scope)
        self.num_array_inputs = 0
        super().__init__(
            model=model,
            weights=weights,
            device=device,
            scope=scope,
            show_progress=True)
        if device == 'cpu' or not torch.cuda.is_available():
            self.model = revert_sync_batchnorm(self.model)
        self.intrinsics = None if intrinsics is None else \
            as_intrinsics_matrix(intrinsics)
        self.batch_size = int(batch_size)
        self.depth_kind, self.inverse_depth_scale = depth_output_kind(
            self.model, self.cfg)
        if self.depth_kind == 'relative':
            print_log(
                f'{type(self.model).__name__} is self-supervised: its depth '
                'is relative (known up to scale); results carry '
                "depth_kind='relative'. Scale it per image (e.g. median "
                'scaling against lidar) for metres.',
                logger='current')

    # ------------------------------------------------------------------
    # BaseInferencer hooks
    # ------------------------------------------------------------------
    def _load_model_from_metafile(self, model: str) -> Tuple[Config, str]:
        config, weights = find_metafile_model(model)
        return Config.fromfile(config), weights

    def _load_weights_to_model(self, model: nn.Module,
                               checkpoint: Optional[dict],
                               cfg: Optional[Config]) -> None:
        """Load the weights; ``dataset_meta`` from the checkpoint's meta, else
        from the config's test dataset (its ``metainfo`` or class)."""
        meta = None
        if checkpoint is not None:
            _load_checkpoint_to_model(model, checkpoint)
            meta = checkpoint.get('meta', {}).get('dataset_meta')
        elif self.random_weights:
            print_log(
                "weights='random': the predictions come from a randomly "
                'initialised model',
                logger='current')
        else:
            warnings.warn('no checkpoint given: the predictions come from '
                          "a randomly initialised model (weights='random' "
                          'says so explicitly)')
        model.dataset_meta = meta or self._dataset_meta_from_cfg(cfg)

    @staticmethod
    def _dataset_meta_from_cfg(cfg: Optional[Config]) -> Optional[dict]:
        try:
            dataset = cfg.test_dataloader.dataset
        except AttributeError:
            return None
        metainfo = dataset.get('metainfo') or {}
        if not metainfo.get('classes'):
            dataset_cls = DATASETS.get(dataset.get('type', ''))
            metainfo = getattr(dataset_cls, 'METAINFO', None) or {}
        if not metainfo.get('classes'):
            return None
        return dict(
            classes=list(metainfo['classes']), palette=metainfo.get('palette'))

    def _init_pipeline(self, cfg: Config) -> Compose:
        """The test pipeline adapted for inference (see the module doc)."""
        steps = []
        seen_resize = False
        for step in config_test_pipeline(cfg):
            kind = str(step.get('type'))
            if kind in LABEL_TRANSFORMS or kind.endswith('Annotations'):
                continue
            if kind in RANDOM_TRANSFORMS:
                raise ValueError(f'config {_cfg_name(cfg)}: the test pipeline '
                                 f'holds the random transform {kind}')
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
            raise ValueError(
                f'config {_cfg_name(cfg)}: the test pipeline must '
                'start with LoadMultiViewImages')
        return Compose(steps)

    def _init_collate(self, cfg: Config) -> Callable:
        """``pseudo_collate`` unless the test dataloader names another
        (mmdepthseg has no function registry of its own)."""
        try:
            named = cfg.test_dataloader.get('collate_fn')
        except AttributeError:
            named = None
        return super()._init_collate(cfg) if named else pseudo_collate

    def _init_visualizer(self, cfg: Config) -> None:
        """Pictures come from :func:`draw_side_by_side`, not the config's
        visualizer (which compares ground truth with predictions)."""
        return None

    def _inputs_to_list(self, inputs: InputsType) -> list:
        """A folder -> its images (sorted, non-recursive); one input -> a
        list; a batch array ``(N, H, W, 3)`` -> N arrays."""
        if isinstance(inputs, str):
            if osp.isdir(inputs):
                files = sorted(
                    osp.join(inputs, f)
                    for f in mmengine.list_dir_or_file(inputs, list_dir=False)
                    if f.lower().endswith(IMG_EXTENSIONS)
                    and not f.startswith('.'))
                if not files:
                    raise FileNotFoundError(
                        f'no image ({", ".join(IMG_EXTENSIONS)}) in folder '
                        f'{inputs}')
                return files
            inputs = [inputs]
        elif isinstance(inputs, np.ndarray):
            inputs = list(inputs) if inputs.ndim == 4 else [inputs]
        inputs = list(inputs)
        for item in inputs:
            if isinstance(item, str) and not osp.isfile(item):
                raise FileNotFoundError(f'input image not found: {item}')
            if not isinstance(item, (str, np.ndarray)):
                raise TypeError('inputs are image paths or arrays, got '
                                f'{type(item).__name__}')
        return inputs

    def preprocess(self, inputs: list, batch_size: int = 1):
        """Load and transform the inputs, a batch at a time.

        Yields:
            tuple[dict, list[np.ndarray]]: The collated batch for
            ``model.test_step`` and the loaded images (uint8 BGR, the input
            images' size).
        """
        loader, rest = self.pipeline.transforms[0], Compose(
            self.pipeline.transforms[1:])
        for chunk in self._get_chunk_data(inputs, batch_size):
            packed, images = [], []
            for item in chunk:
                key = 'img_path' if isinstance(item, str) else 'img'
                results = loader({key: item, 'intrinsics': self.intrinsics})
                images.append(results['img'].copy())
                packed.append(rest(results))
            yield self.collate_fn(packed), images

    # ------------------------------------------------------------------
    # Predictions -> numpy, pictures, files
    # ------------------------------------------------------------------
    def classes_and_palette(self,
                            num_classes: int) -> Tuple[List[str], np.ndarray]:
        """Class names and colours for ``num_classes`` predicted classes.

        The model's ``dataset_meta`` when its class count matches, else
        Cityscapes' for 19 classes, else ``'class i'`` and a fixed random
        palette.
        """
        meta = getattr(self.model, 'dataset_meta', None) or {}
        classes = meta.get('classes')
        if classes is not None and len(classes) == num_classes:
            palette = meta.get('palette') or default_palette(num_classes)
        elif num_classes == 19:
            classes, palette = get_classes('cityscapes'), get_palette(
                'cityscapes')
        else:
            classes = [f'class {i}' for i in range(num_classes)]
            palette = default_palette(num_classes)
        return list(classes), np.asarray(palette, dtype=np.uint8)

    def _to_result(self, sample: BaseDataElement,
                   return_seg_probs: bool) -> dict:
        """One data sample as numpy arrays at the input image's size."""
        result: Dict[str,
                     object] = dict(img_path=sample.metainfo.get('img_path'))
        window = sample.metainfo.get('crop_window')
        if 'pred_depth_map' in sample:
            depth = sample.pred_depth_map.data[0].float().cpu().numpy()
            if self.inverse_depth_scale is not None:
                depth = np.where(
                    depth > 0,
                    self.inverse_depth_scale / np.maximum(depth, 1e-12), 0.)
            result['depth'] = self._paste(depth.astype(np.float32), window, 0)
            result['depth_kind'] = self.depth_kind
        if 'pred_sem_seg' in sample:
            logits = sample.seg_logits.data.float()
            probs = logits.softmax(dim=0) if logits.shape[0] > 1 else logits
            label = sample.pred_sem_seg.data[0].cpu().numpy()
            dtype = np.uint8 if probs.shape[0] <= 255 else np.int64
            result['sem_seg'] = self._paste(label.astype(dtype), window, 255)
            result['num_classes'] = int(probs.shape[0])
            if return_seg_probs:
                result['seg_probs'] = self._paste(
                    probs.cpu().numpy().astype(np.float32), window, 0)
        if self.intrinsics is not None:
            result['intrinsics'] = self.intrinsics.copy()
        return result

    @staticmethod
    def _paste(arr: np.ndarray, window: Optional[tuple],
               fill: float) -> np.ndarray:
        """Place a crop window's map ``(..., h, w)`` into the full frame."""
        if window is None:
            return arr
        y0, x0, height, width = window
        full = np.full(arr.shape[:-2] + (height, width), fill, arr.dtype)
        h, w = arr.shape[-2:]
        full[..., y0:y0 + h, x0:x0 + w] = arr
        return full

    def visualize(self,
                  inputs: List[np.ndarray],
                  preds: List[dict],
                  opacity: float = 0.6,
                  titles: Optional[Sequence[str]] = None) -> List[np.ndarray]:
        """Side-by-side pictures (see :func:`draw_side_by_side`).

        Args:
            inputs (list[np.ndarray]): uint8 BGR images.
            preds (list[dict]): Results of the images (numpy).
            opacity (float): Weight of class colours. Defaults to 0.6.
            titles (Sequence[str], optional): Text under each input.

        Returns:
            list[np.ndarray]: uint8 RGB pictures.
        """
        pictures = []
        for k, (img, result) in enumerate(zip(inputs, preds)):
            classes = palette = None
            if 'sem_seg' in result:
                classes, palette = self.classes_and_palette(
                    result['num_classes'])
            pictures.append(
                draw_side_by_side(
                    np.ascontiguousarray(img[..., ::-1]),
                    result.get('depth'),
                    result.get('sem_seg'),
                    classes,
                    palette,
                    depth_label=DEPTH_LABELS[result.get(
                        'depth_kind', 'metric')],
                    alpha=opacity,
                    title=titles[k] if titles else None))
        return pictures

    def postprocess(self,
                    preds: List[BaseDataElement],
                    visualization: Optional[List[np.ndarray]] = None,
                    return_datasamples: bool = False,
                    return_seg_probs: bool = True) -> dict:
        """Data samples -> result dicts.

        Args:
            preds (list[SegDataSample]): Predictions of ``test_step``.
            visualization (list[np.ndarray], optional): Pictures to pass on.
            return_datasamples (bool): Return the data samples themselves.
            return_seg_probs (bool): Keep ``seg_probs``. Defaults to True.

        Returns:
            dict: ``predictions`` (list of result dicts or data samples) and
            ``visualization`` (list of pictures, may be empty).
        """
        if return_datasamples:
            predictions = list(preds)
        else:
            predictions = [self._to_result(p, return_seg_probs) for p in preds]
        return dict(
            predictions=predictions, visualization=list(visualization or []))

    def _names(self, inputs: list,
               names: Optional[Sequence[str]]) -> List[str]:
        """Output file stems: the file's name, a counter for arrays;
        repeated stems get ``_1``, ``_2``..."""
        if names is not None:
            if len(names) != len(inputs):
                raise ValueError(f'{len(names)} names for {len(inputs)} '
                                 'inputs')
            return [str(n) for n in names]
        stems, seen = [], {}
        for item in inputs:
            if isinstance(item, str):
                stem = osp.splitext(osp.basename(item))[0]
            else:
                stem = f'{self.num_array_inputs:08d}'
                self.num_array_inputs += 1
            count = seen.get(stem, 0)
            seen[stem] = count + 1
            stems.append(stem if count == 0 else f'{stem}_{count}')
        return stems

    def _save(self, out_dir: str, name: str, image_bgr: np.ndarray,
              result: dict, picture: Optional[np.ndarray], save_pred: bool,
              save_ply: bool, ply_color: str, ply_binary: bool,
              max_depth: Optional[float], stride: int) -> None:
        """Write the picture, raw predictions and point cloud of an image
        (atomically)."""
        if picture is not None:
            write_image(
                osp.join(out_dir, 'vis', f'{name}.png'), picture, rgb=True)
        if save_pred:
            if 'depth' in result:
                buf = io.BytesIO()
                np.save(buf, result['depth'])
                atomic_write_bytes(
                    osp.join(out_dir, 'pred', f'{name}_depth.npy'),
                    buf.getvalue())
            if 'sem_seg' in result and result['sem_seg'].dtype == np.uint8:
                ok, png = cv2.imencode('.png', result['sem_seg'])
                atomic_write_bytes(
                    osp.join(out_dir, 'pred', f'{name}_seg.png'),
                    png.tobytes())
        if save_ply:
            if ply_color == 'class':
                classes, palette = self.classes_and_palette(
                    result['num_classes'])
                colors = label_colors(result['sem_seg'], palette)
            else:
                colors = np.ascontiguousarray(image_bgr[..., ::-1])
            points, point_colors = depth_to_point_cloud(
                result['depth'], result['intrinsics'], colors, stride,
                max_depth)
            write_ply(
                osp.join(out_dir, 'ply', f'{name}.ply'), points, point_colors,
                ply_binary)

    def __call__(self,
                 inputs: InputsType,
                 return_datasamples: bool = False,
                 out_dir: Optional[str] = None,
                 show_progress: bool = True,
                 batch_size: Optional[int] = None,
                 names: Optional[Sequence[str]] = None,
                 return_vis: bool = False,
                 return_seg_probs: bool = True,
                 save_pred: bool = False,
                 save_ply: bool = False,
                 ply_color: str = 'image',
                 ply_binary: bool = True,
                 max_depth: Optional[float] = None,
                 stride: int = 1,
                 opacity: float = 0.6) -> dict:
        """Predict depth and segmentation of images.

        Args:
            inputs (str | np.ndarray | list): An image path, a folder (its
                images, sorted), a uint8 BGR array ``(H, W, 3)`` (or a stack
                ``(N, H, W, 3)``), or a list of paths / arrays.
            return_datasamples (bool): Return ``SegDataSample`` objects
                (model units, crop windows not pasted back) instead of
                numpy dicts. Defaults to False.
            out_dir (str, optional): Write ``vis/<name>.png`` (side-by-side
                picture) and, when asked, ``pred/<name>_depth.npy`` +
                ``pred/<name>_seg.png`` and ``ply/<name>.ply`` there.
            show_progress (bool): Progress bar when there is more than one
                image. Defaults to True.
            batch_size (int, optional): Overrides the constructor's.
            names (Sequence[str], optional): Output file stems, one per
                input (default: file names; a counter for arrays).
            return_vis (bool): Return the pictures (uint8 RGB) in
                ``visualization``. Defaults to False.
            return_seg_probs (bool): Return ``seg_probs``. Defaults to True.
            save_pred (bool): Write raw predictions (needs ``out_dir``).
            save_ply (bool): Write point clouds (needs ``out_dir``, the
                constructor's ``intrinsics`` and a depth head).
            ply_color (str): ``'image'`` (default) or ``'class'`` (palette).
            ply_binary (bool): Binary (default) or ASCII PLY.
            max_depth (float, optional): Drop farther points from the cloud
                (in the depth's units).
            stride (int): Keep every ``stride``-th row / column in the
                cloud. Defaults to 1.
            opacity (float): Weight of the class colours in the pictures.

        Returns:
            dict: ``predictions``: one dict per image with ``depth``
            (float32 ``(H, W)``, see ``depth_kind``), ``depth_kind``
            (``'metric'``: metres; ``'relative'``: self-supervised, up to
            scale; ``'height'``), ``sem_seg`` (uint8 ``(H, W)`` class ids),
            ``seg_probs`` (float32 ``(C, H, W)``, softmax), ``num_classes``,
            ``img_path`` (None for arrays) and ``intrinsics`` (when given),
            at the input image's size (keys of an absent head are missing);
            ``visualization``: the pictures when ``return_vis``.
        """
        if save_ply or save_pred:
            if out_dir is None:
                raise ValueError('save_ply / save_pred need an out_dir')
        if save_ply:
            if self.intrinsics is None:
                raise ValueError('save_ply needs camera intrinsics: pass '
                                 'intrinsics= to DepthSegInferencer')
            if self.depth_kind == 'height':
                raise ValueError('save_ply needs a depth model; this one '
                                 'predicts heights')
        if ply_color not in ('image', 'class'):
            raise ValueError(f"ply_color must be 'image' or 'class', got "
                             f'{ply_color!r}')
        batch_size = self.batch_size if batch_size is None else batch_size
        items = self._inputs_to_list(inputs)
        stems = self._names(items, names)
        batches = self.preprocess(items, batch_size)
        if show_progress and len(items) > 1:
            batches = track(
                batches,
                description='Inference',
                total=-(-len(items) // batch_size))
        predictions, pictures = [], []
        done = 0
        for data, images in batches:
            samples = self.forward(data)
            batch_stems = stems[done:done + len(samples)]
            results = self.postprocess(samples, None, False,
                                       return_seg_probs)['predictions']
            for result, stem in zip(results, batch_stems):
                result['name'] = stem
            drawn = self.visualize(images, results, opacity, [
                osp.basename(r['img_path'] or s)
                for r, s in zip(results, batch_stems)
            ]) if out_dir is not None or return_vis else [None] * len(results)
            for k, (img, result,
                    picture) in enumerate(zip(images, results, drawn)):
                if out_dir is not None:
                    self._save(out_dir, batch_stems[k], img, result, picture,
                               save_pred, save_ply, ply_color, ply_binary,
                               max_depth, stride)
                if return_vis:
                    pictures.append(picture)
            predictions.extend(samples if return_datasamples else results)
            done += len(samples)
        return dict(predictions=predictions, visualization=pictures)
