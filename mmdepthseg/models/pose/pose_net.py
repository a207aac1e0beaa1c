# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Pose network of Monodepth2 (Godard et al., ICCV 2019), used by FSRE-Depth.

A separate ResNet encoder reads two frames stacked on channels (6 channels);
a small decoder turns its last feature map into an axis-angle rotation and a
translation.
"""
from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.utils import ConfigType, OptMultiConfig
from torch import Tensor

from mmdepthseg.registry import MODELS
from ..layers.geometry import transformation_from_parameters


@MODELS.register_module()
class PoseDecoder(BaseModule):
    """Monodepth2's pose decoder.

    1x1 conv ``C -> channels`` + ReLU, two 3x3 convs of ``channels`` + ReLU,
    a 1x1 conv to 6 values, spatial mean, times ``scale``. The first three
    values are the axis-angle rotation, the last three the translation.

    Args:
        in_channels (int): Channels of the encoder's last map. Default: 512.
        channels (int): Hidden channels. Default: 256.
        scale (float): Output scaling (Monodepth2: 0.01), which keeps the
            initial poses near identity. Default: 0.01.
        init_cfg (dict, optional): Initialisation config. Default: None.
    """

    def __init__(self,
                 in_channels: int = 512,
                 channels: int = 256,
                 scale: float = 0.01,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg)
        act = dict(type='ReLU')
        self.squeeze = ConvModule(in_channels, channels, 1, act_cfg=act)
        self.convs = nn.Sequential(
            ConvModule(channels, channels, 3, padding=1, act_cfg=act),
            ConvModule(channels, channels, 3, padding=1, act_cfg=act))
        self.pose_conv = nn.Conv2d(channels, 6, 1)
        self.scale = scale

    def forward(self, feat: Tensor) -> Tuple[Tensor, Tensor]:
        """Args:
            feat (Tensor): ``(B, C, h, w)`` last encoder feature.

        Returns:
            tuple[Tensor, Tensor]: axis-angle ``(B, 3)`` and translation
            ``(B, 3)``.
        """
        out = self.pose_conv(self.convs(self.squeeze(feat)))
        out = self.scale * out.mean(dim=(2, 3))
        return out[:, :3], out[:, 3:]


@MODELS.register_module()
class PoseNet(BaseModule):
    """Relative camera pose between two frames (Monodepth2's separate pose
    network).

    The two frames are stacked on channels in temporal order and encoded by
    a ResNet with 6 input channels. For a source frame *before* the target,
    the network sees ``(source, target)`` and the predicted transform is
    inverted; for a source *after* the target it sees ``(target, source)``.
    Either way :meth:`forward` returns ``T_target2source``, the transform that
    maps target-camera points into the source camera (what
    :func:`~mmdepthseg.models.layers.geometry.view_synthesis` takes).

    ImageNet weights of a 3-channel ResNet go into the encoder's
    ``init_cfg`` (config key ``model.pose_net.encoder.init_cfg``)::

        encoder=dict(type='ResNetEncoder', depth=18, in_channels=6,
                     init_cfg=dict(type='Pretrained', layout='torchvision',
                                   checkpoint=URL, sha256=SHA256))

    The encoder duplicates the first convolution's weights for the second
    frame and halves them, as Monodepth2 does
    (:func:`~mmdepthseg.models.backbones.resnet_encoder.convert_resnet_state`).

    Args:
        encoder (dict): Config of the encoder, a ``ResNetEncoder`` with
            ``in_channels=6``.
        decoder (dict): Config of the pose decoder.
        pretrained (str, optional): Shorthand for the encoder's
            ``init_cfg=dict(type='Pretrained', checkpoint=pretrained)``
            (path or URL of a 3-channel ResNet checkpoint, not verified;
            prefer the encoder's ``init_cfg`` with a ``sha256``).
            Default: None.
        init_cfg (dict, optional): Initialisation config. Default: None.
    """

    def __init__(self,
                 encoder: ConfigType = dict(
                     type='ResNetEncoder', depth=18, in_channels=6),
                 decoder: ConfigType = dict(type='PoseDecoder'),
                 pretrained: str = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg)
        if encoder.get('in_channels', 3) != 6:
            raise ValueError('PoseNet: the encoder reads two stacked frames, '
                             f"set in_channels=6 (got {encoder})")
        if pretrained is not None:
            encoder = dict(
                encoder,
                init_cfg=dict(type='Pretrained', checkpoint=pretrained))
        self.encoder = MODELS.build(encoder)
        # named in the encoder's pretrained-weights errors
        self.encoder.pretrained_cfg_key = 'model.pose_net.encoder.init_cfg'
        decoder = dict(decoder)
        decoder.setdefault('in_channels', self.encoder.out_channels[-1])
        self.decoder = MODELS.build(decoder)
        self.pretrained = pretrained

    def load_pretrained_3ch(self, filename: str,
                            sha256: Optional[str] = None) -> None:
        """Load a 3-channel ResNet checkpoint into the 6-channel encoder.

        Args:
            filename (str): Path or URL of the checkpoint (torchvision /
                MMSeg ResNet key names).
            sha256 (str, optional): Pinned SHA-256 of the file.
        """
        self.encoder.load_pretrained(
            dict(type='Pretrained', checkpoint=filename, sha256=sha256))

    def forward(self, target: Tensor, source: Tensor,
                source_is_before: bool) -> Tensor:
        """Predict ``T_target2source``.

        Args:
            target (Tensor): ``(B, 3, H, W)`` target frame (normalised).
            source (Tensor): ``(B, 3, H, W)`` source frame.
            source_is_before (bool): Whether the source precedes the target
                in time (frame -1).

        Returns:
            Tensor: ``(B, 4, 4)`` transform from the target to the source
            camera.
        """
        pair = (source, target) if source_is_before else (target, source)
        feats = self.encoder(torch.cat(pair, dim=1))
        axisangle, translation = self.decoder(feats[-1])
        return transformation_from_parameters(
            axisangle, translation, invert=source_is_before)
