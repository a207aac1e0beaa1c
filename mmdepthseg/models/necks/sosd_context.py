# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Context module of the SOSD-Net backbone (He et al., Fig. 4)."""
from typing import Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.models.decode_heads.aspp_head import ASPPModule
from mmseg.models.decode_heads.sep_aspp_head import \
    DepthwiseSeparableASPPModule
from mmseg.models.utils import resize
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig
from torch import Tensor

from mmdepthseg.registry import MODELS


@MODELS.register_module()
class SOSDContextNeck(BaseModule):
    """The three parallel context parts on top of Xception-65 (Fig. 4).

    SOSD-Net: Joint Semantic Object Segmentation and Depth Estimation from
    Monocular images (He et al.), Sec. 3.2.1. As in DeepLabV3+ the
    high-level feature ``(B, C_in, H/16, W/16)`` goes through

    - an atrous spatial pyramid (``aspp``): 3x3 convolutions with dilations
      ``dilations`` (6, 12, 18 at output stride 16), depthwise separable by
      default as in DeepLabV3+;
    - a cross-channel learner (``channel_learner``): a 1x1 convolution;
    - a full-image extractor (``image_pool``): global average pooling, a 1x1
      convolution and bilinear upsampling back to the feature size;

    whose outputs (``channels`` each) are concatenated and fused by a 1x1
    convolution (``fuse``) into the global feature. The low-level feature
    passes through unchanged for the decoder.

    .. code:: text

        (low, high) -> (low, fuse(cat[image_pool(high), channel_learner(high),
                                      *aspp(high)]))

    Args:
        in_channels (int): Channels of the high-level feature. Default: 2048
            (Xception-65).
        channels (int): Channels of every branch and of the fused global
            feature. Default: 256.
        dilations (Sequence[int]): Dilations of the atrous branches.
            Default: (6, 12, 18).
        separable (bool): Atrous branches as depthwise separable
            convolutions (DeepLabV3+, mmseg's
            ``DepthwiseSeparableASPPModule``) instead of dense 3x3 ones
            (mmseg's ``ASPPModule``). Default: True.
        conv_cfg (dict, optional): Conv config. Default: None.
        norm_cfg (dict, optional): Norm config. Default: ``dict(type='BN')``.
        act_cfg (dict): Activation config. Default: ``dict(type='ReLU')``.
        align_corners (bool): ``align_corners`` of the image-pool upsampling.
            Default: False.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Default: None.
    """

    def __init__(self,
                 in_channels: int = 2048,
                 channels: int = 256,
                 dilations: Sequence[int] = (6, 12, 18),
                 separable: bool = True,
                 conv_cfg: OptConfigType = None,
                 norm_cfg: OptConfigType = dict(type='BN'),
                 act_cfg: ConfigType = dict(type='ReLU'),
                 align_corners: bool = False,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg)
        if len(dilations) == 0 or any(d <= 1 for d in dilations):
            raise ValueError(
                f'SOSDContextNeck: dilations must be a non-empty sequence of '
                f'rates > 1 (the 1x1 branch is the channel learner), got '
                f'{dilations}')
        self.in_channels = in_channels
        self.channels = channels
        self.align_corners = align_corners
        conv = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        aspp_cls = DepthwiseSeparableASPPModule if separable else ASPPModule
        self.aspp = aspp_cls(
            dilations=tuple(dilations),
            in_channels=in_channels,
            channels=channels,
            **conv)
        self.channel_learner = ConvModule(in_channels, channels, 1, **conv)
        self.image_pool = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            ConvModule(in_channels, channels, 1, **conv))
        self.fuse = ConvModule((len(dilations) + 2) * channels, channels, 1,
                               **conv)

    def forward(self, inputs: Sequence[Tensor]) -> Tuple[Tensor, Tensor]:
        """Build the global feature.

        Args:
            inputs (Sequence[Tensor]): ``(low_level, high_level)`` from the
                backbone: ``(B, C_low, H/4, W/4)`` and
                ``(B, in_channels, H/16, W/16)``.

        Returns:
            tuple[Tensor]: ``low_level`` unchanged and the global feature
            ``(B, channels, H/16, W/16)``.
        """
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(
                'SOSDContextNeck expects the backbone output (low_level, '
                f'high_level), got {type(inputs).__name__} of length '
                f"{len(inputs) if hasattr(inputs, '__len__') else '?'}")
        low_level, high_level = inputs
        if high_level.shape[1] != self.in_channels:
            raise ValueError(f'SOSDContextNeck: the high-level feature has '
                             f'{high_level.shape[1]} channels, in_channels is '
                             f'{self.in_channels}')
        pooled = resize(
            self.image_pool(high_level),
            size=high_level.shape[2:],
            mode='bilinear',
            align_corners=self.align_corners)
        parts = [pooled, self.channel_learner(high_level)]
        parts.extend(self.aspp(high_level))
        return low_level, self.fuse(torch.cat(parts, dim=1))
