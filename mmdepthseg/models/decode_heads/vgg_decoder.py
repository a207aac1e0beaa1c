# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Decoder symmetric to the VGG encoder, and Pseudo-MTL's two heads."""
from typing import List, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule, build_conv_layer
from mmengine.model import BaseModule
from mmseg.models.utils import resize
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig
from torch import Tensor

from mmdepthseg.registry import MODELS
from ..layers.geometry import disp_to_depth
from .base_depth_head import BaseDepthHead
from .decoder_seg_head import DecoderSegHead


@MODELS.register_module()
class SymmetricDecoder(BaseModule):
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


@MODELS.register_module()
class SymmetricDepthHead(BaseDepthHead):
    """Pseudo-MTL's depth decoder ``D_d``: :class:`SymmetricDecoder` + disp.

    A 3x3 conv with sigmoid on the full-resolution decoder feature gives
    ``sigma``, mapped to metric depth by Monodepth2's conversion
    ``depth = 1 / (1/max_depth + (1/min_depth - 1/max_depth) * sigma)``
    (:func:`disp_to_depth`). The paper does not state the output layer; a
    bounded positive output is chosen because its L1 targets (Eq. 1) are
    metric pseudo depths in a known range and the same conversion is the
    project's convention (:class:`UNetDepthHead`). Single scale: forward
    returns a list of one map.

    Args:
        in_channels (Sequence[int]): Encoder channels, fine to coarse,
            bottleneck last, e.g. ``(64, 128, 256, 512, 512, 512)``.
        channels (Sequence[int]): Decoder stage channels, coarse to fine.
            Default: (512, 512, 256, 128, 64).
        num_convs (Sequence[int]): Convs per decoder stage.
            Default: (3, 3, 3, 2, 2).
        conv_cfg (dict, optional): Config of conv layers. Default: None.
        norm_cfg (dict, optional): Config of decoder norms. Default: None.
        act_cfg (dict): Decoder activation. Default: ``dict(type='ReLU')``.
        upsample_mode (str): Decoder upsampling. Default: 'nearest'.
        min_depth (float): Smallest depth, metres. Default: 0.1.
        max_depth (float): Largest depth, metres. Default: 100.0.
        loss_depth (dict | Sequence[dict]): Depth loss config(s).
            Default: ``dict(type='DepthL1Loss')``.
        align_corners (bool): ``align_corners`` of bilinear resizing.
            Default: False.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Default: normal init (std 0.01, bias 0) of ``disp_conv`` so the
            sigmoid starts near 0.5 (see :class:`UNetDepthHead`).
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        channels: Sequence[int] = (512, 512, 256, 128, 64),
        num_convs: Sequence[int] = (3, 3, 3, 2, 2),
        conv_cfg: OptConfigType = None,
        norm_cfg: OptConfigType = None,
        act_cfg: ConfigType = dict(type='ReLU'),
        upsample_mode: str = 'nearest',
        min_depth: float = 0.1,
        max_depth: float = 100.0,
        loss_depth: Union[ConfigType,
                          Sequence[ConfigType]] = dict(type='DepthL1Loss'),
        align_corners: bool = False,
        init_cfg: OptMultiConfig = dict(
            type='Normal', std=0.01, bias=0, override=dict(name='disp_conv'))
    ) -> None:
        super().__init__(
            min_depth=min_depth,
            max_depth=max_depth,
            loss_depth=loss_depth,
            align_corners=align_corners,
            init_cfg=init_cfg)
        self.decoder = SymmetricDecoder(
            in_channels,
            channels,
            num_convs,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg,
            upsample_mode=upsample_mode,
            align_corners=align_corners)
        # a plain conv (sigmoid in forward_disp): a ConvModule child would
        # re-run its own Kaiming init after the Normal init_cfg
        self.disp_conv = build_conv_layer(
            conv_cfg, self.decoder.out_channels, 1, kernel_size=3, padding=1)

    def forward_disp(self, inputs: Tuple[Tensor, ...]) -> List[Tensor]:
        """Predict the sigmoid disparity.

        Args:
            inputs (tuple[Tensor]): Encoder maps, fine to coarse.

        Returns:
            list[Tensor]: One map ``(B, 1, H, W)`` in (0, 1).
        """
        return [torch.sigmoid(self.disp_conv(self.decoder(inputs)))]

    def forward(self, inputs: Tuple[Tensor, ...]) -> List[Tensor]:
        """Predict metric depth.

        Args:
            inputs (tuple[Tensor]): Encoder maps, fine to coarse.

        Returns:
            list[Tensor]: One depth map ``(B, 1, H, W)`` in
            ``[min_depth, max_depth]`` metres.
        """
        return [
            disp_to_depth(disp, self.min_depth, self.max_depth)[1]
            for disp in self.forward_disp(inputs)
        ]


@MODELS.register_module()
class SymmetricSegHead(DecoderSegHead):
    """Pseudo-MTL's segmentation decoder ``D_s``.

    :class:`SymmetricDecoder` followed by MMSegmentation's 1x1 classifier
    ``conv_seg`` at full resolution. Loss and prediction are
    ``BaseDecodeHead``'s; the ground truth is the reference view (view 0)
    of ``gt_sem_seg`` ``(V', H, W)``.

    Args:
        in_channels (Sequence[int]): Encoder channels, fine to coarse,
            bottleneck last, e.g. ``(64, 128, 256, 512, 512, 512)``.
        channels (int): Channels fed to the classifier; must equal
            ``decoder_channels[-1]``. Default: 64.
        num_classes (int): Number of classes. Default: 19.
        decoder_channels (Sequence[int]): Decoder stage channels, coarse to
            fine. Default: (512, 512, 256, 128, 64).
        num_convs (Sequence[int]): Convs per decoder stage.
            Default: (3, 3, 3, 2, 2).
        in_index (Sequence[int]): Indices of the encoder maps used.
            Default: (0, 1, 2, 3, 4, 5).
        input_transform (str): Must be 'multiple_select'.
            Default: 'multiple_select'.
        dropout_ratio (float): Dropout before the classifier. Default: 0.
        conv_cfg (dict, optional): Config of conv layers. Default: None.
        norm_cfg (dict, optional): Config of decoder norms. Default: None.
        act_cfg (dict): Decoder activation. Default: ``dict(type='ReLU')``.
        upsample_mode (str): Decoder upsampling. Default: 'nearest'.
        loss_decode (dict | Sequence[dict]): Segmentation loss config(s).
            Default: ``dict(type='CrossEntropyLoss', loss_weight=1.0)``.
        ignore_index (int): Ignored label. Default: 255.
        align_corners (bool): ``align_corners`` of bilinear resizing.
            Default: False.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Default: normal init (std 0.01) of ``conv_seg``.
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        channels: int = 64,
        num_classes: int = 19,
        decoder_channels: Sequence[int] = (512, 512, 256, 128, 64),
        num_convs: Sequence[int] = (3, 3, 3, 2, 2),
        in_index: Sequence[int] = (0, 1, 2, 3, 4, 5),
        input_transform: str = 'multiple_select',
        dropout_ratio: float = 0.,
        conv_cfg: OptConfigType = None,
        norm_cfg: OptConfigType = None,
        act_cfg: ConfigType = dict(type='ReLU'),
        upsample_mode: str = 'nearest',
        loss_decode: Union[ConfigType, Sequence[ConfigType]] = dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
        ignore_index: int = 255,
        align_corners: bool = False,
        init_cfg: ConfigType = dict(
            type='Normal', std=0.01, override=dict(name='conv_seg'))
    ) -> None:
        super().__init__(
            in_channels,
            channels,
            decoder_channels,
            num_classes=num_classes,
            in_index=in_index,
            input_transform=input_transform,
            dropout_ratio=dropout_ratio,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg,
            loss_decode=loss_decode,
            ignore_index=ignore_index,
            align_corners=align_corners,
            init_cfg=init_cfg)
        self.decoder = SymmetricDecoder(
            self.in_channels,
            decoder_channels,
            num_convs,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg,
            upsample_mode=upsample_mode,
            align_corners=align_corners)

    def _decode(self, feats: List[Tensor]) -> Tensor:
        """Full-resolution decoder feature."""
        return self.decoder(feats)
