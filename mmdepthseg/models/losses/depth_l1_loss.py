# Copyright (c) mmdepthseg contributors. All rights reserved.
"""L1 loss on the valid pixels of a metric depth map."""
from typing import Optional

import torch.nn as nn
from torch import Tensor

from mmdepthseg.registry import MODELS


@MODELS.register_module()
class DepthL1Loss(nn.Module):
    """Mean absolute depth error over valid pixels.

    .. math::
        L = w \\cdot \\frac{1}{|M|} \\sum_{p \\in M} |\\hat{d}_p - d_p|

    where ``M`` holds the pixels with ground truth ``d > 0`` (0 marks invalid
    depth in the data contract), optionally restricted to
    ``[min_depth, max_depth]`` and to a caller-given mask. When no pixel is
    valid the loss is 0 (still connected to the graph of ``pred``).

    Args:
        min_depth (float, optional): Ignore ground truth below this value
            (metres). Default: None.
        max_depth (float, optional): Ignore ground truth above this value
            (metres). Default: None.
        loss_weight (float): Weight ``w`` of the loss. Default: 1.0.
        loss_name (str): Name of the loss item in the loss dict; it must
            start with ``loss_`` to be back-propagated. Default: 'loss_depth'.
    """

    def __init__(self,
                 min_depth: Optional[float] = None,
                 max_depth: Optional[float] = None,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_depth') -> None:
        super().__init__()
        if (min_depth is not None and max_depth is not None
                and min_depth >= max_depth):
            raise ValueError(f'DepthL1Loss: min_depth ({min_depth}) must be '
                             f'smaller than max_depth ({max_depth})')
        self.min_depth = min_depth
        self.max_depth = max_depth
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def valid_mask(self, target: Tensor) -> Tensor:
        """Pixels whose ground truth depth is valid and inside the range.

        Args:
            target (Tensor): Ground truth depth, any shape, metres.

        Returns:
            Tensor: Boolean mask of the same shape.
        """
        mask = target > 0
        if self.min_depth is not None:
            mask = mask & (target >= self.min_depth)
        if self.max_depth is not None:
            mask = mask & (target <= self.max_depth)
        return mask

    def forward(self,
                pred: Tensor,
                target: Tensor,
                valid_mask: Optional[Tensor] = None) -> Tensor:
        """Compute the loss.

        Args:
            pred (Tensor): Predicted depth, e.g. ``(B, 1, H, W)``, metres.
            target (Tensor): Ground truth depth of the same shape, metres,
                0 = invalid.
            valid_mask (Tensor, optional): Extra boolean mask of the same
                shape; pixels where it is False are ignored. Default: None.

        Returns:
            Tensor: Scalar loss.
        """
        if pred.shape != target.shape:
            raise ValueError(
                f'DepthL1Loss: pred {tuple(pred.shape)} and target '
                f'{tuple(target.shape)} must have the same shape')
        mask = self.valid_mask(target)
        if valid_mask is not None:
            if valid_mask.shape != target.shape:
                raise ValueError(
                    f'DepthL1Loss: valid_mask {tuple(valid_mask.shape)} must '
                    f'have the shape of target {tuple(target.shape)}')
            mask = mask & valid_mask.bool()
        # Index rather than multiply so that a non-finite prediction on an
        # invalid pixel cannot leak into the loss.
        abs_err = (pred - target).abs()[mask]
        num_valid = mask.sum().clamp(min=1)
        return self.loss_weight * abs_err.sum() / num_valid

    @property
    def loss_name(self) -> str:
        """str: Name of the loss item (``loss_`` prefix = back-propagated)."""
        return self._loss_name
