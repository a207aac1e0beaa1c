# Copyright (c) mmdepthseg contributors. All rights reserved.
"""ResNet encoder that also returns the stem feature (monodepth style)."""
from typing import Dict, Optional, Tuple

import torch
from mmengine.logging import print_log
from mmseg.models.backbones import ResNet
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig
from torch import Tensor

from mmdepthseg.registry import MODELS
from .pretrained import ConvertedState, PretrainedInitMixin, drop_classifier

#: Key layouts of public ResNet checkpoints. torchvision's ``resnet*`` and
#: OpenMMLab's ``resnet*_v1c`` files use MMSegmentation's ResNet names
#: (``conv1`` / ``stem.N``, ``bn1``, ``layerI.J.convK``, ``.bnK``,
#: ``.downsample.0/1``) plus the classifier ``fc``.
RESNET_LAYOUTS = (None, 'torchvision', 'openmmlab')


def convert_resnet_state(module: ResNet, state: Dict[str, Tensor],
                         layout: Optional[str]) -> ConvertedState:
    """Map a torchvision / OpenMMLab ResNet checkpoint onto an MMSeg ResNet.

    The names are the same; the classifier ``fc.*`` is dropped. When the
    module reads ``k`` times the checkpoint's input channels (the pose
    network's two stacked frames: 6 = 2 x 3), the first convolution's
    weights are repeated ``k`` times along the input channels and divided
    by ``k`` (Monodepth2's ``resnet_multiimage_input``), so that ``k``
    identical images give the pretrained response.

    Args:
        module (ResNet): Target (``deep_stem`` selects ``stem.0`` as the
            first convolution).
        state (dict[str, Tensor]): Checkpoint tensors.
        layout (str, optional): One of :data:`RESNET_LAYOUTS`.

    Returns:
        ConvertedState: The tensors to load.
    """
    if layout not in RESNET_LAYOUTS:
        raise ValueError(f'{type(module).__name__}: unknown checkpoint '
                         f'layout {layout!r}, expected one of '
                         f'{RESNET_LAYOUTS}')
    state, dropped = drop_classifier(state, ('fc.', ))
    first = 'stem.0.weight' if module.deep_stem else 'conv1.weight'
    weight = state.get(first)
    in_channels = module.in_channels
    if weight is not None and weight.dim() == 4 and \
            weight.shape[1] != in_channels and \
            in_channels % weight.shape[1] == 0:
        k = in_channels // weight.shape[1]
        state[first] = torch.cat([weight] * k, dim=1) / k
        print_log(
            f'{type(module).__name__}: {first} of {weight.shape[1]} input '
            f'channels repeated {k} times and divided by {k} for '
            f'{in_channels} input channels',
            logger='current')
    return ConvertedState(state, {}, dropped)


@MODELS.register_module()
class PretrainedResNet(PretrainedInitMixin, ResNet):
    """MMSegmentation's ResNet with verified, strict ``Pretrained`` loading.

    Every argument is :class:`mmseg.models.backbones.ResNet`'s
    (``deep_stem=True`` gives ResNetV1c, as ``open-mmlab://resnet*_v1c``
    weights need). The difference is ``init_cfg=dict(type='Pretrained',
    ...)``: the file is SHA-256-verified (``sha256``), its ``fc`` classifier
    dropped, and any other key that does not fit is an error instead of a
    log line (see :mod:`mmdepthseg.models.backbones.pretrained`).
    """

    def __init__(self, depth: int, in_channels: int = 3, **kwargs) -> None:
        super().__init__(depth=depth, in_channels=in_channels, **kwargs)
        self.in_channels = in_channels

    def convert_pretrained(self, state: Dict[str, Tensor],
                           layout: Optional[str]) -> ConvertedState:
        """torchvision / OpenMMLab ResNet keys, see
        :func:`convert_resnet_state`."""
        return convert_resnet_state(self, state, layout)

    def train(self, mode: bool = True) -> 'PretrainedResNet':
        """As MMSegmentation's (frozen stages, ``norm_eval``), returning
        ``self``."""
        super().train(mode)
        return self


