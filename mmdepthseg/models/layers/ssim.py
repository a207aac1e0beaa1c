# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Per-pixel structural dissimilarity (SSIM over 3x3 windows)."""
from typing import NamedTuple, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from .padding import reflection_pad_adjoint


def box_sum_3x3(x: Tensor) -> Tensor:
    """Sum of every 3x3 window of the last two dims (no padding).

    Two separable 3-tap sums of shifted views: a few vectorised passes over
    memory instead of the pooling kernel's scalar window loop, which is
    several times slower on the CPU.

    Args:
        x (Tensor): ``(..., H + 2, W + 2)`` map, any number of leading
            dims.

    Returns:
        Tensor: ``(..., H, W)`` window sums.
    """
    rows = x[..., :-2] + x[..., 1:-1]
    rows += x[..., 2:]
    out = rows[..., :-2, :] + rows[..., 1:-1, :]
    out += rows[..., 2:, :]
    return out


def box_sum_3x3_transposed(grad: Tensor) -> Tensor:
    """Adjoint of :func:`box_sum_3x3`: spread every value over its window.

    Args:
        grad (Tensor): ``(..., H, W)``.

    Returns:
        Tensor: ``(..., H + 2, W + 2)``, entry ``(i, j)`` the sum of
        ``grad`` over the windows that contain input pixel ``(i, j)``.
    """
    *lead, h, w = grad.shape
    cols = grad.new_zeros(*lead, h + 2, w)
    for dy in range(3):
        cols[..., dy:dy + h, :] += grad
    out = grad.new_zeros(*lead, h + 2, w + 2)
    for dx in range(3):
        out[..., dx:dx + w] += cols
    return out


def box_mean_3x3(x: Tensor) -> Tensor:
    """Mean of every 3x3 window of the last two dims (no padding).

    The values of ``F.avg_pool2d(x, 3, stride=1)`` up to float rounding
    (the nine terms are summed in another order), see
    :func:`box_sum_3x3`.

    Args:
        x (Tensor): ``(..., H + 2, W + 2)`` map.

    Returns:
        Tensor: ``(..., H, W)`` window means.
    """
    return box_sum_3x3(x).div_(9)


def reflect_pad_1(x: Tensor) -> Tensor:
    """Reflection padding of 1 pixel on the last two dims, any leading dims.

    Args:
        x (Tensor): ``(..., H, W)`` with ``H, W >= 2``.

    Returns:
        Tensor: ``(..., H + 2, W + 2)``.
    """
    lead = x.shape[:-2]
    flat = x.reshape(-1, 1, *x.shape[-2:])
    padded = F.pad(flat, (1, 1, 1, 1), mode='reflect')
    return padded.reshape(*lead, *padded.shape[-2:])


