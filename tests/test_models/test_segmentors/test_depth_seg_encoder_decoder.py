# Copyright (c) mmdepthseg contributors. All rights reserved.
"""DepthSegEncoderDecoder: mmseg's EncoderDecoder vocabulary + a depth head.
"""
import copy

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmengine.model import BaseModule
from mmengine.registry import DefaultScope
from test_models.test_segmentors.batch import (packed_batch, random_depth,
                                               random_labels)

from mmdepthseg.models.decode_heads.base_depth_head import BaseDepthHead
from mmdepthseg.models.segmentors import DepthSegEncoderDecoder
from mmdepthseg.registry import MODELS

NUM_CLASSES = 4
CHANNELS = 8


@MODELS.register_module(force=True)
class _PointwiseTestBackbone(BaseModule):
    """1x1 convolutions: each output pixel depends on its input pixel only,
    so a window's output equals the whole image's output on that window."""

    def __init__(self, pretrained=None, init_cfg=None):
        super().__init__(init_cfg)
        self.pretrained = pretrained
        self.conv = nn.Sequential(
            nn.Conv2d(3, CHANNELS, 1), nn.ReLU(),
            nn.Conv2d(CHANNELS, CHANNELS, 1))

    def forward(self, x):
        return (self.conv(x), )


@MODELS.register_module(force=True)
class _PointwiseTestDepthHead(BaseDepthHead):
    """Depth from a 1x1 convolution (positive through a softplus)."""

    def __init__(self, in_channels=CHANNELS, **kwargs):
        super().__init__(**kwargs)
        self.conv = nn.Conv2d(in_channels, 1, 1)

    def forward(self, inputs):
        return [self.min_depth + F.softplus(self.conv(inputs[-1]))]


def _cfg(**overrides):
    """An mmseg-style model config (FCN decode head of 1x1 convs)."""
    head = dict(
        type='FCNHead',
        in_channels=CHANNELS,
        channels=CHANNELS,
        num_convs=0,
        concat_input=False,
        kernel_size=1,
        dropout_ratio=0.,
        num_classes=NUM_CLASSES,
        norm_cfg=dict(type='BN'),
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0))
    cfg = dict(
        type='DepthSegEncoderDecoder',
        data_preprocessor=dict(
            type='SegDataPreProcessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            bgr_to_rgb=True,
            pad_val=0,
            seg_pad_val=255,
            size=(24, 32)),
        pretrained=None,
        backbone=dict(type='_PointwiseTestBackbone'),
        decode_head=head,
        auxiliary_head=[
            dict(
                head,
                loss_decode=dict(type='CrossEntropyLoss', loss_weight=0.4))
        ] * 2,
        depth_head=dict(type='_PointwiseTestDepthHead'),
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))
    cfg.update(overrides)
    return ConfigDict(cfg)


def _build(**overrides):
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmdepthseg'):
        model = MODELS.build(_cfg(**overrides))
    model.init_weights()
    return model.eval()


def _batch(height, width, num=2, seed=0):
    """A batch as mmseg's ``PackSegInputs`` packs it: uint8 ``(3, H, W)``
    inputs, ``gt_sem_seg`` and ``gt_depth_map`` ``(1, H, W)``."""
    shape = (1, height, width)
    return packed_batch(
        num, (height, width),
        seed=seed,
        fields=dict(
            gt_sem_seg=random_labels(NUM_CLASSES, shape),
            gt_depth_map=random_depth(1., 10., shape)),
        metainfo=dict(reduce_zero_label=False))


def test_builds_from_mmseg_vocabulary():
    model = _build()
    assert isinstance(model, DepthSegEncoderDecoder)
    assert model.with_decode_head and model.with_depth_head
    assert isinstance(model.auxiliary_head, nn.ModuleList)
    assert len(model.auxiliary_head) == 2
    assert model.seg_head is model.decode_head
    single_aux = _build(auxiliary_head=_cfg().decode_head)
    assert not isinstance(single_aux.auxiliary_head, nn.ModuleList)


@pytest.mark.parametrize('test_cfg, error', [
    (dict(mode='tiles'), ValueError),
    (dict(mode='slide', crop_size=(8, 8)), KeyError),
    (dict(mode='whole', depth_resize='log'), ValueError),
])
def test_rejects_bad_test_cfg(test_cfg, error):
    with pytest.raises(error, match='DepthSegEncoderDecoder'):
        _build(test_cfg=test_cfg)


