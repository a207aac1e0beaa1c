# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The convolutional layers of VGG (Pseudo-MTL's encoder)."""
from typing import Dict, List, Sequence, Tuple

import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmengine.runner.checkpoint import _load_checkpoint, load_state_dict
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig
from torch import Tensor

from mmdepthseg.registry import MODELS


@MODELS.register_module()
class VGGEncoder(BaseModule):
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
    ``init_cfg=dict(type='Pretrained', checkpoint=...)``: :meth:`init_weights`
    maps torchvision's ``features`` indices onto this module's convs (and
    norms, when ``norm_cfg`` is set: pair with ``vgg16_bn`` weights). A
    checkpoint without ``features.*`` keys (e.g. one saved from this module)
    loads through MMEngine's ordinary ``Pretrained`` init.

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

    def init_weights(self) -> None:
        """Initialise; torchvision-format ``Pretrained`` weights are mapped.

        Raises:
            KeyError: The checkpoint has ``features.*`` keys but lacks one
                that a conv / norm of this encoder needs (e.g. ``vgg16``
                weights for a ``norm_cfg`` encoder).
            ValueError: A mapped tensor's shape differs from the encoder's.
        """
        cfg = self.init_cfg
        if not (isinstance(cfg, dict) and cfg.get('type') == 'Pretrained'):
            super().init_weights()
            return
        ckpt_path = cfg['checkpoint']
        ckpt = _load_checkpoint(
            ckpt_path, map_location='cpu', logger='current')
        state = ckpt.get('state_dict', ckpt) if isinstance(ckpt,
                                                           dict) else ckpt
        if not any(k.startswith('features.') for k in state):
            super().init_weights()  # MMEngine's PretrainedInit
            return
        own = self.state_dict()
        mapped = dict()
        missing: List[str] = []
        mismatched: List[str] = []
        for src, dst in self.torchvision_key_map().items():
            for own_key in own:
                if not own_key.startswith(dst + '.'):
                    continue
                suffix = own_key[len(dst) + 1:]
                src_key = f'{src}.{suffix}'
                if src_key in state:
                    if state[src_key].shape != own[own_key].shape:
                        mismatched.append(
                            f'{src_key} {tuple(state[src_key].shape)} vs '
                            f'{own_key} {tuple(own[own_key].shape)}')
                    mapped[own_key] = state[src_key]
                elif suffix != 'num_batches_tracked':
                    missing.append(f'{src_key} (for {own_key})')
        if missing:
            raise KeyError(
                f'VGGEncoder: checkpoint {ckpt_path} lacks the torchvision '
                f'keys {missing[:4]}{" ..." if len(missing) > 4 else ""}; '
                f'vgg16 weights need norm_cfg=None, vgg16_bn weights a '
                f'norm_cfg, and num_convs must match the checkpoint')
        if mismatched:
            raise ValueError(
                f'VGGEncoder: shapes in checkpoint {ckpt_path} do not match '
                f'the encoder (check channels): {mismatched[:4]}')
        load_state_dict(self, mapped, strict=False, logger='current')
        print_log(
            f'VGGEncoder: loaded {len(mapped)} tensors from the '
            f'torchvision checkpoint {ckpt_path}',
            logger='current')
        self._is_init = True
