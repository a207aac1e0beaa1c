# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Depth heads take pixel losses of ours and of mmseg, and refuse a loss on
other inputs with what it needs."""
import pytest
import torch
import torch.nn as nn
from mmengine.structures import PixelData
from mmseg.models.losses import SiLogLoss
from mmseg.structures import SegDataSample

from mmdepthseg.models.decode_heads import ConvDepthHead
from mmdepthseg.models.decode_heads.base_depth_head import BaseDepthHead


class _ConstantHead(BaseDepthHead):
    """Predicts a fixed map (a parameter), whatever the features."""

    def __init__(self, pred, **kwargs):
        super().__init__(**kwargs)
        self.pred = nn.Parameter(pred)

    def forward(self, inputs):
        return [self.pred]


def _samples(gt):
    sample = SegDataSample()
    sample.gt_depth_map = PixelData(data=gt)
    return [sample]


def test_mmseg_depth_loss_without_valid_mask_is_called_plainly():
    gen = torch.Generator().manual_seed(0)
    pred = 1 + 5 * torch.rand(1, 1, 6, 8, generator=gen)
    gt = 1 + 5 * torch.rand(1, 6, 8, generator=gen)
    gt[:, :2] = 0  # invalid
    head = _ConstantHead(pred.clone(), loss_depth=dict(type='SiLogLoss'))
    losses = head.loss((torch.zeros(1), ), _samples(gt), None)
    expected = SiLogLoss()(pred, gt[None])
    torch.testing.assert_close(losses['loss_silog'], expected)


@pytest.mark.parametrize('head', ['base', 'conv'])
def test_loss_on_decoder_features_is_refused_naming_its_model(head):
    loss = dict(type='SemanticGuidedTripletLoss')
    with pytest.raises(TypeError, match=r"\['feats', 'seg_label'\].*FSRE"):
        if head == 'base':
            _ConstantHead(torch.ones(1, 1, 2, 2), loss_depth=loss)
        else:
            ConvDepthHead(4, channels=(4, ), loss_depth=loss)


class _BelowFiveHead(_ConstantHead):
    """Counts only ground truth below 5 m (a subclass's own validity)."""

    def valid_mask(self, gt_depth):
        return gt_depth < 5


class _NoMaskHead(_ConstantHead):

    def valid_mask(self, gt_depth):
        return None


@pytest.mark.parametrize('head_cls,expected', [
    (_ConstantHead, (1 + 7 + 3) / 3),  # gt > 0: 2, 8, 4
    (_BelowFiveHead, (1 + 3) / 2),  # and gt < 5 (DepthL1Loss: gt > 0): 2, 4
    (_NoMaskHead, (1 + 7 + 3) / 3),  # DepthL1Loss's own gt > 0 only
])
def test_valid_mask_hook_selects_the_compared_pixels(head_cls, expected):
    pred = torch.ones(1, 1, 1, 4)
    gt = torch.tensor([[[2., 8., 0., 4.]]])
    head = head_cls(pred, loss_depth=dict(type='DepthL1Loss'))
    losses = head.loss((torch.zeros(1), ), _samples(gt), None)
    assert losses['loss_depth'].item() == pytest.approx(expected)


def test_berhu_sees_zero_targets_only_without_the_default_mask():
    # BerHuLoss counts every finite target (0 too); the base head's
    # gt > 0 mask drops the 0, ConvDepthHead's hook (None) keeps it.
    pred = torch.zeros(1, 1, 1, 2)
    gt = torch.tensor([[[0., 2.]]])
    base = _ConstantHead(pred, loss_depth=dict(type='BerHuLoss'))
    conv = ConvDepthHead(4, channels=(4, ), scale_factor=1)
    assert isinstance(conv, BaseDepthHead)
    assert conv.min_depth is None and conv.max_depth is None
    assert conv.valid_mask(gt[None]) is None
    # c = 0.2 max|r| = 0.4, berhu(2) = (2^2 + 0.4^2) / 0.8 = 5.2: mean over
    # the residual 2 alone (base) or over (0, 2) (ConvDepthHead)
    assert base.loss_by_feat([pred], _samples(gt))['loss_depth'].item() \
        == pytest.approx(5.2)
    assert conv.loss_by_feat([pred], _samples(gt))['loss_depth'].item() \
        == pytest.approx(5.2 / 2)
