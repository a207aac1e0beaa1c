# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The convolutional layers of VGG (Pseudo-MTL's encoder)."""
from typing import Dict, Optional, Sequence, Tuple

import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig
from torch import Tensor

from mmdepthseg.registry import MODELS
from .pretrained import ConvertedState, PretrainedInitMixin, drop_classifier


@MODELS.register_module()
class VGGEncoder(PretrainedInitMixin, BaseModule):
    """VGG-16's convolutional layers, returning a U-Net skip per block.

    Pseudo-MTL (Sec. 3.1) uses "the convolutional layers of the VGG network"
    as a shared encoder, with two decoders symmetric to it. The encoder has
    five blocks of 3x3 :class:`~mmcv.cnn.ConvModule` (conv + optional norm +
    ReLU), separated by 2x2 max-pooling, and ends with the fifth pool
    (torchvision's ``vgg16().features`` exactly, when ``norm_cfg`` is None).

    For a U-Net-like symmetric decoder every block's output is returned
    *before* its pooling (the skip connection at that block's resolution),
    followed by the output of the last pool (the bottleneck). For an input
    ``(B, C_in, H, W)`` and the default VGG-16 arch the outputs are:

    =====  ===========================  =======  ========
    index  map                          stride   channels
    =====  ===========================  =======  ========
    0      block 1 (conv1_2), pre-pool  1        64
    1      block 2 (conv2_2), pre-pool  2        128
    2      block 3 (conv3_3), pre-pool  4        256
    3      block 4 (conv4_3), pre-pool  8        512
    4      block 5 (conv5_3), pre-pool  16       512
    5      pool5 (bottleneck)           32       512
    =====  ===========================  =======  ========

    Pooling floors odd sizes (as torchvision's), so a decoder should
    upsample to its skip's size; inputs divisible by 32 avoid the issue.

    ImageNet weights in torchvision's format (``features.<idx>.weight`` /
    ``.bias`` and, for ``vgg16_bn``, the BN's ``running_mean`` ...) load with
    ``init_cfg=dict(type='Pretrained', checkpoint=..., sha256=...,
    layout='torchvision')``: :meth:`convert_pretrained` maps torchvision's
    ``features`` indices onto this module's convs (and norms, when
    ``norm_cfg`` is set: pair with ``vgg16_bn`` weights) and drops the
    ``classifier``; the file is verified and every key must fit (see
    :mod:`mmdepthseg.models.backbones.pretrained`). A checkpoint without
    ``features.*`` keys (e.g. one saved from this module) loads under its
    own names.

    Note:
        MMCV 2.1 ships :class:`mmcv.cnn.VGG`, but it is a plain ``nn.Module``
        (no ``init_cfg``), returns the maps only *after* pooling (no
        full-resolution skip for a U-Net decoder), has no ``norm_cfg`` and
        puts BN in eval mode by default, so it is not reused here.

    Args:
        in_channels (int): Input channels. Default: 3.
        num_convs (Sequence[int]): Convs per block. Default: (2, 2, 3, 3, 3)
            (VGG-16; (2, 2, 4, 4, 4) is VGG-19).
        channels (Sequence[int]): Channels of each block.
            Default: (64, 128, 256, 512, 512).
        conv_cfg (dict, optional): Config of conv layers. Default: None.
        norm_cfg (dict, optional): Config of norm layers; None (default)
            as the original VGG, e.g. ``dict(type='BN')`` for ``vgg16_bn``.
            The convs keep their bias with a norm too, as in ``vgg16_bn``.
        act_cfg (dict): Activation config. Default: ``dict(type='ReLU')``.
        init_cfg (dict | list[dict], optional): Initialisation config, e.g.
            ``dict(type='Pretrained', checkpoint='/path/vgg16.pth')``.
            Default: None (ConvModule's Kaiming init).
    """

    def __init__(self,
                 in_channels: int = 3,
                 num_convs: Sequence[int] = (2, 2, 3, 3, 3),
                 channels: Sequence[int] = (64, 128, 256, 512, 512),
                 conv_cfg: OptConfigType = None,
                 norm_cfg: OptConfigType = None,
                 act_cfg: ConfigType = dict(type='ReLU'),
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg)
        if len(num_convs) != len(channels) or len(channels) == 0:
            raise ValueError(
                f'VGGEncoder: num_convs {tuple(num_convs)} and channels '
                f'{tuple(channels)} must be non-empty and of equal length')
        self.in_channels = in_channels
        self.num_convs = tuple(num_convs)
        self.with_norm = norm_cfg is not None
        self.stages = nn.ModuleList()
        prev = in_channels
        for n, ch in zip(num_convs, channels):
            convs = []
            for _ in range(n):
                convs.append(
                    ConvModule(
                        prev,
                        ch,
                        kernel_size=3,
                        padding=1,
                        bias=True,  # as torchvision's vgg16_bn too
                        conv_cfg=conv_cfg,
                        norm_cfg=norm_cfg,
                        act_cfg=act_cfg))
                prev = ch
            self.stages.append(nn.Sequential(*convs))
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)
        self.out_channels: Tuple[int, ...] = tuple(channels) + (channels[-1], )

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """Extract the pre-pool block outputs and the bottleneck.

        Args:
            x (Tensor): Input, ``(B, in_channels, H, W)``.

        Returns:
            tuple[Tensor]: ``len(channels) + 1`` maps at strides 1, 2, ...,
            2^len(channels), with ``self.out_channels`` channels.
        """
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f'VGGEncoder expects an input of shape '
                f'(B, {self.in_channels}, H, W), got {tuple(x.shape)}')
        outs = []
        for i, stage in enumerate(self.stages):
            if i > 0:
                x = self.pool(x)
            x = stage(x)
            outs.append(x)
        outs.append(self.pool(x))
        return tuple(outs)

    def torchvision_key_map(self) -> Dict[str, str]:
        """Map torchvision ``features.<idx>`` prefixes to this module's.

        torchvision's ``features`` is a flat ``nn.Sequential``: per conv a
        ``Conv2d``, (a ``BatchNorm2d`` for ``_bn`` models) and a ``ReLU``,
        per block a ``MaxPool2d``.

        Returns:
            dict[str, str]: e.g. ``{'features.0': 'stages.0.0.conv',
            'features.2': 'stages.0.1.conv', ...}`` (plus ``.bn`` entries
            when ``norm_cfg`` is set).
        """
        mapping = dict()
        idx = 0
        for i, n in enumerate(self.num_convs):
            for j in range(n):
                module = self.stages[i][j]
                mapping[f'features.{idx}'] = f'stages.{i}.{j}.conv'
                idx += 1
                if self.with_norm:
                    mapping[f'features.{idx}'] = \
                        f'stages.{i}.{j}.{module.norm_name}'
                    idx += 1
                idx += 1  # activation
            idx += 1  # max-pool
        return mapping

    def convert_pretrained(self, state: Dict[str, Tensor],
                           layout: Optional[str]) -> ConvertedState:
        """Map torchvision's ``features.<idx>`` keys onto this encoder.

        Args:
            state (dict[str, Tensor]): Checkpoint tensors.
            layout (str, optional): ``'torchvision'`` (``vgg16`` /
                ``vgg16_bn`` files: the ``classifier.*`` head is dropped),
                None to recognise it by its ``features.*`` keys, or
                ``'own'`` (this module's names).

        Returns:
            ConvertedState: The tensors to load.
        """
        if layout not in (None, 'torchvision', 'own'):
            raise ValueError(f'VGGEncoder: unknown checkpoint layout '
                             f"{layout!r}, expected 'torchvision', 'own' "
                             'or None')
        if layout == 'own' or (layout is None and not any(
                k.startswith('features.') for k in state)):
            return ConvertedState(dict(state), {}, [])
        state, dropped = drop_classifier(state, ('classifier.', ))
        mapping = self.torchvision_key_map()
        mapped, sources = dict(), dict()
        for key, value in state.items():
            parts = key.split('.')
            src = '.'.join(parts[:2])
            # unknown keys keep their name and are reported as unexpected
            own_key = '.'.join([mapping[src]] + parts[2:]) \
                if src in mapping else key
            mapped[own_key] = value
            sources[own_key] = key
        # a key the checkpoint lacks is reported under its torchvision name
        for src, dst in mapping.items():
            for own_key in self.state_dict():
                if own_key.startswith(dst + '.') and own_key not in sources:
                    sources[own_key] = src + own_key[len(dst):]
        return ConvertedState(mapped, sources, dropped)
