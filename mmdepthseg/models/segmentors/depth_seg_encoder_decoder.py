# Copyright (c) mmdepthseg contributors. All rights reserved.
"""MMSegmentation's ``EncoderDecoder`` with a depth head."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmengine.structures import PixelData
from mmseg.models.segmentors import EncoderDecoder
from mmseg.models.utils import resize
from mmseg.utils import (ConfigType, OptConfigType, OptMultiConfig,
                         OptSampleList, SampleList, add_prefix)
from torch import Tensor

from mmdepthseg.registry import MODELS
from .multi_task_segmentor import DEPTH_RESIZE_SPACES


@MODELS.register_module()
class DepthSegEncoderDecoder(EncoderDecoder):
    """MMSegmentation's ``EncoderDecoder`` that also predicts depth.

    Takes every argument of ``mmseg.models.EncoderDecoder`` (``backbone``,
    ``neck``, ``decode_head``, ``auxiliary_head`` (one config or a list),
    ``pretrained``, ``train_cfg``, ``test_cfg``, ``data_preprocessor``,
    ``init_cfg``) plus ``depth_head``, so any mmseg segmentation config
    becomes a depth + segmentation model by changing ``model.type`` and
    adding ``depth_head`` (``docs/en/extend_mmseg_configs.md``).

    .. code:: text

        loss():    extract_feat() -> decode_head.loss() [+ auxiliary_head]
                                     + depth_head.loss()
        predict(): whole / slide inference of logits and depth
                   -> postprocess_result()

    ``active_tasks`` (``'depth'``, ``'seg'``) selects the losses that
    :meth:`loss` computes, so our ``EMAlternatingHook`` alternates the two
    tasks (phases ``trainable=('backbone', 'depth_head')`` and
    ``('backbone', 'decode_head', 'auxiliary_head')``).

    Loss items keep mmseg's names (``decode.loss_ce``, ``aux.loss_ce``) and
    add ``depth.<loss_name>``. Depth ground truth is ``gt_depth_map`` ``(1,
    H, W)`` in metres, 0 = invalid (mmseg's ``PackSegInputs`` or our
    ``PackMultiViewInputs`` put it there). mmseg's ``SegDataPreProcessor``
    pads ``gt_depth_map`` with ``seg_pad_val`` (255) like a label map; the
    padded area (``padding_size`` of the metainfo) is set to 0 before the
    depth loss, so any data preprocessor may be used.

    ``test_cfg.mode='slide'`` (``crop_size``, ``stride``) runs the network on
    overlapping windows, as mmseg does, and stitches both the segmentation
    logits and the depth map, averaging each pixel over the windows that
    cover it. ``test_cfg.depth_resize`` (``'depth'`` default, or
    ``'disparity'``) is the space in which depth is resized to
    ``ori_shape``, as in :class:`MultiTaskSegmentor`.

    Args:
        backbone (dict): Backbone config.
        decode_head (dict): Segmentation decode head config.
        depth_head (dict, optional): Depth head config (a
            :class:`BaseDepthHead` or a head of the same interface). None
            gives mmseg's ``EncoderDecoder``. Default: None.
        neck (dict, optional): Neck config. Default: None.
        auxiliary_head (dict | list[dict], optional): Auxiliary
            segmentation head(s), used in training only. Default: None.
        train_cfg (dict, optional): Training config. Default: None.
        test_cfg (dict, optional): Testing config: ``mode`` (``'whole'`` or
            ``'slide'`` with ``crop_size`` and ``stride``, both ``(h,
            w)``) and ``depth_resize``. Default: None (whole inference).
        data_preprocessor (dict, optional): e.g. mmseg's
            ``SegDataPreProcessor``. Default: None.
        pretrained (str, optional): Backbone checkpoint (mmseg's
            convention). Default: None.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Default: None.
    """

    def __init__(self,
                 backbone: ConfigType,
                 decode_head: ConfigType,
                 depth_head: OptConfigType = None,
                 neck: OptConfigType = None,
                 auxiliary_head: OptConfigType = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 pretrained: Optional[str] = None,
                 init_cfg: OptMultiConfig = None) -> None:
        test_cfg = ConfigDict(
            dict(mode='whole') if test_cfg is None else test_cfg)
        mode = test_cfg.get('mode', 'whole')
        if mode not in ('whole', 'slide'):
            raise ValueError(f"DepthSegEncoderDecoder: test_cfg.mode must be "
                             f"'whole' or 'slide', got {mode!r}")
        if mode == 'slide' and not {'crop_size', 'stride'} <= set(test_cfg):
            raise KeyError("DepthSegEncoderDecoder: test_cfg mode='slide' "
                           'needs crop_size and stride, both (h, w); got '
                           f'{dict(test_cfg)}')
        if test_cfg.get('depth_resize', 'depth') not in DEPTH_RESIZE_SPACES:
            raise ValueError(
                'DepthSegEncoderDecoder: test_cfg.depth_resize must be one '
                f"of {DEPTH_RESIZE_SPACES}, got {test_cfg['depth_resize']!r}")
        super().__init__(
            backbone=backbone,
            decode_head=decode_head,
            neck=neck,
            auxiliary_head=auxiliary_head,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor,
            pretrained=pretrained,
            init_cfg=init_cfg)
        if depth_head:
            # A model dict inherited through ``mmseg::`` builds in scope
            # mmseg (its ``_scope_``); the depth head resolves in ours.
            depth_head = dict(depth_head)
            depth_head.setdefault('_scope_', 'mmdepthseg')
            self.depth_head = MODELS.build(depth_head)
        else:
            self.depth_head = None
        self.active_tasks = self.tasks

    @property
    def tasks(self) -> Tuple[str, ...]:
        """tuple[str]: ``('depth', 'seg')``, or ``('seg',)`` without a
        depth head."""
        return ('depth', 'seg') if self.with_depth_head else ('seg', )

    @property
    def active_tasks(self) -> Tuple[str, ...]:
        """tuple[str]: Tasks whose losses :meth:`loss` computes (all by
        default); our ``EMAlternatingHook`` sets it for each phase."""
        return self._active_tasks

    @active_tasks.setter
    def active_tasks(self, tasks: Sequence[str]) -> None:
        tasks = tuple(tasks)
        if not tasks or not set(tasks) <= set(self.tasks):
            raise ValueError(
                'DepthSegEncoderDecoder.active_tasks must be a non-empty '
                f'subset of {self.tasks}, got {tasks}')
        self._active_tasks = tuple(t for t in self.tasks if t in tasks)

    @property
    def with_depth_head(self) -> bool:
        """bool: Whether the model predicts depth."""
        return self.depth_head is not None

    @property
    def with_seg_head(self) -> bool:
        """bool: Always True (the mmseg ``decode_head``)."""
        return True

    @property
    def seg_head(self):
        """The segmentation head under :class:`MultiTaskSegmentor`'s name
        (for hooks and tools that read ``model.seg_head``)."""
        return self.decode_head

    # ------------------------------------------------------------------
    # training
    # ------------------------------------------------------------------
    @staticmethod
    def _mask_depth_padding(data_samples: SampleList) -> None:
        """Mark the padded border of ``gt_depth_map`` invalid (0).

        ``padding_size`` is ``(left, right, top, bottom)``, as mmseg's
        ``stack_batch`` and our ``MultiViewDataPreProcessor`` write it.
        """
        for sample in data_samples:
            if 'gt_depth_map' not in sample:
                continue
            left, right, top, bottom = (
                int(p)
                for p in sample.metainfo.get('padding_size', (0, 0, 0, 0)))
            if not any((left, right, top, bottom)):
                continue
            depth = sample.gt_depth_map.data
            valid = torch.zeros_like(depth, dtype=torch.bool)
            h, w = depth.shape[-2:]
            valid[..., top:h - bottom, left:w - right] = True
            sample.gt_depth_map.data = depth.masked_fill(~valid, 0)

    def loss(self, inputs: Tensor,
             data_samples: SampleList) -> Dict[str, Tensor]:
        """Losses of the segmentation heads (mmseg's) and the depth head,
        for the tasks in :attr:`active_tasks`.

        Args:
            inputs (Tensor): ``(B, C, H, W)``.
            data_samples (list[SegDataSample]): With ``gt_sem_seg`` and,
                for the depth loss, ``gt_depth_map``.

        Returns:
            dict[str, Tensor]: ``decode.*``, ``aux*.*`` and ``depth.*``.
        """
        x = self.extract_feat(inputs)
        losses = dict()
        if 'seg' in self.active_tasks:
            losses.update(self._decode_head_forward_train(x, data_samples))
            if self.with_auxiliary_head:
                losses.update(
                    self._auxiliary_head_forward_train(x, data_samples))
        if 'depth' in self.active_tasks:
            self._mask_depth_padding(data_samples)
            losses.update(
                add_prefix(
                    self.depth_head.loss(x, data_samples, self.train_cfg),
                    'depth'))
        return losses

    # ------------------------------------------------------------------
    # inference
    # ------------------------------------------------------------------
    def _decode_both(
            self, inputs: Tensor,
            batch_img_metas: List[dict]) -> Tuple[Tensor, Optional[Tensor]]:
        """Logits and depth at the size of ``inputs`` from one encoding.

        Args:
            inputs (Tensor): ``(B, C, h, w)``, a whole image or a window.
            batch_img_metas (list[dict]): Image metas.

        Returns:
            tuple: Logits ``(B, K, h, w)`` and depth ``(B, 1, h, w)`` (None
            without a depth head).
        """
        size = tuple(int(s) for s in inputs.shape[2:])
        metas = [
            dict(m, img_shape=size, pad_shape=size) for m in batch_img_metas
        ]
        x = self.extract_feat(inputs)
        seg_logits = self.decode_head.predict(x, metas, self.test_cfg)
        depth = self.depth_head.predict(
            x, metas, self.test_cfg) if self.with_depth_head else None
        return seg_logits, depth

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

    def slide_inference_both(
            self, inputs: Tensor,
            batch_img_metas: List[dict]) -> Tuple[Tensor, Optional[Tensor]]:
        """Sliding-window inference of logits and depth.

        Each window is decoded on its own; every pixel's logits and depth
        are the mean over the windows covering it.

        Args:
            inputs (Tensor): ``(B, C, H, W)``.
            batch_img_metas (list[dict]): Image metas.

        Returns:
            tuple: Logits ``(B, K, H, W)`` and depth ``(B, 1, H, W)`` (or
            None).
        """
        batch_size, _, h_img, w_img = inputs.shape
        seg_sum = inputs.new_zeros(
            (batch_size, self.out_channels, h_img, w_img))
        depth_sum = inputs.new_zeros((batch_size, 1, h_img, w_img)) \
            if self.with_depth_head else None
        count = inputs.new_zeros((1, 1, h_img, w_img))
        for y1, y2, x1, x2 in self._slide_windows(h_img, w_img,
                                                  self.test_cfg['crop_size'],
                                                  self.test_cfg['stride']):
            seg, depth = self._decode_both(inputs[:, :, y1:y2, x1:x2],
                                           batch_img_metas)
            pad = (x1, w_img - x2, y1, h_img - y2)
            seg_sum += F.pad(seg, pad)
            if depth_sum is not None:
                depth_sum += F.pad(depth, pad)
            count[:, :, y1:y2, x1:x2] += 1
        seg_logits = seg_sum / count
        depth = depth_sum / count if depth_sum is not None else None
        return seg_logits, depth

    def inference_both(
            self, inputs: Tensor,
            batch_img_metas: List[dict]) -> Tuple[Tensor, Optional[Tensor]]:
        """Whole or slide inference (``test_cfg.mode``) of both tasks.

        Returns:
            tuple: Logits ``(B, K, H, W)`` and depth ``(B, 1, H, W)`` (or
            None) at the size of ``inputs``.
        """
        if self.test_cfg.get('mode', 'whole') == 'slide':
            return self.slide_inference_both(inputs, batch_img_metas)
        return self._decode_both(inputs, batch_img_metas)

    def inference(self, inputs: Tensor, batch_img_metas: List[dict]) -> Tensor:
        """Segmentation logits only (mmseg's interface, used by its
        ``aug_test``)."""
        return self.inference_both(inputs, batch_img_metas)[0]

    def _batch_img_metas(self, inputs: Tensor,
                         data_samples: OptSampleList) -> List[dict]:
        if data_samples is not None:
            return [sample.metainfo for sample in data_samples]
        shape = tuple(inputs.shape[2:])
        return [
            dict(
                ori_shape=shape,
                img_shape=shape,
                pad_shape=shape,
                padding_size=[0, 0, 0, 0])
        ] * inputs.shape[0]

    def predict(self,
                inputs: Tensor,
                data_samples: OptSampleList = None) -> SampleList:
        """Predict segmentation and depth at the original image size.

        Args:
            inputs (Tensor): ``(B, C, H, W)``.
            data_samples (list[SegDataSample], optional): Samples with
                metainfo (``ori_shape``, ``padding_size``, ``flip``...).

        Returns:
            list[SegDataSample]: With ``seg_logits``, ``pred_sem_seg`` and
            ``pred_depth_map`` ``(1, H, W)`` (metres) at ``ori_shape``.
        """
        batch_img_metas = self._batch_img_metas(inputs, data_samples)
        seg_logits, depth = self.inference_both(inputs, batch_img_metas)
        return self.postprocess_result(seg_logits, data_samples, depth)

    def _forward(self,
                 inputs: Tensor,
                 data_samples: OptSampleList = None) -> Dict[str, object]:
        """Raw head outputs: ``'seg_logits'`` ``(B, K, h, w)`` and, with a
        depth head, ``'depth'`` (list of ``(B, 1, h_s, w_s)``, finest
        first), as :meth:`MultiTaskSegmentor._forward`."""
        x = self.extract_feat(inputs)
        outs = dict(seg_logits=self.decode_head.forward(x))
        if self.with_depth_head:
            outs['depth'] = self.depth_head.forward(x)
        return outs

    def _restore_depth(self, depth: Tensor, img_meta: dict) -> Tensor:
        """Undo padding and flip of one ``(1, 1, H, W)`` depth map and
        resize it to ``ori_shape`` as mmseg's ``postprocess_result`` does
        for the logits.

        Returns:
            Tensor: ``(1, H_ori, W_ori)``.
        """
        padding = img_meta.get('img_padding_size',
                               img_meta.get('padding_size', [0] * 4))
        left, right, top, bottom = (int(p) for p in padding)
        h, w = depth.shape[2:]
        depth = depth[:, :, top:h - bottom, left:w - right]
        if img_meta.get('flip', False):
            direction = img_meta.get('flip_direction', None)
            if direction not in ('horizontal', 'vertical'):
                raise ValueError(
                    f"flip_direction must be 'horizontal' or 'vertical' "
                    f'when flip is True, got {direction!r} '
                    f"(image {img_meta.get('img_path')})")
            depth = depth.flip(
                dims=(3, ) if direction == 'horizontal' else (2, ))
        in_disparity = self.test_cfg.get('depth_resize',
                                         'depth') == 'disparity'
        depth = 1.0 / depth if in_disparity else depth
        depth = resize(
            depth,
            size=tuple(int(s) for s in img_meta['ori_shape'][:2]),
            mode='bilinear',
            align_corners=getattr(self.depth_head, 'align_corners', False),
            warning=False)
        depth = 1.0 / depth if in_disparity else depth
        return depth.squeeze(0)

    def postprocess_result(self,
                           seg_logits: Tensor,
                           data_samples: OptSampleList = None,
                           depth: Optional[Tensor] = None) -> SampleList:
        """mmseg's ``postprocess_result`` for the logits, and the same
        un-padding, un-flipping and resizing for ``depth``.

        Args:
            seg_logits (Tensor): ``(B, K, H, W)``.
            data_samples (list[SegDataSample], optional): Samples.
            depth (Tensor, optional): ``(B, 1, H, W)``, metres.

        Returns:
            list[SegDataSample]: With ``pred_depth_map`` added.
        """
        with_meta = data_samples is not None
        data_samples = super().postprocess_result(seg_logits, data_samples)
        if depth is None:
            return data_samples
        for i, sample in enumerate(data_samples):
            i_depth = self._restore_depth(
                depth[i:i + 1], sample.metainfo) if with_meta else depth[i]
            sample.set_data({'pred_depth_map': PixelData(data=i_depth)})
        return data_samples
