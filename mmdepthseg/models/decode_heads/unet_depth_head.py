# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Monodepth2's depth decoder as a depth head."""
from typing import List, Sequence, Tuple, Union

import torch.nn as nn
from mmcv.cnn import ConvModule
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig
from torch import Tensor

from mmdepthseg.registry import MODELS
from ..layers.geometry import disp_to_depth
from ..layers.padding import conv_padding_mode
from .base_depth_head import BaseDepthHead
from .unet_decoder import UNetDecoder


@MODELS.register_module()
class UNetDepthHead(BaseDepthHead):
    """U-Net-like depth decoder of Monodepth2 (Godard et al., ICCV 2019).

    A :class:`UNetDecoder` followed by disparity heads (3x3 conv + sigmoid)
    at scales ``0 .. num_output_scales - 1`` (full, 1/2, 1/4, 1/8 of the
    input). A sigmoid output ``sigma`` becomes depth by Monodepth2's
    conversion ``depth = 1 / (1/max_depth + (1/min_depth - 1/max_depth)
    * sigma)``, so every prediction lies in ``[min_depth, max_depth]``.

    Note:
        With a loss on metric depth (e.g. :class:`DepthL1Loss`) the gradient
        w.r.t. the pre-sigmoid logit grows with the predicted depth, and a
        step that saturates the sigmoid stalls training. Measured on small
        batches, Adam with lr 1e-4 .. 3e-4 (Monodepth2 / FSRE use 1e-4)
        trains smoothly while lr 1e-3 (even with gradient clipping) or plain
        SGD with lr >= 3e-4 saturate the depth output within a few steps.

    Args:
        in_channels (Sequence[int]): Channels of the backbone features, fine
            to coarse, e.g. ``(64, 64, 128, 256, 512)`` (ResNet-18).
        channels (Sequence[int]): Decoder stage channels, coarse to fine.
            Default: (256, 128, 64, 32, 16).
        num_output_scales (int): Number of disparity heads (scales
            ``0 .. n-1``); 4 for self-supervised training. Default: 1.
        conv_cfg (dict, optional): Config of conv layers. Default: None.
        norm_cfg (dict, optional): Config of norm layers. Default: None.
        act_cfg (dict): Decoder activation. Default: ``dict(type='ELU')``.
        padding_mode (str): Padding of the 3x3 convs. Default: 'reflect'.
        upsample_mode (str): Decoder upsampling. Default: 'nearest'.
        min_depth (float): Smallest depth, metres. Default: 0.1.
        max_depth (float): Largest depth, metres. Default: 100.0.
        loss_depth (dict | Sequence[dict]): Depth loss config(s).
            Default: ``dict(type='DepthL1Loss')``.
        align_corners (bool): ``align_corners`` of bilinear resizing.
            Default: False.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Default: normal init (std 0.01, bias 0) of the disparity convs,
            so that training starts from sigmoid outputs near 0.5 instead
            of saturated ones (MMCV's Kaiming ``fan_out`` init of a
            one-channel conv saturates the sigmoid, which stalls supervised
            training; mmseg initialises ``conv_seg`` the same way).
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        channels: Sequence[int] = (256, 128, 64, 32, 16),
        num_output_scales: int = 1,
        conv_cfg: OptConfigType = None,
        norm_cfg: OptConfigType = None,
        act_cfg: ConfigType = dict(type='ELU'),
        padding_mode: str = 'reflect',
        upsample_mode: str = 'nearest',
        min_depth: float = 0.1,
        max_depth: float = 100.0,
        loss_depth: Union[ConfigType,
                          Sequence[ConfigType]] = dict(type='DepthL1Loss'),
        align_corners: bool = False,
        init_cfg: OptMultiConfig = dict(
            type='Normal', std=0.01, bias=0, override=dict(name='disp_convs'))
    ) -> None:
        super().__init__(
            min_depth=min_depth,
            max_depth=max_depth,
            loss_depth=loss_depth,
            align_corners=align_corners,
            init_cfg=init_cfg)
        if not 1 <= num_output_scales <= len(channels):
            raise ValueError(f'UNetDepthHead: num_output_scales must be in '
                             f'[1, {len(channels)}], got {num_output_scales}')
        self.num_output_scales = num_output_scales
        self.decoder = UNetDecoder(
            in_channels,
            channels,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg,
            padding_mode=padding_mode,
            upsample_mode=upsample_mode)
        self.disp_convs = nn.ModuleList(
            ConvModule(
                self.decoder.out_channels_at(scale),
                1,
                kernel_size=3,
                padding=1,
                conv_cfg=conv_cfg,
                norm_cfg=None,
                act_cfg=dict(type='Sigmoid'),
                padding_mode=conv_padding_mode(padding_mode))
            for scale in range(num_output_scales))

    def forward_disp(self, inputs: Tuple[Tensor, ...]) -> List[Tensor]:
        """Predict sigmoid disparities.

        Args:
            inputs (tuple[Tensor]): Backbone features, fine to coarse.

        Returns:
            list[Tensor]: Sigmoid outputs in (0, 1), ``(B, 1, H/2^s,
            W/2^s)`` for scales ``s = 0 .. num_output_scales - 1``.
        """
        feats = self.decoder(inputs)
        return [
            disp_conv(feats[scale])
            for scale, disp_conv in enumerate(self.disp_convs)
        ]

    def forward(self, inputs: Tuple[Tensor, ...]) -> List[Tensor]:
        """Predict depth at every output scale.

        Args:
            inputs (tuple[Tensor]): Backbone features, fine to coarse.

        Returns:
            list[Tensor]: Depth ``(B, 1, H/2^s, W/2^s)`` in metres for
            ``s = 0 .. num_output_scales - 1``.
        """
        return [
            disp_to_depth(disp, self.min_depth, self.max_depth)[1]
            for disp in self.forward_disp(inputs)
        ]
