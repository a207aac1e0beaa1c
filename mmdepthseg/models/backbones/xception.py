# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Aligned Xception-65, the backbone of DeepLabV3+ (and of SOSD-Net)."""
import re
from typing import Dict, List, Optional, Sequence, Tuple

import torch.nn as nn
from mmcv.cnn import (ConvModule, DepthwiseSeparableConvModule,
                      build_activation_layer)
from mmengine.model import BaseModule
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm

from mmdepthseg.registry import MODELS
from .pretrained import ConvertedState, PretrainedInitMixin, drop_classifier

_TIMM_BLOCK = re.compile(r'^blocks\.(\d+)\.(.*)$')
_TIMM_SEPARABLE = re.compile(r'^stack\.conv([123])\.(conv|bn)_(dw|pw)\.(.*)$')


def convert_timm_xception65(
        state: Dict[str, Tensor]) -> Tuple[Dict[str, Tensor],
                                           Dict[str, str], List[str]]:
    """Rename timm's aligned Xception keys to :class:`Xception65`'s.

    timm's ``xception65`` (``timm/models/xception_aligned.py``; the
    ``tf_xception_65-c9ae96e8.pth`` / ``xception65.tf_in1k`` weights, ported
    from TF DeepLab's ImageNet ``xception_65``) names its layers:

    - ``stem.{0,1}.{conv,bn}.*`` -> the same names;
    - ``blocks.{0,1,2}`` -> ``entry_block{1,2,3}``, ``blocks.{3..3+M-1}`` ->
      ``middle_flow.{0..M-1}``, ``blocks.{3+M}`` / ``blocks.{4+M}`` ->
      ``exit_block1`` / ``exit_block2``;
    - inside a block: ``shortcut.{conv,bn}.*`` -> the same names,
      ``stack.conv{k}.conv_dw`` / ``.bn_dw`` ->
      ``convs.{k-1}.depthwise_conv.conv`` / ``.bn``, and
      ``stack.conv{k}.conv_pw`` / ``.bn_pw`` ->
      ``convs.{k-1}.pointwise_conv.conv`` / ``.bn``;
    - ``head.fc.*`` (or ``fc.*``), the ImageNet classifier, is dropped.

    ``M`` (16 for Xception-65) is read from the checkpoint: the last two
    blocks are the exit flow. Keys of no known form keep their names (and
    are then reported as unexpected).

    Args:
        state (dict[str, Tensor]): timm checkpoint tensors.

    Returns:
        tuple: ``(renamed, sources, dropped)``: tensors under Xception65's
        names, new name -> timm name, and the dropped classifier keys.
    """
    state, dropped = drop_classifier(state, ('head.fc.', 'fc.'))
    blocks = [int(m.group(1)) for m in map(_TIMM_BLOCK.match, state) if m]
    num_blocks = max(blocks) + 1 if blocks else 0
    num_middle = num_blocks - 5

    def block_name(i: int) -> str:
        if i < 3:
            return f'entry_block{i + 1}'
        if i < 3 + num_middle:
            return f'middle_flow.{i - 3}'
        return f'exit_block{i - 2 - num_middle}'

    renamed, sources = dict(), dict()
    for key, value in state.items():
        new = key
        m = _TIMM_BLOCK.match(key)
        if m is not None and num_middle >= 0:
            rest = m.group(2)
            sep = _TIMM_SEPARABLE.match(rest)
            if sep is not None:
                k, kind, part, tail = sep.groups()
                conv = 'depthwise_conv' if part == 'dw' else 'pointwise_conv'
                rest = f'convs.{int(k) - 1}.{conv}.{kind}.{tail}'
            new = f'{block_name(int(m.group(1)))}.{rest}'
        renamed[new] = value
        sources[new] = key
    return renamed, sources, dropped


