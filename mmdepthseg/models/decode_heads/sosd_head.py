# Copyright (c) mmdepthseg contributors. All rights reserved.
"""SOSD-Net decoder with the semantic objectness units (He et al., Sec. 3.2).

Submodule names are a contract with the EM alternating training hook, which
groups parameters by name prefix (``configs/_base_/esosd_em_alternating.py``):
``decoder.common`` (shared by both tasks), ``decoder.refine.depth``,
``depth_branch``, ``obj_3d``, ``obj_2d`` (depth phase) and
``decoder.refine.seg``, ``seg_branch``, ``obj_inv_depth`` (semantic phase).
"""
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.models.utils import resize
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig
from torch import Tensor

from mmdepthseg.registry import MODELS

TASKS = ('depth', 'seg')


def safe_sqrt(x: Tensor, eps: float = 1e-6) -> Tensor:
    """Square root that is finite with a finite gradient everywhere.

    ``sqrt(max(x, 0) + eps)``: negative inputs are clamped to 0 and ``eps``
    bounds the derivative ``1 / (2 sqrt(x + eps))`` by ``1 / (2 sqrt(eps))``
    (500 for the default), so an input that underflows to 0 cannot produce
    an infinite gradient.

    Args:
        x (Tensor): Input of any shape, expected non-negative.
        eps (float): Offset under the root. Default: 1e-6.

    Returns:
        Tensor: Same shape as ``x``.
    """
    return torch.sqrt(x.clamp(min=0) + eps)


def _conv_stack(in_channels: int, channels: Sequence[int], kernel_size: int,
                **conv: dict) -> nn.Sequential:
    """Conv-norm-act layers of the given widths, stride 1, same padding."""
    layers = []
    for out_channels in channels:
        layers.append(
            ConvModule(
                in_channels,
                out_channels,
                kernel_size,
                padding=kernel_size // 2,
                **conv))
        in_channels = out_channels
    return nn.Sequential(*layers)


class ObjectnessLatent(nn.Module):
    """A positive 1-channel objectness heat-map (Fig. 6 sub-branch).

    Two 3x3 convolutions with ``mid_channels`` and 1 channels, each followed
    by batch norm (which, on fixed-focal-length data, absorbs the focal
    length of Eq. 3), then a softplus. Used for the 3D latent
    :math:`\\Delta X \\Delta Y` (on the common representation) and the 2D
    latent :math:`(\\Delta u \\Delta v)^{-1}` (on the semantic feature).

    Deviation from the paper, on purpose: the paper does not say how the
    product of the two latents is kept non-negative before its square root
    (Eq. 3). Both are areas (or inverse areas) and hence positive, so each
    latent ends in a softplus: the product is then non-negative by
    construction and, unlike a ReLU, softplus passes a gradient at every
    pixel; ``abs`` would make the sign of the latents ambiguous.

    Args:
        in_channels (int): Input channels.
        mid_channels (int): Channels of the first conv. Default: 2.
        conv_cfg, norm_cfg, act_cfg: Layer configs; the activation is used
            after the first conv only.
    """

    def __init__(self, in_channels: int, mid_channels: int,
                 conv_cfg: OptConfigType, norm_cfg: OptConfigType,
                 act_cfg: ConfigType) -> None:
        super().__init__()
        self.convs = nn.Sequential(
            ConvModule(
                in_channels,
                mid_channels,
                3,
                padding=1,
                conv_cfg=conv_cfg,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg),
            ConvModule(
                mid_channels,
                1,
                3,
                padding=1,
                conv_cfg=conv_cfg,
                norm_cfg=norm_cfg,
                act_cfg=None))

    def forward(self, x: Tensor) -> Tensor:
        """``(B, C, h, w)`` -> positive latent ``(B, 1, h, w)``."""
        return F.softplus(self.convs(x))


