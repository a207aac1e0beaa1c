# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Self-supervised photometric reprojection loss with auto-masking."""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
from torch import Tensor

from mmdepthseg.registry import MODELS
from ..layers.ssim import SSIM, SSIMReference
from .scale_weighting import check_scale_weighting, scale_weights


@MODELS.register_module()
class PhotometricReprojectionLoss(nn.Module):
    """Minimum photometric reprojection loss with auto-masking.

    The photometric error of FSRE-Depth (Jung et al., ICCV 2021, Sec. 3.1,
    Eq. 2), taken from Monodepth2 (Godard et al., ICCV 2019):

    .. math::
        pe(I_t, \\hat{I}) = \\alpha \\frac{1 - SSIM(I_t, \\hat{I})}{2}
            + (1 - \\alpha) |I_t - \\hat{I}|

    with both terms averaged over the colour channels and SSIM over 3x3
    windows (:class:`~mmdepthseg.models.layers.ssim.SSIM`). Per pixel the
    loss is the minimum over the source frames (minimum reprojection, to
    handle occlusions) of the errors of the warped sources ``\\hat{I}_s``.
    With ``automask`` (Monodepth2 auto-masking), the minimum is also taken
    over the *identity* errors ``pe(I_t, I_s)`` of the unwarped sources, plus
    a tiny Gaussian noise that breaks ties; a pixel where an identity error
    wins (static camera, object moving with the camera) then contributes
    its identity error, which carries no gradient. The loss is the mean over
    all pixels (masked ones included, as in Monodepth2) times
    ``loss_weight``.

    The API is split so that work not depending on the decoder scale is done
    once per training step: :meth:`identity_error` depends only on the input
    images, so a model computes it once and passes it to :meth:`forward` /
    :meth:`min_error` for every scale through ``identity=``.

    Deliberate choices:

    - The identity errors are computed under ``torch.no_grad()``: they
      depend only on input images, which are never trained, so building a
      graph for them would only cost memory.
    - Ties between an identity and a warped error go to the identity (it is
      placed first before the arg-min), as in Monodepth2; with the default
      noise ties have probability zero anyway.
    - The noise is ``randn * identity_noise`` (Monodepth2 uses 1e-5), so an
      identity error may be slightly negative.
    - Scales (:meth:`multi_scale_loss`) are combined by ``scale_weighting``
      (:mod:`~mmdepthseg.models.losses.scale_weighting`): ``'mean'``
      (Monodepth2, the default) or ``'halved_sum'`` (``sum_s L_s / 2^s``,
      FSRE-Depth's released code).

    Args:
        alpha (float): Weight of the SSIM term, in [0, 1]. Default: 0.85
            (FSRE Sec. 4.2).
        automask (bool): Whether to apply Monodepth2 auto-masking.
            Default: True.
        identity_noise (float): Standard deviation of the noise added to the
            identity errors. Default: 1e-5.
        loss_weight (float): Weight of the loss. Default: 1.0.
        scale_weighting (str): How :meth:`multi_scale_loss` weights the
            scales: 'sum', 'mean', 'halved_sum' or 'halved_mean'.
            Default: 'mean'.
        loss_name (str): Name of the loss item in the loss dict; it must
            start with ``loss_`` to be back-propagated. Default: 'loss_photo'.
    """

    def __init__(self,
                 alpha: float = 0.85,
                 automask: bool = True,
                 identity_noise: float = 1e-5,
                 loss_weight: float = 1.0,
                 scale_weighting: str = 'mean',
                 loss_name: str = 'loss_photo') -> None:
        super().__init__()
        if not 0.0 <= alpha <= 1.0:
            raise ValueError('PhotometricReprojectionLoss: alpha must be in '
                             f'[0, 1], got {alpha}')
        if identity_noise < 0:
            raise ValueError('PhotometricReprojectionLoss: identity_noise '
                             f'must be >= 0, got {identity_noise}')
        self.alpha = alpha
        self.automask = automask
        self.identity_noise = identity_noise
        self.loss_weight = loss_weight
        self.scale_weighting = check_scale_weighting(scale_weighting,
                                                     type(self).__name__)
        self._loss_name = loss_name
        self.ssim = SSIM()

    @staticmethod
    def _check_pair(pred: Tensor, target: Tensor, what: str) -> None:
        if pred.dim() != 4 or pred.shape != target.shape:
            raise ValueError(
                f'PhotometricReprojectionLoss: {what} {tuple(pred.shape)} '
                f'must be a (B, C, H, W) image of the shape of target '
                f'{tuple(target.shape)}')

    def pixel_errors(self,
                     preds: Tensor,
                     target: Tensor,
                     ref: Optional[SSIMReference] = None) -> Tensor:
        """Per-pixel photometric errors of many images against one target.

        All images are handled by one batched computation (the SSIM
        statistics of the target are computed once and broadcast).

        Args:
            preds (Tensor): ``(..., B, 3, H, W)`` reconstructed (or source)
                images, e.g. ``(N, S, B, 3, H, W)`` for N scales and S
                sources.
            target (Tensor): ``(B, 3, H, W)`` target image.
            ref (SSIMReference, optional): ``SSIM.reference(target)`` when
                already computed. Default: None (computed here).

        Returns:
            Tensor: ``(..., B, H, W)`` errors ``pe`` (FSRE Eq. 2), both terms
            averaged over the channels.
        """
        if preds.dim() < 4 or target.dim() != 4 or \
                preds.shape[-4:] != target.shape:
            raise ValueError(
                f'PhotometricReprojectionLoss: images {tuple(preds.shape)} '
                f'must be (..., B, C, H, W) ending in the target shape '
                f'{tuple(target.shape)}')
        l1 = (preds - target).abs().mean(dim=-3)
        if self.alpha == 0:
            return l1
        if ref is None:
            ref = self.ssim.reference(target)
        ssim = self.ssim.compare(preds, ref).mean(dim=-3)
        return self.alpha * ssim + (1 - self.alpha) * l1

    def pixel_error(self, pred: Tensor, target: Tensor) -> Tensor:
        """Per-pixel photometric error ``pe`` (FSRE Eq. 2).

        Args:
            pred (Tensor): (B, 3, H, W) reconstructed (or source) image.
            target (Tensor): (B, 3, H, W) target image, same value range.

        Returns:
            Tensor: (B, 1, H, W) ``alpha * SSIM-term + (1 - alpha) * L1``,
            both averaged over channels.
        """
        self._check_pair(pred, target, 'pred')
        return self.pixel_errors(pred, target).unsqueeze(1)

    def _stack_errors(self, images: Sequence[Tensor], target: Tensor,
                      what: str) -> Tensor:
        """(B, N, H, W) errors of each image in ``images`` against target."""
        if isinstance(images, Tensor) or len(images) == 0:
            raise ValueError(
                f'PhotometricReprojectionLoss: {what} must be a non-empty '
                'list of (B, C, H, W) images, one per source frame')
        for i, img in enumerate(images):
            self._check_pair(img, target, f'{what}[{i}]')
        errors = self.pixel_errors(torch.stack(list(images)), target)
        # contiguous (B, N, H, W): randn_like in identity_error then draws
        # the noise in this memory order, as before the batched errors
        return errors.transpose(0, 1).contiguous()

    @staticmethod
    def _check_identity(identity: Tensor, target: Tensor) -> None:
        b, _, h, w = target.shape
        if identity.dim() != 4 or identity.shape[0] != b or tuple(
                identity.shape[2:]) != (h, w) or identity.shape[1] < 1:
            raise ValueError(
                'PhotometricReprojectionLoss: identity must be (B, S, H, W) '
                f'= ({b}, S, {h}, {w}), got {tuple(identity.shape)}')

    def identity_error(self, sources: Sequence[Tensor],
                       target: Tensor) -> Tensor:
        """Identity reprojection errors of the unwarped sources.

        Depends only on the input images: compute it once per training step
        and pass it to :meth:`forward` for every scale.

        Args:
            sources (list[Tensor]): S unwarped source images, each
                (B, 3, H, W).
            target (Tensor): (B, 3, H, W) target image.

        Returns:
            Tensor: (B, S, H, W) per-source errors plus
            ``randn * identity_noise`` (no gradient).
        """
        with torch.no_grad():
            errors = self._stack_errors(sources, target, 'sources')
            if self.identity_noise > 0:
                errors = errors + torch.randn_like(
                    errors) * self.identity_noise
        return errors

    def min_error(
        self,
        warped: Sequence[Tensor],
        target: Tensor,
        sources: Optional[Sequence[Tensor]] = None,
        identity: Optional[Tensor] = None,
    ) -> Tuple[Tensor, Tensor]:
        """Per-pixel minimum reprojection error and auto-mask.

        Args:
            warped (list[Tensor]): S source images warped into the target
                view, each (B, 3, H, W).
            target (Tensor): (B, 3, H, W) target image.
            sources (list[Tensor], optional): Unwarped source images, used to
                compute the identity errors when ``identity`` is not given.
                Ignored when ``automask`` is False. Default: None.
            identity (Tensor, optional): (B, S', H, W) precomputed
                :meth:`identity_error`. Ignored when ``automask`` is False.
                Default: None.

        Returns:
            tuple[Tensor, Tensor]:

            - (B, 1, H, W) per-pixel minimum error.
            - (B, 1, H, W) bool auto-mask, True where a warped source wins
              (all True when ``automask`` is False).
        """
        reprojection = self._stack_errors(warped, target, 'warped')
        if not self.automask:
            loss_map = reprojection.min(dim=1, keepdim=True)[0]
            return loss_map, torch.ones_like(loss_map, dtype=torch.bool)
        if identity is not None and sources is not None:
            raise ValueError('PhotometricReprojectionLoss: pass either '
                             'sources or a precomputed identity, not both')
        if identity is None:
            if sources is None:
                raise ValueError(
                    'PhotometricReprojectionLoss: automask needs the '
                    'unwarped sources or a precomputed identity error')
            identity = self.identity_error(sources, target)
        self._check_identity(identity, target)
        # Identity first: ties go to the identity (Monodepth2).
        combined = torch.cat([identity.to(reprojection.dtype), reprojection],
                             dim=1)
        loss_map, idx = combined.min(dim=1, keepdim=True)
        return loss_map, idx >= identity.shape[1]

    def forward(self,
                warped: Sequence[Tensor],
                target: Tensor,
                sources: Optional[Sequence[Tensor]] = None,
                identity: Optional[Tensor] = None) -> Tensor:
        """Compute the loss (arguments as in :meth:`min_error`).

        Returns:
            Tensor: Scalar ``loss_weight * mean(min_error)``.
        """
        loss_map, _ = self.min_error(
            warped, target, sources=sources, identity=identity)
        return self.loss_weight * loss_map.mean()

    def multi_scale_loss(self,
                         warped: Tensor,
                         target: Tensor,
                         identity: Optional[Tensor] = None) -> Tensor:
        """The loss of all decoder scales, combined in one pass.

        Equal (up to float rounding) to ``sum_n w_n * forward(list(warped[n]),
        target, identity=identity)`` with the weights ``w_n`` of
        ``scale_weighting`` (scale ``n`` = resolution ``1 / 2^n`` of the
        depth that warped ``warped[n]``; 'mean': ``w_n = 1 / N``,
        'halved_sum': ``w_n = 1 / 2^n``), but the
        ``N * S`` photometric errors are computed by one batched
        computation that shares the target's SSIM statistics, and the
        minimum against the identity errors uses the per-pixel best identity
        error (computed once) instead of concatenating it to every scale.
        Ties still go to the identity (no gradient), and among tied warped
        sources to the first one, as in :meth:`min_error`.

        Args:
            warped (Tensor): ``(N, S, B, 3, H, W)`` the S sources warped into
                the target view with the depth of each of the N scales.
            target (Tensor): ``(B, 3, H, W)`` target image.
            identity (Tensor, optional): ``(B, S', H, W)``
                :meth:`identity_error`; required iff ``automask``.

        Returns:
            Tensor: Scalar ``sum_n w_n * loss_weight * mean(min_error_n)``.
        """
        if warped.dim() != 6 or warped.shape[-4:] != target.shape:
            raise ValueError(
                'PhotometricReprojectionLoss: warped must be (N, S, B, C, H, '
                f'W) with (B, C, H, W) = {tuple(target.shape)}, got '
                f'{tuple(warped.shape)}')
        loss_map = self.pixel_errors(warped, target).min(dim=1)[0]
        if self.automask:
            if identity is None:
                raise ValueError('PhotometricReprojectionLoss: automask '
                                 'needs a precomputed identity error')
            self._check_identity(identity, target)
            best_identity = identity.min(dim=1)[0].to(loss_map.dtype)
            # strict '<': ties go to the identity, as in min_error
            loss_map = torch.where(loss_map < best_identity, loss_map,
                                   best_identity)
        weights = scale_weights(self.scale_weighting, range(loss_map.shape[0]))
        total = 0.
        for weight, scale_map in zip(weights, loss_map):
            total = total + weight * self.loss_weight * scale_map.mean()
        return total

    @property
    def loss_name(self) -> str:
        """str: Name of the loss item (``loss_`` prefix = back-propagated)."""
        return self._loss_name
