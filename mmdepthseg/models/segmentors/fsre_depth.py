# Copyright (c) mmdepthseg contributors. All rights reserved.
"""FSRE-Depth: self-supervised monocular depth with semantic guidance."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmseg.models.utils import resize
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig, SampleList
from torch import Tensor

from mmdepthseg.registry import MODELS
from mmdepthseg.structures import (read_view_names, stack_intrinsics,
                                   stack_stereo_transforms)
from ..layers.geometry import reprojection_grids, sigmoid_to_depth
from ..utils import stack_pixel_field
from .base import BaseDepthSegmentor


@MODELS.register_module()
class FSREDepth(BaseDepthSegmentor):
    """FSRE-Depth (Jung et al., ICCV 2021).

    A shared encoder feeds :class:`~mmdepthseg.models.decode_heads.
    FSREDualDecoder` (depth and segmentation decoders joined by cross-task
    multi-embedding attention, Sec. 3.3); a separate :class:`~mmdepthseg.
    models.pose.PoseNet` predicts the motion to the neighbouring frames. The
    training loss is the baseline loss of Eq. 4 plus the cross-entropy
    (Sec. 3.1.2) and the SGT loss (Sec. 3.2.2)::

        L = L_ph + beta * L_sm + gamma * L_CE + delta * L_SGT

    with the weights inside the loss modules (``beta`` = 1e-3,
    ``gamma`` = 0.3, ``delta`` = 0.1, Sec. 4.2.2). The paper gives no
    equation for the sum (its Eq. 9-10 define the CMA feature). How the
    terms of the decoder scales / layers are combined is each loss's
    ``scale_weighting`` (:mod:`~mmdepthseg.models.losses.scale_weighting`);
    the defaults here and in ``configs/_base_/models/fsre_r18.py`` are the
    authors' released code (``sum_s L_s / 2^s`` for all three multi-scale
    terms), ``configs/fsre/fsre_r18_kitti_paper-text.py`` the reading of
    the text (Monodepth2's means, SGT layers summed).

    - **Photometric** (Sec. 3.1, Eq. 1-2): each scale's disparity is
      upsampled to the input size, converted to depth (0.1-100 m), and the
      un-augmented source frames are warped into the target with the
      predicted poses; per-pixel minimum over sources and auto-masking
      against the identity reprojection, whose errors are computed **once**
      per step (they do not depend on the scale). All scales and sources
      are warped by one batched view synthesis and scored by one batched
      photometric error (:meth:`PhotometricReprojectionLoss.
      multi_scale_loss`), which equals the loop over scales and sources up
      to float rounding.
    - **Smoothness** (Eq. 3): edge-aware, on mean-normalised disparity
      against the image resized (area) to that scale
      (:meth:`EdgeAwareSmoothnessLoss.multi_scale_loss`).
    - **CE** on the pseudo labels of the target frame (view 0 of
      ``gt_sem_seg``), ``ignore_index`` ignored.
    - **SGT** (Sec. 3.2, Eq. 5-8) on the depth-decoder features of the
      decoder's ``feature_layers`` (paper: 1, 2, 3); layer ``l`` is at scale
      ``s = num_layers - 1 - l`` for the ``scale_weighting`` of the SGT
      loss.

    Setting ``seg_loss`` / ``sgt_loss`` to None and the decoder's
    ``cma_layers`` to ``()`` gives the ablations of Table 1b (Monodepth2
    baseline, +CE, +SGT, +CMA).

    Frames are named by the dataset's ``view_names``: ``'t'`` is the target
    (view 0), ``'t-k'`` sources before it and ``'t+k'`` after it, ``'s'`` the
    stereo partner (warped with the rig's ``stereo_T``).

    Args:
        backbone (dict): Encoder config (``ResNetEncoder``).
        decoder (dict): ``FSREDualDecoder`` config.
        pose_net (dict): ``PoseNet`` config.
        photometric_loss (dict): Photometric loss config.
        smoothness_loss (dict): Smoothness loss config.
        seg_loss (dict, optional): Cross-entropy config (MMSegmentation's
            ``CrossEntropyLoss``); None disables it.
        sgt_loss (dict, optional): ``SemanticGuidedTripletLoss`` config;
            None disables it.
        min_depth (float): Smallest depth. Default: 0.1.
        max_depth (float): Largest depth. Default: 100.
        pose_input_size (tuple[int, int], optional): ``(h, w)`` the two
            frames are resized to (bilinear) before the pose network when
            the input has another size; the released code feeds the pose
            network 192x640 frames when it trains at a higher resolution.
            Default: None (the input size).
        ignore_index (int): Label of unlabelled pixels. Default: 255.
        train_cfg, test_cfg, data_preprocessor, init_cfg: As for
            :class:`BaseDepthSegmentor`.
    """

    #: Self-supervised depth is up to scale: evaluated after median scaling.
    depth_kind = 'relative'

    def __init__(self,
                 backbone: ConfigType,
                 decoder: ConfigType,
                 pose_net: ConfigType = dict(type='PoseNet'),
                 photometric_loss: ConfigType = dict(
                     type='PhotometricReprojectionLoss',
                     scale_weighting='halved_sum'),
                 smoothness_loss: ConfigType = dict(
                     type='EdgeAwareSmoothnessLoss',
                     loss_weight=1e-3,
                     scale_weighting='halved_sum'),
                 seg_loss: OptConfigType = dict(
                     type='CrossEntropyLoss',
                     loss_weight=0.3,
                     avg_non_ignore=True,
                     loss_name='loss_ce'),
                 sgt_loss: OptConfigType = dict(
                     type='SemanticGuidedTripletLoss',
                     loss_weight=0.1,
                     inclusive_threshold=True,
                     count_anchor=True,
                     padding_as_negative=True,
                     min_sq_distance=1e-9,
                     scale_weighting='halved_sum'),
                 min_depth: float = 0.1,
                 max_depth: float = 100.0,
                 pose_input_size: Optional[Tuple[int, int]] = None,
                 ignore_index: int = 255,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(
            backbone=backbone,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        decoder = dict(decoder)
        decoder.setdefault('in_channels', self.backbone.out_channels)
        self.decoder = MODELS.build(decoder)
        self.pose_net = MODELS.build(pose_net)
        self.photometric_loss = MODELS.build(photometric_loss)
        self.smoothness_loss = MODELS.build(smoothness_loss)
        self.seg_loss = MODELS.build(seg_loss) if seg_loss else None
        self.sgt_loss = MODELS.build(sgt_loss) if sgt_loss else None
        self.min_depth = min_depth
        self.max_depth = max_depth
        self.pose_input_size = None if pose_input_size is None else tuple(
            pose_input_size)
        self.ignore_index = ignore_index

    @property
    def tasks(self) -> Tuple[str, ...]:
        """tuple[str]: The dual decoder predicts both."""
        return ('depth', 'seg')

    def _depth(self, disp: Tensor) -> Tensor:
        return sigmoid_to_depth(disp, self.min_depth, self.max_depth)[1]

    def _source_poses(self, inputs: Tensor,
                      data_samples: SampleList) -> List[Tensor]:
        """``T_target2source`` ``(B, 4, 4)`` for views 1..V-1.

        Temporal sources (``'t-k'`` before, ``'t+k'`` after the target) get
        the pose network's prediction; the stereo partner ``'s'`` gets the
        rig's fixed ``stereo_T`` from the metainfo (Monodepth2's M+S
        setting). The pose network reads the frames at
        ``pose_input_size`` when it is set.
        """
        view_names = read_view_names(data_samples[0])
        frames = inputs
        if self.pose_input_size is not None and \
                tuple(inputs.shape[-2:]) != self.pose_input_size:
            frames = F.interpolate(
                inputs,
                size=self.pose_input_size,
                mode='bilinear',
                align_corners=False)
        poses = []
        for j, name in enumerate(view_names[1:], start=1):
            source = frames[:, 3 * j:3 * j + 3]
            if name.startswith(('t-', 't+')):
                poses.append(
                    self.pose_net(frames[:, :3], source,
                                  name.startswith('t-')))
            elif name == 's':
                poses.append(stack_stereo_transforms(data_samples, inputs))
            else:
                raise ValueError(
                    "FSREDepth expects source views named 't-k', 't+k' or "
                    f"'s' after the target, got view_names={view_names}")
        return poses

    def _warp_all_scales(self, disps: Sequence[Tensor],
                         sources: Sequence[Tensor], K: Tensor,
                         poses: Sequence[Tensor]) -> Tensor:
        """Warp every source with the depth of every scale, in one call.

        Each scale's disparity is upsampled (bilinear) to the input size --
        scale 0 already has it and is used as is -- and converted to depth;
        :func:`reprojection_grids` projects the target pixels into every
        source with every depth (what :func:`view_synthesis` does for one
        pair) and one ``grid_sample`` samples the ``S * B`` source images
        at the N scales' grids stacked along the height (bilinear, border
        padding, as ``view_synthesis``).

        Args:
            disps (Sequence[Tensor]): N disparities ``(B, 1, h_n, w_n)``.
            sources (Sequence[Tensor]): S source images ``(B, 3, H, W)``.
            K (Tensor): ``(B, 3, 3)`` intrinsics at ``(H, W)``.
            poses (Sequence[Tensor]): S transforms ``T_target2source``
                ``(B, 4, 4)``.

        Returns:
            Tensor: ``(N, S, B, 3, H, W)`` warped sources.
        """
        size = sources[0].shape[-2:]
        disp = torch.stack([
            d if d.shape[-2:] == size else resize(
                d, size=size, mode='bilinear', align_corners=False)
            for d in disps
        ])  # (N, B, 1, H, W)
        depth = self._depth(disp)
        grids = reprojection_grids(depth, K, torch.stack(list(poses)))
        s, b, n = grids.shape[:3]
        height, width = size
        # the N grids of a source stacked along H: each source image is
        # sampled (and kept for backward) once, not copied per scale
        src = torch.stack(list(sources)).flatten(0, 1)  # (S*B, 3, H, W)
        warped = F.grid_sample(
            src,
            grids.reshape(s * b, n * height, width, 2).to(src.dtype),
            mode='bilinear',
            padding_mode='border',
            align_corners=True)  # (S*B, 3, N*H, W)
        return warped.view(s, b, 3, n, height, width).permute(3, 0, 1, 2, 4, 5)

    def loss(self, inputs: Tensor,
             data_samples: SampleList) -> Dict[str, Tensor]:
        """Self-supervised losses of one batch.

        Args:
            inputs (Tensor): ``(B, 3V, H, W)`` normalised frames, target
                first.
            data_samples (list[SegDataSample]): With ``unaug_img``
                ``(3V, H, W)`` in [0, 1], metainfo ``intrinsics`` (3x3 at the
                input size) and ``view_names``, and ``gt_sem_seg`` pseudo
                labels when CE or SGT is on.

        Returns:
            dict[str, Tensor]: ``loss_photo``, ``loss_smooth`` and, when on,
            ``loss_ce``, ``loss_sgt``.
        """
        poses = self._source_poses(inputs, data_samples)
        out = self.decoder(self.extract_feat(inputs))
        K = stack_intrinsics(data_samples, inputs)
        unaug = stack_pixel_field(data_samples, 'unaug_img').to(inputs)
        target = unaug[:, :3]
        sources = [unaug[:, 3 * j:3 * j + 3] for j in range(1, len(poses) + 1)]
        identity = self.photometric_loss.identity_error(
            sources, target) if self.photometric_loss.automask else None
        losses = {
            self.photometric_loss.loss_name:
            self.photometric_loss.multi_scale_loss(
                self._warp_all_scales(out['disps'], sources, K, poses),
                target,
                identity=identity),
            self.smoothness_loss.loss_name:
            self.smoothness_loss.multi_scale_loss(out['disps'], target)
        }

        if self.seg_loss is not None or self.sgt_loss is not None:
            label = stack_pixel_field(data_samples, 'gt_sem_seg')[:, 0].long()
        if self.seg_loss is not None:
            losses[self.seg_loss.loss_name] = self.seg_loss(
                out['seg_logits'], label, ignore_index=self.ignore_index)
        if self.sgt_loss is not None:
            feats = out['depth_feats']
            scales = [self.decoder.num_layers - 1 - layer for layer in feats]
            weights = self.sgt_loss.layer_weights(scales)
            losses[self.sgt_loss.loss_name] = sum(
                weight * self.sgt_loss(feat, label)
                for weight, feat in zip(weights, feats.values()))
        return losses

    def decode(self, inputs: Tensor,
               batch_img_metas: List[dict]) -> Dict[str, Tensor]:
        """Depth from the finest disparity (relative scale, in the
        0.1-100 range of the training scale) and the logits, at the input
        size."""
        out = self.decoder(self.extract_feat(inputs))
        return dict(
            depth=self._depth(out['disps'][0]), seg=out['seg_logits'])

    def _forward(self,
                 inputs: Tensor,
                 data_samples: Optional[SampleList] = None) -> dict:
        """Raw decoder outputs (``disps``, ``seg_logits``, ``depth_feats``).
        """
        return self.decoder(self.extract_feat(inputs))
