# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The U-Net-like decoder of Monodepth2, as a reusable stack of stages."""
from typing import List, Optional, Sequence

import torch
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.models.utils import resize
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig
from torch import Tensor

from mmdepthseg.registry import MODELS
from ..layers.padding import conv_padding_mode
from .base_decoder import BaseDecoder


class UNetDecoderStage(BaseModule):
    """One decoder stage: conv, x2 upsampling, skip concatenation, conv.

    ``out = conv_fuse(cat(up(conv_in(x)), skip))``; each conv is a 3x3
    :class:`~mmcv.cnn.ConvModule` (Monodepth2: reflection padding + ELU).
    The stage at scale ``s`` turns a map at 1/2^(s+1) of the input into one
    at 1/2^s.

    Args:
        in_channels (int): Channels of the input ``x``.
        skip_channels (int): Channels of the skip feature; 0 for none.
        out_channels (int): Output channels.
        scale (int): Scale index of the output (resolution 1/2^scale).
        conv_cfg (dict, optional): Config of conv layers. Default: None.
        norm_cfg (dict, optional): Config of norm layers. Default: None.
        act_cfg (dict): Config of activations. Default: ``dict(type='ELU')``.
        padding_mode (str): Padding of the 3x3 convs. Default: 'reflect'.
        upsample_mode (str): Interpolation of the x2 upsampling.
            Default: 'nearest'.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Default: None.
    """

    def __init__(self,
                 in_channels: int,
                 skip_channels: int,
                 out_channels: int,
                 scale: int,
                 conv_cfg: OptConfigType = None,
                 norm_cfg: OptConfigType = None,
                 act_cfg: ConfigType = dict(type='ELU'),
                 padding_mode: str = 'reflect',
                 upsample_mode: str = 'nearest',
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg)
        self.scale = scale
        self.skip_channels = skip_channels
        self.upsample_mode = upsample_mode
        conv_kwargs = dict(
            kernel_size=3,
            padding=1,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg,
            padding_mode=conv_padding_mode(padding_mode))
        self.conv_in = ConvModule(in_channels, out_channels, **conv_kwargs)
        self.conv_fuse = ConvModule(out_channels + skip_channels, out_channels,
                                    **conv_kwargs)

    def forward(self, x: Tensor, skip: Optional[Tensor] = None) -> Tensor:
        """Forward one stage.

        Args:
            x (Tensor): Coarser map, ``(B, in_channels, h, w)``.
            skip (Tensor, optional): Encoder feature at the output
                resolution, ``(B, skip_channels, ~2h, ~2w)``; required iff
                ``skip_channels > 0``.

        Returns:
            Tensor: ``(B, out_channels, 2h, 2w)``, or the skip's size when a
            skip is given (it differs from 2h x 2w only for inputs whose
            size is not a multiple of the network stride).
        """
        if (skip is None) != (self.skip_channels == 0):
            raise ValueError(
                f'UNetDecoderStage(scale={self.scale}) was built with '
                f'skip_channels={self.skip_channels} but got skip='
                f'{None if skip is None else tuple(skip.shape)}')
        x = self.conv_in(x)
        if skip is None:
            x = resize(x, scale_factor=2, mode=self.upsample_mode)
        else:
            x = resize(x, size=skip.shape[2:], mode=self.upsample_mode)
            x = torch.cat([x, skip], dim=1)
        return self.conv_fuse(x)


@MODELS.register_module()
class UNetDecoder(BaseDecoder):
    """U-Net-like decoder of Monodepth2 (Godard et al., ICCV 2019).

    Five (in general ``len(in_channels)``) stages run from coarse to fine.
    The first stage takes the coarsest encoder feature; the stage at scale
    ``s`` concatenates the encoder feature ``feats[s - 1]`` (which has the
    stage's output resolution 1/2^s) after upsampling, the last stage
    (scale 0, full resolution) has no skip.

    The stages are an ``nn.ModuleList`` in computation order, so a model
    that mixes two decoders between stages (e.g. FSRE-Depth's cross-task
    attention) can step through ``decoder.stages`` itself.

    Reflection padding needs every map to be at least 2x2, so five stages
    need inputs of at least 64x64 pixels.

    Args:
        in_channels (Sequence[int]): Channels of the encoder features, fine
            to coarse (e.g. ``(64, 64, 128, 256, 512)`` for ResNet-18 at
            strides 2..32).
        channels (Sequence[int]): Output channels of the stages, coarse to
            fine (stage for scale 4 first). Default: (256, 128, 64, 32, 16).
        conv_cfg (dict, optional): Config of conv layers. Default: None.
        norm_cfg (dict, optional): Config of norm layers. Default: None.
        act_cfg (dict): Config of activations. Default: ``dict(type='ELU')``.
        padding_mode (str): Padding of the 3x3 convs. Default: 'reflect'.
        upsample_mode (str): Interpolation of the upsampling.
            Default: 'nearest'.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Default: None.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 channels: Sequence[int] = (256, 128, 64, 32, 16),
                 conv_cfg: OptConfigType = None,
                 norm_cfg: OptConfigType = None,
                 act_cfg: ConfigType = dict(type='ELU'),
                 padding_mode: str = 'reflect',
                 upsample_mode: str = 'nearest',
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg)
        if len(in_channels) != len(channels):
            raise ValueError(
                f'UNetDecoder: in_channels {tuple(in_channels)} and channels '
                f'{tuple(channels)} must have the same length (one decoder '
                f'stage per encoder feature)')
        self.in_channels = tuple(in_channels)
        self.channels = tuple(channels)
        self.num_stages = len(channels)
        self.num_scales = self.num_stages
        self.stages = torch.nn.ModuleList()
        prev_channels = in_channels[-1]
        for i, out_channels in enumerate(channels):
            scale = self.num_stages - 1 - i
            skip_channels = in_channels[scale - 1] if scale > 0 else 0
            self.stages.append(
                UNetDecoderStage(
                    prev_channels,
                    skip_channels,
                    out_channels,
                    scale=scale,
                    conv_cfg=conv_cfg,
                    norm_cfg=norm_cfg,
                    act_cfg=act_cfg,
                    padding_mode=padding_mode,
                    upsample_mode=upsample_mode))
            prev_channels = out_channels

    def out_channels_at(self, scale: int) -> int:
        """Channels of the decoder output at ``scale``."""
        return self.channels[self.num_stages - 1 - scale]

    def forward(self, feats: Sequence[Tensor]) -> List[Tensor]:
        """Decode encoder features.

        Args:
            feats (Sequence[Tensor]): Encoder features, fine to coarse;
                ``feats[k]`` is ``(B, in_channels[k], H/2^(k+1), W/2^(k+1))``.

        Returns:
            list[Tensor]: Stage outputs indexed by scale: element ``s`` is
            ``(B, out_channels_at(s), H/2^s, W/2^s)``, so element 0 is the
            full-resolution feature and the last one the coarsest.
        """
        if len(feats) != self.num_stages:
            raise ValueError(
                f'UNetDecoder expects {self.num_stages} encoder features, '
                f'got {len(feats)}')
        outs: List[Optional[Tensor]] = [None] * self.num_stages
        x = feats[-1]
        for stage in self.stages:
            skip = feats[stage.scale - 1] if stage.scale > 0 else None
            x = stage(x, skip)
            outs[stage.scale] = x
        return outs

    def forward_scales(self, feats: Sequence[Tensor]) -> List[Tensor]:
        """The stage outputs by scale, finest first (= :meth:`forward`)."""
        return self.forward(feats)
