# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Confidence-weighted L1 depth regression (Pseudo-MTL, Eq. 1)."""
from typing import Optional

import torch
import torch.nn as nn
from torch import Tensor

from mmdepthseg.registry import MODELS


def confidence_weighted_mean(values: Tensor, weight: Tensor) -> Tensor:
    """Per-map weighted mean, summed over maps, averaged over the batch.

    For every sample ``b`` and map ``v`` (dim 1) the value is
    ``sum_p w(p) * x(p) / Z`` with ``Z = sum_p w(p)`` (the normaliser
    ``Z_i`` of Eq. 1). Maps are summed over dim 1 (Eq. 1 sums the views
    ``i in {l, r}``) and averaged over the samples that have ``Z > 0`` in
    at least one map; a map with ``Z = 0`` contributes 0. Pixels with zero
    weight never reach the result, even when ``values`` is not finite there.

    Args:
        values (Tensor): (B, V, H, W) per-pixel values.
        weight (Tensor): (B, V, H, W) non-negative weights (confidence times
            validity).

    Returns:
        Tensor: Scalar. 0 (connected to the graph of ``values``) when every
        weight is 0.
    """
    if values.shape != weight.shape:
        raise ValueError(f'confidence_weighted_mean: values '
                         f'{tuple(values.shape)} and weight '
                         f'{tuple(weight.shape)} must have the same shape')
    if values.dim() != 4:
        raise ValueError('confidence_weighted_mean expects (B, V, H, W) '
                         f'maps, got {tuple(values.shape)}')
    weight = weight.to(values.dtype)
    used = weight > 0
    # torch.where, not a product, so that inf/NaN outside the weighted
    # pixels cannot leak (0 * inf = NaN) into the value or its gradient.
    weighted = torch.where(used, values * weight, torch.zeros_like(values))
    num = weighted.flatten(2).sum(dim=2)  # (B, V)
    den = weight.flatten(2).sum(dim=2)  # (B, V)
    has = den > 0
    per_map = torch.where(has, num / den.clamp(min=1e-12),
                          torch.zeros_like(num))
    num_samples = has.any(dim=1).sum().clamp(min=1)
    return per_map.sum() / num_samples


@MODELS.register_module()
class ConfidenceWeightedL1Loss(nn.Module):
    """Confidence-weighted L1 depth regression, Eq. 1 of Pseudo-MTL.

    .. math::
        L_{reg}(C_i, d_i, d_i^{pgt}) = \\frac{1}{Z_i} \\sum_{p}
            C_i(p) \\, |d_i(p) - d_i^{pgt}(p)|, \\qquad
        Z_i = \\sum_p C_i(p)

    and ``L_d = sum_{i in {l, r}} L_reg(C_i, d_i, d_i^pgt)``.

    Interpretations:

    - ``p`` runs over the pixels with a valid pseudo depth (``> 0``; 0 means
      invalid in the data contract) and an optional caller mask; ``Z_i``
      sums the confidence over the same pixels. Pseudo-depth files give
      confidence 0 where the disparity is invalid, so this only matters when
      ``confidence`` is all ones.
    - ``Z_i`` is computed per image (and per view): with a batch, Eq. 1 is
      evaluated for each image and averaged over the images (those with
      ``Z > 0``).
    - Views may be stacked in dim 1: (B, V, H, W) inputs give
      ``sum over v`` of Eq. 1 per view (V = 2 is exactly ``L_d``); with
      (B, 1, H, W) the caller sums the left and right calls.

    Args:
        loss_weight (float): Weight of the loss (``alpha_d``; 850 in the
            paper's configs). Default: 1.0.
        loss_name (str): Name of the loss item; must start with ``loss_`` to
            be back-propagated. Default: 'loss_depth_conf'.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_depth_conf') -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self,
                pred: Tensor,
                target: Tensor,
                confidence: Optional[Tensor] = None,
                valid_mask: Optional[Tensor] = None) -> Tensor:
        """Compute the loss.

        Args:
            pred (Tensor): (B, V, H, W) predicted depth ``d_i`` (metres).
            target (Tensor): (B, V, H, W) pseudo depth ``d_i^pgt`` (metres,
                0 = invalid).
            confidence (Tensor, optional): (B, V, H, W) confidence ``C_i``
                in [0, 1]. None means 1 everywhere (plain masked L1).
            valid_mask (Tensor, optional): (B, V, H, W) boolean; pixels where
                it is False are ignored. Default: None.

        Returns:
            Tensor: Scalar ``loss_weight * L_d``.
        """
        name = type(self).__name__
        if pred.shape != target.shape:
            raise ValueError(f'{name}: pred {tuple(pred.shape)} and target '
                             f'{tuple(target.shape)} must have the same shape')
        if pred.dim() != 4:
            raise ValueError(f'{name} expects (B, V, H, W) depth maps, got '
                             f'{tuple(pred.shape)}')
        mask = target > 0
        if valid_mask is not None:
            if valid_mask.shape != target.shape:
                raise ValueError(f'{name}: valid_mask '
                                 f'{tuple(valid_mask.shape)} must have the '
                                 f'shape of target {tuple(target.shape)}')
            mask = mask & valid_mask.bool()
        if confidence is None:
            weight = mask.to(pred.dtype)
        else:
            if confidence.shape != target.shape:
                raise ValueError(f'{name}: confidence '
                                 f'{tuple(confidence.shape)} must have the '
                                 f'shape of target {tuple(target.shape)}')
            weight = torch.where(mask, confidence.to(pred.dtype),
                                 torch.zeros_like(pred))
        loss = confidence_weighted_mean((pred - target).abs(), weight)
        return self.loss_weight * loss

    @property
    def loss_name(self) -> str:
        """str: Name of the loss item (``loss_`` prefix = back-propagated)."""
        return self._loss_name
