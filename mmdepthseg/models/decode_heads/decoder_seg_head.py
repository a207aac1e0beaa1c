# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Segmentation head: a configurable multi-level decoder + classifier."""
from typing import Optional, Sequence, Tuple, Union

from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.utils import ConfigType, OptConfigType, SampleList
from torch import Tensor

from mmdepthseg.registry import MODELS
from ..decoders import build_decoder
from ..utils import stack_pixel_field


@MODELS.register_module()
class DecoderSegHead(BaseDecodeHead):
    """MMSegmentation decode head on a decoder that reads every encoder
    level (U-Net style).

    The decoder (any :class:`~mmdepthseg.models.decoders.BaseDecoder`, e.g.
    ``UNetDecoder`` for FSRE-Depth's segmentation branch or
    ``SymmetricDecoder`` for Pseudo-MTL's ``D_s``) gives its finest output,
    MMSegmentation's 1x1 classifier ``conv_seg`` classifies it. Loss and
    prediction are ``BaseDecodeHead``'s; the ground truth is the reference
    view (view 0) of ``gt_sem_seg`` ``(V', H, W)``.

    .. code:: python

        seg_head=dict(
            type='DecoderSegHead',
            in_channels=[64, 64, 128, 256, 512],
            channels=16,
            decoder=dict(type='UNetDecoder', channels=(256, 128, 64, 32, 16)),
            num_classes=19)

    Args:
        in_channels (Sequence[int]): Encoder channels, fine to coarse; filled
            into ``decoder`` when it names none (checked when it does).
        channels (int): Channels of the decoder's finest output, fed to the
            classifier.
        decoder (dict): Config of the decoder, a registered ``BaseDecoder``.
        num_classes (int): Number of classes. Default: 19.
        in_index (Sequence[int], optional): Indices of the encoder features
            used. Default: None (all of ``in_channels``).
        input_transform (str): Must be 'multiple_select'.
            Default: 'multiple_select'.
        dropout_ratio (float): Dropout before the classifier. Default: 0.
        conv_cfg, norm_cfg, act_cfg: ``BaseDecodeHead``'s (the classifier is
            a plain conv; the decoder's layers follow ``decoder``).
            Defaults: None, None, ``dict(type='ReLU')``.
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
        channels: int,
        decoder: ConfigType,
        num_classes: int = 19,
        in_index: Optional[Sequence[int]] = None,
        input_transform: str = 'multiple_select',
        dropout_ratio: float = 0.,
        conv_cfg: OptConfigType = None,
        norm_cfg: OptConfigType = None,
        act_cfg: ConfigType = dict(type='ReLU'),
        loss_decode: Union[ConfigType, Sequence[ConfigType]] = dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
        ignore_index: int = 255,
        align_corners: bool = False,
        init_cfg: ConfigType = dict(
            type='Normal', std=0.01, override=dict(name='conv_seg'))
    ) -> None:
        name = type(self).__name__
        if input_transform != 'multiple_select':
            raise ValueError(
                f"{name} needs input_transform='multiple_select' (the "
                f'decoder takes every encoder level), got {input_transform!r}')
        if in_index is None:
            in_index = range(len(in_channels))
        super().__init__(
            list(in_channels),
            channels,
            num_classes=num_classes,
            dropout_ratio=dropout_ratio,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg,
            in_index=list(in_index),
            input_transform=input_transform,
            loss_decode=loss_decode,
            ignore_index=ignore_index,
            align_corners=align_corners,
            init_cfg=init_cfg)
        self.decoder = build_decoder(decoder, self.in_channels, name)
        if channels != self.decoder.out_channels_at(0):
            raise ValueError(
                f'{name}: channels ({channels}) must equal the channels of '
                f'the last decoder stage ({self.decoder.out_channels_at(0)})')

    def forward(self, inputs: Tuple[Tensor, ...]) -> Tensor:
        """Decode and classify.

        Args:
            inputs (tuple[Tensor]): Encoder features, fine to coarse.

        Returns:
            Tensor: Logits ``(B, num_classes, H, W)`` at the resolution of
            the decoder's finest output.
        """
        feats = self.decoder.forward_scales(self._transform_inputs(inputs))
        return self.cls_seg(feats[0])

    def _stack_batch_gt(self, batch_data_samples: SampleList) -> Tensor:
        """Labels of the reference view, ``(B, 1, H, W)``."""
        return stack_pixel_field(batch_data_samples, 'gt_sem_seg')[:, :1]
