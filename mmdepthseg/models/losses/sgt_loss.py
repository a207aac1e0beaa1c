# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Semantics-guided triplet loss (SGT) of FSRE-Depth.

Jung et al., "Fine-grained Semantics-aware Representation Enhancement for
Self-supervised Monocular Depth Estimation", ICCV 2021, Sec. 3.2, Eq. 5-8.

Every pixel ``i`` is the anchor of the ``K x K`` patch ``P_i`` of the label map
centred on it (stride 1). Pixels of the patch with the anchor's class are the
positives ``P_i^+``, pixels of other classes the negatives ``P_i^-``. On the
L2-normalised depth-decoder features ``F^`` (Eq. 5-6)::

    d+(i) = mean_{j in P_i^+} ||F^(i) - F^(j)||_2
    d-(i) = mean_{j in P_i^-} ||F^(i) - F^(j)||_2
    L_i   = max(0, d+(i) + m - d-(i))                             (Eq. 7)
    L_SGT = mean of L_i over the patches with |P+| > T and |P-| > T (Eq. 8)
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmdepthseg.registry import MODELS


@MODELS.register_module()
class SemanticGuidedTripletLoss(nn.Module):
    """Semantics-guided triplet loss (FSRE-Depth, Eq. 5-8).

    Choices where the paper leaves room (each deliberate):

    - **Anchor excluded.** The anchor is not one of its own positives: a patch
      has at most ``K*K - 1`` positives + negatives (the anchor's zero distance
      would only dilute ``d+``).
    - **Borders.** Patches are zero/ignore padded: neighbours outside the image
      are neither positive nor negative (so border patches have fewer
      candidates and need ``> T`` of each like any other).
    - **Ignore.** Pixels labelled ``ignore_index`` are neither positive nor
      negative; a patch whose anchor is ignored is not counted.
    - **Label size.** The label map is resized to the feature size with
      nearest-neighbour interpolation (``F.interpolate(mode='nearest')``), so
      no new label values are invented.
    - **No counted patch.** The loss is 0, still connected to ``feats``.

    Memory: instead of gathering the ``K*K`` neighbours of every pixel (an
    unfold, ``K^2 * B*C*H*W`` floats, all kept for backward), the loss loops
    over the ``K*K - 1`` offsets. Per offset it computes the distance map of
    every pixel to its shifted neighbour from ``||a - b||^2 = 2 - 2 a.b``
    (unit vectors), which is exact up to float rounding; for nearly identical
    features the cancellation makes the distance ``~sqrt(eps_float)``
    (~3e-4 in float32) instead of 0. Only ``(B, H, W)`` maps are kept per
    offset; the ``(B, C, H, W)`` product is a temporary.

    Args:
        patch_size (int): Patch size ``K`` (odd, >= 3). Default: 5.
        margin (float): Margin ``m`` of Eq. 7. Default: 0.3.
        min_count (int, optional): Threshold ``T``: a patch counts only when
            both ``|P+| > T`` and ``|P-| > T``. Default: None (``K - 1``).
        ignore_index (int): Label value of ignored pixels. Default: 255.
        loss_weight (float): Weight ``delta`` of the loss. Default: 0.1.
        loss_name (str): Name of the loss item in the loss dict; it must
            start with ``loss_`` to be back-propagated. Default: 'loss_sgt'.
    """

    def __init__(self,
                 patch_size: int = 5,
                 margin: float = 0.3,
                 min_count: Optional[int] = None,
                 ignore_index: int = 255,
                 loss_weight: float = 0.1,
                 loss_name: str = 'loss_sgt') -> None:
        super().__init__()
        if (not isinstance(patch_size, int) or patch_size < 3
                or patch_size % 2 == 0):
            raise ValueError('SemanticGuidedTripletLoss: patch_size must be '
                             f'an odd int >= 3, got {patch_size!r}')
        if min_count is None:
            min_count = patch_size - 1
        if min_count < 0:
            raise ValueError('SemanticGuidedTripletLoss: min_count must be '
                             f'>= 0, got {min_count}')
        self.patch_size = patch_size
        self.margin = margin
        self.min_count = min_count
        self.ignore_index = ignore_index
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def _prepare_label(self, seg_label: Tensor, feats: Tensor) -> Tensor:
        """Check the label map and resize it (nearest) to the feature size.

        Args:
            seg_label (Tensor): ``(B, H', W')`` or ``(B, 1, H', W')`` labels.
            feats (Tensor): ``(B, C, H, W)`` features.

        Returns:
            Tensor: ``(B, H, W)`` long labels.
        """
        if seg_label.dim() == 4 and seg_label.shape[1] == 1:
            seg_label = seg_label[:, 0]
        if seg_label.dim() != 3 or seg_label.shape[0] != feats.shape[0]:
            raise ValueError(
                'SemanticGuidedTripletLoss: seg_label must be (B, H, W) or '
                f'(B, 1, H, W) with B = {feats.shape[0]}, got '
                f'{tuple(seg_label.shape)}')
        if seg_label.is_floating_point():
            raise TypeError('SemanticGuidedTripletLoss: seg_label must hold '
                            f'integer class ids, got {seg_label.dtype}')
        if seg_label.shape[-2:] != feats.shape[-2:]:
            seg_label = F.interpolate(
                seg_label[:, None].float(),
                size=feats.shape[-2:],
                mode='nearest')[:, 0]
        return seg_label.long()

    def forward(self, feats: Tensor, seg_label: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            feats (Tensor): Depth-decoder features ``(B, C, H, W)``.
            seg_label (Tensor): Integer (pseudo) labels ``(B, H', W')`` or
                ``(B, 1, H', W')``; resized to ``(H, W)`` with nearest.

        Returns:
            Tensor: Scalar loss, ``loss_weight * L_SGT``.
        """
        if feats.dim() != 4:
            raise ValueError('SemanticGuidedTripletLoss: feats must be '
                             f'(B, C, H, W), got {tuple(feats.shape)}')
        label = self._prepare_label(seg_label, feats)
        height, width = feats.shape[-2:]
        r = self.patch_size // 2

        unit = F.normalize(feats, p=2, dim=1)
        # Pad once so that every shifted neighbour map is a plain view; padded
        # features are zero and padded labels are ignored (neither pos/neg).
        unit_pad = F.pad(unit, (r, r, r, r), value=0.)
        label_pad = F.pad(label, (r, r, r, r), value=self.ignore_index)
        valid_pad = label_pad != self.ignore_index
        anchor_valid = label != self.ignore_index

        zeros = unit.new_zeros(label.shape)
        pos_sum, neg_sum = zeros, zeros
        pos_cnt = torch.zeros_like(label)
        neg_cnt = torch.zeros_like(label)
        eps = 1e-12
        for dy in range(-r, r + 1):
            for dx in range(-r, r + 1):
                if dy == 0 and dx == 0:
                    continue  # the anchor is not its own positive
                ys, xs = r + dy, r + dx
                nb_unit = unit_pad[:, :, ys:ys + height, xs:xs + width]
                nb_label = label_pad[:, ys:ys + height, xs:xs + width]
                nb_valid = valid_pad[:, ys:ys + height, xs:xs + width]
                # ||a - b||^2 = 2 - 2 a.b for unit vectors (B, H, W)
                sq = (2. - 2. * (unit * nb_unit).sum(dim=1)).clamp(min=0.)
                # sqrt with a finite gradient at 0 (sub-gradient 0 there)
                dist = torch.where(sq > eps, sq.clamp(min=eps).sqrt(), zeros)
                pair = anchor_valid & nb_valid
                same = pair & (nb_label == label)
                other = pair & (nb_label != label)
                pos_sum = pos_sum + torch.where(same, dist, zeros)
                neg_sum = neg_sum + torch.where(other, dist, zeros)
                pos_cnt += same
                neg_cnt += other

        counted = (pos_cnt > self.min_count) & (neg_cnt > self.min_count)
        d_pos = pos_sum / pos_cnt.clamp(min=1)
        d_neg = neg_sum / neg_cnt.clamp(min=1)
        hinge = (d_pos - d_neg + self.margin).clamp(min=0.)
        # where (not multiply) keeps the graph when no patch counts: 0 * sum
        loss = torch.where(counted, hinge,
                           zeros).sum() / counted.sum().clamp(min=1)
        return self.loss_weight * loss

    @property
    def loss_name(self) -> str:
        """str: Name of the loss item (``loss_`` prefix = back-propagated)."""
        return self._loss_name
