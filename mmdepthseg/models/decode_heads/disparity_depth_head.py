# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Depth head: a configurable decoder + sigmoid disparity convolutions."""
from typing import List, Optional, Sequence, Tuple, Union

import torch.nn as nn
from mmcv.cnn import ConvModule
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig
from torch import Tensor

from mmdepthseg.registry import MODELS
from ..decoders import build_decoder
from ..layers.geometry import sigmoid_to_depth
from ..layers.padding import conv_padding_mode
from .base_depth_head import BaseDepthHead


@MODELS.register_module()
class DisparityDepthHead(BaseDepthHead):
    """Depth from sigmoid disparities on a decoder's outputs (Monodepth2).

    The decoder (any :class:`~mmdepthseg.models.decoders.BaseDecoder`, e.g.
    Monodepth2's ``UNetDecoder`` or Pseudo-MTL's ``SymmetricDecoder``) maps
    the encoder features to one map per scale; a 3x3 conv + sigmoid on
    each of the ``num_output_scales`` finest ones gives ``sigma``, and
    Monodepth2's conversion ``depth = 1 / (1/max_depth + (1/min_depth -
    1/max_depth) * sigma)`` (:func:`sigmoid_to_depth`) makes depth, so every
    prediction lies in ``[min_depth, max_depth]``.

    .. code:: python

        depth_head=dict(
            type='DisparityDepthHead',
            in_channels=[64, 64, 128, 256, 512],
            decoder=dict(type='UNetDecoder', channels=(256, 128, 64, 32, 16)),
            num_output_scales=4)

    Note:
        With a loss on metric depth (e.g. :class:`DepthL1Loss`) the gradient
        w.r.t. the pre-sigmoid logit grows with the predicted depth, and a
        step that saturates the sigmoid stalls training. Measured on small
        batches, Adam with lr 1e-4 .. 3e-4 (Monodepth2 / FSRE use 1e-4)
        trains smoothly while lr 1e-3 (even with gradient clipping) or plain
        SGD with lr >= 3e-4 saturate the depth output within a few steps.

    Args:
        decoder (dict): Config of the decoder, a registered ``BaseDecoder``.
        in_channels (Sequence[int], optional): Encoder channels, fine to
            coarse; filled into ``decoder`` when it names none (checked
            against it when it does). Default: None (``decoder`` has them).
        num_output_scales (int): Number of disparity convs (scales
            ``0 .. n-1`` of the decoder); 4 for self-supervised training.
            Default: 1.
        conv_cfg (dict, optional): Config of the disparity convs.
            Default: None.
        padding_mode (str): Padding of the disparity convs.
            Default: 'reflect' (Monodepth2).
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
        decoder: ConfigType,
        in_channels: Optional[Sequence[int]] = None,
        num_output_scales: int = 1,
        conv_cfg: OptConfigType = None,
        padding_mode: str = 'reflect',
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
        name = type(self).__name__
        self.decoder = build_decoder(decoder, in_channels, name)
        num_scales = self.decoder.num_scales
        if not 1 <= num_output_scales <= num_scales:
            raise ValueError(f'{name}: num_output_scales must be in '
                             f'[1, {num_scales}], got {num_output_scales}')
        self.num_output_scales = num_output_scales
        self._build_disp_layers(conv_cfg, padding_mode)

    def _build_disp_layers(self, conv_cfg: OptConfigType,
                           padding_mode: str) -> None:
        """``disp_convs[s]``: 3x3 conv + sigmoid on decoder output ``s``."""
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
            for scale in range(self.num_output_scales))

    def _disparities(self, feats: List[Tensor]) -> List[Tensor]:
        """Sigmoid disparities of the decoder outputs, finest first."""
        return [
            disp_conv(feats[scale])
            for scale, disp_conv in enumerate(self.disp_convs)
        ]

    def forward_disp(self, inputs: Tuple[Tensor, ...]) -> List[Tensor]:
        """Predict sigmoid disparities.

        Args:
            inputs (tuple[Tensor]): Encoder features, fine to coarse.

        Returns:
            list[Tensor]: Sigmoid outputs in (0, 1), ``(B, 1, h_s, w_s)``
            for the decoder's scales ``s = 0 .. num_output_scales - 1``
            (``H/2^s x W/2^s`` for ``UNetDecoder``).
        """
        return self._disparities(self.decoder.forward_scales(inputs))

    def forward(self, inputs: Tuple[Tensor, ...]) -> List[Tensor]:
        """Predict depth at every output scale.

        Args:
            inputs (tuple[Tensor]): Encoder features, fine to coarse.

        Returns:
            list[Tensor]: Depth ``(B, 1, h_s, w_s)`` in metres for
            ``s = 0 .. num_output_scales - 1``.
        """
        return [
            sigmoid_to_depth(disp, self.min_depth, self.max_depth)[1]
            for disp in self.forward_disp(inputs)
        ]
