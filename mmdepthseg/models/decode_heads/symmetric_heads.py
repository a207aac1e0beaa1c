# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Pseudo-MTL's depth and segmentation decoders ``D_d`` and ``D_s``: presets
of :class:`DisparityDepthHead` and :class:`DecoderSegHead` on a
:class:`SymmetricDecoder`."""
from typing import List, Sequence, Union

import torch
from mmcv.cnn import build_conv_layer
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig
from torch import Tensor

from mmdepthseg.registry import MODELS
from ..decoders import SymmetricDecoder
from .decoder_seg_head import DecoderSegHead
from .disparity_depth_head import DisparityDepthHead


@MODELS.register_module()
class SymmetricDepthHead(DisparityDepthHead):
    """Pseudo-MTL's depth decoder ``D_d``: :class:`SymmetricDecoder` + disp.

    :class:`DisparityDepthHead` on a :class:`SymmetricDecoder` configured by
    the decoder's arguments directly. A 3x3 conv with sigmoid on the
    full-resolution decoder feature gives ``sigma``, mapped to metric depth
    by Monodepth2's conversion ``depth = 1 / (1/max_depth + (1/min_depth -
    1/max_depth) * sigma)`` (:func:`sigmoid_to_depth`). The paper does not
    state the output layer; a bounded positive output is chosen because its
    L1 targets (Eq. 1) are metric pseudo depths in a known range and the
    same conversion is the project's convention (:class:`UNetDepthHead`).
    Single scale: forward returns a list of one map.

    The disparity conv keeps this head's own parameter layout, a plain
    zero-padded conv named ``disp_conv`` (not ``disp_convs.0.conv``), so
    its checkpoints and ``init_cfg`` overrides keep working; numerically it
    is ``DisparityDepthHead(decoder=dict(type='SymmetricDecoder', ...),
    padding_mode='zeros')``.

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
            decoder=dict(
                type=SymmetricDecoder,
                in_channels=in_channels,
                channels=channels,
                num_convs=num_convs,
                conv_cfg=conv_cfg,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg,
                upsample_mode=upsample_mode,
                align_corners=align_corners),
            num_output_scales=1,
            conv_cfg=conv_cfg,
            padding_mode='zeros',
            min_depth=min_depth,
            max_depth=max_depth,
            loss_depth=loss_depth,
            align_corners=align_corners,
            init_cfg=init_cfg)

    def _build_disp_layers(self, conv_cfg: OptConfigType,
                           padding_mode: str) -> None:
        """``disp_conv``: a plain conv (sigmoid in :meth:`_disparities`); a
        ``ConvModule`` child would re-run its own Kaiming init after the
        Normal ``init_cfg``."""
        self.disp_conv = build_conv_layer(
            conv_cfg, self.decoder.out_channels, 1, kernel_size=3, padding=1)

    def _disparities(self, feats: List[Tensor]) -> List[Tensor]:
        """The sigmoid disparity of the full-resolution decoder output."""
        return [torch.sigmoid(self.disp_conv(feats[0]))]


@MODELS.register_module()
class SymmetricSegHead(DecoderSegHead):
    """Pseudo-MTL's segmentation decoder ``D_s``.

    :class:`DecoderSegHead` on a :class:`SymmetricDecoder` configured by
    the decoder's arguments directly: MMSegmentation's 1x1 classifier
    ``conv_seg`` on the full-resolution decoder output. Loss and prediction
    are ``BaseDecodeHead``'s; the ground truth is the reference view (view
    0) of ``gt_sem_seg`` ``(V', H, W)``.

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
            decoder=dict(
                type=SymmetricDecoder,
                channels=decoder_channels,
                num_convs=num_convs,
                conv_cfg=conv_cfg,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg,
                upsample_mode=upsample_mode,
                align_corners=align_corners),
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
