# Copyright (c) mmdepthseg contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmdepthseg.models.decode_heads import UNetDecoder, UNetSegHead
from mmdepthseg.registry import MODELS

ENC_CHANNELS = [64, 64, 128, 256, 512]


def _encoder_feats(batch=2, height=64, width=128):
    return tuple(
        torch.randn(batch, c, height // 2**(k + 1), width // 2**(k + 1))
        for k, c in enumerate(ENC_CHANNELS))


def _head(**kwargs):
    cfg = dict(
        type='UNetSegHead',
        in_channels=ENC_CHANNELS,
        in_index=[0, 1, 2, 3, 4],
        input_transform='multiple_select',
        channels=16,
        num_classes=19)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def _samples(labels):
    samples = []
    for label in labels:
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=label)
        samples.append(sample)
    return samples


def test_logits_at_full_resolution():
    head = _head()
    assert isinstance(head, UNetSegHead)
    assert isinstance(head.decoder, UNetDecoder)
    logits = head(_encoder_feats())
    assert logits.shape == (2, 19, 64, 128)


def test_loss_is_cross_entropy_on_view_zero():
    torch.manual_seed(0)
    head = _head().eval()
    feats = _encoder_feats()
    labels_view0 = torch.randint(0, 19, (2, 64, 128))
    labels_view0[:, :8] = 255
    labels_view1 = torch.zeros(2, 64, 128, dtype=torch.long)
    samples = _samples(
        [torch.stack([labels_view0[i], labels_view1[i]]) for i in range(2)])
    losses = head.loss(feats, samples, train_cfg=None)
    assert set(losses) == {'loss_ce', 'acc_seg'}
    with torch.no_grad():
        logits = head(feats)
    # mmseg's CrossEntropyLoss: mean over all pixels, ignored ones count 0
    ce = F.cross_entropy(
        logits, labels_view0, ignore_index=255, reduction='none')
    assert losses['loss_ce'].item() == pytest.approx(
        ce.mean().item(), rel=1e-5)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match='channels'):
        _head(channels=32)
    with pytest.raises(ValueError, match='multiple_select'):
        _head(input_transform='resize_concat')
