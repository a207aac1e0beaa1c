# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Base class of depth heads, the depth analogue of ``BaseDecodeHead``."""
import inspect
from abc import ABCMeta, abstractmethod
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmseg.models.utils import resize
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig, SampleList
from torch import Tensor

from mmdepthseg.registry import MODELS
from ..utils import stack_pixel_field


def check_pixel_depth_loss(loss: nn.Module, owner: str) -> bool:
    """Check that ``loss`` compares depth maps, ``loss(pred, target, ...)``.

    Depth heads call their ``loss_depth`` on the predicted and the ground
    truth maps: our losses (``DepthL1Loss``, ``BerHuLoss``,
    ``ConfidenceWeightedL1Loss``) and mmseg's (e.g. ``SiLogLoss``) qualify;
    a loss on other inputs (e.g. ``SemanticGuidedTripletLoss`` on decoder
    features and labels) is refused with what it needs.

    Args:
        loss (nn.Module): The built loss.
        owner (str): The head's name, for the error.

    Returns:
        bool: Whether ``loss.forward`` takes ``valid_mask``.

    Raises:
        TypeError: ``loss.forward`` does not start with ``(pred, target)``.
    """
    params = list(inspect.signature(loss.forward).parameters)
    if params[:2] != ['pred', 'target']:
        raise TypeError(
            f'{owner}: loss_depth {type(loss).__name__} takes {params}, but '
            'a depth head calls its losses as loss(pred, target[, '
            'valid_mask]) on the predicted and ground-truth depth maps. A '
            'loss on decoder features (e.g. SemanticGuidedTripletLoss) needs '
            'a model that passes them: FSREDepth (configs/fsre/).')
    return 'valid_mask' in params


