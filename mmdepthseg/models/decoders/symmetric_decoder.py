# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Decoder symmetric to the VGG encoder (Pseudo-MTL's ``D_d`` and ``D_s``)."""
from typing import List, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmseg.models.utils import resize
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig
from torch import Tensor

from mmdepthseg.registry import MODELS
from .base_decoder import BaseDecoder


@MODELS.register_module()
class SymmetricDecoder(BaseDecoder):
    """U-Net-like decoder that mirrors :class:`VGGEncoder`.

    Input: the encoder's maps, fine to coarse, the last being the
    bottleneck (VGG-16: channels ``(64, 128, 256, 512, 512, 512)`` at strides
    1 .. 32). Stage ``k`` (coarse to fine) mirrors encoder block ``5 - k``:

    .. code:: text

        x = bottleneck
        for each skip, coarse to fine:
            x = convs(cat(upsample(x, size=skip.shape), skip))

    where ``convs`` are ``num_convs[k]`` 3x3 :class:`~mmcv.cnn.ConvModule`
    with ``channels[k]`` outputs. With the defaults (channels
    ``(512, 512, 256, 128, 64)``, convs ``(3, 3, 3, 2, 2)``) the decoder is
    the encoder reversed. Upsampling goes to the skip's size, so inputs
    whose sizes are not divisible by 32 work too.

    Args:
        in_channels (Sequence[int]): Channels of the encoder maps, fine to
            coarse, bottleneck last; one more than ``channels``.
        channels (Sequence[int]): Output channels of each stage, coarse to
            fine. Default: (512, 512, 256, 128, 64).
        num_convs (Sequence[int]): Convs per stage, coarse to fine.
            Default: (3, 3, 3, 2, 2).
        conv_cfg (dict, optional): Config of conv layers. Default: None.
        norm_cfg (dict, optional): Config of norm layers. Default: None.
        act_cfg (dict): Activation config. Default: ``dict(type='ReLU')``.
        upsample_mode (str): 'nearest' or 'bilinear'. Default: 'nearest'.
        align_corners (bool): ``align_corners`` of bilinear upsampling.
            Default: False.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Default: None.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 channels: Sequence[int] = (512, 512, 256, 128, 64),
                 num_convs: Sequence[int] = (3, 3, 3, 2, 2),
                 conv_cfg: OptConfigType = None,
                 norm_cfg: OptConfigType = None,
                 act_cfg: ConfigType = dict(type='ReLU'),
                 upsample_mode: str = 'nearest',
                 align_corners: bool = False,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg)
        if len(in_channels) != len(channels) + 1:
            raise ValueError(
                f'SymmetricDecoder: expected len(in_channels) == '
                f'len(channels) + 1 (skips plus bottleneck), got in_channels '
                f'{tuple(in_channels)} and channels {tuple(channels)}')
        if len(num_convs) != len(channels) or min(num_convs) < 1:
            raise ValueError(
                f'SymmetricDecoder: num_convs {tuple(num_convs)} must give '
                f'>= 1 conv for each of the {len(channels)} stages')
        if upsample_mode not in ('nearest', 'bilinear'):
            raise ValueError(f'SymmetricDecoder: upsample_mode must be '
                             f"'nearest' or 'bilinear', got {upsample_mode!r}")
        self.in_channels = tuple(in_channels)
        self.channels = tuple(channels)
        self.upsample_mode = upsample_mode
        self.align_corners = align_corners
        skip_channels = self.in_channels[-2::-1]  # coarse to fine
        prev = self.in_channels[-1]
        self.stages = nn.ModuleList()
        for ch, skip, n in zip(channels, skip_channels, num_convs):
            convs = []
            for i in range(n):
                convs.append(
                    ConvModule(
                        prev + skip if i == 0 else ch,
                        ch,
                        kernel_size=3,
                        padding=1,
                        conv_cfg=conv_cfg,
                        norm_cfg=norm_cfg,
                        act_cfg=act_cfg))
            self.stages.append(nn.Sequential(*convs))
            prev = ch
        self.out_channels = self.channels[-1]
        self.num_scales = 1

    def forward(self, inputs: Sequence[Tensor]) -> Tensor:
        """Decode to the resolution of the finest encoder map.

        Args:
            inputs (Sequence[Tensor]): Encoder maps, fine to coarse, the
                bottleneck last, with ``self.in_channels`` channels.

        Returns:
            Tensor: ``(B, channels[-1], H0, W0)``, ``(H0, W0)`` being the
            size of ``inputs[0]`` (the input size for :class:`VGGEncoder`).
        """
        if len(inputs) != len(self.in_channels):
            raise ValueError(
                f'SymmetricDecoder: expected {len(self.in_channels)} encoder '
                f'maps, got {len(inputs)}')
        x = inputs[-1]
        for stage, skip in zip(self.stages, inputs[-2::-1]):
            x = resize(
                x,
                size=skip.shape[2:],
                mode=self.upsample_mode,
                align_corners=self.align_corners
                if self.upsample_mode == 'bilinear' else None)
            x = stage(torch.cat([x, skip], dim=1))
        return x

    def out_channels_at(self, scale: int) -> int:
        """Channels of the output at ``scale``; only scale 0 exists."""
        if scale != 0:
            raise ValueError(f'SymmetricDecoder has one output scale (0), '
                             f'got scale {scale}')
        return self.out_channels

    def forward_scales(self, inputs: Sequence[Tensor]) -> List[Tensor]:
        """:meth:`forward` as a list of one map (the finest scale)."""
        return [self.forward(inputs)]
