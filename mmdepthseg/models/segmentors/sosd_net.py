# Copyright (c) mmdepthseg contributors. All rights reserved.
"""SOSD-Net: joint semantic object segmentation and depth estimation."""
from typing import Dict, List, Optional, Sequence, Tuple

from mmseg.models.losses import accuracy
from mmseg.models.utils import resize
from mmseg.utils import (ConfigType, OptConfigType, OptMultiConfig,
                         OptSampleList, SampleList)
from torch import Tensor

from mmdepthseg.registry import MODELS
from mmdepthseg.structures import stack_fx_baselines
from ..layers.geometry import depth_to_disparity
from ..utils import stack_pixel_field
from .base import BaseDepthSegmentor

DEPTH_MODES = ('depth', 'disparity')


def focal_baseline(img_metas: Sequence[dict], like: Tensor) -> Tensor:
    """``fx * baseline`` of each sample, the disparity-depth factor.

    Args:
        img_metas (Sequence[dict]): Metainfo with ``intrinsics`` (3x3, of
            the current image size) and ``baseline`` (metres).
        like (Tensor): Gives dtype and device.

    Returns:
        Tensor: ``(B, 1, 1, 1)``, pixels x metres.
    """
    return stack_fx_baselines(img_metas, like).view(-1, 1, 1, 1)


