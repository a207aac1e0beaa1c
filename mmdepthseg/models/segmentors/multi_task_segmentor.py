# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Shared-encoder multi-task model: depth + semantic segmentation."""
from typing import Dict, Tuple

from mmseg.utils import (ConfigType, OptConfigType, OptMultiConfig,
                         OptSampleList, SampleList, add_prefix)
from torch import Tensor

from mmdepthseg.registry import MODELS
from .base import DEPTH_RESIZE_SPACES, BaseDepthSegmentor

__all__ = ['MultiTaskSegmentor', 'DEPTH_RESIZE_SPACES']


@MODELS.register_module()
class MultiTaskSegmentor(BaseDepthSegmentor):
    """A backbone shared by a depth head and a segmentation head.

    Inputs are ``(B, 3V, H, W)``: the V views of a sample stacked on
    channels by ``MultiViewDataPreProcessor``. The backbone sees only the
    reference view (:meth:`_reference_view`, the first three channels);
    subclasses that need the other views (view synthesis, cross-view
    consistency) take them from ``inputs`` themselves.

    .. code:: text

        loss():    extract_feat() -> depth_head.loss() + seg_head.loss()
        decode():  extract_feat() -> heads' predict() (at the input size)

    Prediction (whole / slide inference, ``test_cfg.depth_resize``,
    ``test_cfg.flip_post_process``, restoring the original geometry) is
    :class:`BaseDepthSegmentor`'s.

    Loss items are prefixed ``depth.`` and ``seg.`` (e.g. ``depth.loss_depth``,
    ``seg.loss_ce``, ``seg.acc_seg``). Either head may be None for a
    single-task model.

    Args:
        backbone (dict): Backbone config, e.g. ``ResNetEncoder``.
        depth_head (dict, optional): Depth head config (a
            :class:`BaseDepthHead`). Default: None.
        seg_head (dict, optional): Segmentation head config (an mmseg
            ``BaseDecodeHead``). Default: None.
        neck, train_cfg, test_cfg, data_preprocessor, init_cfg: As for
            :class:`BaseDepthSegmentor`.
    """

    def __init__(self,
                 backbone: ConfigType,
                 depth_head: OptConfigType = None,
                 seg_head: OptConfigType = None,
                 neck: OptConfigType = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(
            backbone=backbone,
            neck=neck,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        if depth_head is None and seg_head is None:
            raise ValueError(
                f'{type(self).__name__} needs a depth_head, a seg_head or '
                f'both; got neither')
        self.depth_head = MODELS.build(depth_head) if depth_head else None
        self.seg_head = MODELS.build(seg_head) if seg_head else None

    @property
    def tasks(self) -> Tuple[str, ...]:
        """tuple[str]: ``'depth'`` / ``'seg'`` for the heads present."""
        return tuple(
            task for task in ('depth', 'seg')
            if getattr(self, f'{task}_head') is not None)

    def decode(self, inputs: Tensor,
               batch_img_metas: list) -> Dict[str, Tensor]:
        """The heads' ``predict`` on one encoding: ``'depth'`` ``(B, 1, H,
        W)`` and ``'seg'`` ``(B, C, H, W)`` at the input size."""
        feats = self.extract_feat(inputs)
        maps = dict()
        if self.with_depth_head:
            maps['depth'] = self.depth_head.predict(feats, batch_img_metas,
                                                    self.test_cfg)
        if self.with_seg_head:
            maps['seg'] = self.seg_head.predict(feats, batch_img_metas,
                                                self.test_cfg)
        return maps

    def loss(self, inputs: Tensor,
             data_samples: SampleList) -> Dict[str, Tensor]:
        """Compute the losses of both tasks.

        Args:
            inputs (Tensor): ``(B, 3V, H, W)``.
            data_samples (list[SegDataSample]): Samples with
                ``gt_depth_map`` and / or ``gt_sem_seg``.

        Returns:
            dict[str, Tensor]: Loss items prefixed ``depth.`` / ``seg.``.
        """
        feats = self.extract_feat(inputs)
        losses = dict()
        if self.with_depth_head:
            losses.update(
                add_prefix(
                    self.depth_head.loss(feats, data_samples, self.train_cfg),
                    'depth'))
        if self.with_seg_head:
            losses.update(
                add_prefix(
                    self.seg_head.loss(feats, data_samples, self.train_cfg),
                    'seg'))
        return losses

    def _forward(self,
                 inputs: Tensor,
                 data_samples: OptSampleList = None) -> Dict[str, object]:
        """Raw head outputs, without post-processing.

        Returns:
            dict: ``'depth'``: list of depth maps ``(B, 1, h_s, w_s)``
            (finest first) if there is a depth head; ``'seg_logits'``:
            ``(B, C, h, w)`` if there is a segmentation head.
        """
        feats = self.extract_feat(inputs)
        outs = dict()
        if self.with_depth_head:
            outs['depth'] = self.depth_head.forward(feats)
        if self.with_seg_head:
            outs['seg_logits'] = self.seg_head.forward(feats)
        return outs
