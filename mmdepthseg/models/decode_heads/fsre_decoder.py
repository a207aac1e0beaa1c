# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Depth and segmentation decoders of FSRE-Depth with cross-task attention."""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule, normal_init
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig
from torch import Tensor

from mmdepthseg.registry import MODELS
from ..decoders import UNetDecoder
from ..layers.cma import BidirectionalCMA
from ..layers.padding import conv_padding_mode


@MODELS.register_module()
class FSREDualDecoder(BaseModule):
    """Two Monodepth2 decoders joined by cross-task attention (FSRE-Depth).

    Jung et al., "Fine-grained Semantics-aware Representation Enhancement for
    Self-supervised Monocular Depth Estimation", ICCV 2021, Fig. 2. A depth
    decoder and a segmentation decoder of the Monodepth2 form (five stages,
    coarse to fine, see :class:`UNetDecoder`) read the same encoder
    features. Decoder layers are numbered ``l = 0..4`` from coarse (256
    channels) to fine (16 channels), as in the paper's Tables 3a and 4; layer
    ``l`` outputs resolution ``1/2^(4-l)``.

    - After the layers in ``cma_layers`` (paper: 0, 1, 2) a
      :class:`~mmdepthseg.models.layers.cma.BidirectionalCMA` refines the two
      layer outputs with each other before the next layer reads them.
    - Disparity heads (3x3 conv + sigmoid) on the depth decoder at scales
      ``0..num_output_scales-1`` (full, 1/2, 1/4, 1/8).
    - A 3x3 conv to ``num_classes`` logits on the segmentation decoder at
      full resolution.
    - The depth decoder's layer outputs in ``feature_layers`` (paper: 1, 2, 3)
      are returned for the semantics-guided triplet loss. With
      ``features_after_cma=False`` they are taken *before* the layer's CMA
      refinement (the paper's text names ``F_d^l`` both the SGT input,
      Eq. 5-6, and the CMA input, Sec. 3.3); with True *after* it, as the
      authors' released code does (its ``d_feature`` is the CMA output
      ``F_o^l``, the feature the next layer reads). Layers without CMA give
      the same feature either way.
    - ``init_mode``: ``'mmcv'`` initialises the convolutions as MMCV's
      ``ConvModule`` does (Kaiming normal, zero bias) and the disparity and
      class heads from N(0, 0.01); ``'pytorch'`` gives every convolution of
      the decoders and CMA modules PyTorch's default ``Conv2d`` init
      (Kaiming uniform with ``a = sqrt(5)``, uniform bias), as the released
      code (Monodepth2's decoders, never re-initialised).

    Args:
        in_channels (Sequence[int]): Encoder channels, fine to coarse.
        channels (Sequence[int]): Decoder layer channels, coarse to fine.
            Default: (256, 128, 64, 32, 16).
        num_classes (int): Segmentation classes. Default: 19.
        num_output_scales (int): Disparity scales. Default: 4.
        cma_layers (Sequence[int]): Layers followed by CMA; empty turns CMA
            off. Default: (0, 1, 2).
        cma_cfg (dict): Keyword arguments of ``BidirectionalCMA``
            (``num_embeddings``, ``embed_ratio``, ``direction``, norm/act).
            Default: ``dict(num_embeddings=4, embed_ratio=2,
            direction='both')``.
        feature_layers (Sequence[int]): Depth-decoder layers whose outputs are
            returned for the triplet loss. Default: (1, 2, 3).
        features_after_cma (bool): Return the layer's features after its CMA
            refinement (released code) instead of before. Default: False.
        conv_cfg (dict, optional): Conv config of the decoders.
        norm_cfg (dict, optional): Norm config of the decoders (Monodepth2:
            none). Default: None.
        act_cfg (dict): Activation of the decoders. Default: ELU.
        padding_mode (str): Padding of the 3x3 convs. Default: 'reflect'.
        init_mode (str): 'mmcv' or 'pytorch' (released code), see above.
            Default: 'mmcv'.
        init_cfg (dict, optional): Initialisation config. Default: None.
    """

    INIT_MODES = ('mmcv', 'pytorch')

    def __init__(self,
                 in_channels: Sequence[int],
                 channels: Sequence[int] = (256, 128, 64, 32, 16),
                 num_classes: int = 19,
                 num_output_scales: int = 4,
                 cma_layers: Sequence[int] = (0, 1, 2),
                 cma_cfg: ConfigType = dict(
                     num_embeddings=4, embed_ratio=2, direction='both'),
                 feature_layers: Sequence[int] = (1, 2, 3),
                 features_after_cma: bool = False,
                 conv_cfg: OptConfigType = None,
                 norm_cfg: OptConfigType = None,
                 act_cfg: ConfigType = dict(type='ELU'),
                 padding_mode: str = 'reflect',
                 init_mode: str = 'mmcv',
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg)
        if init_mode not in self.INIT_MODES:
            raise ValueError(f'FSREDualDecoder: init_mode must be one of '
                             f'{self.INIT_MODES}, got {init_mode!r}')
        num_layers = len(channels)
        for name, layers in (('cma_layers', cma_layers), ('feature_layers',
                                                          feature_layers)):
            bad = [l for l in layers if not 0 <= l < num_layers]  # noqa: E741
            if bad:
                raise ValueError(f'FSREDualDecoder: {name} {tuple(layers)} '
                                 f'must lie in 0..{num_layers - 1}')
        if not 1 <= num_output_scales <= num_layers:
            raise ValueError('FSREDualDecoder: num_output_scales must lie in '
                             f'1..{num_layers}, got {num_output_scales}')
        dec_cfg = dict(
            in_channels=in_channels,
            channels=channels,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg,
            padding_mode=padding_mode)
        self.depth_decoder = UNetDecoder(**dec_cfg)
        self.seg_decoder = UNetDecoder(**dec_cfg)
        self.channels = tuple(channels)
        self.num_layers = num_layers
        self.num_output_scales = num_output_scales
        self.cma_layers = tuple(cma_layers)
        self.feature_layers = tuple(feature_layers)
        self.features_after_cma = features_after_cma
        self.init_mode = init_mode
        self.cma = nn.ModuleDict({
            str(l):
            BidirectionalCMA(self.channels[l], **cma_cfg)
            for l in self.cma_layers  # noqa: E741
        })
        head_kwargs = dict(
            kernel_size=3,
            padding=1,
            padding_mode=conv_padding_mode(padding_mode),
            conv_cfg=conv_cfg,
            norm_cfg=None,
            act_cfg=None)
        # disparity heads by scale: scale s sits after layer num_layers-1-s
        self.disp_convs = nn.ModuleList([
            ConvModule(self.channels[num_layers - 1 - s], 1, **head_kwargs)
            for s in range(num_output_scales)
        ])
        self.conv_seg = ConvModule(self.channels[-1], num_classes,
                                   **head_kwargs)
        self.num_classes = num_classes
        if init_mode == 'pytorch':
            self._reset_convs()

    def _reset_convs(self) -> None:
        """PyTorch's default init of every convolution (``init_mode``
        'pytorch'; ``ConvModule`` re-initialises its conv when built)."""
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                module.reset_parameters()

    def init_weights(self) -> None:
        """``init_mode`` 'mmcv': small normal init of the output convs (as
        mmseg's ``conv_seg``) so that the sigmoid disparities start
        unsaturated; 'pytorch': PyTorch's default init of every conv."""
        super().init_weights()
        if self.init_mode == 'pytorch':
            self._reset_convs()
            return
        for conv in [*self.disp_convs, self.conv_seg]:
            normal_init(conv.conv, mean=0, std=0.01, bias=0)

    def forward(self, feats: Sequence[Tensor]) -> Dict[str, object]:
        """Decode encoder features into disparities and class logits.

        Args:
            feats (Sequence[Tensor]): Encoder features, fine to coarse;
                ``feats[k]`` at stride ``2^(k+1)``.

        Returns:
            dict: ``disps``: list of ``(B, 1, H/2^s, W/2^s)`` sigmoid
            disparities, index = scale s (0 = full resolution);
            ``seg_logits``: ``(B, num_classes, H, W)``; ``depth_feats``:
            dict layer -> ``(B, C_l, h_l, w_l)`` depth-decoder features
            (before or after the layer's CMA: ``features_after_cma``), at
            scale ``num_layers - 1 - layer``.
        """
        x_d = x_s = feats[-1]
        disps: List[Optional[Tensor]] = [None] * self.num_output_scales
        depth_feats: Dict[int, Tensor] = {}
        stages = zip(self.depth_decoder.stages, self.seg_decoder.stages)
        for layer, (stage_d, stage_s) in enumerate(stages):
            scale = stage_d.scale
            skip = feats[scale - 1] if scale > 0 else None
            x_d = stage_d(x_d, skip)
            x_s = stage_s(x_s, skip)
            if layer in self.feature_layers and not self.features_after_cma:
                depth_feats[layer] = x_d
            if layer in self.cma_layers:
                x_d, x_s = self.cma[str(layer)](x_d, x_s)
            if layer in self.feature_layers and self.features_after_cma:
                depth_feats[layer] = x_d
            if scale < self.num_output_scales:
                disps[scale] = torch.sigmoid(self.disp_convs[scale](x_d))
        return dict(
            disps=disps,
            seg_logits=self.conv_seg(x_s),
            depth_feats=depth_feats)
