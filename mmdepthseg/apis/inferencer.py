# Copyright (c) mmdepthseg contributors. All rights reserved.
"""``DepthSegInferencer``: depth + segmentation of your own images.

In the style of MMSegmentation's ``MMSegInferencer`` and built on MMEngine's
``BaseInferencer``, which gives the config / metafile / checkpoint loading,
the collate function and the batching. What differs:

- the model comes from the package's one loader,
  :func:`~mmdepthseg.apis.model_loader.init_segmentor`;
- the pipeline is the config's test pipeline adapted by
  :func:`~mmdepthseg.apis.inference_pipeline.build_inferencer_pipeline`:
  image paths or BGR arrays with optional camera intrinsics (scaled to the
  network's input by the pipeline's resize), no annotation loaders or
  target transforms, predictions at the input image's size, and a fixed
  crop (Pseudo-MTL's Cityscapes window) pasted back into the full frame;
- :meth:`DepthSegInferencer.__call__` processes one batch at a time
  (prediction, picture, files), so that a long folder or video never holds
  more than a batch of full-resolution probability maps, and it names its
  arguments instead of dispatching ``**kwargs``;
- pictures are drawn by :mod:`mmdepthseg.visualization.result_pictures`
  (input | depth with a colour bar | segmentation with a legend), not by
  the config's visualizer (which draws ground truth against predictions
  for the hooks); files are written by :mod:`mmdepthseg.apis.inference_io`;
- depth is returned in metres, except for self-supervised models (a model
  class with ``depth_kind = 'relative'`` such as FSRE-Depth, or any config
  evaluated with median scaling), whose depth is known only up to scale:
  ``depth_kind`` says ``'relative'`` then. Models that regress inverse depth
  (SemiMTL street configs, ``DepthTargetTransform`` with ``mode='inverse'``)
  are converted to metres; those that regress heights
  (``mode='identity'``, ISPRS nDSM) report ``depth_kind='height'``
  (:mod:`mmdepthseg.apis.depth_output`).
"""
import os.path as osp
import warnings
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch.nn as nn
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.infer.infer import BaseInferencer, ModelType
from mmengine.logging import print_log
from mmengine.registry import init_default_scope
from mmengine.structures import BaseDataElement
from rich.progress import track

from mmdepthseg.visualization.result_pictures import (DEPTH_LABELS,
                                                      classes_and_palette,
                                                      draw_results)
from .depth_output import (DEPTH_KINDS, depth_output_kind, depth_target_mode,
                           inverse_to_depth)
from .inference_io import (IMG_EXTENSIONS, InputsType, InputType, SaveOptions,
                           inputs_to_list, output_stems, save_result)
from .inference_pipeline import (LABEL_TRANSFORMS, RANDOM_TRANSFORMS,
                                 FixedCropWindow, MultiViewInferencerLoader,
                                 build_inferencer_pipeline,
                                 config_test_pipeline, paste_crop_window)
from .model_loader import find_metafile_model, init_segmentor, repo_root
from .pointcloud import IntrinsicsType, as_intrinsics_matrix

# names of this module before drawing, I/O, pipeline and model loading
# moved out (old import paths keep working)
__all__ = [
    'DepthSegInferencer', 'DEPTH_KINDS', 'DEPTH_LABELS', 'IMG_EXTENSIONS',
    'LABEL_TRANSFORMS', 'RANDOM_TRANSFORMS', 'RANDOM_WEIGHTS',
    'FixedCropWindow', 'MultiViewInferencerLoader', 'InputType',
    'InputsType', 'config_test_pipeline', 'depth_output_kind',
    'depth_target_mode', 'find_metafile_model', 'repo_root'
]

#: ``weights`` value asking for a randomly initialised model.
RANDOM_WEIGHTS = 'random'


def _check_model_and_weights(model, weights: Optional[str]) -> None:
    """Refuse a missing config / checkpoint file and a metafile model
    without released weights, naming what is missing."""
    if isinstance(model, str) and model.endswith('.py') \
            and not osp.isfile(model):
        raise FileNotFoundError(f'config file not found: {model}')
    if weights is None and isinstance(model, str) and not osp.isfile(model):
        _, released = find_metafile_model(model)
        if released is None:
            raise ValueError(
                f'{model!r} is a model of configs/*/metafile.yaml '
                'without released weights: give a checkpoint '
                "(weights='path/to.pth'), or weights='random' for a "
                'randomly initialised model')
    if weights not in (None, RANDOM_WEIGHTS) and '://' not in weights \
            and not osp.isfile(weights):
        raise FileNotFoundError(f'checkpoint not found: {weights}')


