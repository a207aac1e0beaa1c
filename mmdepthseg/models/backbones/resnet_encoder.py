# Copyright (c) mmdepthseg contributors. All rights reserved.
"""ResNet encoder that also returns the stem feature (monodepth style)."""
from typing import Tuple

from mmseg.models.backbones import ResNet
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig
from torch import Tensor

from mmdepthseg.registry import MODELS


@MODELS.register_module()
class ResNetEncoder(ResNet):
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
            ImageNet weights from a local file or a URL:
            ``dict(type='Pretrained', checkpoint='/path/resnet18.pth')``.
            Default: None (random, Kaiming).
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
