# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Reverse Huber (BerHu) depth regression loss (SemiMTL, Sec. 3.4)."""
from typing import Optional

import torch
import torch.nn as nn
from torch import Tensor

from mmdepthseg.registry import MODELS


def berhu(residual: Tensor, threshold: Tensor) -> Tensor:
    """The reverse Huber function, element-wise.

    .. math::
        B(r) = |r|                   \\quad \\text{if } |r| \\le c, \\qquad
        B(r) = \\frac{r^2 + c^2}{2c}  \\quad \\text{otherwise}

    Args:
        residual (Tensor): Residuals ``r``, any shape.
        threshold (Tensor): Scalar ``c >= 0``. ``c = 0`` is allowed: with
            ``c`` a fraction of the largest residual it means every residual
            is 0 and takes the linear branch. The quadratic branch divides
            by ``max(c, 1e-12)`` so that it never produces NaN, even where
            :func:`torch.where` discards it (its gradient would still flow).

    Returns:
        Tensor: ``B(r)``, the shape of ``residual``.
    """
    abs_res = residual.abs()
    c = threshold.clamp(min=1e-12)
    quadratic = (abs_res.square() + c.square()) / (2 * c)
    return torch.where(abs_res <= threshold, abs_res, quadratic)


@MODELS.register_module()
class BerHuLoss(nn.Module):
    """Reverse Huber loss with a batch-adaptive threshold.

    The depth loss of SemiMTL (Sec. 3.4, after Laina et al., 2016): with
    residuals ``r = pred - target`` over the valid pixels ``M`` of the batch,

    .. math::
        c = \\tau \\max_{p \\in M} |r_p|, \\qquad
        L = w \\frac{1}{|M|} \\sum_{p \\in M} B_c(r_p)

    with ``tau = 0.2`` (the paper's ``c = 1/5`` of the largest residual). ``c``
    is detached (a constant of the step, as in the reference formulation).
    Valid pixels have a finite target (the SemiMTL contract marks invalid
    depth with NaN, so 0 is a valid target, e.g. the sky's inverse depth),
    optionally restricted further by a caller-given mask. Without any valid
    pixel the loss is 0, still connected to the graph of ``pred``.

    Args:
        threshold (float): Fraction ``tau`` of the largest absolute residual
            used as ``c``. Default: 0.2.
        loss_weight (float): Weight ``w``. Default: 1.0.
        loss_name (str): Name of the loss item; it must start with ``loss_``
            to be back-propagated. Default: 'loss_depth'.
    """

    def __init__(self,
                 threshold: float = 0.2,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_depth') -> None:
        super().__init__()
        if not threshold > 0:
            raise ValueError(
                f'BerHuLoss: threshold must be > 0, got {threshold}')
        self.threshold = threshold
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self,
                pred: Tensor,
                target: Tensor,
                valid_mask: Optional[Tensor] = None) -> Tensor:
        """Compute the loss.

        Args:
            pred (Tensor): Prediction, e.g. ``(B, 1, H, W)``.
            target (Tensor): Regression target of the same shape; NaN (any
                non-finite value) marks invalid pixels.
            valid_mask (Tensor, optional): Extra boolean mask of the same
                shape; pixels where it is False are ignored. Default: None.

        Returns:
            Tensor: Scalar loss.
        """
        if pred.shape != target.shape:
            raise ValueError(f'BerHuLoss: pred {tuple(pred.shape)} and target '
                             f'{tuple(target.shape)} must have the same shape')
        mask = torch.isfinite(target)
        if valid_mask is not None:
            if valid_mask.shape != target.shape:
                raise ValueError(
                    f'BerHuLoss: valid_mask {tuple(valid_mask.shape)} must '
                    f'have the shape of target {tuple(target.shape)}')
            mask = mask & valid_mask.bool()
        if not mask.any():
            return pred.sum() * 0
        # Index rather than multiply so that invalid targets (NaN) cannot
        # leak into the value or the gradient.
        residual = pred[mask] - target[mask]
        c = self.threshold * residual.detach().abs().max()
        return self.loss_weight * berhu(residual, c).mean()

    @property
    def loss_name(self) -> str:
        """str: Name of the loss item (``loss_`` prefix = back-propagated)."""
        return self._loss_name