class InverseDepthCue(nn.Module):
    """The :math:`d^{-2}` semantic cue of depth-to-semantic (Fig. 7).

    Two 3x3 convolutions (``channels``, 64 then 32) on the depth feature and
    two on the common representation, their pixel-wise product and a 1x1
    convolution with ``out_channels`` (32).

    Args:
        depth_channels (int): Channels of the depth feature.
        common_channels (int): Channels of the common representation.
        channels (Sequence[int]): Widths of the two conv stacks; the last
            ones must agree for the product. Default in the head: (64, 32).
        out_channels (int): Channels of the cue. Default in the head: 32.
        conv_cfg, norm_cfg, act_cfg: Layer configs.
    """

    def __init__(self, depth_channels: int, common_channels: int,
                 channels: Sequence[int], out_channels: int,
                 conv_cfg: OptConfigType, norm_cfg: OptConfigType,
                 act_cfg: ConfigType) -> None:
        super().__init__()
        conv = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.depth_convs = _conv_stack(depth_channels, channels, 3, **conv)
        self.common_convs = _conv_stack(common_channels, channels, 3, **conv)
        self.fuse = ConvModule(channels[-1], out_channels, 1, **conv)

    def forward(self, depth_feature: Tensor, common: Tensor) -> Tensor:
        """Both ``(B, C, h, w)`` -> cue ``(B, out_channels, h, w)``."""
        return self.fuse(
            self.depth_convs(depth_feature) * self.common_convs(common))


class SOSDDecoder(nn.Module):
    """The shared part of the SOSD-Net decoder (Fig. 5).

    The global feature is upsampled to the low-level (stride 4) size. Per
    task, the low-level feature is refined by a 1x1 convolution
    (``refine[task]``, 48 channels) and concatenated with it: the input of
    the task's feature convolutions. The common representation is a 1x1
    convolution (``common``, 256 channels) on the concatenation of the
    upsampled global feature and the low-level feature.

    Fig. 5 names the layers but not the input of the common representation's
    1x1 convolution; taking both the global and the low-level feature is our
    reading (it is the only map in Fig. 5 that "combines" them without a
    task-specific refinement).

    Args:
        low_channels (int): Channels of the low-level feature.
        global_channels (int): Channels of the global feature.
        tasks (Sequence[str]): Tasks that get a refined input.
        refine_channels (int): Channels of each refined low-level feature.
        common_channels (int, optional): Channels of the common
            representation; None builds none.
        conv_cfg, norm_cfg, act_cfg: Layer configs.
    """

    def __init__(self, low_channels: int, global_channels: int,
                 tasks: Sequence[str], refine_channels: int,
                 common_channels: Optional[int], conv_cfg: OptConfigType,
                 norm_cfg: OptConfigType, act_cfg: ConfigType) -> None:
        super().__init__()
        conv = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.task_channels = global_channels + refine_channels
        self.refine = nn.ModuleDict(
            (task, ConvModule(low_channels, refine_channels, 1, **conv))
            for task in tasks)
        self.common = None
        if common_channels is not None:
            self.common = ConvModule(low_channels + global_channels,
                                     common_channels, 1, **conv)

    def forward(self, low_level: Tensor, global_feature: Tensor,
                outputs: Sequence[str]) -> Dict[str, Tensor]:
        """Compute the requested maps.

        Args:
            low_level (Tensor): ``(B, C_low, h, w)`` at stride 4.
            global_feature (Tensor): ``(B, C_global, h', w')``, stride 16.
            outputs (Sequence[str]): Any of ``'common'`` and the tasks.

        Returns:
            dict[str, Tensor]: ``'common'`` ``(B, common_channels, h, w)``,
            and per task its feature-conv input
            ``(B, task_channels, h, w)``.
        """
        up = resize(
            global_feature,
            size=low_level.shape[2:],
            mode='bilinear',
            align_corners=False)
        out = dict()
        for name in outputs:
            if name == 'common':
                out[name] = self.common(torch.cat([up, low_level], dim=1))
            else:
                out[name] = torch.cat([up, self.refine[name](low_level)],
                                      dim=1)
        return out


