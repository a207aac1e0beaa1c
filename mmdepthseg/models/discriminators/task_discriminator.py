# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Domain-aware per-pixel task discriminator of SemiMTL (Sec. 3.4)."""
from typing import Dict, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.models.utils import resize
from mmseg.utils import OptMultiConfig
from torch import Tensor

from mmdepthseg.registry import MODELS


@MODELS.register_module()
class TaskDiscriminator(BaseModule):
    """Fully convolutional discriminator that classifies every pixel.

    SemiMTL (Sec. 3.4) gives each task one discriminator ``D_t``: five 4x4
    convolutions with stride 2 and ``{64, 128, 256, 512, K + 1}`` channels,
    the first four followed by spectral normalisation and LeakyReLU(0.2),
    and a bilinear upsampling of the logits to the input size. Class 0 is
    the ground truth, class ``k`` a prediction from domain ``k``
    (``num_domains = K``; SemiSD's binary ground-truth-vs-prediction
    discriminator is ``num_domains=1``).

    The paper lists ``{64, 128, 256, 512, K}`` channels but classifies
    ground truth *and* K domains (its three-way classifier for K = 2), so
    the last layer has ``K + 1``.

    Spectral normalisation is ``torch.nn.utils.spectral_norm`` through
    mmcv's ``ConvModule(with_spectral_norm=True)``: its state-dict keys are
    ``conv.weight_orig`` / ``conv.weight_u`` / ``conv.weight_v`` and the
    module can be pickled whole (the parametrization-based variant cannot).
    In ``eval()`` mode the power iteration is not run, so a forward pass
    leaves every buffer unchanged; the singular vectors are therefore
    converged by power iteration at construction and after
    :meth:`init_weights` (torch starts them at random, which would make the
    first evaluation-mode ``sigma`` meaningless, even negative).

    Each convolution (padding 1) halves the size (``floor(x / 2)``), so the
    input must be at least ``2 ** (len(channels) + 1)`` pixels (32 with the
    default four hidden layers) in both height and width.

    Args:
        in_channels (int): Channels of the discriminator input (the number
            of classes for segmentation, 1 for a depth map).
        num_domains (int): Number of domains ``K``; the output has
            ``K + 1`` channels.
        channels (Sequence[int]): Output channels of the hidden layers.
            Default: (64, 128, 256, 512).
        negative_slope (float): Slope of the LeakyReLU. Default: 0.2.
        with_spectral_norm (bool): Spectral normalisation on the hidden
            layers. Default: True.
        align_corners (bool): ``align_corners`` of the output upsampling.
            Default: False.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Default: None.
    """

    def __init__(self,
                 in_channels: int,
                 num_domains: int,
                 channels: Sequence[int] = (64, 128, 256, 512),
                 negative_slope: float = 0.2,
                 with_spectral_norm: bool = True,
                 align_corners: bool = False,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg)
        if in_channels < 1:
            raise ValueError(f'TaskDiscriminator: in_channels must be >= 1, '
                             f'got {in_channels}')
        if num_domains < 1:
            raise ValueError(f'TaskDiscriminator: num_domains must be >= 1, '
                             f'got {num_domains}')
        if len(channels) == 0:
            raise ValueError('TaskDiscriminator: channels must not be empty')
        self.in_channels = in_channels
        self.num_domains = num_domains
        self.num_classes = num_domains + 1
        self.align_corners = align_corners
        self.min_size = 2**(len(channels) + 1)
        layers = []
        prev = in_channels
        for out in channels:
            layers.append(
                ConvModule(
                    prev,
                    out,
                    kernel_size=4,
                    stride=2,
                    padding=1,
                    norm_cfg=None,
                    act_cfg=dict(
                        type='LeakyReLU', negative_slope=negative_slope),
                    with_spectral_norm=with_spectral_norm))
            prev = out
        self.layers = nn.Sequential(*layers)
        self.classifier = nn.Conv2d(
            prev, self.num_classes, kernel_size=4, stride=2, padding=1)
        self._converge_spectral_norm()

    def init_weights(self) -> None:
        """Initialise the weights, then re-converge the spectral norms'
        singular vectors to them."""
        super().init_weights()
        self._converge_spectral_norm()

    @torch.no_grad()
    def _converge_spectral_norm(self, num_iters: int = 30) -> None:
        """Run the power iteration of every spectral-normalised conv.

        Updates the ``weight_u`` / ``weight_v`` buffers of
        ``torch.nn.utils.spectral_norm`` (``dim=0``: the weight as an
        ``(out, in * kh * kw)`` matrix) exactly as its training-mode forward
        does, ``num_iters`` times.
        """
        for module in self.modules():
            if not (hasattr(module, 'weight_orig')
                    and hasattr(module, 'weight_u')):
                continue
            weight = module.weight_orig.flatten(1)
            u, v = module.weight_u, module.weight_v
            for _ in range(num_iters):
                v.copy_(F.normalize(weight.t() @ u, dim=0, eps=1e-12))
                u.copy_(F.normalize(weight @ v, dim=0, eps=1e-12))

    def forward(self, x: Tensor) -> Tensor:
        """Classify every pixel of a prediction or ground-truth map.

        Args:
            x (Tensor): ``(N, in_channels, H, W)`` with ``H, W >=
                min_size``.

        Returns:
            Tensor: Logits ``(N, K + 1, H, W)``.
        """
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f'TaskDiscriminator expects inputs of shape '
                f'(N, {self.in_channels}, H, W), got {tuple(x.shape)}')
        if min(x.shape[2:]) < self.min_size:
            raise ValueError(
                f'TaskDiscriminator: input {tuple(x.shape[2:])} is smaller '
                f'than its minimum size {self.min_size}x{self.min_size} '
                f'({len(self.layers) + 1} stride-2 convolutions)')
        logits = self.classifier(self.layers(x))
        return resize(
            logits,
            size=x.shape[2:],
            mode='bilinear',
            align_corners=self.align_corners)


class DiscriminatorDict(nn.ModuleDict):
    """The task discriminators of a model, keyed by task name.

    A ``ModuleDict`` (``discriminators.seg.*``, ``discriminators.depth.*``
    in the state dict) that can also be *called*: one call runs every
    task's discriminator on its input. One forward call per step keeps the
    container usable under ``MMSeparateDistributedDataParallel``, which
    wraps it as a single DDP module (DDP allows one forward per backward).

    Args:
        discriminators (dict[str, nn.Module]): Discriminator per task.
    """

    def forward(self, inputs: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Run the discriminators of the tasks in ``inputs``.

        Args:
            inputs (dict[str, Tensor]): Task name -> discriminator input
                ``(N_t, C_t, H, W)``.

        Returns:
            dict[str, Tensor]: Task name -> logits ``(N_t, K + 1, H, W)``.
        """
        unknown = set(inputs) - set(self.keys())
        if unknown:
            raise KeyError(f'DiscriminatorDict has no discriminator for '
                           f'{sorted(unknown)} (it has {list(self.keys())})')
        return {task: self[task](x) for task, x in inputs.items()}
