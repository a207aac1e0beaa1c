# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Convolution + upsampling depth decoder with a regression output
(SemiMTL, Sec. 3.4)."""
from typing import Dict, List, Sequence, Tuple, Union

import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.models.utils import resize
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig, SampleList
from torch import Tensor

from mmdepthseg.registry import MODELS
# Imported for its registration: the default ``loss_depth``.
from ..losses.berhu_loss import BerHuLoss  # noqa: F401
from ..utils import stack_pixel_field
from .base_depth_head import check_pixel_depth_loss


@MODELS.register_module()
class ConvDepthHead(BaseModule):
    """Depth decoder of SemiMTL: conv stages with upsampling, then a linear
    regression layer.

    One backbone feature map (``in_index``, the dilated ResNet's last stage
    at output stride 8) goes through ``len(channels)`` stages of a 3x3
    ``ConvModule`` followed by a bilinear x``scale_factor`` upsampling, and a
    3x3 convolution regresses one channel. With the defaults (three stages,
    x2 each) the output has the input image's resolution for an output
    stride 8 backbone; callers still resize it to the exact input size.

    The output is a plain regression (no activation, no disparity-to-depth
    mapping): its units are those of the ground truth, e.g. inverse depth
    or an nDSM height in [0, 1] for SemiMTL. Invalid ground truth is NaN.

    The head has the interface of :class:`BaseDepthHead` (``forward`` ->
    list of maps, finest first; ``loss``, ``loss_by_feat``, ``predict``,
    ``predict_by_feat``) but not its metric-depth range and ``gt > 0``
    validity, hence it is not a subclass.

    Args:
        in_channels (int): Channels of the selected backbone feature.
        channels (Sequence[int]): Output channels of the conv stages.
            Default: (512, 256, 128).
        in_index (int): Index of the backbone feature to decode.
            Default: -1.
        scale_factor (int): Upsampling factor after each stage. Default: 2.
        conv_cfg (dict, optional): Convolution config. Default: None.
        norm_cfg (dict, optional): Normalisation config.
            Default: ``dict(type='BN')``.
        act_cfg (dict): Activation config. Default: ``dict(type='ReLU')``.
        align_corners (bool): ``align_corners`` of the bilinear resizing.
            Default: False.
        loss_depth (dict | Sequence[dict]): Config(s) of the depth losses,
            each called as ``loss(pred, gt)`` on ``(B, 1, H, W)`` maps (NaN
            = invalid) and logged under its ``loss_name``.
            Default: ``dict(type='BerHuLoss')``.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Default: None.
    """

    def __init__(self,
                 in_channels: int,
                 channels: Sequence[int] = (512, 256, 128),
                 in_index: int = -1,
                 scale_factor: int = 2,
                 conv_cfg: OptConfigType = None,
                 norm_cfg: OptConfigType = dict(type='BN'),
                 act_cfg: ConfigType = dict(type='ReLU'),
                 align_corners: bool = False,
                 loss_depth: Union[ConfigType, Sequence[ConfigType]] = dict(
                     type='BerHuLoss'),
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg)
        if len(channels) == 0:
            raise ValueError('ConvDepthHead: channels must not be empty')
        if scale_factor < 1:
            raise ValueError(f'ConvDepthHead: scale_factor must be >= 1, '
                             f'got {scale_factor}')
        self.in_channels = in_channels
        self.in_index = in_index
        self.scale_factor = scale_factor
        self.align_corners = align_corners
        stages = []
        prev = in_channels
        for out in channels:
            stages.append(
                ConvModule(
                    prev,
                    out,
                    kernel_size=3,
                    padding=1,
                    conv_cfg=conv_cfg,
                    norm_cfg=norm_cfg,
                    act_cfg=act_cfg))
            prev = out
        self.stages = nn.ModuleList(stages)
        self.conv_depth = nn.Conv2d(prev, 1, kernel_size=3, padding=1)
        if isinstance(loss_depth, dict):
            self.loss_depth = MODELS.build(loss_depth)
        elif isinstance(loss_depth, (list, tuple)):
            self.loss_depth = nn.ModuleList(
                MODELS.build(cfg) for cfg in loss_depth)
        else:
            raise TypeError(
                f'ConvDepthHead: loss_depth must be a dict or a sequence of '
                f'dicts, got {type(loss_depth)}')
        for loss in self._losses():
            check_pixel_depth_loss(loss, 'ConvDepthHead')

    def forward(self, inputs: Tuple[Tensor, ...]) -> List[Tensor]:
        """Regress the depth target from one backbone feature.

        Args:
            inputs (tuple[Tensor]): Multi-level backbone features; the one
                at ``in_index`` is ``(B, in_channels, h, w)``.

        Returns:
            list[Tensor]: One map ``(B, 1, h * s**n, w * s**n)`` (``s`` =
            ``scale_factor``, ``n`` = number of stages).
        """
        x = inputs[self.in_index]
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f'ConvDepthHead expects feature {self.in_index} of shape '
                f'(B, {self.in_channels}, h, w), got {tuple(x.shape)}')
        for stage in self.stages:
            x = stage(x)
            if self.scale_factor > 1:
                x = resize(
                    x,
                    scale_factor=self.scale_factor,
                    mode='bilinear',
                    align_corners=self.align_corners)
        return [self.conv_depth(x)]

    def loss(self, inputs: Tuple[Tensor, ...], batch_data_samples: SampleList,
             train_cfg: OptConfigType) -> Dict[str, Tensor]:
        """Forward and compute the depth losses.

        Args:
            inputs (tuple[Tensor]): Multi-level backbone features.
            batch_data_samples (list[SegDataSample]): Samples carrying
                ``gt_depth_map`` ``(1, H, W)`` (NaN = invalid).
            train_cfg (dict, optional): Training config (unused here).

        Returns:
            dict[str, Tensor]: Loss items keyed by the losses' names.
        """
        return self.loss_by_feat(self.forward(inputs), batch_data_samples)

    def _losses(self) -> List[nn.Module]:
        if isinstance(self.loss_depth, nn.ModuleList):
            return list(self.loss_depth)
        return [self.loss_depth]

    def loss_by_feat(self, depth_preds: Sequence[Tensor],
                     batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """Compute the depth losses of predictions.

        Args:
            depth_preds (Sequence[Tensor]): Maps ``(B, 1, h, w)``; only the
                first (finest) is supervised, after a bilinear resize to the
                ground truth's size.
            batch_data_samples (list[SegDataSample]): Samples with
                ``gt_depth_map``; its first view is the target.

        Returns:
            dict[str, Tensor]: Loss items keyed by the losses' names.
        """
        gt = stack_pixel_field(batch_data_samples, 'gt_depth_map')[:, :1]
        pred = resize(
            depth_preds[0],
            size=gt.shape[2:],
            mode='bilinear',
            align_corners=self.align_corners)
        gt = gt.to(pred.dtype)
        losses: Dict[str, Tensor] = dict()
        for loss_fn in self._losses():
            value = loss_fn(pred, gt)
            name = loss_fn.loss_name
            losses[name] = losses[name] + value if name in losses else value
        return losses

    def predict(self, inputs: Tuple[Tensor, ...], batch_img_metas: List[dict],
                test_cfg: OptConfigType) -> Tensor:
        """Forward and return the map at the (padded) input size.

        Args:
            inputs (tuple[Tensor]): Multi-level backbone features.
            batch_img_metas (list[dict]): Image metas; ``pad_shape`` (or
                else ``img_shape``) of the first gives the output size.
            test_cfg (dict, optional): Testing config (unused here).

        Returns:
            Tensor: ``(B, 1, H, W)``.
        """
        return self.predict_by_feat(self.forward(inputs), batch_img_metas)

    def predict_by_feat(self, depth_preds: Sequence[Tensor],
                        batch_img_metas: List[dict]) -> Tensor:
        """Resize the finest prediction to the (padded) input size.

        Args:
            depth_preds (Sequence[Tensor]): Maps, finest first.
            batch_img_metas (list[dict]): Image metas.

        Returns:
            Tensor: ``(B, 1, H, W)``.
        """
        meta = batch_img_metas[0]
        size = meta['pad_shape'][:2] if 'pad_shape' in meta \
            else meta['img_shape'][:2]
        return resize(
            depth_preds[0],
            size=tuple(int(s) for s in size),
            mode='bilinear',
            align_corners=self.align_corners,
            warning=False)