def _config_scope(model) -> str:
    """The ``default_scope`` of a config given as object or file."""
    if isinstance(model, (Config, dict)):
        return model.get('default_scope', 'mmdepthseg')
    if isinstance(model, str) and osp.isfile(model):
        return Config.fromfile(model).get('default_scope', 'mmdepthseg')
    return 'mmdepthseg'


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
        _check_model_and_weights(model, weights)
        if int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f'batch_size must be an integer >= 1, got '
                             f'{batch_size}')
        self.random_weights = weights == RANDOM_WEIGHTS
        scope = _config_scope(model)
        init_default_scope(scope)
        self.num_array_inputs = 0
        super().__init__(
            model=model,
            weights=None if self.random_weights else weights,
            device=device,
            scope=scope,
            show_progress=True)
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

    def _init_model(self, cfg: Config, weights: Optional[str],
                    device: str = 'cpu') -> nn.Module:
        """The model from :func:`init_segmentor` (``dataset_meta`` from the
        checkpoint's meta, else the config's test dataset)."""
        if weights is None and self.random_weights:
            print_log(
                "weights='random': the predictions come from a randomly "
                'initialised model',
                logger='current')
        elif weights is None:
            warnings.warn('no checkpoint given: the predictions come from '
                          "a randomly initialised model (weights='random' "
                          'says so explicitly)')
        return init_segmentor(cfg, weights, device=device)

    def _init_pipeline(self, cfg: Config) -> Compose:
        """See :func:`build_inferencer_pipeline`."""
        return build_inferencer_pipeline(cfg)

    def _init_collate(self, cfg: Config) -> Callable:
        """``pseudo_collate`` unless the test dataloader names another
        (mmdepthseg has no function registry of its own)."""
        try:
            named = cfg.test_dataloader.get('collate_fn')
        except AttributeError:
            named = None
        return super()._init_collate(cfg) if named else pseudo_collate

    def _init_visualizer(self, cfg: Config) -> None:
        """Pictures come from :mod:`~mmdepthseg.visualization.
        result_pictures`, not the config's visualizer (which compares
        ground truth with predictions)."""
        return None

    def _inputs_to_list(self, inputs: InputsType) -> list:
        """See :func:`~mmdepthseg.apis.inference_io.inputs_to_list`."""
        return inputs_to_list(inputs)

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
    # Predictions -> numpy, pictures
    # ------------------------------------------------------------------
    def classes_and_palette(self,
                            num_classes: int) -> Tuple[List[str], np.ndarray]:
        """Class names and colours for ``num_classes`` predicted classes
        (see :func:`~mmdepthseg.visualization.result_pictures.
        classes_and_palette`)."""
        return classes_and_palette(
            getattr(self.model, 'dataset_meta', None), num_classes)

    def _palette(self, num_classes: int) -> np.ndarray:
        return self.classes_and_palette(num_classes)[1]

    def _to_result(self, sample: BaseDataElement,
                   return_seg_probs: bool) -> dict:
        """One data sample as numpy arrays at the input image's size."""
        result: Dict[str,
                     object] = dict(img_path=sample.metainfo.get('img_path'))
        window = sample.metainfo.get('crop_window')
        if 'pred_depth_map' in sample:
            depth = sample.pred_depth_map.data[0].float().cpu().numpy()
            if self.inverse_depth_scale is not None:
                depth = inverse_to_depth(depth, self.inverse_depth_scale)
            result['depth'] = paste_crop_window(
                depth.astype(np.float32), window, 0)
            result['depth_kind'] = self.depth_kind
        if 'pred_sem_seg' in sample:
            logits = sample.seg_logits.data.float()
            probs = logits.softmax(dim=0) if logits.shape[0] > 1 else logits
            label = sample.pred_sem_seg.data[0].cpu().numpy()
            dtype = np.uint8 if probs.shape[0] <= 255 else np.int64
            result['sem_seg'] = paste_crop_window(
                label.astype(dtype), window, 255)
            result['num_classes'] = int(probs.shape[0])
            if return_seg_probs:
                result['seg_probs'] = paste_crop_window(
                    probs.cpu().numpy().astype(np.float32), window, 0)
        if self.intrinsics is not None:
            result['intrinsics'] = self.intrinsics.copy()
        return result

    def visualize(self,
                  inputs: List[np.ndarray],
                  preds: List[dict],
                  opacity: float = 0.6,
                  titles: Optional[Sequence[str]] = None) -> List[np.ndarray]:
        """Side-by-side pictures (see
        :func:`~mmdepthseg.visualization.result_pictures.draw_results`).

        Args:
            inputs (list[np.ndarray]): uint8 BGR images.
            preds (list[dict]): Results of the images (numpy).
            opacity (float): Weight of class colours. Defaults to 0.6.
            titles (Sequence[str], optional): Text under each input.

        Returns:
            list[np.ndarray]: uint8 RGB pictures.
        """
        return draw_results(inputs, preds,
                            getattr(self.model, 'dataset_meta', None),
                            opacity, titles)

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

    # ------------------------------------------------------------------
    # The call: a batch at a time
    # ------------------------------------------------------------------
    def _names(self, inputs: list,
               names: Optional[Sequence[str]]) -> List[str]:
        """Output file stems (see :func:`output_stems`); arrays are
        numbered across calls."""
        stems = output_stems(inputs, names, self.num_array_inputs)
        if names is None:
            self.num_array_inputs += sum(
                not isinstance(item, str) for item in inputs)
        return stems

    def _check_outputs(self, options: SaveOptions,
                       out_dir: Optional[str]) -> None:
        """Refuse files that cannot be written, saying what is missing."""
        if (options.save_ply or options.save_pred) and out_dir is None:
            raise ValueError('save_ply / save_pred need an out_dir')
        if options.save_ply and self.intrinsics is None:
            raise ValueError('save_ply needs camera intrinsics: pass '
                             'intrinsics= to DepthSegInferencer')
        if options.save_ply and self.depth_kind == 'height':
            raise ValueError('save_ply needs a depth model; this one '
                             'predicts heights')

    def _run_batch(self, data: dict, images: List[np.ndarray],
                   stems: Sequence[str], return_seg_probs: bool,
                   opacity: Optional[float]) -> tuple:
        """Predict a collated batch; its data samples, result dicts (named
        by ``stems``) and pictures (None each when ``opacity`` is None)."""
        samples = self.forward(data)
        results = self.postprocess(samples, None, False,
                                   return_seg_probs)['predictions']
        for result, stem in zip(results, stems):
            result['name'] = stem
        if opacity is None:
            return samples, results, [None] * len(results)
        titles = [
            osp.basename(r['img_path'] or r['name']) for r in results
        ]
        return samples, results, self.visualize(images, results, opacity,
                                                titles)

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
            show_progress (bool): Progress bar for more than one image.
            batch_size (int, optional): Overrides the constructor's.
            names (Sequence[str], optional): Output file stems, one per
                input (default: file names; a counter for arrays).
            return_vis (bool): Return the pictures (uint8 RGB) in
                ``visualization``. Defaults to False.
            return_seg_probs (bool): Return ``seg_probs``. Defaults to True.
            save_pred, save_ply, ply_color, ply_binary, max_depth, stride:
                Raw predictions and point clouds written to ``out_dir``
                (see :class:`~mmdepthseg.apis.inference_io.SaveOptions`;
                ``save_ply`` needs the constructor's ``intrinsics``).
            opacity (float): Weight of the class colours in the pictures.

        Returns:
            dict: ``predictions``: one dict per image with ``depth``
            (float32 ``(H, W)``), ``depth_kind`` (``'metric'``: metres;
            ``'relative'``: self-supervised, up to scale; ``'height'``),
            ``sem_seg`` (uint8 ``(H, W)`` class ids), ``seg_probs`` (float32
            ``(C, H, W)``, softmax), ``num_classes``, ``name``, ``img_path``
            (None for arrays) and ``intrinsics`` (when given), at the input
            image's size (keys of an absent head are missing);
            ``visualization``: the pictures when ``return_vis``.
        """
        options = SaveOptions(save_pred, save_ply, ply_color, ply_binary,
                              max_depth, stride)
        self._check_outputs(options, out_dir)
        batch_size = batch_size or self.batch_size
        items = self._inputs_to_list(inputs)
        stems = self._names(items, names)
        batches = self.preprocess(items, batch_size)
        if show_progress and len(items) > 1:
            batches = track(
                batches, 'Inference', total=-(-len(items) // batch_size))
        draw = out_dir is not None or return_vis
        predictions, pictures = [], []
        for data, images in batches:
            samples, results, drawn = self._run_batch(
                data, images, stems[len(predictions):], return_seg_probs,
                opacity if draw else None)
            for img, result, picture in zip(images, results, drawn):
                if out_dir is not None:
                    save_result(out_dir, result['name'], img, result, picture,
                                options, self._palette)
            pictures += drawn if return_vis else []
            predictions += samples if return_datasamples else results
        return dict(predictions=predictions, visualization=pictures)