class _AtrousSchedule:
    """Stride / dilation of successive blocks for a target output stride.

    Args:
        current_stride (int): Network stride before the first block.
        target (int): Output stride not to be exceeded.
    """

    def __init__(self, current_stride: int, target: int) -> None:
        self.current_stride = current_stride
        self.target = target
        self.dilation = 1

    def step(self, nominal_stride: int) -> List[int]:
        """Stride and dilation of the next block.

        Args:
            nominal_stride (int): The block's stride in the plain network.

        Returns:
            list[int]: ``[stride, dilation]`` to build the block with.
        """
        if self.current_stride >= self.target:
            dilation = self.dilation
            self.dilation *= nominal_stride
            return [1, dilation]
        self.current_stride *= nominal_stride
        return [nominal_stride, self.dilation]


class XceptionBlock(BaseModule):
    """Residual unit of aligned Xception: three 3x3 separable convolutions.

    Each separable convolution is a depthwise 3x3 conv and a pointwise 1x1
    conv, both followed by norm and activation (the aligned form of
    DeepLabV3+). Only the last separable convolution carries the block's
    stride; all three use the block's dilation (padding = dilation, so a
    stride-1 conv keeps the size and a stride-2 conv gives ``ceil(H / 2)``).

    The residual branch is one of:

    - ``'conv'``: a 1x1 conv with the block's stride, then norm, no
      activation (entry flow, first exit-flow block);
    - ``'sum'``: the identity (middle flow; needs ``in_channels ==
      channels[-1]`` and stride 1);
    - ``'none'``: no residual (last exit-flow block).

    The two branches are summed with no activation after the sum.

    Args:
        in_channels (int): Input channels.
        channels (Sequence[int]): Output channels of the three separable
            convolutions.
        stride (int): Stride of the last separable convolution (and of the
            1x1 skip conv). Default: 1.
        dilation (int): Dilation of the three depthwise convolutions.
            Default: 1.
        skip (str): Residual type, ``'conv'``, ``'sum'`` or ``'none'``.
            Default: ``'conv'``.
        conv_cfg (dict, optional): Config of conv layers. Default: None.
        norm_cfg (dict): Config of norm layers.
            Default: ``dict(type='BN', requires_grad=True)``.
        act_cfg (dict): Config of activation layers.
            Default: ``dict(type='ReLU')``.
        act_in_separable_conv (bool): True: norm and activation after the
            depthwise and after the pointwise conv of every separable
            convolution (the DeepLabV3+ paper's description). False: no
            activation inside the separable convolutions; one before each
            of them instead (TF DeepLab's ``xception_65`` with
            ``activation_fn_in_separable_conv=False``, the network its
            ImageNet checkpoint was trained as). Default: True.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Default: None.
    """

    def __init__(self,
                 in_channels: int,
                 channels: Sequence[int],
                 stride: int = 1,
                 dilation: int = 1,
                 skip: str = 'conv',
                 conv_cfg: OptConfigType = None,
                 norm_cfg: ConfigType = dict(type='BN', requires_grad=True),
                 act_cfg: ConfigType = dict(type='ReLU'),
                 act_in_separable_conv: bool = True,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(channels) != 3:
            raise ValueError(f'{type(self).__name__} expects 3 channel '
                             f'counts, got channels={tuple(channels)}')
        if skip not in ('conv', 'sum', 'none'):
            raise ValueError(f"{type(self).__name__}: skip must be 'conv', "
                             f"'sum' or 'none', got {skip!r}")
        if skip == 'sum' and (stride != 1 or in_channels != channels[-1]):
            raise ValueError(
                f"{type(self).__name__}: skip='sum' needs stride 1 and "
                f'in_channels == channels[-1], got stride={stride}, '
                f'in_channels={in_channels}, channels={tuple(channels)}')
        self.skip = skip
        self.pre_act = None
        if not act_in_separable_conv:
            self.pre_act = build_activation_layer(act_cfg)
            if hasattr(self.pre_act, 'inplace'):
                # the block input is also the residual: keep it intact
                self.pre_act.inplace = False
        convs = []
        conv_in = in_channels
        for i, out_channels in enumerate(channels):
            convs.append(
                DepthwiseSeparableConvModule(
                    conv_in,
                    out_channels,
                    kernel_size=3,
                    stride=stride if i == len(channels) - 1 else 1,
                    padding=dilation,
                    dilation=dilation,
                    conv_cfg=conv_cfg,
                    norm_cfg=norm_cfg,
                    act_cfg=act_cfg if act_in_separable_conv else None))
            conv_in = out_channels
        self.convs = nn.ModuleList(convs)
        self.shortcut = None
        if skip == 'conv':
            self.shortcut = ConvModule(
                in_channels,
                channels[-1],
                kernel_size=1,
                stride=stride,
                conv_cfg=conv_cfg,
                norm_cfg=norm_cfg,
                act_cfg=None)

    def _separable(self, i: int, x: Tensor) -> Tensor:
        """The ``i``-th separable conv, preceded by the activation when it
        is not inside the separable convs."""
        if self.pre_act is not None:
            x = self.pre_act(x)
        return self.convs[i](x)

    def forward_with_inner(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        """Run the block and also return the input of its last conv.

        Args:
            x (Tensor): Input, ``(B, in_channels, H, W)``.

        Returns:
            tuple[Tensor, Tensor]: The block output
            ``(B, channels[2], ceil(H / stride), ceil(W / stride))`` and the
            output of the second separable conv ``(B, channels[1], H, W)``
            (before the block's stride).
        """
        out = self._separable(1, self._separable(0, x))
        inner = out
        out = self._separable(2, out)
        if self.skip == 'conv':
            out = out + self.shortcut(x)
        elif self.skip == 'sum':
            out = out + x
        return out, inner

    def forward(self, x: Tensor) -> Tensor:
        """Run the block.

        Args:
            x (Tensor): Input, ``(B, in_channels, H, W)``.

        Returns:
            Tensor: ``(B, channels[2], ceil(H / stride), ceil(W / stride))``.
        """
        return self.forward_with_inner(x)[0]


@MODELS.register_module()
class Xception65(PretrainedInitMixin, BaseModule):
    """Aligned Xception-65 of DeepLabV3+ (Chen et al., ECCV 2018).

    The modified ("aligned") Xception used as DeepLabV3+'s encoder: every
    max-pooling of Xception is replaced by a strided depthwise separable
    convolution, and batch norm + ReLU follow every 3x3 depthwise and every
    1x1 pointwise convolution. Layers (channels at ``width_mult=1``):

    ============  ============================================  ==========
    part          layers                                        stride
    ============  ============================================  ==========
    stem          3x3 conv 32 /2, 3x3 conv 64                   2
    entry_block1  sep 128, 128, 128 /2; 1x1 conv skip /2        4
    entry_block2  sep 256, 256 (-> low-level), 256 /2; skip     8
    entry_block3  sep 728, 728, 728 /2; 1x1 conv skip /2        16
    middle_flow   ``num_middle_blocks`` x (sep 728 x 3 + x)     16
    exit_block1   sep 728, 1024, 1024 /2; 1x1 conv skip /2      32
    exit_block2   sep 1536, 1536, 2048 (no residual)            32
    ============  ============================================  ==========

    Output stride: once the network stride reaches ``output_stride``, every
    later stride-2 block runs with stride 1 and all blocks after it use
    twice the dilation (DeepLab's atrous scheme): at 16 the exit flow's
    stride becomes dilation 2 in ``exit_block2``; at 8 ``entry_block3`` runs
    at stride 1, the middle flow and ``exit_block1`` at dilation 2 and
    ``exit_block2`` at dilation 4.

    Output size: every 3x3 conv pads by its dilation, so each stride-2 layer
    maps a side of length ``n`` to ``ceil(n / 2)``; for an input of any
    ``(H, W)`` the low-level feature is ``(ceil(H / 4), ceil(W / 4))`` and
    the high-level one ``(ceil(H / output_stride), ceil(W /
    output_stride))``.

    With ``width_mult=1`` the backbone has 37,867,312 parameters (BN affine
    parameters included, no conv biases).

    Args:
        in_channels (int): Input channels. Default: 3.
        output_stride (int): Stride of the high-level feature, one of
            8, 16, 32. Default: 16.
        width_mult (float): Factor on every channel count; each is
            ``max(1, round(c * width_mult))``. 1.0 gives the published
            widths; small values give cheap models for tests. Default: 1.0.
        num_middle_blocks (int): Residual blocks in the middle flow.
            Default: 16.
        conv_cfg (dict, optional): Config of conv layers. Default: None.
        norm_cfg (dict): Config of norm layers.
            Default: ``dict(type='BN', requires_grad=True)``.
        act_cfg (dict): Config of activation layers.
            Default: ``dict(type='ReLU')``.
        norm_eval (bool): Keep norm layers in eval mode (frozen running
            statistics) while training. Default: False.
        act_in_separable_conv (bool): Where the activations of the entry
            and middle flows and of ``exit_block1`` are (see
            :class:`XceptionBlock`): True, after the depthwise and the
            pointwise conv (the DeepLabV3+ paper's text); False, before
            each separable conv (TF DeepLab's ``xception_65``, the network
            of the public ImageNet checkpoints). ``exit_block2`` has them
            inside either way, as in TF DeepLab. Default: True.
        init_cfg (dict | list[dict], optional): Initialisation config,
            e.g. timm's port of the TF DeepLab ImageNet weights, verified
            by the SHA-256 prefix in its file name::

                dict(type='Pretrained', layout='timm', sha256='c9ae96e8',
                     checkpoint='https://github.com/rwightman/'
                     'pytorch-image-models/releases/download/v0.1-weights/'
                     'tf_xception_65-c9ae96e8.pth')

            (keys mapped by :func:`convert_timm_xception65`; see
            :mod:`mmdepthseg.models.backbones.pretrained`). Those weights
            were trained with ``act_in_separable_conv=False`` and BN
            ``eps=1e-3``. Default: None (ConvModule's Kaiming
            initialisation).
    """

    arch_channels = dict(
        stem=(32, 64),
        entry_block1=(128, 128, 128),
        entry_block2=(256, 256, 256),
        entry_block3=(728, 728, 728),
        middle_flow=(728, 728, 728),
        exit_block1=(728, 1024, 1024),
        exit_block2=(1536, 1536, 2048))

    def __init__(self,
                 in_channels: int = 3,
                 output_stride: int = 16,
                 width_mult: float = 1.0,
                 num_middle_blocks: int = 16,
                 conv_cfg: OptConfigType = None,
                 norm_cfg: ConfigType = dict(type='BN', requires_grad=True),
                 act_cfg: ConfigType = dict(type='ReLU'),
                 norm_eval: bool = False,
                 act_in_separable_conv: bool = True,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self._check_arguments(output_stride, width_mult, num_middle_blocks)
        self.in_channels = in_channels
        self.output_stride = output_stride
        self.width_mult = width_mult
        self.norm_eval = norm_eval
        widths = {
            name: tuple(max(1, int(round(c * width_mult))) for c in chans)
            for name, chans in self.arch_channels.items()
        }
        common = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.act_in_separable_conv = act_in_separable_conv

        stem_channels = widths['stem']
        self.stem = nn.Sequential(
            ConvModule(
                in_channels,
                stem_channels[0],
                3,
                stride=2,
                padding=1,
                **common),
            ConvModule(
                stem_channels[0], stem_channels[1], 3, padding=1, **common))
        self._build_flows(widths, num_middle_blocks, common)
        self.out_channels: Tuple[int, int] = (widths['entry_block2'][1],
                                              widths['exit_block2'][-1])

    def _check_arguments(self, output_stride: int, width_mult: float,
                         num_middle_blocks: int) -> None:
        """Raise ``ValueError`` naming the first bad constructor argument."""
        if output_stride not in (8, 16, 32):
            raise ValueError(f'{type(self).__name__}: output_stride must be '
                             f'8, 16 or 32, got {output_stride!r}')
        if not width_mult > 0:
            raise ValueError(f'{type(self).__name__}: width_mult must be '
                             f'positive, got {width_mult!r}')
        if num_middle_blocks < 0:
            raise ValueError(f'{type(self).__name__}: num_middle_blocks must '
                             f'be >= 0, got {num_middle_blocks!r}')

    def _build_flows(self, widths: Dict[str, Tuple[int, ...]],
                     num_middle_blocks: int, common: dict) -> None:
        """Build the entry, middle and exit flows after the stem.

        Args:
            widths (dict[str, tuple[int]]): Channels of each part, scaled by
                ``width_mult``.
            num_middle_blocks (int): Residual blocks in the middle flow.
            common (dict): ``conv_cfg``, ``norm_cfg``, ``act_cfg``.
        """
        placement = dict(act_in_separable_conv=self.act_in_separable_conv)
        # DeepLab's atrous scheme: strides until ``output_stride`` is
        # reached, then stride 1 and a dilation doubled after each block
        # that would have strided.
        schedule = _AtrousSchedule(current_stride=2, target=self.output_stride)
        self.entry_block1 = XceptionBlock(widths['stem'][1],
                                          widths['entry_block1'],
                                          *schedule.step(2), **common,
                                          **placement)
        self.entry_block2 = XceptionBlock(widths['entry_block1'][-1],
                                          widths['entry_block2'],
                                          *schedule.step(2), **common,
                                          **placement)
        self.entry_block3 = XceptionBlock(widths['entry_block2'][-1],
                                          widths['entry_block3'],
                                          *schedule.step(2), **common,
                                          **placement)
        middle_stride, middle_dilation = schedule.step(1)
        self.middle_flow = nn.Sequential(*[
            XceptionBlock(
                widths['entry_block3'][-1],
                widths['middle_flow'],
                middle_stride,
                middle_dilation,
                skip='sum',
                **common,
                **placement) for _ in range(num_middle_blocks)
        ])
        self.exit_block1 = XceptionBlock(widths['middle_flow'][-1],
                                         widths['exit_block1'],
                                         *schedule.step(2), **common,
                                         **placement)
        self.exit_block2 = XceptionBlock(
            widths['exit_block1'][-1],
            widths['exit_block2'],
            *schedule.step(1),
            skip='none',
            **common)

    def convert_pretrained(self, state: Dict[str, Tensor],
                           layout: Optional[str]) -> ConvertedState:
        """Map a checkpoint onto this module's names.

        Args:
            state (dict[str, Tensor]): Checkpoint tensors.
            layout (str, optional): ``'timm'`` (timm's aligned
            ``xception65``, see :func:`convert_timm_xception65`), ``'own'``
            (this module's names, e.g. a file written by
            ``tools/model_converters/xception65_timm2mmdepthseg.py``), or
            None to tell them apart by timm's ``blocks.*`` keys.

        Returns:
            ConvertedState: The tensors to load.
        """
        if layout not in (None, 'timm', 'own'):
            raise ValueError(f"{type(self).__name__}: unknown checkpoint "
                             f"layout {layout!r}, expected 'timm', 'own' or "
                             'None')
        if layout == 'own' or (layout is None and not any(
                k.startswith('blocks.') for k in state)):
            return ConvertedState(dict(state), {}, [])
        return ConvertedState(*convert_timm_xception65(state))

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        """Extract the decoder's low-level and the high-level features.

        Args:
            x (Tensor): Input, ``(B, in_channels, H, W)``; any ``H, W``.

        Returns:
            tuple[Tensor, Tensor]: ``low_level``, the output of the second
            separable conv of ``entry_block2`` (before its strided conv),
            ``(B, out_channels[0], ceil(H / 4), ceil(W / 4))``, and
            ``high_level``, the exit-flow output, ``(B, out_channels[1],
            ceil(H / output_stride), ceil(W / output_stride))``.
        """
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f'{type(self).__name__} expects an input of shape '
                f'(B, {self.in_channels}, H, W), got {tuple(x.shape)}')
        x = self.stem(x)
        x = self.entry_block1(x)
        x, low_level = self.entry_block2.forward_with_inner(x)
        x = self.entry_block3(x)
        x = self.middle_flow(x)
        x = self.exit_block1(x)
        high_level = self.exit_block2(x)
        return low_level, high_level

    def train(self, mode: bool = True) -> 'Xception65':
        """Set the training mode, keeping norm layers in eval mode if
        ``norm_eval``."""
        super().train(mode)
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self