@MODELS.register_module()
class SOSDHead(BaseModule):
    """SOSD-Net decoder, semantic-to-depth and depth-to-semantic units.

    SOSD-Net: Joint Semantic Object Segmentation and Depth Estimation from
    Monocular images (He et al.), Sec. 3.2.2-3.2.4, Figs. 5-7. All maps are
    at the low-level (stride 4) resolution; the segmentor upsamples the
    outputs bilinearly to the input size.

    .. code:: text

        decoder (Fig. 5):  up = upsample(global); common = 1x1(cat[up, low])
                           x_task = cat[up, refine_task(low)]
        seg_branch:        sem = conv3x3_256(x_seg)            (Fig. 5)
                           seg = conv3x3_C(cat[sem, cue])       (Fig. 7)
        depth_branch:      dep = conv3x3_64(conv3x3_256(x_depth))  (Fig. 5)
                           depth = conv5x5_1(cat[dep, s2d])     (Fig. 6)
        obj_3d (Fig. 6):   a3 = softplus(BN(conv_1(conv_2(common))))
        obj_2d (Fig. 6):   a2 = softplus(BN(conv_1(conv_2(sem))))
                           s2d = safe_sqrt(a3 * a2)             (Eq. 3)
        obj_inv_depth:     cue = conv1x1_32(convs_64,32(dep) *
                                            convs_64,32(common))  (Fig. 7)

    With ``semantic_to_depth=False`` the depth conv sees only ``dep`` (and
    ``obj_3d`` / ``obj_2d`` are not built); with ``depth_to_semantic=False``
    the classifier sees only ``sem`` (no ``obj_inv_depth``); both False is
    the MTL baseline of Tables 1-3. ``tasks=('seg',)`` or ``('depth',)``
    builds a single-task head with only that task's decoder refinement and
    branch.

    Which parameters a loss reaches follows from the graph: the depth output
    never touches ``seg_branch.conv_seg`` nor ``obj_inv_depth``, the
    segmentation output never touches ``depth_branch.conv_depth``,
    ``obj_2d`` nor ``obj_3d`` (the "3D latent" of Fig. 7 is the
    64-32-channel stack ``obj_inv_depth.common_convs``, not Fig. 6's
    1-channel ``obj_3d``). The refinement and feature convolutions of a
    branch do receive the other task's gradient through the cross-task unit
    (``decoder.refine.seg`` and ``seg_branch.feature`` via ``obj_2d``,
    ``decoder.refine.depth`` and ``depth_branch.feature`` via
    ``obj_inv_depth``); keeping the whole other branch fixed in a task's
    phase (Algorithm 1), its BatchNorm statistics included, is the
    training hook's job, not the graph's.

    Args:
        in_channels (Sequence[int]): Channels of ``(low_level,
            global_feature)``. Default: (256, 256).
        num_classes (int): Number of classes. Default: 19.
        tasks (Sequence[str]): Subset of ``('depth', 'seg')``.
            Default: ('depth', 'seg').
        semantic_to_depth (bool): Build the semantic-to-depth unit (needs
            both tasks). Default: True.
        depth_to_semantic (bool): Build the depth-to-semantic unit (needs
            both tasks). Default: True.
        refine_channels (int): Channels of the refined low-level feature.
            Default: 48.
        common_channels (int): Channels of the common representation.
            Default: 256.
        seg_channels (int): Channels of the semantic feature. Default: 256.
        depth_channels (Sequence[int]): Widths of the depth-feature convs.
            Default: (256, 64).
        latent_channels (int): Width of the first conv of ``obj_3d`` /
            ``obj_2d``. Default: 2.
        inv_depth_channels (Sequence[int]): Widths of the two conv stacks of
            ``obj_inv_depth``. Default: (64, 32).
        cue_channels (int): Channels of the :math:`d^{-2}` cue. Default: 32.
        sqrt_eps (float): ``eps`` of :func:`safe_sqrt`. Default: 1e-6.
        conv_cfg (dict, optional): Conv config. Default: None.
        norm_cfg (dict, optional): Norm config. Default: ``dict(type='BN')``.
        act_cfg (dict): Activation config. Default: ``dict(type='ReLU')``.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Default: every conv drawn from N(0, 0.01^2), the paper's
            initialisation of task-specific weights (Sec. 4.1 says "0.01
            variance"; we read 0.01 as the standard deviation, the usual
            value for such layers).
    """

    def __init__(
        self,
        in_channels: Sequence[int] = (256, 256),
        num_classes: int = 19,
        tasks: Sequence[str] = TASKS,
        semantic_to_depth: bool = True,
        depth_to_semantic: bool = True,
        refine_channels: int = 48,
        common_channels: int = 256,
        seg_channels: int = 256,
        depth_channels: Sequence[int] = (256, 64),
        latent_channels: int = 2,
        inv_depth_channels: Sequence[int] = (64, 32),
        cue_channels: int = 32,
        sqrt_eps: float = 1e-6,
        conv_cfg: OptConfigType = None,
        norm_cfg: OptConfigType = dict(type='BN'),
        act_cfg: ConfigType = dict(type='ReLU'),
        init_cfg: OptMultiConfig = dict(
            type='Normal', std=0.01, layer='Conv2d')
    ) -> None:
        super().__init__(init_cfg)
        tasks = tuple(tasks)
        self._check_arguments(tasks, semantic_to_depth, depth_to_semantic,
                              in_channels, num_classes, depth_channels,
                              inv_depth_channels)
        # in the paper's order: depth first
        self.tasks = tuple(t for t in TASKS if t in tasks)
        self.in_channels = tuple(in_channels)
        self.num_classes = num_classes
        self.semantic_to_depth = semantic_to_depth
        self.depth_to_semantic = depth_to_semantic
        self.sqrt_eps = sqrt_eps
        conv = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        with_common = semantic_to_depth or depth_to_semantic

        self.decoder = SOSDDecoder(in_channels[0], in_channels[1], self.tasks,
                                   refine_channels,
                                   common_channels if with_common else None,
                                   **conv)
        self._build_task_branches(seg_channels, depth_channels, cue_channels,
                                  conv)
        if semantic_to_depth:
            self.obj_3d = ObjectnessLatent(common_channels, latent_channels,
                                           **conv)
            self.obj_2d = ObjectnessLatent(seg_channels, latent_channels,
                                           **conv)
        if depth_to_semantic:
            self.obj_inv_depth = InverseDepthCue(depth_channels[-1],
                                                 common_channels,
                                                 inv_depth_channels,
                                                 cue_channels, **conv)

    @staticmethod
    def _check_arguments(tasks: Tuple[str, ...], semantic_to_depth: bool,
                         depth_to_semantic: bool, in_channels: Sequence[int],
                         num_classes: int, depth_channels: Sequence[int],
                         inv_depth_channels: Sequence[int]) -> None:
        """Raise ``ValueError`` naming the first bad constructor argument."""
        if not tasks or len(set(tasks)) != len(tasks) or \
                not set(tasks) <= set(TASKS):
            raise ValueError(
                f'SOSDHead: tasks must be distinct entries of {TASKS}, got '
                f'{tasks}')
        if (semantic_to_depth or depth_to_semantic) and len(tasks) != 2:
            raise ValueError(
                'SOSDHead: semantic_to_depth / depth_to_semantic join the two '
                f'tasks; a single-task head (tasks={tasks}) needs both False')
        if len(in_channels) != 2:
            raise ValueError(
                'SOSDHead: in_channels must be (low_level, global) channels, '
                f'got {in_channels}')
        if 'seg' in tasks and num_classes < 2:
            raise ValueError(
                f'SOSDHead: num_classes must be >= 2, got {num_classes}')
        if len(depth_channels) == 0 or len(inv_depth_channels) == 0:
            raise ValueError(
                'SOSDHead: depth_channels and inv_depth_channels need at '
                'least one conv each')

    def _build_task_branches(self, seg_channels: int,
                             depth_channels: Sequence[int], cue_channels: int,
                             conv: dict) -> None:
        """``seg_branch`` and ``depth_branch`` (Fig. 5), each with the input
        channels of its cross-task cue when that unit is on."""
        task_channels = self.decoder.task_channels
        if 'seg' in self.tasks:
            self.seg_branch = nn.ModuleDict(
                dict(
                    feature=ConvModule(
                        task_channels, seg_channels, 3, padding=1, **conv),
                    conv_seg=nn.Conv2d(
                        seg_channels +
                        (cue_channels if self.depth_to_semantic else 0),
                        self.num_classes,
                        3,
                        padding=1)))
        if 'depth' in self.tasks:
            self.depth_branch = nn.ModuleDict(
                dict(
                    feature=_conv_stack(task_channels, depth_channels, 3,
                                        **conv),
                    conv_depth=nn.Conv2d(
                        depth_channels[-1] +
                        (1 if self.semantic_to_depth else 0),
                        1,
                        5,
                        padding=2)))

    def _check_inputs(self, inputs: Sequence[Tensor]) -> Tuple[Tensor, Tensor]:
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(
                'SOSDHead expects (low_level, global_feature) from the neck, '
                f'got {type(inputs).__name__}')
        got = tuple(x.shape[1] for x in inputs)
        if got != self.in_channels:
            raise ValueError(
                f'SOSDHead: inputs have channels {got}, in_channels is '
                f'{self.in_channels}')
        return inputs[0], inputs[1]

    def semantic_to_depth_cue(self, common: Tensor,
                              semantic_feature: Tensor) -> Tensor:
        """The "Pixel Sqrt" of Fig. 6: ``sqrt(latent_3d * latent_2d)``.

        Eq. 3 up to the focal lengths (absorbed by batch norm):
        :math:`d = \\sqrt{f_x f_y \\Delta X \\Delta Y / (\\Delta u \\Delta
        v)}`.

        Args:
            common (Tensor): Common representation ``(B, C, h, w)``.
            semantic_feature (Tensor): Semantic feature ``(B, C', h, w)``.

        Returns:
            Tensor: ``(B, 1, h, w)``, non-negative.
        """
        return safe_sqrt(
            self.obj_3d(common) * self.obj_2d(semantic_feature), self.sqrt_eps)

    def forward(self,
                inputs: Sequence[Tensor],
                tasks: Optional[Sequence[str]] = None
                ) -> Dict[str, Optional[Tensor]]:
        """Predict depth and segmentation logits at stride 4.

        Args:
            inputs (Sequence[Tensor]): ``(low_level, global_feature)``:
                ``(B, C_low, h, w)`` and ``(B, C_global, h', w')``.
            tasks (Sequence[str], optional): Outputs to compute, a subset of
                :attr:`tasks`; only the layers they need run. Default: all.

        Returns:
            dict: ``depth`` ``(B, 1, h, w)`` (depth or disparity, whatever
            the model is trained on) and ``seg`` ``(B, num_classes, h, w)``
            logits; None for a task not computed.
        """
        tasks = self.tasks if tasks is None else tuple(tasks)
        if not set(tasks) <= set(self.tasks):
            raise ValueError(f'SOSDHead: cannot compute tasks {tasks}, the '
                             f'head has {self.tasks}')
        low_level, global_feature = self._check_inputs(inputs)
        want_depth, want_seg = 'depth' in tasks, 'seg' in tasks
        s2d = want_depth and self.semantic_to_depth
        d2s = want_seg and self.depth_to_semantic
        need_seg_feature = want_seg or s2d
        need_depth_feature = want_depth or d2s
        names = [
            name
            for name, needed in (('common', s2d or d2s), ('depth',
                                                          need_depth_feature),
                                 ('seg', need_seg_feature)) if needed
        ]
        x = self.decoder(low_level, global_feature, names)
        sem = self.seg_branch['feature'](x['seg']) \
            if need_seg_feature else None
        dep = self.depth_branch['feature'](x['depth']) \
            if need_depth_feature else None

        out: Dict[str, Optional[Tensor]] = dict(depth=None, seg=None)
        if want_depth:
            if s2d:
                cue = self.semantic_to_depth_cue(x['common'], sem)
                dep_in = torch.cat([dep, cue], dim=1)
            else:
                dep_in = dep
            out['depth'] = self.depth_branch['conv_depth'](dep_in)
        if want_seg:
            if d2s:
                cue = self.obj_inv_depth(dep, x['common'])
                sem_in = torch.cat([sem, cue], dim=1)
            else:
                sem_in = sem
            out['seg'] = self.seg_branch['conv_seg'](sem_in)
        return out
