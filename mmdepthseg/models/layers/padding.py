# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Reflection padding that keeps no activation for the backward pass."""
from typing import Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor


def reflection_pad_adjoint(grad: Tensor, padding: Sequence[int]) -> Tensor:
    """Adjoint of ``F.pad(x, padding, mode='reflect')`` on the last two dims.

    A padded border column (row) is a copy of an inner column (row) of the
    input, mirrored about the first (last) one, so its gradient is added to
    that column (row): plain slicing, no index maps.

    Args:
        grad (Tensor): ``(..., t + H + b, l + W + r)`` gradient of the
            padded map.
        padding (Sequence[int]): ``(l, r, t, b)`` as for ``F.pad``, each
            smaller than the input size along its dim.

    Returns:
        Tensor: ``(..., H, W)`` gradient of the input.
    """
    left, right, top, bottom = padding
    width = grad.shape[-1] - left - right
    height = grad.shape[-2] - top - bottom
    # columns first: padded column left - 1 - k copies input column k + 1
    cols = grad[..., left:left + width].clone()
    if left:
        cols[..., 1:left + 1] += grad[..., :left].flip(-1)
    if right:
        cols[..., width - 1 - right:width - 1] += \
            grad[..., left + width:].flip(-1)
    rows = cols[..., top:top + height, :].clone()
    if top:
        rows[..., 1:top + 1, :] += cols[..., :top, :].flip(-2)
    if bottom:
        rows[..., height - 1 - bottom:height - 1, :] += \
            cols[..., top + height:, :].flip(-2)
    return rows


class _ReflectionPad2d(torch.autograd.Function):
    """``F.pad(mode='reflect')`` whose backward needs only the padding.

    PyTorch's own reflection padding keeps its *input* for the backward
    pass, although only the input's size is used; in a network whose
    padded input is not kept by another operation (e.g. the concatenated
    decoder features before a 3x3 conv) that is a whole feature map per
    layer held for nothing.
    """

    @staticmethod
    def forward(ctx, x: Tensor, padding: Tuple[int, int, int, int]) -> Tensor:
        ctx.padding = padding
        return F.pad(x, padding, mode='reflect')

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tuple[Tensor, None]:
        return reflection_pad_adjoint(grad, ctx.padding), None


class LeanReflectionPad2d(nn.ReflectionPad2d):
    """``nn.ReflectionPad2d`` that keeps no activation for backward.

    Same constructor, values and gradients as ``nn.ReflectionPad2d``
    (it is one, for ``isinstance`` checks and checkpoints, which hold no
    state); only the memory kept by autograd differs, see
    :class:`_ReflectionPad2d`.

    Args:
        padding (int | tuple[int, int, int, int]): As for
            ``nn.ReflectionPad2d``.
    """

    def forward(self, x: Tensor) -> Tensor:
        """Pad ``(B, C, H, W)`` (or ``(C, H, W)``) by reflection."""
        if not torch.is_grad_enabled() or not x.requires_grad:
            return F.pad(x, self.padding, mode='reflect')
        return _ReflectionPad2d.apply(x, tuple(self.padding))


def conv_padding_mode(padding_mode: str) -> Union[str, type]:
    """The ``padding_mode`` to give MMCV's ``ConvModule``.

    ``'reflect'`` becomes :class:`LeanReflectionPad2d` (``ConvModule``
    builds the class it is given as its explicit padding layer); any other
    mode is returned unchanged.

    Args:
        padding_mode (str): Padding of a config (``'zeros'``,
            ``'reflect'``, ...).

    Returns:
        str | type: What ``ConvModule(padding_mode=...)`` should get.
    """
    return LeanReflectionPad2d if padding_mode == 'reflect' else padding_mode