class BaseDepthHead(BaseModule, metaclass=ABCMeta):
    """Base class of heads that predict depth (or a depth-like map).

    Like MMSegmentation's ``BaseDecodeHead`` it owns the losses and the
    train / test plumbing; a subclass implements only :meth:`forward`.

    .. code:: text

        loss():    forward() -> loss_by_feat()
        predict(): forward() -> predict_by_feat()

    :meth:`forward` returns a list of depth maps, one per output scale and
    finest first (a single-scale head returns a list of one). The loss is
    averaged over the scales, each prediction being upsampled to the ground
    truth size first (Monodepth2's multi-scale practice); prediction uses
    the finest map. Which ground-truth pixels count is the
    :meth:`valid_mask` hook (``gt > 0`` here; a subclass whose ground truth
    marks invalid pixels otherwise overrides it).

    Args:
        min_depth (float, optional): Smallest depth the head predicts,
            metres; None (with ``max_depth`` None) for a head without a
            range, e.g. a plain regression. Default: 0.1.
        max_depth (float, optional): Largest depth the head predicts,
            metres. Default: 100.0.
        loss_depth (dict | Sequence[dict]): Config(s) of the depth losses,
            each called as ``loss(pred, gt, valid_mask=valid_mask(gt))`` on
            ``(B, 1, H, W)`` maps (without ``valid_mask`` when the loss
            takes none or the hook returns None) and logged under its
            ``loss_name``. Default: ``dict(type='DepthL1Loss')``.
        align_corners (bool): ``align_corners`` of the bilinear resizing.
            Default: False.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Default: None.
    """

    def __init__(self,
                 min_depth: Optional[float] = 0.1,
                 max_depth: Optional[float] = 100.0,
                 loss_depth: Union[ConfigType, Sequence[ConfigType]] = dict(
                     type='DepthL1Loss'),
                 align_corners: bool = False,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg)
        no_range = min_depth is None and max_depth is None
        if not no_range and not (min_depth is not None and max_depth
                                 is not None and 0 < min_depth < max_depth):
            raise ValueError(
                f'{type(self).__name__}: need 0 < min_depth < max_depth (or '
                f'both None for no range), got min_depth={min_depth}, '
                f'max_depth={max_depth}')
        self.min_depth = min_depth
        self.max_depth = max_depth
        self.align_corners = align_corners
        if isinstance(loss_depth, dict):
            self.loss_depth = MODELS.build(loss_depth)
        elif isinstance(loss_depth, (list, tuple)):
            self.loss_depth = nn.ModuleList(
                MODELS.build(cfg) for cfg in loss_depth)
        else:
            raise TypeError(
                f'{type(self).__name__}: loss_depth must be a dict or a '
                f'sequence of dicts, got {type(loss_depth)}')
        self._loss_takes_mask = [
            check_pixel_depth_loss(loss, type(self).__name__)
            for loss in self._losses()
        ]

    @abstractmethod
    def forward(self, inputs: Tuple[Tensor, ...]) -> List[Tensor]:
        """Predict depth from backbone features.

        Args:
            inputs (tuple[Tensor]): Multi-level backbone features.

        Returns:
            list[Tensor]: Depth maps ``(B, 1, h_s, w_s)`` in metres, one per
            output scale, finest first.
        """

    def loss(self, inputs: Tuple[Tensor, ...], batch_data_samples: SampleList,
             train_cfg: OptConfigType) -> Dict[str, Tensor]:
        """Forward and compute the depth losses.

        Args:
            inputs (tuple[Tensor]): Multi-level backbone features.
            batch_data_samples (list[SegDataSample]): Samples carrying
                ``gt_depth_map`` ``(V', H, W)``; view 0 is supervised.
            train_cfg (dict, optional): Training config (unused here).

        Returns:
            dict[str, Tensor]: Loss items keyed by the losses' names.
        """
        depth_preds = self.forward(inputs)
        return self.loss_by_feat(depth_preds, batch_data_samples)

    def predict(self, inputs: Tuple[Tensor, ...], batch_img_metas: List[dict],
                test_cfg: OptConfigType) -> Tensor:
        """Forward and return depth at the (padded) input size.

        Args:
            inputs (tuple[Tensor]): Multi-level backbone features.
            batch_img_metas (list[dict]): Image metas; ``pad_shape`` (or
                else ``img_shape``) of the first gives the output size.
            test_cfg (dict, optional): Testing config (unused here).

        Returns:
            Tensor: Depth ``(B, 1, H, W)`` in metres.
        """
        depth_preds = self.forward(inputs)
        return self.predict_by_feat(depth_preds, batch_img_metas)

    def _stack_batch_gt(self, batch_data_samples: SampleList) -> Tensor:
        """Ground truth depth of the reference view, ``(B, 1, H, W)``."""
        return stack_pixel_field(batch_data_samples, 'gt_depth_map')[:, :1]

    def valid_mask(self, gt_depth: Tensor) -> Optional[Tensor]:
        """Ground-truth pixels the losses compare.

        Override in a head whose ground truth marks invalid pixels
        otherwise (e.g. NaN, which the losses then mask themselves).

        Args:
            gt_depth (Tensor): Ground truth ``(B, 1, H, W)``.

        Returns:
            Tensor | None: Boolean ``(B, 1, H, W)``, here ``gt_depth > 0``
            (0 = no measurement); None passes no ``valid_mask`` to the
            losses.
        """
        return gt_depth > 0

    def _losses(self) -> List[nn.Module]:
        if isinstance(self.loss_depth, nn.ModuleList):
            return list(self.loss_depth)
        return [self.loss_depth]

    def loss_by_feat(self, depth_preds: Sequence[Tensor],
                     batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """Compute the depth losses from predictions.

        Args:
            depth_preds (Sequence[Tensor]): Depth maps ``(B, 1, h_s, w_s)``,
                one per scale.
            batch_data_samples (list[SegDataSample]): Samples with
                ``gt_depth_map``.

        Returns:
            dict[str, Tensor]: Each loss averaged over the scales.
        """
        gt_depth = self._stack_batch_gt(batch_data_samples)
        gt_depth = gt_depth.to(depth_preds[0].dtype)
        valid_mask = self.valid_mask(gt_depth)
        losses: Dict[str, Tensor] = dict()
        for depth_pred in depth_preds:
            depth_pred = resize(
                depth_pred,
                size=gt_depth.shape[2:],
                mode='bilinear',
                align_corners=self.align_corners)
            for loss_fn, takes_mask in zip(self._losses(),
                                           self._loss_takes_mask):
                # a loss without valid_mask (e.g. mmseg's SiLogLoss) masks
                # invalid (0) ground truth itself
                kwargs = dict(valid_mask=valid_mask) \
                    if takes_mask and valid_mask is not None else {}
                value = loss_fn(depth_pred, gt_depth, **kwargs) / len(
                    depth_preds)
                name = loss_fn.loss_name
                losses[name] = losses[name] + value if name in losses \
                    else value
        return losses

    def predict_by_feat(self, depth_preds: Sequence[Tensor],
                        batch_img_metas: List[dict]) -> Tensor:
        """Resize the finest prediction to the (padded) input size.

        Args:
            depth_preds (Sequence[Tensor]): Depth maps, finest first.
            batch_img_metas (list[dict]): Image metas.

        Returns:
            Tensor: Depth ``(B, 1, H, W)`` in metres.
        """
        meta = batch_img_metas[0]
        size = meta['pad_shape'][:2] if 'pad_shape' in meta \
            else meta['img_shape'][:2]
        return resize(
            depth_preds[0],
            size=tuple(s if isinstance(s, torch.SymInt) else int(s)
                       for s in size),
            mode='bilinear',
            align_corners=self.align_corners,
            warning=False)