class _SSIMFunction(torch.autograd.Function):
    """SSIM dissimilarity of images against reference statistics, with a
    hand-written backward pass.

    Autograd through the padding and the ~25 elementwise operations of SSIM
    would keep most intermediate maps (and the padding would keep its
    input) and run one kernel per operation backwards. This function keeps
    only the unpadded image ``x`` besides the shared reference; the window
    statistics are recomputed in the backward pass (a few passes over
    memory), which then needs three transposed box sums and the adjoint of
    the padding. With ``S = A1 A2 / (B1 B2)``, ``A1 = 2 mu_x mu_y + C1``,
    ``A2 = 2 s_xy + C2``, ``B1 = mu_x^2 + mu_y^2 + C1`` and
    ``B2 = s_x^2 + s_y^2 + C2``, as functions of the window means of
    ``x``, ``x^2`` and ``x y``::

        dS/dmu_x   = (2 mu_y (A2 - A1) - 2 S mu_x (B2 - B1)) / (B1 B2)
        dS/dE[x^2] = -S B1 / (B1 B2)
        dS/dE[xy]  = 2 A1 / (B1 B2)

    and ``out = clamp((1 - S) / 2, 0, 1)`` passes the gradient where
    ``0 <= (1 - S) / 2 <= 1``, as ``torch.clamp`` does.
    """

    @staticmethod
    def _statistics(x_pad: Tensor, y_pad: Tensor, mu_y: Tensor, var_y: Tensor,
                    c1: float, c2: float) -> tuple:
        """``mu_x``, ``A1``, ``B1``, ``A2``, ``B2`` and ``S``."""
        mu_x = box_mean_3x3(x_pad)
        sigma_x = box_mean_3x3(x_pad * x_pad)
        sigma_x -= mu_x * mu_x
        sigma_xy = box_mean_3x3(x_pad * y_pad)
        sigma_xy -= mu_x * mu_y
        a2 = sigma_xy.mul_(2).add_(c2)
        b2 = sigma_x.add_(var_y).add_(c2)
        a1 = (2 * mu_x * mu_y).add_(c1)
        b1 = (mu_x * mu_x).add_(mu_y * mu_y).add_(c1)
        ssim = (a1 * a2).div_(b1 * b2)
        return mu_x, a1, b1, a2, b2, ssim

    @staticmethod
    def forward(ctx, x: Tensor, ref: 'SSIMReference', c1: float,
                c2: float) -> Tensor:
        out = x.new_empty(x.shape)  # contiguous: _groups gives views
        # one image group (B, C, H, W) at a time: the ~10 temporary maps of
        # the statistics then exist for one group only
        for x_i, out_i in zip(_groups(x), _groups(out)):
            ssim = _SSIMFunction._statistics(reflect_pad_1(x_i), *ref, c1,
                                             c2)[-1]
            torch.clamp(ssim.neg_().add_(1).div_(2), 0, 1, out=out_i)
        ctx.save_for_backward(x, *ref)
        ctx.constants = (c1, c2)
        return out

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple:
        x, y_pad, mu_y, var_y = ctx.saved_tensors
        grad_x = x.new_empty(x.shape)
        for x_i, grad_i, out_i in zip(
                _groups(x), _groups(grad.contiguous()), _groups(grad_x)):
            out_i.copy_(
                _SSIMFunction._group_backward(x_i, grad_i, y_pad, mu_y, var_y,
                                              *ctx.constants))
        return grad_x, None, None, None

    @staticmethod
    def _group_backward(x: Tensor, grad: Tensor, y_pad: Tensor, mu_y: Tensor,
                        var_y: Tensor, c1: float, c2: float) -> Tensor:
        """Gradient w.r.t. one ``(B, C, H, W)`` image group."""
        x_pad = reflect_pad_1(x)
        mu_x, a1, b1, a2, b2, ssim = _SSIMFunction._statistics(
            x_pad, y_pad, mu_y, var_y, c1, c2)
        unclamped = (1 - ssim) / 2
        # dout/dS = -1/2 inside the clamp range; 1/9 of the window means
        scaled = grad * ((unclamped >= 0) & (unclamped <= 1))
        scaled /= (b1 * b2).mul_(-18)
        grad_mu = (2 * mu_y * (a2 - a1)).sub_(2 * ssim * mu_x *
                                              (b2 - b1)).mul_(scaled)
        grad_xx = (-scaled).mul_(ssim).mul_(b1)
        grad_xy = (2 * scaled).mul_(a1)
        grad_pad = box_sum_3x3_transposed(grad_mu)
        grad_pad += 2 * x_pad * box_sum_3x3_transposed(grad_xx)
        grad_pad += y_pad * box_sum_3x3_transposed(grad_xy)
        return reflection_pad_adjoint(grad_pad, (1, 1, 1, 1))


def _groups(x: Tensor) -> Tuple[Tensor, ...]:
    """The ``(B, C, H, W)`` groups of a ``(..., B, C, H, W)`` tensor, as
    views (one group for a 4-D tensor)."""
    return tuple(x.reshape(-1, *x.shape[-4:]).unbind(0)) if x.dim() > 4 \
        else (x, )


class SSIMReference(NamedTuple):
    """Statistics of the reference image ``y`` of :class:`SSIM`.

    Computed once by :meth:`SSIM.reference` and shared by every image
    compared with the same reference (e.g. all warped source frames of all
    decoder scales against one target frame).

    Attributes:
        padded (Tensor): ``(B, C, H + 2, W + 2)`` reflection-padded ``y``.
        mean (Tensor): ``(B, C, H, W)`` local means ``mu_y``.
        var (Tensor): ``(B, C, H, W)`` local variances ``sigma_y^2``.
    """
    padded: Tensor
    mean: Tensor
    var: Tensor


