# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Segmentation head on Monodepth2's U-Net-like decoder (a preset of
:class:`DecoderSegHead`)."""
from typing import Sequence, Union

from mmseg.utils import ConfigType, OptConfigType

from mmdepthseg.registry import MODELS
from ..decoders import UNetDecoder
from .decoder_seg_head import DecoderSegHead


@MODELS.register_module()
class UNetSegHead(DecoderSegHead):
    """Semantic segmentation with the U-Net-like decoder of Monodepth2.

    :class:`DecoderSegHead` with the same :class:`UNetDecoder` as
    :class:`UNetDepthHead` (as used for the segmentation branch of
    FSRE-Depth, Jung et al., ICCV 2021), configured by the decoder's
    arguments directly: ``decoder=dict(type='UNetDecoder',
    channels=decoder_channels, conv_cfg=conv_cfg, norm_cfg=norm_cfg,
    act_cfg=act_cfg, padding_mode=padding_mode,
    upsample_mode=upsample_mode)`` (same parameter names, so checkpoints
    load into either).

    Args:
        in_channels (Sequence[int]): Channels of the five backbone features,
            fine to coarse, e.g. ``[64, 64, 128, 256, 512]``.
        channels (int): Channels of the full-resolution decoder output fed
            to the classifier; must equal ``decoder_channels[-1]``.
            Default: 16.
        num_classes (int): Number of classes. Default: 19.
        decoder_channels (Sequence[int]): Decoder stage channels, coarse to
            fine. Default: (256, 128, 64, 32, 16).
        in_index (Sequence[int]): Indices of the backbone features used.
            Default: (0, 1, 2, 3, 4).
        input_transform (str): Must be 'multiple_select'.
            Default: 'multiple_select'.
        dropout_ratio (float): Dropout before the classifier. Default: 0.
        conv_cfg (dict, optional): Config of decoder convs. Default: None.
        norm_cfg (dict, optional): Config of decoder norms. Default: None.
        act_cfg (dict): Decoder activation. Default: ``dict(type='ELU')``.
        padding_mode (str): Padding of the decoder's 3x3 convs.
            Default: 'reflect'.
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
        channels: int = 16,
        num_classes: int = 19,
        decoder_channels: Sequence[int] = (256, 128, 64, 32, 16),
        in_index: Sequence[int] = (0, 1, 2, 3, 4),
        input_transform: str = 'multiple_select',
        dropout_ratio: float = 0.,
        conv_cfg: OptConfigType = None,
        norm_cfg: OptConfigType = None,
        act_cfg: ConfigType = dict(type='ELU'),
        padding_mode: str = 'reflect',
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
            decoder=dict(
                type=UNetDecoder,
                channels=decoder_channels,
                conv_cfg=conv_cfg,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg,
                padding_mode=padding_mode,
                upsample_mode=upsample_mode),
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
