# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Pseudo-MTL: multi-task learning from stereo pseudo labels."""
from typing import Dict, Optional

import torch
from mmseg.models.utils import resize
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig, SampleList
from torch import Tensor

from mmdepthseg.registry import MODELS
from mmdepthseg.structures import (read_view_names, sample_name,
                                   stack_baselines, stack_focal_lengths)
from ..losses.cross_view_loss import DEPTH_UNITS, depth_in_unit
from ..utils import stack_pixel_field
from .multi_task_segmentor import MultiTaskSegmentor


@MODELS.register_module()
class PseudoMTL(MultiTaskSegmentor):
    """Pseudo label-guided multi-task learning (Pseudo-MTL, Sec. 3).

    Both views of a stereo pair (``view_names ('l', 'r')``) pass through the
    same network (one batch of ``2B`` images). The loss is Eq. 11::

        L = L_S + L_d,c + L_s,c
        L_S = alpha_d * L_d (Eq. 1, confidence-weighted L1 to the pseudo
              depth, summed over the views) + alpha_s * L_s (Eq. 2,
              cross-entropy summed over the views: left ground truth,
              right pseudo labels)

    ``L_s = H(s_l, s_l^gt) + H(s_r, s_r^gt)``: each view's cross-entropy is
    the mean over its labelled pixels (and the batch), and the two views are
    added, as Eq. 2 (and Eq. 1 for ``L_d``) sums over ``i in {l, r}``.

    with the cross-view consistency terms ``L_d,c`` (Eq. 3-6) and ``L_s,c``
    (Eq. 7-10) computed by
    :class:`~mmdepthseg.models.losses.CrossViewDepthConsistencyLoss` and
    :class:`~mmdepthseg.models.losses.CrossViewSegConsistencyLoss`, which hold
    their own weights and ablation switches. The weights ``alpha_d`` = 850
    and ``alpha_s`` = 2.5 are the ``loss_weight`` of ``depth_loss`` /
    ``seg_loss``.

    Expected sample fields: ``gt_pseudo_depth`` and ``gt_confidence``
    ``(2, H, W)``, ``gt_sem_seg`` ``(2, H, W)`` and metainfo ``intrinsics``
    (``fx`` = ``intrinsics[0, 0]``), ``baseline`` and ``view_names``
    (``('l', 'r')``, or ``('r', 'l')`` for KITTI samples whose reference is
    the right camera: those are reordered to left-right before the loss).

    Stage 1 of Sec. 4.2 trains the depth network ``E + D_d`` and the
    segmentation network ``E + D_s`` separately: build the model with only
    ``depth_head`` (loss ``L_d`` + ``L_d,c``) or only ``seg_head`` (``L_s``
    + ``L_s,c``, which then needs ``warp_with='pseudo'``); stage 2 joins
    both (``tools/model_converters/merge_checkpoints.py``).

    Args:
        backbone (dict): Shared encoder (paper: VGG-16 convolutions).
        depth_head (dict, optional): Depth head (a ``BaseDepthHead``); None
            for the stage-1 segmentation network.
        seg_head (dict, optional): Segmentation head (an mmseg
            ``BaseDecodeHead``); None for the stage-1 depth network.
        depth_loss (dict): ``ConfidenceWeightedL1Loss`` config (alpha_d).
        seg_loss (dict): Cross-entropy config (alpha_s).
        depth_cv_loss (dict, optional): Cross-view depth consistency;
            None turns it off.
        seg_cv_loss (dict, optional): Cross-view segmentation consistency;
            None turns it off.
        use_confidence (bool): Weight ``L_d`` (Eq. 1) by the pseudo-depth
            confidence; False gives the plain L1 of the ablation baseline
            (Tables 4-5; the cross-view losses have their own switch).
            Default: True.
        depth_loss_unit (str): Unit of the depth values in the L1 of
            ``L_d`` (and, unless ``depth_cv_loss`` sets its own ``unit``, of
            ``L_d,c``): ``'metre'``, ``'inverse_depth'`` or
            ``'disparity_width'`` (stereo disparity as a fraction of the
            image width, ``fx * baseline / (depth * W)``), see
            :func:`~mmdepthseg.models.losses.depth_in_unit`. The paper gives
            no unit for ``alpha_d`` = 850; the paper configs use
            ``'disparity_width'``, the unit in which 850 balances
            ``alpha_s`` = 2.5 (configs/pseudo_mtl/README.md). Default:
            'metre'.
        depth_loss_unit_scale (float): Factor of that unit (e.g. 1/80 for
            metres over an 80 m range, as Choi et al.'s released code).
            Default: 1.
        ignore_index (int): Unlabelled pixels. Default: 255.
        train_cfg, test_cfg, data_preprocessor, init_cfg, neck: As for
            :class:`MultiTaskSegmentor`.
    """

    def __init__(self,
                 backbone: ConfigType,
                 depth_head: OptConfigType,
                 seg_head: OptConfigType,
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
                 use_confidence: bool = True,
                 depth_loss_unit: str = 'metre',
                 depth_loss_unit_scale: float = 1.0,
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
        # the losses of a missing task are not built (stage-1 networks)
        self.depth_loss = self.depth_cv_loss = None
        self.seg_loss = self.seg_cv_loss = None
        if depth_loss_unit not in DEPTH_UNITS:
            raise ValueError(f'PseudoMTL: depth_loss_unit must be one of '
                             f'{DEPTH_UNITS}, got {depth_loss_unit!r}')
        self.depth_loss_unit = depth_loss_unit
        self.depth_loss_unit_scale = depth_loss_unit_scale
        if self.with_depth_head:
            self.depth_loss = MODELS.build(depth_loss)
            if depth_cv_loss:
                depth_cv_loss = dict(depth_cv_loss)
                depth_cv_loss.setdefault('unit', depth_loss_unit)
                depth_cv_loss.setdefault('unit_scale', depth_loss_unit_scale)
                self.depth_cv_loss = MODELS.build(depth_cv_loss)
        if self.with_seg_head:
            self.seg_loss = MODELS.build(seg_loss)
            if seg_cv_loss:
                self.seg_cv_loss = MODELS.build(seg_cv_loss)
                if not self.with_depth_head and \
                        self.seg_cv_loss.warp_with == 'pred':
                    raise ValueError(
                        'PseudoMTL: seg_cv_loss with warp_with=\'pred\' '
                        'warps with the predicted depth and needs a '
                        'depth_head; a segmentation-only network must use '
                        "warp_with='pseudo'")
        self.use_confidence = use_confidence
        self.ignore_index = ignore_index

    def _both_views(self, inputs: Tensor) -> Dict[str, Tensor]:
        """Depth and logits of both views at the input size.

        Returns:
            dict: ``depth`` ``(2, B, 1, H, W)`` and ``seg`` ``(2, B, C, H,
            W)`` stacked as (left, right); a task without head is absent.
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
        out = dict()
        if self.with_depth_head:
            depth = resize(
                self.depth_head(feats)[0], size=size, mode='bilinear')
            out['depth'] = depth.view(2, batch, *depth.shape[1:])
        if self.with_seg_head:
            seg = resize(self.seg_head(feats), size=size, mode='bilinear')
            out['seg'] = seg.view(2, batch, *seg.shape[1:])
        return out

    @staticmethod
    def _right_first(data_samples: SampleList) -> Tensor:
        """(B,) bool: samples whose views are ordered (right, left)."""
        flags = []
        for ds in data_samples:
            names = read_view_names(ds, default=('l', 'r'))
            if names not in (('l', 'r'), ('r', 'l')):
                raise ValueError(
                    "PseudoMTL trains on stereo pairs with view_names ('l', "
                    f"'r') or ('r', 'l'), got {names} (sample "
                    f'{sample_name(ds)})')
            flags.append(names == ('r', 'l'))
        return torch.tensor(flags, dtype=torch.bool)

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
        swap = self._right_first(data_samples).to(inputs.device)
        inputs = torch.where(
            swap.view(-1, 1, 1, 1), torch.cat([inputs[:, 3:], inputs[:, :3]],
                                              1), inputs)

        def field(key: str) -> Tensor:
            x = stack_pixel_field(data_samples, key).to(inputs.device)
            return torch.where(swap.view(-1, 1, 1, 1), x.flip(1), x)

        out = self._both_views(inputs)
        pseudo = field('gt_pseudo_depth').to(inputs)
        conf = field('gt_confidence').to(inputs)
        focal = stack_focal_lengths(data_samples, inputs)
        baseline = stack_baselines(data_samples, inputs)
        views = dict(
            pseudo_l=pseudo[:, :1],
            pseudo_r=pseudo[:, 1:],
            conf_l=conf[:, :1],
            conf_r=conf[:, 1:],
            focal=focal,
            baseline=baseline)
        losses = dict()
        depth_l = depth_r = None
        if self.with_depth_head:
            depth_l, depth_r = out['depth'][0], out['depth'][1]
            pred = torch.cat([depth_l, depth_r], dim=1)  # (B, 2, H, W)

            def unit(depth: Tensor) -> Tensor:
                return depth_in_unit(depth, self.depth_loss_unit, focal,
                                     baseline, self.depth_loss_unit_scale)

            losses[self.depth_loss.loss_name] = self.depth_loss(
                unit(pred), unit(pseudo),
                conf if self.use_confidence else None)
            if self.depth_cv_loss is not None:
                losses.update(self.depth_cv_loss(depth_l, depth_r, **views))
        if self.with_seg_head:
            label = field('gt_sem_seg').long()
            seg_l, seg_r = out['seg'][0], out['seg'][1]
            # Eq. 2: a sum over the views of the per-view cross-entropy
            losses[self.seg_loss.loss_name] = sum(
                self.seg_loss(seg, label[:, v], ignore_index=self.ignore_index)
                for v, seg in enumerate((seg_l, seg_r)))
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
