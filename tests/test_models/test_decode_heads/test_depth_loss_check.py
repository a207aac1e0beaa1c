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
