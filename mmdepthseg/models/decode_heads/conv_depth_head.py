# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Convolution + upsampling depth decoder with a regression output
(SemiMTL, Sec. 3.4)."""
from typing import List, Sequence, Tuple, Union

import torch.nn as nn
from mmcv.cnn import ConvModule
from mmseg.models.utils import resize
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig
from torch import Tensor

from mmdepthseg.registry import MODELS
# Imported for its registration: the default ``loss_depth``.
from ..losses.berhu_loss import BerHuLoss  # noqa: F401
from .base_depth_head import BaseDepthHead


@MODELS.register_module()
class ConvDepthHead(BaseDepthHead):
    """Depth decoder of SemiMTL: conv stages with upsampling, then a linear
    regression layer.

    One backbone feature map (``in_index``, the dilated ResNet's last stage
    at output stride 8) goes through ``len(channels)`` stages of a 3x3
    ``ConvModule`` followed by a bilinear x``scale_factor`` upsampling, and a
    3x3 convolution regresses one channel. With the defaults (three stages,
    x2 each) the output has the input image's resolution for an output
    stride 8 backbone; callers still resize it to the exact input size.

    The output is a plain regression (no activation, no disparity-to-depth
    mapping): its units are those of the ground truth, e.g. inverse depth
    or an nDSM height in [0, 1] for SemiMTL. Invalid ground truth is NaN.

    Loss and prediction are :class:`BaseDepthHead`'s, without a depth range
    (``min_depth`` and ``max_depth`` are None) and with :meth:`valid_mask`
    returning None: the losses are called as ``loss(pred, gt)`` and skip
    the NaN targets themselves.

    Args:
        in_channels (int): Channels of the selected backbone feature.
        channels (Sequence[int]): Output channels of the conv stages.
            Default: (512, 256, 128).
        in_index (int): Index of the backbone feature to decode.
            Default: -1.
        scale_factor (int): Upsampling factor after each stage. Default: 2.
        conv_cfg (dict, optional): Convolution config. Default: None.
        norm_cfg (dict, optional): Normalisation config.
            Default: ``dict(type='BN')``.
        act_cfg (dict): Activation config. Default: ``dict(type='ReLU')``.
        align_corners (bool): ``align_corners`` of the bilinear resizing.
            Default: False.
        loss_depth (dict | Sequence[dict]): Config(s) of the depth losses,
            each called as ``loss(pred, gt)`` on ``(B, 1, H, W)`` maps (NaN
            = invalid, the prediction resized to the target's size) and
            logged under its ``loss_name``.
            Default: ``dict(type='BerHuLoss')``.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Default: None.
    """

    def __init__(self,
                 in_channels: int,
                 channels: Sequence[int] = (512, 256, 128),
                 in_index: int = -1,
                 scale_factor: int = 2,
                 conv_cfg: OptConfigType = None,
                 norm_cfg: OptConfigType = dict(type='BN'),
                 act_cfg: ConfigType = dict(type='ReLU'),
                 align_corners: bool = False,
                 loss_depth: Union[ConfigType, Sequence[ConfigType]] = dict(
                     type='BerHuLoss'),
                 init_cfg: OptMultiConfig = None) -> None:
        if len(channels) == 0:
            raise ValueError('ConvDepthHead: channels must not be empty')
        if scale_factor < 1:
            raise ValueError(f'ConvDepthHead: scale_factor must be >= 1, '
                             f'got {scale_factor}')
        super().__init__(
            min_depth=None,
            max_depth=None,
            loss_depth=loss_depth,
            align_corners=align_corners,
            init_cfg=init_cfg)
        self.in_channels = in_channels
        self.in_index = in_index
        self.scale_factor = scale_factor
        stages = []
        prev = in_channels
        for out in channels:
            stages.append(
                ConvModule(
                    prev,
                    out,
                    kernel_size=3,
                    padding=1,
                    conv_cfg=conv_cfg,
                    norm_cfg=norm_cfg,
                    act_cfg=act_cfg))
            prev = out
        self.stages = nn.ModuleList(stages)
        self.conv_depth = nn.Conv2d(prev, 1, kernel_size=3, padding=1)

    def forward(self, inputs: Tuple[Tensor, ...]) -> List[Tensor]:
        """Regress the depth target from one backbone feature.

        Args:
            inputs (tuple[Tensor]): Multi-level backbone features; the one
                at ``in_index`` is ``(B, in_channels, h, w)``.

        Returns:
            list[Tensor]: One map ``(B, 1, h * s**n, w * s**n)`` (``s`` =
            ``scale_factor``, ``n`` = number of stages).
        """
        x = inputs[self.in_index]
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f'ConvDepthHead expects feature {self.in_index} of shape '
                f'(B, {self.in_channels}, h, w), got {tuple(x.shape)}')
        for stage in self.stages:
            x = stage(x)
            if self.scale_factor > 1:
                x = resize(
                    x,
                    scale_factor=self.scale_factor,
                    mode='bilinear',
                    align_corners=self.align_corners)
        return [self.conv_depth(x)]

    def valid_mask(self, gt_depth: Tensor) -> None:
        """No mask: invalid ground truth is NaN, which the losses (e.g.
        :class:`BerHuLoss`) exclude themselves; 0 is a valid target (e.g.
        the sky's inverse depth)."""
        return None
