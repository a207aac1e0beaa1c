# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Edge-aware disparity smoothness loss."""
import torch.nn as nn
from torch import Tensor

from mmdepthseg.registry import MODELS


@MODELS.register_module()
class EdgeAwareSmoothnessLoss(nn.Module):
    """Edge-aware first-order smoothness of a disparity map.

    FSRE-Depth (Jung et al., ICCV 2021, Sec. 3.1, Eq. 3), after Godard et
    al. (CVPR 2017) and Monodepth2:

    .. math::
        L_{sm} = \\overline{|\\partial_x d^*| e^{-|\\partial_x I|}}
            + \\overline{|\\partial_y d^*| e^{-|\\partial_y I|}}

    where ``d* = d / mean(d)`` (per image, Monodepth2; prevents shrinking
    the disparity to lower the loss), ``|∂I|`` is averaged over the colour
    channels, the derivatives are forward differences between neighbouring
    pixels, and the bars are means over all difference positions. The
    result is multiplied by ``loss_weight`` (``beta = 1e-3``, FSRE Sec. 4.2).

    Deliberate choices:

    - The per-scale ``1 / 2^s`` factor of Monodepth2 is NOT applied here:
      the model divides the loss of scale ``s`` by ``2^s`` itself.
    - Eq. 3 as printed uses ``d_t``; following Monodepth2 (which the paper
      builds on) the mean-normalised disparity is used by default
      (``normalize_disp=True``), with ``1e-7`` added to the mean.

    Args:
        loss_weight (float): Weight ``beta`` of the loss. Default: 1e-3.
        normalize_disp (bool): Divide the disparity by its per-image mean.
            Default: True.
        loss_name (str): Name of the loss item in the loss dict; it must
            start with ``loss_`` to be back-propagated.
            Default: 'loss_smooth'.
    """

    def __init__(self,
                 loss_weight: float = 1e-3,
                 normalize_disp: bool = True,
                 loss_name: str = 'loss_smooth') -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.normalize_disp = normalize_disp
        self._loss_name = loss_name

    def forward(self, disp: Tensor, img: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            disp (Tensor): (B, 1, H, W) disparity (H, W >= 2).
            img (Tensor): (B, C, H, W) image at the disparity's resolution.

        Returns:
            Tensor: Scalar loss.
        """
        if disp.dim() != 4 or disp.shape[1] != 1:
            raise ValueError('EdgeAwareSmoothnessLoss: disp must be '
                             f'(B, 1, H, W), got {tuple(disp.shape)}')
        if (img.dim() != 4 or img.shape[0] != disp.shape[0]
                or img.shape[2:] != disp.shape[2:]):
            raise ValueError(
                'EdgeAwareSmoothnessLoss: img must be (B, C, H, W) with the '
                f'batch and size of disp {tuple(disp.shape)}, got '
                f'{tuple(img.shape)}')
        if disp.shape[2] < 2 or disp.shape[3] < 2:
            raise ValueError('EdgeAwareSmoothnessLoss: disp needs H, W >= 2, '
                             f'got {tuple(disp.shape)}')
        if self.normalize_disp:
            disp = disp / (disp.mean(dim=(2, 3), keepdim=True) + 1e-7)
        grad_disp_x = (disp[..., :, 1:] - disp[..., :, :-1]).abs()
        grad_disp_y = (disp[..., 1:, :] - disp[..., :-1, :]).abs()
        grad_img_x = (img[..., :, 1:] - img[..., :, :-1]).abs().mean(
            dim=1, keepdim=True)
        grad_img_y = (img[..., 1:, :] - img[..., :-1, :]).abs().mean(
            dim=1, keepdim=True)
        smooth_x = (grad_disp_x * (-grad_img_x).exp()).mean()
        smooth_y = (grad_disp_y * (-grad_img_y).exp()).mean()
        return self.loss_weight * (smooth_x + smooth_y)

    @property
    def loss_name(self) -> str:
        """str: Name of the loss item (``loss_`` prefix = back-propagated)."""
        return self._loss_name
