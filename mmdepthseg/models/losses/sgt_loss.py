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

The authors' released code counts patches differently (anchor among the
positives, ``>= T``, out-of-image positions as negatives); both conventions
are options of :class:`SemanticGuidedTripletLoss`.
"""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmdepthseg.registry import MODELS
from .scale_weighting import check_scale_weighting, scale_weights


def half_patch_offsets(patch_size: int) -> List[Tuple[int, int]]:
    """The offsets ``(dy, dx)`` after the centre of a ``K x K`` patch.

    In raster order: ``(0, 1) .. (0, r)`` then the rows ``dy = 1 .. r``
    with ``dx = -r .. r`` (``r = K // 2``); every other non-zero offset is
    the negative of one of these. ``(K * K - 1) / 2`` offsets.
    """
    r = patch_size // 2
    return [(dy, dx) for dy in range(r + 1) for dx in range(-r, r + 1)
            if dy > 0 or dx > 0]


def _overlap(offset: Tuple[int, int], height: int,
             width: int) -> Tuple[Tuple[slice, slice], Tuple[slice, slice]]:
    """Slices of the pixels ``p`` whose neighbour ``p + offset`` is in the
    image, and of those neighbours (last two dims)."""
    dy, dx = offset  # dy >= 0
    x0 = max(0, -dx)
    x1 = width - max(0, dx)
    pixels = (slice(0, height - dy), slice(x0, x1))
    neighbours = (slice(dy, height), slice(x0 + dx, x1 + dx))
    return pixels, neighbours


class _PatchDots(torch.autograd.Function):
    """Dot products of every pixel's feature with its patch neighbours.

    ``out[:, j, y, x] = <feats[:, :, y, x], feats[:, :, y + dy_j, x + dx_j]>``
    for the ``K * K`` offsets ``(dy_j, dx_j)`` of the patch in raster order
    (``j = (dy + r) * K + dx + r``); 0 where the neighbour is outside the
    image and for the centre ``j = K * K // 2`` (not a neighbour).

    Each unordered pair of pixels is one fused ``vecdot`` on two views of
    ``feats`` (the offsets after the centre, :func:`half_patch_offsets`);
    its value is written for both pixels (offsets ``o`` and ``-o``). Only
    ``feats`` is saved for the backward pass, which adds ``g * neighbour``
    into the two overlapping regions in place. Autograd through views would
    instead build a zero-filled gradient of the whole map per view, and an
    unfold would hold ``K * K`` copies of ``feats``.
    """

    @staticmethod
    def forward(ctx, feats: Tensor, patch_size: int) -> Tensor:
        b, _, h, w = feats.shape
        offsets = half_patch_offsets(patch_size)
        centre = patch_size * patch_size // 2
        out = feats.new_zeros(b, 2 * centre + 1, h, w)
        for i, offset in enumerate(offsets):
            (ya, xa), (yb, xb) = _overlap(offset, h, w)
            dots = torch.linalg.vecdot(
                feats[:, :, ya, xa], feats[:, :, yb, xb], dim=1)
            out[:, centre + 1 + i, ya, xa] = dots  # +o of p: (p, p + o)
            out[:, centre - 1 - i, yb, xb] = dots  # -o of q = p + o: (q, p)
        ctx.save_for_backward(feats)
        ctx.offsets = offsets
        return out

    @staticmethod
    def backward(ctx, grad_out: Tensor) -> Tuple[Optional[Tensor], None]:
        feats, = ctx.saved_tensors
        h, w = feats.shape[-2:]
        centre = grad_out.shape[1] // 2
        grad = torch.zeros_like(feats)
        for i, offset in enumerate(ctx.offsets):
            (ya, xa), (yb, xb) = _overlap(offset, h, w)
            g = grad_out[:, centre + 1 + i:centre + 2 + i, ya, xa] + \
                grad_out[:, centre - 1 - i:centre - i, yb, xb]
            grad[:, :, ya, xa].addcmul_(g, feats[:, :, yb, xb])
            grad[:, :, yb, xb].addcmul_(g, feats[:, :, ya, xa])
        return grad, None


@MODELS.register_module()
class SemanticGuidedTripletLoss(nn.Module):
    """Semantics-guided triplet loss (FSRE-Depth, Sec. 3.2, Eq. 5-8).

    How a patch is counted follows either the paper's text (the defaults)
    or the authors' released code (hyBlue/FSRE-Depth, ``compute_sgt_loss``),
    each convention one switch:

    ============================  ========================  ==================
    switch                        text (default)            released code
    ============================  ========================  ==================
    ``count_anchor``              False: the anchor is not  True: the anchor is
                                  one of its positives      a positive at
                                                            distance ~0
    ``inclusive_threshold``       False: ``|P+|, |P-| > T`` True: ``>= T``
    ``padding_as_negative``       False: neighbours outside True: they are
                                  the image are neither     negatives at
                                  positive nor negative     distance sqrt(2)
                                                            (zero-padded
                                                            features)
    ``min_sq_distance``           None: ``d = 0`` where     1e-9: ``d =
                                  ``||a - b||^2 <= 1e-12``  sqrt(max(1e-9,
                                                            ||a - b||^2))``
    ============================  ========================  ==================

    With T = K - 1 = 4 (K = 5) the text counts a patch from 5 positive and 5
    negative neighbours, the released code from 3 positive neighbours (4
    with the anchor) and 4 negatives, border padding included.

    Further choices (both conventions):

    - **Ignore.** Pixels labelled ``ignore_index`` are neither positive nor
      negative; a patch whose anchor is ignored is not counted (the
      released code has no ignore label: its pseudo labels have none).
    - **Label size.** The label map is resized to the feature size with
      nearest-neighbour interpolation (``F.interpolate(mode='nearest')``), so
      no new label values are invented.
    - **No counted patch.** The loss is 0, still connected to ``feats`` (the
      released code's mean over no patch would be NaN).

    Speed and memory: the distances come from ``||a - b||^2 = 2 - 2 a.b``
    (unit vectors), exact up to float rounding (for nearly identical
    features the cancellation makes the distance ``~sqrt(eps_float)``,
    ~3e-4 in float32, instead of 0). The dot products of every pixel with
    its ``K*K - 1`` neighbours are one ``(B, K*K, H, W)`` map computed by
    :class:`_PatchDots`: one fused dot product per *pair* of pixels (half
    of the offsets; ``a.b`` serves both ``(p, p + o)`` and ``(p + o, p)``),
    with only the unit features kept for its hand-written backward pass.
    Neighbours outside the image have dot product 0, i.e. the distance
    ``sqrt(2)`` of a zero-padded feature, and no gradient. Everything after
    it (distances, masks from the unfolded label map, means, hinge) is a few
    batched operations on ``(B, K*K, H, W)`` maps, which are smaller than
    the features for ``C > K*K`` (an unfold of the features would hold
    ``K*K`` copies of them); the anchor's own term is a ``(B, H, W)`` map.
    The value equals the straightforward loop over the offsets up to float
    rounding.

    Args:
        patch_size (int): Patch size ``K`` (odd, >= 3). Default: 5.
        margin (float): Margin ``m`` of Eq. 7. Default: 0.3.
        min_count (int, optional): Threshold ``T`` on ``|P+|`` and ``|P-|``.
            Default: None (``K - 1``).
        inclusive_threshold (bool): Count a patch when ``|P+| >= T`` and
            ``|P-| >= T`` (released code) instead of ``> T`` (Eq. 8).
            Default: False.
        count_anchor (bool): The anchor is one of its own positives
            (released code). Default: False.
        padding_as_negative (bool): Positions outside the image are
            negatives at distance ``sqrt(2)`` (released code: labels padded
            with -1, features with 0). Default: False.
        min_sq_distance (float, optional): Floor of the squared distance
            before the square root (released code: 1e-9); None gives 0 for
            squared distances <= 1e-12 (sub-gradient 0). Default: None.
        ignore_index (int): Label value of ignored pixels. Default: 255.
        loss_weight (float): Weight ``delta`` of the loss. Default: 0.1.
        scale_weighting (str): How the model combines the loss of the
            feature layers, by the layer's scale ``s`` (resolution
            ``1 / 2^s``): 'sum' (Sec. 3.2.2: "We sum over the L_SGT ... across
            multiple layers") or 'halved_sum' (released code, ``1 / 2^s``);
            see :mod:`~mmdepthseg.models.losses.scale_weighting`.
            Default: 'sum'.
        loss_name (str): Name of the loss item in the loss dict; it must
            start with ``loss_`` to be back-propagated. Default: 'loss_sgt'.
    """

    def __init__(self,
                 patch_size: int = 5,
                 margin: float = 0.3,
                 min_count: Optional[int] = None,
                 inclusive_threshold: bool = False,
                 count_anchor: bool = False,
                 padding_as_negative: bool = False,
                 min_sq_distance: Optional[float] = None,
                 ignore_index: int = 255,
                 loss_weight: float = 0.1,
                 scale_weighting: str = 'sum',
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
        if min_sq_distance is not None and min_sq_distance <= 0:
            raise ValueError('SemanticGuidedTripletLoss: min_sq_distance '
                             f'must be > 0 or None, got {min_sq_distance}')
        self.patch_size = patch_size
        self.margin = margin
        self.min_count = min_count
        self.inclusive_threshold = inclusive_threshold
        self.count_anchor = count_anchor
        self.padding_as_negative = padding_as_negative
        self.min_sq_distance = min_sq_distance
        self.ignore_index = ignore_index
        self.loss_weight = loss_weight
        self.scale_weighting = check_scale_weighting(scale_weighting,
                                                     type(self).__name__)
        self._loss_name = loss_name

    def layer_weights(self, scales: Sequence[int]) -> List[float]:
        """Weights of the losses of feature layers at ``scales``.

        Args:
            scales (Sequence[int]): Scale ``s`` (resolution ``1 / 2^s`` of
                the input) of each layer's features.

        Returns:
            list[float]: One weight per layer (``scale_weighting``).
        """
        return scale_weights(self.scale_weighting, scales)

    def _distance(self, sq: Tensor) -> Tensor:
        """Euclidean distance from a squared distance (>= 0)."""
        if self.min_sq_distance is not None:
            # sqrt(max(floor, d^2)): no gradient below the floor
            return sq.clamp(min=self.min_sq_distance).sqrt()
        eps = 1e-12
        # sqrt with a finite gradient at 0 (sub-gradient 0 there)
        return torch.where(sq > eps,
                           sq.clamp(min=eps).sqrt(), sq.new_zeros(()))

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
        k = self.patch_size
        r = k // 2

        # unit features: F.normalize's x / max(||x||, eps), with the norm
        # from a fused vecdot (the norm kernel is slow over channels)
        sq_norm = torch.linalg.vecdot(feats, feats, dim=1)[:, None]
        unit = feats / sq_norm.clamp(min=1e-24).sqrt()
        # ||a - b||^2 = 2 - 2 a.b for unit vectors, (B, K*K, H, W); outside
        # the image a.b = 0 (zero-padded features): d = sqrt(2)
        sq = (2. - 2. * _PatchDots.apply(unit, k)).clamp(min=0.)
        dist = self._distance(sq)
        zero = sq.new_zeros(())

        # neighbour labels of every offset, same order; float holds class
        # ids exactly (< 2^24). Padding: ignored, or a label of no class
        # (a negative of every anchor). The centre is ignored here and
        # added below when the anchor counts.
        pad_value = self.ignore_index
        if self.padding_as_negative:
            pad_value = -2 if self.ignore_index == -1 else -1
        label_pad = F.pad(
            label[:, None].float(), (r, r, r, r), value=pad_value)
        nb_label = F.unfold(
            label_pad, kernel_size=k).view(label.shape[0], k * k, height,
                                           width)
        nb_label[:, k * k // 2] = self.ignore_index
        anchor = label[:, None].float()
        valid = anchor != self.ignore_index
        pair = valid & (nb_label != self.ignore_index)
        same = pair & (nb_label == anchor)
        other = pair & (nb_label != anchor)

        pos_sum = torch.where(same, dist, zero).sum(dim=1)
        neg_sum = torch.where(other, dist, zero).sum(dim=1)
        pos_cnt = same.sum(dim=1)
        neg_cnt = other.sum(dim=1)
        if self.count_anchor:
            # the anchor's distance to itself: ~0 for a unit feature (sqrt(2)
            # for a zero one), as a.a of the normalised feature; it carries
            # no gradient (a.a = 1 for every non-zero feature)
            self_sq = (2. - 2. * torch.linalg.vecdot(unit, unit, dim=1)).clamp(
                min=0.).detach()
            valid = valid[:, 0]
            pos_sum = pos_sum + torch.where(valid, self._distance(self_sq),
                                            zero)
            pos_cnt = pos_cnt + valid
        if self.inclusive_threshold:
            counted = (pos_cnt >= self.min_count) & (neg_cnt >= self.min_count)
        else:
            counted = (pos_cnt > self.min_count) & (neg_cnt > self.min_count)
        d_pos = pos_sum / pos_cnt.clamp(min=1)
        d_neg = neg_sum / neg_cnt.clamp(min=1)
        hinge = (d_pos - d_neg + self.margin).clamp(min=0.)
        # where (not multiply) keeps the graph when no patch counts: 0 * sum
        loss = torch.where(counted, hinge,
                           zero).sum() / counted.sum().clamp(min=1)
        return self.loss_weight * loss

    @property
    def loss_name(self) -> str:
        """str: Name of the loss item (``loss_`` prefix = back-propagated)."""
        return self._loss_name