class SSIM(nn.Module):
    """Per-pixel structural dissimilarity ``clamp((1 - SSIM) / 2, 0, 1)``.

    SSIM (Wang et al., 2004) over 3x3 windows, with local means, variances
    and covariance taken by 3x3 averaging of reflection-padded inputs (as
    monodepth2's photometric loss):

    ``SSIM = (2 mu_x mu_y + C1)(2 s_xy + C2) /
    ((mu_x^2 + mu_y^2 + C1)(s_x^2 + s_y^2 + C2))``

    Note that the module returns the *dissimilarity* ``(1 - SSIM) / 2``
    clamped to [0, 1] (0 for identical images), ready to be used as a loss
    term, not SSIM itself.

    For speed, the statistics of the reference ``y`` can be computed once
    (:meth:`reference`) and compared with many images at once
    (:meth:`compare`, any leading dims broadcast against the reference);
    :meth:`forward` is the one-pair shortcut. The 3x3 means are
    :func:`box_mean_3x3` (equal to ``avg_pool2d`` up to float rounding).

    Args:
        c1 (float): Luminance stabiliser. Defaults to 0.01 ** 2.
        c2 (float): Contrast stabiliser. Defaults to 0.03 ** 2.
    """

    def __init__(self, c1: float = 0.01**2, c2: float = 0.03**2) -> None:
        super().__init__()
        self.c1 = c1
        self.c2 = c2

    @staticmethod
    def reference(y: Tensor) -> SSIMReference:
        """Local statistics of the reference image.

        Args:
            y (Tensor): ``(B, C, H, W)`` image, values in [0, 1]
                (H, W >= 2 for reflection padding).

        Returns:
            SSIMReference: Padded image, local means and variances.
        """
        padded = reflect_pad_1(y)
        mean = box_mean_3x3(padded)
        var = box_mean_3x3(padded * padded) - mean * mean
        return SSIMReference(padded, mean, var)

    def compare(self, x: Tensor, ref: SSIMReference) -> Tensor:
        """Dissimilarity of images against a precomputed reference.

        Args:
            x (Tensor): ``(..., B, C, H, W)`` images; the leading dims
                broadcast against the reference (e.g. ``(N, B, C, H, W)``
                for N images per reference).
            ref (SSIMReference): :meth:`reference` of a ``(B, C, H, W)``
                image.

        Returns:
            Tensor: ``(..., B, C, H, W)`` dissimilarity per pixel and
            channel.
        """
        if x.dim() < 4 or x.shape[-4:] != ref.mean.shape:
            raise ValueError(
                'SSIM expects images (..., B, C, H, W) ending in the '
                f'reference shape {tuple(ref.mean.shape)}, got '
                f'{tuple(x.shape)}')
        if torch.is_grad_enabled() and any(t.requires_grad for t in ref):
            # a differentiable reference: plain autograd through the formula
            return self._plain(reflect_pad_1(x), ref)
        return _SSIMFunction.apply(x, ref, self.c1, self.c2)

    def _plain(self, x_pad: Tensor, ref: SSIMReference) -> Tensor:
        """The formula with autograd (the same operations as
        :class:`_SSIMFunction`'s forward pass)."""
        mu_x = box_mean_3x3(x_pad)
        sigma_x = box_mean_3x3(x_pad * x_pad) - mu_x * mu_x
        sigma_xy = box_mean_3x3(x_pad * ref.padded) - mu_x * ref.mean
        numerator = (2 * mu_x * ref.mean + self.c1) * (2 * sigma_xy + self.c2)
        denominator = (mu_x * mu_x + ref.mean * ref.mean + self.c1) * (
            sigma_x + ref.var + self.c2)
        return ((1 - numerator / denominator) / 2).clamp(0, 1)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        """Compute the per-pixel dissimilarity of one pair.

        Args:
            x (Tensor): (B, C, H, W) image, values in [0, 1] (H, W >= 2 for
                reflection padding).
            y (Tensor): (B, C, H, W) image, values in [0, 1].

        Returns:
            Tensor: (B, C, H, W) ``clamp((1 - SSIM) / 2, 0, 1)`` per pixel
            and channel.
        """
        if x.shape != y.shape or x.dim() != 4:
            raise ValueError('SSIM expects two (B, C, H, W) inputs of one '
                             f'shape, got {tuple(x.shape)} and '
                             f'{tuple(y.shape)}')
        return self.compare(x, self.reference(y))
