# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Shared plumbing of segmentation heads built on a multi-level decoder."""
from typing import List, Sequence, Tuple, Union

from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.utils import ConfigType, OptConfigType, SampleList
from torch import Tensor

from ..utils import stack_pixel_field


class DecoderSegHead(BaseDecodeHead):
    """MMSegmentation decode head whose features come from a decoder that
    reads every encoder level (U-Net style).

    Subclasses build ``self.decoder`` and implement :meth:`_decode` (the
    full-resolution decoder feature); this class checks the arguments, runs
    MMSegmentation's classifier ``conv_seg`` on that feature and trains on
    the reference view (view 0) of ``gt_sem_seg`` ``(V', H, W)``. Loss and
    prediction are ``BaseDecodeHead``'s.

    Args:
        in_channels (Sequence[int]): Encoder channels, fine to coarse.
        channels (int): Channels of the decoder output fed to the
            classifier; must equal ``decoder_channels[-1]``.
        decoder_channels (Sequence[int]): Decoder stage channels, coarse to
            fine.
        num_classes, in_index, input_transform, dropout_ratio, conv_cfg,
        norm_cfg, act_cfg, loss_decode, ignore_index, align_corners,
        init_cfg: As for ``BaseDecodeHead``; ``input_transform`` must be
            ``'multiple_select'``.
    """

    def __init__(self, in_channels: Sequence[int], channels: int,
                 decoder_channels: Sequence[int], num_classes: int,
                 in_index: Sequence[int], input_transform: str,
                 dropout_ratio: float, conv_cfg: OptConfigType,
                 norm_cfg: OptConfigType, act_cfg: ConfigType,
                 loss_decode: Union[ConfigType,
                                    Sequence[ConfigType]], ignore_index: int,
                 align_corners: bool, init_cfg: ConfigType) -> None:
        name = type(self).__name__
        if input_transform != 'multiple_select':
            raise ValueError(
                f"{name} needs input_transform='multiple_select' (the "
                f'decoder takes every encoder level), got {input_transform!r}')
        if channels != decoder_channels[-1]:
            raise ValueError(
                f'{name}: channels ({channels}) must equal the last decoder '
                f'stage channels ({decoder_channels[-1]})')
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

    def _decode(self, feats: List[Tensor]) -> Tensor:
        """Full-resolution decoder feature ``(B, channels, H, W)``."""
        raise NotImplementedError

    def forward(self, inputs: Tuple[Tensor, ...]) -> Tensor:
        """Decode and classify.

        Args:
            inputs (tuple[Tensor]): Encoder features, fine to coarse.

        Returns:
            Tensor: Logits ``(B, num_classes, H, W)``.
        """
        return self.cls_seg(self._decode(self._transform_inputs(inputs)))

    def _stack_batch_gt(self, batch_data_samples: SampleList) -> Tensor:
        """Labels of the reference view, ``(B, 1, H, W)``."""
        return stack_pixel_field(batch_data_samples, 'gt_sem_seg')[:, :1]
