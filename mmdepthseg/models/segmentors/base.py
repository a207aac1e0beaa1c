# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The base of every depth + segmentation model of the package."""
from abc import abstractmethod
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.models.segmentors import BaseSegmentor
from mmseg.models.utils import resize
from mmseg.structures import SegDataSample
from mmseg.utils import (ConfigType, OptConfigType, OptMultiConfig,
                         OptSampleList, SampleList)
from torch import Tensor

from mmdepthseg.registry import MODELS
from mmdepthseg.structures import (read_flip_direction, read_img_shape,
                                   read_padding_size)
from ..layers.geometry import flip_post_process_disparity

#: Spaces in which a depth prediction is resized to the original image size.
DEPTH_RESIZE_SPACES = ('depth', 'disparity')
#: ``test_cfg.mode`` values.
INFERENCE_MODES = ('whole', 'slide')


@MODELS.register_module()
class BaseDepthSegmentor(BaseSegmentor):
    """A model that predicts depth and / or semantic segmentation.

    Every segmentor of the package implements one step, :meth:`decode`:
    the maps of a batch **at the size of its input**. This class does the
    rest once:

    .. code:: text

        predict(): batch metas -> [mirror] -> whole / slide decode()
                   -> [mirror merge] -> postprocess_result()
        encode_decode(), _forward(): decode() at the input size

    - **Inference** (``test_cfg.mode``): ``'whole'`` decodes the (padded)
      input; ``'slide'`` (``crop_size``, ``stride``, both ``(h, w)``) decodes
      overlapping windows as mmseg's ``EncoderDecoder`` does and stitches
      every map (logits and depth), each pixel the mean over the windows
      covering it.
    - **Mirror merge** (``test_cfg.flip_post_process``): decode each image
      and its mirror image and blend the two depths in disparity space with
      :func:`~mmdepthseg.models.layers.flip_post_process_disparity`
      (monodepth2's ``--post_process``); the segmentation is the image's
      own.
    - **Geometry** (:meth:`postprocess_result`): crop the padding
      (``padding_size`` / ``img_padding_size`` of the metainfo, and to
      ``img_shape``), undo a test-time flip, resize bilinearly to
      ``ori_shape``. Depth values are not rescaled; ``test_cfg.depth_resize``
      ``'disparity'`` interpolates ``1 / depth`` instead of depth (as the
      KITTI Eigen benchmark resizes the predicted disparity).

    What a model predicts is :attr:`tasks`; ``with_depth_head`` and
    ``with_seg_head`` follow from it. :attr:`depth_kind` says what the depth
    means: ``'metric'`` (metres, or the target's own units) or
    ``'relative'`` (self-supervised, evaluated after median scaling).

    Inputs are ``(B, 3V, H, W)``: the V views of a sample stacked on
    channels; the backbone sees the reference view (:meth:`_reference_view`,
    the first three channels).

    Args:
        backbone (dict): Backbone config.
        neck (dict, optional): Neck config. Default: None.
        train_cfg (dict, optional): Training config. Default: None.
        test_cfg (dict, optional): Testing config: ``mode``, ``crop_size``,
            ``stride``, ``depth_resize`` (``'depth'`` or ``'disparity'``),
            ``flip_post_process`` (bool). Default: None (whole inference).
        data_preprocessor (dict, optional): Data preprocessor config.
            Default: None.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Default: None.
    """

    #: ``'metric'`` or ``'relative'`` (up to scale) depth.
    depth_kind: str = 'metric'

    def __init__(self,
                 backbone: ConfigType,
                 neck: OptConfigType = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self._check_test_cfg(test_cfg)
        self.backbone = MODELS.build(backbone)
        if neck is not None:
            self.neck = MODELS.build(neck)
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg

    def _check_test_cfg(self, test_cfg: OptConfigType) -> None:
        """Raise on an unknown inference mode or depth resize space."""
        name, test_cfg = type(self).__name__, test_cfg or {}
        mode = test_cfg.get('mode', 'whole')
        if mode not in INFERENCE_MODES:
            raise ValueError(f'{name}: test_cfg.mode must be one of '
                             f'{INFERENCE_MODES}, got {mode!r}')
        if mode == 'slide' and not {'crop_size', 'stride'} <= set(test_cfg):
            raise KeyError(f"{name}: test_cfg mode='slide' needs crop_size "
                           f'and stride, both (h, w); got {dict(test_cfg)}')
        depth_resize = test_cfg.get('depth_resize', 'depth')
        if depth_resize not in DEPTH_RESIZE_SPACES:
            raise ValueError(f'{name}: test_cfg.depth_resize must be one of '
                             f'{DEPTH_RESIZE_SPACES}, got {depth_resize!r}')

    def _test_option(self, key: str, default):
        return (self.test_cfg or {}).get(key, default)

    # ------------------------------------------------------------------
    # what the model predicts
    # ------------------------------------------------------------------
    @property
    @abstractmethod
    def tasks(self) -> Tuple[str, ...]:
        """tuple[str]: The maps the model predicts, ``'depth'`` and / or
        ``'seg'``."""

    @property
    def with_depth_head(self) -> bool:
        """bool: Whether the model predicts depth."""
        return 'depth' in self.tasks

    @property
    def with_seg_head(self) -> bool:
        """bool: Whether the model predicts semantic segmentation."""
        return 'seg' in self.tasks

    def _task_module(self, task: str):
        """The module whose ``align_corners`` / ``threshold`` apply to a
        task's output (its head), or None."""
        return getattr(self, f'{task}_head', None)

    # ------------------------------------------------------------------
    # encoding and the one decoding step
    # ------------------------------------------------------------------
    def _reference_view(self, inputs: Tensor) -> Tensor:
        """The view the backbone encodes: ``(B, 3V, H, W)`` -> ``(B, 3, H,
        W)``, the first view."""
        if inputs.dim() != 4 or inputs.shape[1] % 3 != 0:
            raise ValueError(f'{type(self).__name__} expects inputs of shape '
                             f'(B, 3V, H, W), got {tuple(inputs.shape)}')
        return inputs[:, :3]

    def extract_feat(self, inputs: Tensor) -> Tuple[Tensor, ...]:
        """Multi-level features of the reference view (backbone, neck)."""
        x = self.backbone(self._reference_view(inputs))
        if self.with_neck:
            x = self.neck(x)
        return x

    @abstractmethod
    def decode(self, inputs: Tensor,
               batch_img_metas: List[dict]) -> Dict[str, Tensor]:
        """Predict the maps of a batch at the size of ``inputs``.

        Args:
            inputs (Tensor): ``(B, 3V, h, w)``, whole images or windows.
            batch_img_metas (list[dict]): Their metas; ``img_shape`` and
                ``pad_shape`` are ``(h, w)``.

        Returns:
            dict[str, Tensor]: ``'depth'`` ``(B, 1, h, w)`` and / or
            ``'seg'`` logits ``(B, C, h, w)``, for :attr:`tasks`.
        """

    def _batch_img_metas(self, inputs: Tensor,
                         data_samples: OptSampleList) -> List[dict]:
        """The samples' metainfo (copies), or metas of the input size."""
        if data_samples is not None:
            return [dict(sample.metainfo) for sample in data_samples]
        shape = tuple(inputs.shape[2:])
        return [
            dict(
                ori_shape=shape,
                img_shape=shape,
                pad_shape=shape,
                padding_size=[0, 0, 0, 0]) for _ in range(inputs.shape[0])
        ]

    def whole_decode(
            self, inputs: Tensor,
            batch_img_metas: Optional[List[dict]]) -> Dict[str, Tensor]:
        """:meth:`decode` with metas whose ``img_shape`` and ``pad_shape``
        are the size of ``inputs`` (the heads' output size)."""
        if batch_img_metas is None:
            batch_img_metas = self._batch_img_metas(inputs, None)
        size = tuple(inputs.shape[2:])
        return self.decode(inputs, [
            dict(meta, img_shape=size, pad_shape=size)
            for meta in batch_img_metas
        ])

    @staticmethod
    def _slide_windows(h_img: int, w_img: int, crop_size: Tuple[int, int],
                       stride: Tuple[int, int]) -> List[Tuple[int, ...]]:
        """Windows ``(y1, y2, x1, x2)`` of mmseg's slide inference: a grid
        of ``stride`` steps, the last row / column moved back inside the
        image, windows clipped to images smaller than ``crop_size``."""
        h_crop, w_crop = crop_size
        h_stride, w_stride = stride
        h_grids = max(h_img - h_crop + h_stride - 1, 0) // h_stride + 1
        w_grids = max(w_img - w_crop + w_stride - 1, 0) // w_stride + 1
        windows = []
        for h_idx in range(h_grids):
            for w_idx in range(w_grids):
                y2 = min(h_idx * h_stride + h_crop, h_img)
                x2 = min(w_idx * w_stride + w_crop, w_img)
                windows.append((max(y2 - h_crop, 0), y2, max(x2 - w_crop,
                                                             0), x2))
        return windows

    def slide_decode(self, inputs: Tensor,
                     batch_img_metas: List[dict]) -> Dict[str, Tensor]:
        """Sliding-window :meth:`decode`: every window is decoded on its
        own; each pixel of every map is the mean over the windows covering
        it.

        Args:
            inputs (Tensor): ``(B, 3V, H, W)``.
            batch_img_metas (list[dict]): Image metas.

        Returns:
            dict[str, Tensor]: The maps of :meth:`decode` at ``(H, W)``.
        """
        h_img, w_img = inputs.shape[2:]
        sums: Dict[str, Tensor] = dict()
        count = inputs.new_zeros((1, 1, h_img, w_img))
        for y1, y2, x1, x2 in self._slide_windows(h_img, w_img,
                                                  self.test_cfg['crop_size'],
                                                  self.test_cfg['stride']):
            maps = self.whole_decode(inputs[:, :, y1:y2, x1:x2],
                                     batch_img_metas)
            pad = (x1, w_img - x2, y1, h_img - y2)
            for key, value in maps.items():
                value = F.pad(value, pad)
                sums[key] = sums[key] + value if key in sums else value
            count[:, :, y1:y2, x1:x2] += 1
        return {key: value / count for key, value in sums.items()}

    def inference_maps(self, inputs: Tensor,
                       batch_img_metas: List[dict]) -> Dict[str, Tensor]:
        """Whole or slide decoding after ``test_cfg.mode``."""
        if self._test_option('mode', 'whole') == 'slide':
            return self.slide_decode(inputs, batch_img_metas)
        return self.whole_decode(inputs, batch_img_metas)

    def _needs_seg(self, caller: str) -> None:
        if not self.with_seg_head:
            raise RuntimeError(
                f'{type(self).__name__}.{caller} returns segmentation logits '
                f'and needs a seg_head; the model predicts {self.tasks}')

    def encode_decode(self, inputs: Tensor,
                      batch_img_metas: Optional[List[dict]]) -> Tensor:
        """Segmentation logits ``(B, C, H, W)`` at the input size."""
        self._needs_seg('encode_decode')
        return self.whole_decode(inputs, batch_img_metas)['seg']

    def inference(self, inputs: Tensor, batch_img_metas: List[dict]) -> Tensor:
        """Segmentation logits of whole / slide inference (mmseg's
        interface, e.g. its ``aug_test``)."""
        self._needs_seg('inference')
        return self.inference_maps(inputs, batch_img_metas)['seg']

    def _forward(self,
                 inputs: Tensor,
                 data_samples: OptSampleList = None) -> Dict[str, Tensor]:
        """The maps of :meth:`decode` at the input size (models with raw
        head outputs override this)."""
        return self.whole_decode(inputs,
                                 self._batch_img_metas(inputs, data_samples))

    # ------------------------------------------------------------------
    # prediction
    # ------------------------------------------------------------------
    def _with_mirror(self, inputs: Tensor) -> Tensor:
        """The batch followed by its horizontal mirror when
        ``test_cfg.flip_post_process`` is set, else ``inputs``."""
        if not self._test_option('flip_post_process', False):
            return inputs
        return torch.cat([inputs, inputs.flip(-1)])

    def _merge_mirror(
            self, seg_logits: Optional[Tensor], depth: Optional[Tensor]
    ) -> Tuple[Optional[Tensor], Optional[Tensor]]:
        """Undo :meth:`_with_mirror`: the ``2B`` depths (images, then
        mirrors) become ``B`` blended in disparity space (``1 / depth``,
        positive depths); the logits are the images' own."""
        if not self._test_option('flip_post_process', False):
            return seg_logits, depth
        if seg_logits is not None:
            seg_logits = seg_logits[:seg_logits.shape[0] // 2]
        if depth is not None:
            num = depth.shape[0] // 2
            disp = 1.0 / depth
            depth = 1.0 / flip_post_process_disparity(disp[:num],
                                                      disp[num:].flip(-1))
        return seg_logits, depth

    def predict(self,
                inputs: Tensor,
                data_samples: OptSampleList = None) -> SampleList:
        """Predict the maps at the original image size.

        Args:
            inputs (Tensor): ``(B, 3V, H, W)``.
            data_samples (list[SegDataSample], optional): Samples with
                metainfo ``ori_shape``, ``padding_size`` or ``img_shape``
                and optionally ``flip`` / ``flip_direction``.

        Returns:
            list[SegDataSample]: With ``seg_logits`` ``(C, H, W)``,
            ``pred_sem_seg`` ``(1, H, W)`` and ``pred_depth_map``
            ``(1, H, W)`` at ``ori_shape``, for :attr:`tasks`.
        """
        batch_img_metas = self._batch_img_metas(inputs, data_samples)
        inputs = self._with_mirror(inputs)
        if self._test_option('flip_post_process', False):
            batch_img_metas = batch_img_metas * 2
        maps = self.inference_maps(inputs, batch_img_metas)
        seg_logits, depth = self._merge_mirror(
            maps.get('seg'), maps.get('depth'))
        return self.postprocess_result(seg_logits, data_samples, depth)

    @staticmethod
    def _restore_geometry(pred: Tensor, img_meta: dict,
                          align_corners: bool) -> Tensor:
        """Undo padding and test-time flip, resize to ``ori_shape``.

        Args:
            pred (Tensor): One sample's map ``(1, C, H_pad, W_pad)``.
            img_meta (dict): Its metainfo: ``img_padding_size`` or
                ``padding_size`` ``(left, right, top, bottom)`` (mmseg's
                ``stack_batch``) is cropped, then whatever exceeds
                ``img_shape`` (padding at the bottom / right); ``flip``,
                ``flip_direction``, ``ori_shape``.
            align_corners (bool): ``align_corners`` of the bilinear resize.

        Returns:
            Tensor: ``(C, H_ori, W_ori)``.
        """
        left, right, top, bottom = read_padding_size(
            img_meta, ('img_padding_size', 'padding_size'))
        h, w = pred.shape[2:]
        pred = pred[:, :, top:h - bottom, left:w - right]
        shape = read_img_shape(img_meta, required=False)
        if shape is not None:
            pred = pred[:, :, :shape[0], :shape[1]]
        direction = read_flip_direction(img_meta)
        if direction is not None:
            pred = pred.flip(
                dims=(3, ) if direction == 'horizontal' else (2, ))
        if 'ori_shape' in img_meta:
            pred = resize(
                pred,
                size=tuple(int(s) for s in tuple(img_meta['ori_shape'])[:2]),
                mode='bilinear',
                align_corners=align_corners,
                warning=False)
        return pred.squeeze(0)

    def _restore_seg(self, logits: Tensor, img_meta: dict) -> dict:
        """``seg_logits`` and ``pred_sem_seg`` of one ``(1, C, H, W)`` map:
        argmax, or for one channel a sigmoid and the head's threshold."""
        head = self._task_module('seg')
        logits = self._restore_geometry(logits, img_meta,
                                        getattr(head, 'align_corners', False))
        if logits.shape[0] > 1:
            pred = logits.argmax(dim=0, keepdim=True)
        else:
            logits = logits.sigmoid()
            pred = (logits > getattr(head, 'threshold', 0.5)).to(logits)
        return dict(
            seg_logits=PixelData(data=logits),
            pred_sem_seg=PixelData(data=pred))

    def _restore_depth(self, depth: Tensor, img_meta: dict) -> Tensor:
        """One ``(1, 1, H, W)`` depth at ``ori_shape``, resized in the space
        of ``test_cfg.depth_resize``."""
        in_disparity = self._test_option('depth_resize',
                                         'depth') == 'disparity'
        depth = self._restore_geometry(
            1.0 / depth if in_disparity else depth, img_meta,
            getattr(self._task_module('depth'), 'align_corners', False))
        return 1.0 / depth if in_disparity else depth

    def postprocess_result(self,
                           seg_logits: Optional[Tensor],
                           data_samples: OptSampleList = None,
                           depth: Optional[Tensor] = None) -> SampleList:
        """Fill the data samples with the maps at the original size.

        Args:
            seg_logits (Tensor, optional): ``(B, C, H, W)`` logits.
            data_samples (list[SegDataSample], optional): Samples whose
                metainfo describes the inputs; without them the maps stay
                at the input size.
            depth (Tensor, optional): ``(B, 1, H, W)`` depth.

        Returns:
            list[SegDataSample]: With ``seg_logits``, ``pred_sem_seg`` and
            ``pred_depth_map`` for the maps given.
        """
        ref = seg_logits if seg_logits is not None else depth
        if data_samples is None:
            data_samples = [SegDataSample() for _ in range(ref.shape[0])]
        for i, data_sample in enumerate(data_samples):
            img_meta = data_sample.metainfo
            if seg_logits is not None:
                data_sample.set_data(
                    self._restore_seg(seg_logits[i:i + 1], img_meta))
            if depth is not None:
                data_sample.set_data({
                    'pred_depth_map':
                    PixelData(
                        data=self._restore_depth(depth[i:i + 1], img_meta))
                })
        return data_samples
