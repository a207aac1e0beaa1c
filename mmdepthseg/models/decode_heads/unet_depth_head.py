# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Monodepth2's depth decoder as a depth head (a preset of
:class:`DisparityDepthHead`)."""
from typing import Sequence, Union

from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig

from mmdepthseg.registry import MODELS
from ..decoders import UNetDecoder
from .disparity_depth_head import DisparityDepthHead


@MODELS.register_module()
class UNetDepthHead(DisparityDepthHead):
    """U-Net-like depth decoder of Monodepth2 (Godard et al., ICCV 2019).

    :class:`DisparityDepthHead` with a :class:`UNetDecoder`, configured by
    the decoder's arguments directly; the same as

    .. code:: python

        dict(type='DisparityDepthHead',
             decoder=dict(type='UNetDecoder', in_channels=in_channels,
                          channels=channels, conv_cfg=conv_cfg,
                          norm_cfg=norm_cfg, act_cfg=act_cfg,
                          padding_mode=padding_mode,
                          upsample_mode=upsample_mode),
             num_output_scales=num_output_scales, conv_cfg=conv_cfg,
             padding_mode=padding_mode, ...)

    (same parameter names, so checkpoints load into either). Disparity
    heads (3x3 conv + sigmoid) sit at scales ``0 .. num_output_scales - 1``
    (full, 1/2, 1/4, 1/8 of the input).

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
        min_depth, max_depth, loss_depth, align_corners, init_cfg: As for
            :class:`DisparityDepthHead`.
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
            decoder=dict(
                type=UNetDecoder,
                in_channels=in_channels,
                channels=channels,
                conv_cfg=conv_cfg,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg,
                padding_mode=padding_mode,
                upsample_mode=upsample_mode),
            num_output_scales=num_output_scales,
            conv_cfg=conv_cfg,
            padding_mode=padding_mode,
            min_depth=min_depth,
            max_depth=max_depth,
            loss_depth=loss_depth,
            align_corners=align_corners,
            init_cfg=init_cfg)