def test_loss_keys_and_depth_padding_masked():
    """mmseg's SegDataPreProcessor pads gt_depth_map with seg_pad_val (255);
    the model marks the padded border invalid before the depth loss."""
    model = _build().train()
    data = model.data_preprocessor(_batch(20, 30), training=True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert {
        'decode.loss_ce', 'aux_0.loss_ce', 'aux_1.loss_ce', 'depth.loss_depth'
    } <= set(losses)
    depth = data['data_samples'][0].gt_depth_map.data
    assert depth.shape == (1, 24, 32)
    assert (depth[:, 20:] == 0).all() and (depth[:, :, 30:] == 0).all()
    assert (depth[:, :20, :30] >= 1).all()
    # The loss equals the L1 over the unpadded pixels only.
    with torch.no_grad():
        pred = model.depth_head.forward(model.extract_feat(data['inputs']))[0]
    gts = torch.stack([s.gt_depth_map.data for s in data['data_samples']])
    expected = (pred - gts)[:, :, :20, :30].abs().mean()
    torch.testing.assert_close(losses['depth.loss_depth'], expected)


@pytest.mark.parametrize('crop_size, stride', [((8, 12), (5, 7)),
                                               ((16, 20), (16, 20))])
def test_slide_inference_matches_whole_on_position_independent_model(
        crop_size, stride):
    """With a per-pixel network every window agrees with the whole image
    where they overlap, so the stitched logits and depth must equal whole
    inference: wrong window offsets or a missing overlap average break
    this."""
    whole = _build()
    slide = copy.deepcopy(whole)
    slide.test_cfg = ConfigDict(
        mode='slide', crop_size=crop_size, stride=stride)
    batch = _batch(21, 31)
    with torch.no_grad():
        data = whole.data_preprocessor(copy.deepcopy(batch), training=False)
        ref = whole.predict(data['inputs'], data['data_samples'])
        data = slide.data_preprocessor(copy.deepcopy(batch), training=False)
        out = slide.predict(data['inputs'], data['data_samples'])
    windows = slide._slide_windows(21, 31, crop_size, stride)
    assert len(windows) > 1
    for r, o in zip(ref, out):
        assert o.pred_depth_map.shape == (21, 31)
        torch.testing.assert_close(o.seg_logits.data, r.seg_logits.data)
        torch.testing.assert_close(o.pred_depth_map.data,
                                   r.pred_depth_map.data)
        assert torch.equal(o.pred_sem_seg.data, r.pred_sem_seg.data)


def test_predict_undoes_padding_and_flip_of_depth():
    """Depth comes back at ori_shape, un-padded and un-flipped like the
    logits (mmseg's postprocess_result)."""
    model = _build()
    batch = _batch(20, 30, num=1)
    with torch.no_grad():
        plain = model.predict(*_preprocessed(model, batch))
        flipped = copy.deepcopy(batch)
        flipped['inputs'][0] = flipped['inputs'][0].flip(-1)
        flipped['data_samples'][0].set_metainfo(
            dict(flip=True, flip_direction='horizontal'))
        back = model.predict(*_preprocessed(model, flipped))
    torch.testing.assert_close(back[0].pred_depth_map.data,
                               plain[0].pred_depth_map.data)
    # Left-right asymmetric depth: the un-flip is not a no-op.
    assert not torch.allclose(plain[0].pred_depth_map.data,
                              plain[0].pred_depth_map.data.flip(-1))


def _preprocessed(model, batch):
    data = model.data_preprocessor(copy.deepcopy(batch), training=False)
    return data['inputs'], data['data_samples']


def test_active_tasks_select_the_losses():
    model = _build().train()
    data = model.data_preprocessor(_batch(20, 30), training=True)
    assert model.active_tasks == ('depth', 'seg')
    model.active_tasks = ('depth', )
    assert set(model.loss(**data)) == {'depth.loss_depth'}
    model.active_tasks = ('seg', )
    keys = set(model.loss(**data))
    assert 'decode.loss_ce' in keys and 'aux_1.loss_ce' in keys
    assert not any(k.startswith('depth.') for k in keys)
    with pytest.raises(ValueError, match='subset'):
        model.active_tasks = ('normals', )


def _hook_runner(model):
    """What EMAlternatingHook.before_train reads of a runner."""
    from types import SimpleNamespace

    from mmengine.optim import OptimWrapper
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    return SimpleNamespace(
        model=model,
        train_loop=None,
        hooks=[],
        optim_wrapper=optim,
        iter=0,
        epoch=0)


def test_em_alternating_hook_drives_the_mmseg_vocabulary_model():
    """Our EMAlternatingHook in an mmseg-style config: phases name mmseg's
    parameter prefixes; a plain mmseg EncoderDecoder is refused with an
    error that names what the hook needs."""
    from mmdepthseg.engine.hooks import EMAlternatingHook
    phases = [
        dict(
            name='depth',
            tasks=('depth', ),
            trainable=('backbone', 'depth_head')),
        dict(
            name='seg',
            tasks=('seg', ),
            trainable=('backbone', 'decode_head', 'auxiliary_head')),
    ]
    model = _build().train()
    hook = EMAlternatingHook(phases=phases, period=1, by_epoch=False)
    hook.before_train(_hook_runner(model))
    assert model.active_tasks == ('depth', )

    cfg = _cfg(type='EncoderDecoder')
    cfg.pop('depth_head')
    with DefaultScope.overwrite_default_scope('mmdepthseg'):
        plain = MODELS.build(cfg)
    hook = EMAlternatingHook(phases=phases, period=1, by_epoch=False)
    with pytest.raises(AttributeError, match='active_tasks'):
        hook.before_train(_hook_runner(plain))
