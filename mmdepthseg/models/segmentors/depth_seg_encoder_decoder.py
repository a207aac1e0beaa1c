# Copyright (c) mmdepthseg contributors. All rights reserved.
"""MMSegmentation's ``EncoderDecoder`` with a depth head."""
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmengine.config import ConfigDict
from mmseg.models.segmentors import EncoderDecoder
from mmseg.utils import (ConfigType, OptConfigType, OptMultiConfig, SampleList,
                         add_prefix)
from torch import Tensor

from mmdepthseg.registry import MODELS
from mmdepthseg.structures import read_padding_size
from .multi_task_segmentor import MultiTaskSegmentor


@MODELS.register_module()
class DepthSegEncoderDecoder(MultiTaskSegmentor, EncoderDecoder):
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
        decode():  extract_feat() -> decode_head / depth_head predict()

    A :class:`MultiTaskSegmentor` whose ``seg_head`` is mmseg's
    ``decode_head``; whole / slide inference, ``depth_resize`` and
    ``postprocess_result`` are :class:`BaseDepthSegmentor`'s. The backbone
    sees the inputs as they are (no view selection).

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
    cover it.

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
        self._check_test_cfg(test_cfg)
        # mmseg's constructor (heads, ``pretrained``), not MultiTaskSegmentor's
        EncoderDecoder.__init__(
            self,
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

    def _reference_view(self, inputs: Tensor) -> Tensor:
        """The backbone sees ``inputs`` as they are (mmseg's convention)."""
        return inputs

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
            left, right, top, bottom = read_padding_size(sample)
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
