# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Pseudo-MTL: multi-task learning from stereo pseudo labels."""
from typing import Dict, Optional

import torch
from mmseg.models.utils import resize
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig, SampleList
from torch import Tensor

from mmdepthseg.registry import MODELS
from ..utils import stack_pixel_field
from .multi_task_segmentor import MultiTaskSegmentor


@MODELS.register_module()
class PseudoMTL(MultiTaskSegmentor):
    """Pseudo label-guided multi-task learning (Pseudo-MTL, Sec. 3).

    Both views of a stereo pair (``view_names ('l', 'r')``) pass through the
    same network (one batch of ``2B`` images). The loss is Eq. 11::

        L = L_S + L_d,c + L_s,c
        L_S = alpha_d * L_d (Eq. 1, confidence-weighted L1 to the pseudo
              depth, both views) + alpha_s * L_s (Eq. 2, cross-entropy on
              both views: left ground truth, right pseudo labels)

    with the cross-view consistency terms ``L_d,c`` (Eq. 3-6) and ``L_s,c``
    (Eq. 7-10) computed by
    :class:`~mmdepthseg.models.losses.CrossViewDepthConsistencyLoss` and
    :class:`~mmdepthseg.models.losses.CrossViewSegConsistencyLoss`, which hold
    their own weights and ablation switches. The weights ``alpha_d`` = 850
    and ``alpha_s`` = 2.5 are the ``loss_weight`` of ``depth_loss`` /
    ``seg_loss``.

    Expected sample fields: ``gt_pseudo_depth`` and ``gt_confidence``
    ``(2, H, W)``, ``gt_sem_seg`` ``(2, H, W)`` and metainfo ``intrinsics``
    (``fx`` = ``intrinsics[0, 0]``) and ``baseline``.

    Args:
        backbone (dict): Shared encoder (paper: VGG-16 convolutions).
        depth_head (dict): Depth head (a ``BaseDepthHead``).
        seg_head (dict): Segmentation head (an mmseg ``BaseDecodeHead``).
        depth_loss (dict): ``ConfidenceWeightedL1Loss`` config (alpha_d).
        seg_loss (dict): Cross-entropy config (alpha_s).
        depth_cv_loss (dict, optional): Cross-view depth consistency;
            None turns it off.
        seg_cv_loss (dict, optional): Cross-view segmentation consistency;
            None turns it off.
        ignore_index (int): Unlabelled pixels. Default: 255.
        train_cfg, test_cfg, data_preprocessor, init_cfg, neck: As for
            :class:`MultiTaskSegmentor`.
    """

    def __init__(self,
                 backbone: ConfigType,
                 depth_head: ConfigType,
                 seg_head: ConfigType,
                 depth_loss: ConfigType = dict(
                     type='ConfidenceWeightedL1Loss', loss_weight=850.),
                 seg_loss: ConfigType = dict(
                     type='CrossEntropyLoss',
                     loss_weight=2.5,
                     avg_non_ignore=True,
                     loss_name='loss_ce'),
                 depth_cv_loss: OptConfigType = dict(
                     type='CrossViewDepthConsistencyLoss'),
                 seg_cv_loss: OptConfigType = dict(
                     type='CrossViewSegConsistencyLoss'),
                 ignore_index: int = 255,
                 neck: OptConfigType = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(
            backbone=backbone,
            depth_head=depth_head,
            seg_head=seg_head,
            neck=neck,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.depth_loss = MODELS.build(depth_loss)
        self.seg_loss = MODELS.build(seg_loss)
        self.depth_cv_loss = MODELS.build(
            depth_cv_loss) if depth_cv_loss else None
        self.seg_cv_loss = MODELS.build(seg_cv_loss) if seg_cv_loss else None
        self.ignore_index = ignore_index

    def _both_views(self, inputs: Tensor) -> Dict[str, Tensor]:
        """Depth and logits of both views at the input size.

        Returns:
            dict: ``depth`` ``(2, B, 1, H, W)`` and ``seg`` ``(2, B, C, H,
            W)`` stacked as (left, right).
        """
        if inputs.shape[1] != 6:
            raise ValueError('PseudoMTL trains on stereo pairs: inputs must '
                             f'be (B, 6, H, W), got {tuple(inputs.shape)}')
        batch = inputs.shape[0]
        pair = torch.cat([inputs[:, :3], inputs[:, 3:]], dim=0)
        feats = self.backbone(pair)
        if self.with_neck:
            feats = self.neck(feats)
        size = inputs.shape[-2:]
        depth = resize(self.depth_head(feats)[0], size=size, mode='bilinear')
        seg = resize(self.seg_head(feats), size=size, mode='bilinear')
        return dict(
            depth=depth.view(2, batch, *depth.shape[1:]),
            seg=seg.view(2, batch, *seg.shape[1:]))

    def loss(self, inputs: Tensor,
             data_samples: SampleList) -> Dict[str, Tensor]:
        """Eq. 11 on a batch of stereo pairs.

        Args:
            inputs (Tensor): ``(B, 6, H, W)`` normalised left and right view.
            data_samples (list[SegDataSample]): See the class docstring.

        Returns:
            dict[str, Tensor]: ``loss_depth_conf``, ``loss_ce`` and the
            enabled cross-view terms (``loss_depth_cv_*``, ``loss_seg_cv_*``).
        """
        out = self._both_views(inputs)
        pseudo = stack_pixel_field(data_samples, 'gt_pseudo_depth').to(inputs)
        conf = stack_pixel_field(data_samples, 'gt_confidence').to(inputs)
        label = stack_pixel_field(data_samples, 'gt_sem_seg').long()
        focal = inputs.new_tensor(
            [float(ds.intrinsics[0][0]) for ds in data_samples])
        baseline = inputs.new_tensor(
            [float(ds.baseline) for ds in data_samples])
        depth_l, depth_r = out['depth'][0], out['depth'][1]
        seg_l, seg_r = out['seg'][0], out['seg'][1]

        pred = torch.cat([depth_l, depth_r], dim=1)  # (B, 2, H, W)
        losses = {
            self.depth_loss.loss_name:
            self.depth_loss(pred, pseudo, conf),
            self.seg_loss.loss_name:
            self.seg_loss(
                torch.cat([seg_l, seg_r], dim=0),
                torch.cat([label[:, 0], label[:, 1]], dim=0),
                ignore_index=self.ignore_index)
        }
        views = dict(
            pseudo_l=pseudo[:, :1],
            pseudo_r=pseudo[:, 1:],
            conf_l=conf[:, :1],
            conf_r=conf[:, 1:],
            focal=focal,
            baseline=baseline)
        if self.depth_cv_loss is not None:
            losses.update(self.depth_cv_loss(depth_l, depth_r, **views))
        if self.seg_cv_loss is not None:
            losses.update(
                self.seg_cv_loss(
                    seg_l,
                    seg_r,
                    label[:, 0],
                    label[:, 1],
                    **views,
                    pred_depth_l=depth_l,
                    pred_depth_r=depth_r))
        return losses

    def _forward(self,
                 inputs: Tensor,
                 data_samples: Optional[SampleList] = None) -> dict:
        """Raw outputs of the reference view (or both for stereo input)."""
        if inputs.shape[1] == 6:
            return self._both_views(inputs)
        return super()._forward(inputs, data_samples)