@MODELS.register_module()
class ResNetEncoder(PretrainedInitMixin, ResNet):
    """ResNet that returns five feature maps, the stem output included.

    Dense depth decoders in the style of Monodepth2 (Godard et al., ICCV 2019)
    skip-connect the stem output (after its ReLU, before the max-pool) as well
    as the four residual stages. This subclass of MMSegmentation's
    :class:`~mmseg.models.backbones.ResNet` returns exactly those five maps;
    everything else (blocks, freezing, ``norm_eval``, initialisation) is the
    parent's.

    For an input ``(B, C_in, H, W)`` the outputs are, in order:

    ============  ==========  ===========================  ==================
    index         stride      depth 18 / 34 channels       depth 50+ channels
    ============  ==========  ===========================  ==================
    0 (stem)      1/2         64                           64
    1 (layer1)    1/4         64                           256
    2 (layer2)    1/8         128                          512
    3 (layer3)    1/16        256                          1024
    4 (layer4)    1/32        512                          2048
    ============  ==========  ===========================  ==================

    Args:
        depth (int): ResNet depth, one of {18, 34, 50, 101, 152}.
            Default: 18.
        in_channels (int): Input channels; 3 for an image, 6 for two stacked
            frames (pose network). Default: 3.
        stem_channels (int): Channels of the stem. Default: 64.
        base_channels (int): Channels of the first residual stage (before
            the block expansion). Default: 64.
        deep_stem (bool): Replace the 7x7 stem conv by three 3x3 convs
            (ResNetV1c). Default: False.
        avg_down (bool): Average-pool instead of strided conv in the
            shortcut of downsampling blocks. Default: False.
        frozen_stages (int): Stages to freeze (stem = 0); -1 freezes
            nothing. Default: -1.
        conv_cfg (dict, optional): Config of conv layers. Default: None.
        norm_cfg (dict): Config of norm layers.
            Default: ``dict(type='BN', requires_grad=True)``.
        norm_eval (bool): Keep norm layers in eval mode while training.
            Default: False.
        with_cp (bool): Use gradient checkpointing. Default: False.
        zero_init_residual (bool): Zero-init the last norm of every residual
            block (only with random initialisation). Default: True.
        init_cfg (dict | list[dict], optional): Initialisation config, e.g.
            torchvision's ImageNet weights, verified by their SHA-256::

                dict(type='Pretrained', layout='torchvision',
                     checkpoint='https://download.pytorch.org/models/'
                                'resnet18-f37072fd.pth',
                     sha256='f37072fd47e89c5e827621c5baffa750'
                            '0819f7896bbacec160b1a16c560e07ec')

            (see :mod:`mmdepthseg.models.backbones.pretrained`). With
            ``in_channels`` a multiple of the checkpoint's (6 for the pose
            network), the first conv's weights are repeated and divided
            (:func:`convert_resnet_state`). Default: None (random, Kaiming).
    """

    def __init__(self,
                 depth: int = 18,
                 in_channels: int = 3,
                 stem_channels: int = 64,
                 base_channels: int = 64,
                 deep_stem: bool = False,
                 avg_down: bool = False,
                 frozen_stages: int = -1,
                 conv_cfg: OptConfigType = None,
                 norm_cfg: ConfigType = dict(type='BN', requires_grad=True),
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 zero_init_residual: bool = True,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(
            depth=depth,
            in_channels=in_channels,
            stem_channels=stem_channels,
            base_channels=base_channels,
            num_stages=4,
            strides=(1, 2, 2, 2),
            dilations=(1, 1, 1, 1),
            out_indices=(0, 1, 2, 3),
            deep_stem=deep_stem,
            avg_down=avg_down,
            frozen_stages=frozen_stages,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            norm_eval=norm_eval,
            with_cp=with_cp,
            zero_init_residual=zero_init_residual,
            init_cfg=init_cfg)
        self.in_channels = in_channels
        expansion = self.block.expansion
        self.out_channels: Tuple[int, ...] = (stem_channels, ) + tuple(
            base_channels * 2**i * expansion for i in range(4))

    def convert_pretrained(self, state: Dict[str, Tensor],
                           layout: Optional[str]) -> ConvertedState:
        """torchvision / OpenMMLab ResNet keys, see
        :func:`convert_resnet_state`."""
        return convert_resnet_state(self, state, layout)

    def forward_stem(self, x: Tensor) -> Tensor:
        """Run the stem up to its last ReLU (before the max-pool).

        Args:
            x (Tensor): Input, ``(B, in_channels, H, W)``.

        Returns:
            Tensor: Stem feature, ``(B, stem_channels, H/2, W/2)``.
        """
        if self.deep_stem:
            return self.stem(x)
        return self.relu(self.norm1(self.conv1(x)))

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """Extract the five feature maps.

        Args:
            x (Tensor): Input, ``(B, in_channels, H, W)``.

        Returns:
            tuple[Tensor]: Five maps at strides 2, 4, 8, 16 and 32, with
            ``self.out_channels`` channels.
        """
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f'{type(self).__name__} expects an input of shape '
                f'(B, {self.in_channels}, H, W), got {tuple(x.shape)}')
        stem = self.forward_stem(x)
        outs = [stem]
        x = self.maxpool(stem)
        for layer_name in self.res_layers:
            x = getattr(self, layer_name)(x)
            outs.append(x)
        return tuple(outs)

    def train(self, mode: bool = True) -> 'ResNetEncoder':
        """Set the training mode (keeping frozen stages / ``norm_eval``).

        MMSegmentation's ``ResNet.train`` returns None; return ``self`` as
        ``nn.Module.train`` does so that ``encoder.eval()`` chains.
        """
        super().train(mode)
        return self