@MODELS.register_module()
class SOSDNet(BaseDepthSegmentor):
    """SOSD-Net (He et al.): Xception-65, context neck and :class:`SOSDHead`.

    SOSD-Net: Joint Semantic Object Segmentation and Depth Estimation from
    Monocular images, Sec. 3. One joint head predicts both tasks at stride
    4; both outputs are upsampled bilinearly to the input size. (Figs. 6
    and 7 draw this step as "upsample by 8", which together with Fig. 5's
    "upsample by 4" fits a stride-32 backbone with a stride-8 refined
    feature; with DeepLabV3+'s layout, output stride 16 and the low-level
    feature at stride 4, the full resolution the text asks for is x4. The
    resize targets the input size, so either layout gets its factor.)

    .. code:: text

        loss():    extract_feat() = neck(backbone(view 0)) -> decode_head(
                   tasks=active_tasks) -> L1 depth (Eq. 7) / CE (Eq. 6)
        decode():  decode_head() -> upsample -> metres (at the input size)

    Losses: ``loss_depth`` is ``depth_loss`` (L1 over valid pixels, Eq. 7)
    on depth in metres, or in ``depth_mode='disparity'`` on disparity in
    pixels (target ``fx * baseline / depth`` from metainfo ``intrinsics``
    and ``baseline``; the loss's ``min_depth`` / ``max_depth`` then apply to
    pixels); ``loss_ce`` is ``seg_loss`` (cross-entropy averaged over the
    labelled pixels, Eq. 6) and ``acc_seg`` its pixel accuracy. Only the
    tasks in :attr:`active_tasks` are computed, which the EM alternating
    training hook switches between ``('depth',)`` and ``('seg',)``.

    Predictions follow :class:`BaseDepthSegmentor`: ``pred_depth_map`` in
    metres (disparity converted back), ``seg_logits`` and ``pred_sem_seg``
    at ``ori_shape``.

    Args:
        backbone (dict): Backbone config (``Xception65``), returning
            ``(low_level, high_level)``.
        decode_head (dict): :class:`SOSDHead` config.
        neck (dict, optional): :class:`SOSDContextNeck` config.
            Default: None (the head then sees the backbone output).
        depth_loss (dict): Depth loss config. Default:
            ``dict(type='DepthL1Loss')``.
        seg_loss (dict): Segmentation loss config. Default: mmseg's
            ``CrossEntropyLoss`` averaged over labelled pixels, named
            ``loss_ce``.
        depth_mode (str): ``'depth'`` (metres) or ``'disparity'`` (pixels)
            as the regression target. Default: 'depth'.
        ignore_index (int): Unlabelled pixels. Default: 255.
        min_depth (float): Predicted depth is clamped to at least this
            (metres). Default: 1e-3.
        max_depth (float, optional): And to at most this. Default: None.
        train_cfg, test_cfg, data_preprocessor, init_cfg: As for
            :class:`BaseDepthSegmentor`.
    """

    def __init__(self,
                 backbone: ConfigType,
                 decode_head: ConfigType,
                 neck: OptConfigType = None,
                 depth_loss: ConfigType = dict(type='DepthL1Loss'),
                 seg_loss: ConfigType = dict(
                     type='CrossEntropyLoss',
                     use_sigmoid=False,
                     loss_weight=1.0,
                     avg_non_ignore=True,
                     loss_name='loss_ce'),
                 depth_mode: str = 'depth',
                 ignore_index: int = 255,
                 min_depth: float = 1e-3,
                 max_depth: Optional[float] = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        if depth_mode not in DEPTH_MODES:
            raise ValueError(f'SOSDNet: depth_mode must be one of '
                             f'{DEPTH_MODES}, got {depth_mode!r}')
        if min_depth <= 0 or (max_depth is not None
                              and max_depth <= min_depth):
            raise ValueError(f'SOSDNet: need 0 < min_depth < max_depth, got '
                             f'min_depth={min_depth}, max_depth={max_depth}')
        super().__init__(
            backbone=backbone,
            neck=neck,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.decode_head = MODELS.build(decode_head)
        if not hasattr(self.decode_head, 'tasks'):
            raise TypeError(
                'SOSDNet: decode_head must be an SOSDHead (with .tasks), got '
                f'{type(self.decode_head).__name__}')
        self.depth_loss = MODELS.build(depth_loss) \
            if self.with_depth_head else None
        self.seg_loss = MODELS.build(seg_loss) if self.with_seg_head else None
        self.depth_mode = depth_mode
        self.ignore_index = ignore_index
        self.min_depth = min_depth
        self.max_depth = max_depth
        self.active_tasks = self.decode_head.tasks

    @property
    def tasks(self) -> Tuple[str, ...]:
        """tuple[str]: The tasks of the joint head."""
        return tuple(self.decode_head.tasks)

    @property
    def active_tasks(self) -> Tuple[str, ...]:
        """tuple[str]: Tasks whose losses :meth:`loss` computes."""
        return self._active_tasks

    @active_tasks.setter
    def active_tasks(self, tasks: Sequence[str]) -> None:
        tasks = (tasks, ) if isinstance(tasks, str) else tuple(tasks)
        if not tasks or not set(tasks) <= set(self.decode_head.tasks):
            raise ValueError(
                f'SOSDNet.active_tasks must be a non-empty subset of the '
                f'head tasks {self.decode_head.tasks}, got {tasks}')
        self._active_tasks = tuple(t for t in self.decode_head.tasks
                                   if t in tasks)

    def _upsampled(self, inputs: Tensor, size: Tuple[int, int],
                   tasks: Sequence[str]) -> Dict[str, Optional[Tensor]]:
        """Head outputs of the reference view resized to ``size``."""
        outs = self.decode_head(self.extract_feat(inputs), tasks=tasks)
        return {
            name:
            None if out is None else resize(
                out, size=size, mode='bilinear', align_corners=False)
            for name, out in outs.items()
        }

    def loss(self, inputs: Tensor,
             data_samples: SampleList) -> Dict[str, Tensor]:
        """Losses of the active tasks.

        Args:
            inputs (Tensor): ``(B, 3V, H, W)``.
            data_samples (list[SegDataSample]): Samples with
                ``gt_depth_map`` / ``gt_sem_seg`` ``(V', H, W)`` (view 0 is
                supervised) and, in disparity mode, metainfo
                ``intrinsics`` and ``baseline``.

        Returns:
            dict[str, Tensor]: ``loss_depth`` and / or ``loss_ce`` and
            ``acc_seg``, for the active tasks.
        """
        outs = self._upsampled(inputs, inputs.shape[2:], self.active_tasks)
        losses = dict()
        if outs['depth'] is not None:
            pred = outs['depth']
            gt = stack_pixel_field(data_samples, 'gt_depth_map')[:, :1]
            gt = gt.to(pred)
            if gt.shape[2:] != pred.shape[2:]:
                pred = resize(pred, size=gt.shape[2:], mode='bilinear')
            target = gt
            if self.depth_mode == 'disparity':
                # fx * b per sample as the focal length, baseline 1
                target = depth_to_disparity(
                    gt, focal_baseline([s.metainfo for s in data_samples], gt),
                    1.)
            losses[self.depth_loss.loss_name] = self.depth_loss(
                pred, target, valid_mask=gt > 0)
        if outs['seg'] is not None:
            logits = outs['seg']
            label = stack_pixel_field(data_samples, 'gt_sem_seg')[:, 0].long()
            if label.shape[1:] != logits.shape[2:]:
                logits = resize(logits, size=label.shape[1:], mode='bilinear')
            losses[self.seg_loss.loss_name] = self.seg_loss(
                logits, label, ignore_index=self.ignore_index)
            losses['acc_seg'] = accuracy(
                logits, label, ignore_index=self.ignore_index)
        return losses

    def to_metres(self, depth: Tensor, batch_img_metas: List[dict]) -> Tensor:
        """Turn the depth output into metres, clamped to the depth range.

        Args:
            depth (Tensor): ``(B, 1, H, W)`` depth (metres) or disparity
                (pixels at the input size), after ``depth_mode``.
            batch_img_metas (list[dict]): Metas; disparity mode reads
                ``intrinsics`` and ``baseline``.

        Returns:
            Tensor: ``(B, 1, H, W)`` metres.
        """
        if self.depth_mode == 'disparity':
            depth = focal_baseline(batch_img_metas,
                                   depth) / depth.clamp(min=1e-6)
        return depth.clamp(min=self.min_depth, max=self.max_depth)

    def decode(self, inputs: Tensor,
               batch_img_metas: List[dict]) -> Dict[str, Tensor]:
        """The head's outputs upsampled to the input size, depth in metres
        (disparity mode reads ``intrinsics`` and ``baseline`` of the
        metas)."""
        maps = {
            task: out
            for task, out in self._upsampled(inputs, inputs.shape[2:],
                                             self.tasks).items()
            if out is not None
        }
        if 'depth' in maps:
            maps['depth'] = self.to_metres(maps['depth'], batch_img_metas)
        return maps

    def _forward(self,
                 inputs: Tensor,
                 data_samples: OptSampleList = None) -> Dict[str, object]:
        """Raw head outputs at stride 4, without post-processing.

        Returns:
            dict: ``'depth'``: ``[(B, 1, h, w)]`` (depth or disparity after
            ``depth_mode``) and ``'seg_logits'`` ``(B, C, h, w)``, for the
            tasks of the head.
        """
        outs = self.decode_head(self.extract_feat(inputs))
        result = dict()
        if outs['depth'] is not None:
            result['depth'] = [outs['depth']]
        if outs['seg'] is not None:
            result['seg_logits'] = outs['seg']
        return result
