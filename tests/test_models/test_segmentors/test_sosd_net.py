# Copyright (c) mmdepthseg contributors. All rights reserved.
import math

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmengine.structures import PixelData
from test_models.test_segmentors.batch import (packed_batch, random_depth,
                                               random_labels)

# registers SOSDContextNeck / SOSDHead
import mmdepthseg.models.decode_heads.sosd_head  # noqa: F401
import mmdepthseg.models.necks.sosd_context  # noqa: F401
from mmdepthseg.models.segmentors.sosd_net import SOSDNet
from mmdepthseg.registry import MODELS

H, W = 32, 64
NUM_CLASSES = 3


@MODELS.register_module(force=True)
class SOSDTestBackbone(BaseModule):
    """Stand-in for Xception65: ``(low_level, high_level)`` at strides 4
    and 16."""

    def __init__(self, low_channels=8, high_channels=16):
        super().__init__()
        self.stem = ConvModule(
            3, low_channels, 3, stride=4, padding=1, norm_cfg=dict(type='BN'))
        self.deep = ConvModule(
            low_channels,
            high_channels,
            3,
            stride=4,
            padding=1,
            norm_cfg=dict(type='BN'))
        self.out_channels = (low_channels, high_channels)

    def forward(self, x):
        low = self.stem(x)
        return low, self.deep(low)


@MODELS.register_module(force=True)
class SOSDConstantHead(BaseModule):
    """A head whose outputs are set by hand: constant ``depth`` and
    per-class constant logits ``seg`` at stride 4."""

    def __init__(self, depth=10., logits=(0., 1.), tasks=('depth', 'seg')):
        super().__init__()
        self.tasks = tuple(tasks)
        self.depth, self.logits = depth, logits
        self.anchor = nn.Parameter(torch.zeros(()))  # carries a gradient

    def forward(self, inputs, tasks=None):
        low = inputs[0]
        b, _, h, w = low.shape
        tasks = self.tasks if tasks is None else tasks
        out = dict(depth=None, seg=None)
        if 'depth' in tasks:
            out['depth'] = low.new_full((b, 1, h, w), self.depth) + \
                self.anchor
        if 'seg' in tasks:
            logits = low.new_tensor(self.logits).view(1, -1, 1, 1)
            out['seg'] = logits.expand(b, -1, h, w) + self.anchor
        return out


HEAD = dict(
    type='SOSDHead',
    in_channels=(8, 8),
    num_classes=NUM_CLASSES,
    refine_channels=4,
    common_channels=8,
    seg_channels=8,
    depth_channels=(8, 4),
    inv_depth_channels=(4, 4),
    cue_channels=4)


def _model(head=None, **kwargs):
    cfg = dict(
        type='SOSDNet',
        backbone=dict(type='SOSDTestBackbone'),
        neck=dict(type='SOSDContextNeck', in_channels=16, channels=8),
        decode_head=head or dict(HEAD))
    cfg.update(kwargs)
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def _samples(num=2,
             depth=None,
             labels=None,
             fx=100.,
             baseline=0.5,
             ori_shape=(H, W),
             seed=0):
    shape = (1, H, W)
    fields = dict(
        gt_depth_map=random_depth(1., 10., shape) if depth is None else
        (lambda gen: depth.clone()),
        gt_sem_seg=random_labels(NUM_CLASSES, shape) if labels is None else
        (lambda gen: labels.clone()))
    K = np.array([[fx, 0, W / 2], [0, fx, H / 2], [0, 0, 1]],
                 dtype=np.float32)
    return packed_batch(
        num, (H, W),
        seed=seed,
        fields=fields,
        metainfo=dict(
            img_path='fake.png',
            ori_shape=ori_shape,
            intrinsics=K,
            baseline=baseline))['data_samples']


def _inputs(num=2, seed=0):
    return torch.randn(
        num, 3, H, W, generator=torch.Generator().manual_seed(seed))


def test_tensor_mode_is_at_stride_4_and_predict_at_ori_shape():
    model = _model().eval()
    assert isinstance(model, SOSDNet)
    inputs = _inputs()
    with torch.no_grad():
        raw = model(inputs, mode='tensor')
        results = model.predict(inputs, _samples(ori_shape=(48, 96)))
    assert raw['depth'][0].shape == (2, 1, H // 4, W // 4)
    assert raw['seg_logits'].shape == (2, NUM_CLASSES, H // 4, W // 4)
    for r in results:
        assert r.pred_depth_map.data.shape == (1, 48, 96)
        assert r.seg_logits.data.shape == (NUM_CLASSES, 48, 96)
        assert torch.equal(r.pred_sem_seg.data,
                           r.seg_logits.data.argmax(0, keepdim=True))
        assert (r.pred_depth_map.data >= model.min_depth).all()
    with torch.no_grad():
        logits = model.encode_decode(inputs, None)
    assert logits.shape == (2, NUM_CLASSES, H, W)


def test_predict_upsamples_the_stride_4_maps_bilinearly():
    model = _model(depth_mode='depth', min_depth=1e-6).eval()
    inputs = _inputs(1)
    with torch.no_grad():
        raw = model(inputs, mode='tensor')
        result = model.predict(inputs, _samples(1))[0]
    up = torch.nn.functional.interpolate(
        raw['seg_logits'], size=(H, W), mode='bilinear', align_corners=False)
    torch.testing.assert_close(result.seg_logits.data, up[0])
    up = torch.nn.functional.interpolate(
        raw['depth'][0], size=(H, W), mode='bilinear', align_corners=False)
    torch.testing.assert_close(result.pred_depth_map.data,
                               up[0].clamp(min=1e-6))


def test_loss_keys_follow_active_tasks():
    model = _model()
    assert model.active_tasks == ('depth', 'seg')
    losses = model(_inputs(), _samples(), mode='loss')
    assert set(losses) == {'loss_depth', 'loss_ce', 'acc_seg'}
    assert all(torch.isfinite(v) for v in losses.values())
    model.active_tasks = ('depth', )
    assert set(model.loss(_inputs(), _samples())) == {'loss_depth'}
    model.active_tasks = ['seg']
    assert set(model.loss(_inputs(), _samples())) == {'loss_ce', 'acc_seg'}
    model.active_tasks = ('seg', 'depth')
    assert model.active_tasks == ('depth', 'seg')
    with pytest.raises(ValueError, match='non-empty subset'):
        model.active_tasks = ()
    with pytest.raises(ValueError, match='non-empty subset'):
        model.active_tasks = ('normals', )


def _grads_after(model, tasks):
    model.active_tasks = tasks
    losses = model.loss(_inputs(), _samples())
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    return {n: p.grad for n, p in model.named_parameters()}


@pytest.mark.parametrize('tasks,untouched,trained', [
    (('depth', ),
     ('decode_head.seg_branch.conv_seg', 'decode_head.obj_inv_depth'),
     ('decode_head.depth_branch', 'decode_head.obj_3d', 'decode_head.obj_2d',
      'backbone', 'neck')),
    (('seg', ), ('decode_head.depth_branch.conv_depth', 'decode_head.obj_2d',
                 'decode_head.obj_3d'),
     ('decode_head.seg_branch', 'decode_head.obj_inv_depth', 'backbone',
      'neck')),
])
def test_active_task_loss_reaches_only_its_parameters(tasks, untouched,
                                                      trained):
    grads = _grads_after(_model(), tasks)
    for prefix in untouched:
        group = [g for n, g in grads.items() if n.startswith(prefix)]
        assert group and all(g is None for g in group), prefix
    for prefix in trained:
        group = [g for n, g in grads.items() if n.startswith(prefix)]
        assert group and all(g is not None for g in group), prefix


def test_single_task_models():
    head = dict(
        HEAD,
        tasks=('seg', ),
        semantic_to_depth=False,
        depth_to_semantic=False)
    model = _model(head=head)
    assert model.active_tasks == ('seg', )
    assert model.depth_loss is None
    assert set(model.loss(_inputs(), _samples())) == {'loss_ce', 'acc_seg'}
    with pytest.raises(ValueError, match='non-empty subset'):
        model.active_tasks = ('depth', )
    result = model.eval().predict(_inputs(1), _samples(1))[0]
    assert 'pred_sem_seg' in result and 'pred_depth_map' not in result

    head = dict(head, tasks=('depth', ))
    model = _model(head=head)
    assert model.seg_loss is None
    assert set(model.loss(_inputs(), _samples())) == {'loss_depth'}
    result = model.eval().predict(_inputs(1), _samples(1))[0]
    assert 'pred_depth_map' in result and 'pred_sem_seg' not in result
    assert result.pred_depth_map.data.shape == (1, H, W)


def test_losses_by_hand():
    """Depth 3 everywhere against ground truth 1 / 5 / invalid; two-class
    logits (0, ln 3), i.e. p = (1/4, 3/4), against labels 0 / 1 / 255."""
    head = dict(type='SOSDConstantHead', depth=3., logits=(0., math.log(3.)))
    model = _model(head=head)
    depth = torch.zeros(1, H, W)
    depth[:, :8] = 1.  # |3 - 1| = 2 on 8 rows
    depth[:, 8:16] = 5.  # |3 - 5| = 2 on 8 rows
    depth[:, 16:24, :16] = 4.  # 1 on 8 x 16 pixels; the rest is invalid
    labels = torch.full((1, H, W), 255, dtype=torch.long)
    labels[:, :4] = 0  # -ln(1/4) on 4 rows
    labels[:, 4:16] = 1  # -ln(3/4) on 12 rows
    losses = model.loss(_inputs(), _samples(depth=depth, labels=labels, num=2))
    n_valid = 16 * W + 8 * 16
    expected_l1 = (16 * W * 2. + 8 * 16 * 1.) / n_valid
    torch.testing.assert_close(losses['loss_depth'], torch.tensor(expected_l1))
    expected_ce = (4 * math.log(4.) + 12 * math.log(4. / 3.)) / 16
    torch.testing.assert_close(losses['loss_ce'], torch.tensor(expected_ce))
    # argmax is class 1 everywhere: right on 12 of 16 labelled rows
    torch.testing.assert_close(losses['acc_seg'].reshape(()),
                               torch.tensor(75.))


def test_disparity_mode_trains_on_disparity_and_predicts_metres():
    """fx = 100 px, baseline 0.5 m: fx * b = 50. A constant disparity 10 px
    is 5 m; ground truth 5 m / 2.5 m is 10 / 20 px."""
    head = dict(type='SOSDConstantHead', depth=10., tasks=('depth', ))
    model = _model(head=head, depth_mode='disparity')
    depth = torch.zeros(1, H, W)
    depth[:, :16] = 5.
    depth[:, 16:24] = 2.5
    losses = model.loss(_inputs(), _samples(depth=depth))
    # |10 - 10| on 16 rows, |10 - 20| on 8 rows
    torch.testing.assert_close(losses['loss_depth'],
                               torch.tensor(8 * 10. / 24))
    results = model.eval().predict(_inputs(),
                                   _samples(ori_shape=(2 * H, 2 * W)))
    for r in results:
        assert r.pred_depth_map.data.shape == (1, 2 * H, 2 * W)
        torch.testing.assert_close(r.pred_depth_map.data,
                                   torch.full((1, 2 * H, 2 * W), 5.))
    # depth mode takes the same output as metres
    model.depth_mode = 'depth'
    r = model.predict(_inputs(1), _samples(1))[0]
    torch.testing.assert_close(r.pred_depth_map.data, torch.full((1, H, W),
                                                                 10.))


def test_disparity_mode_needs_intrinsics_and_baseline():
    head = dict(type='SOSDConstantHead', tasks=('depth', ))
    model = _model(head=head, depth_mode='disparity')
    samples = _samples()
    del samples[1].baseline
    with pytest.raises(KeyError, match=r"has no 'baseline' \(fx \* baseline"):
        model.loss(_inputs(), samples)
    with pytest.raises(ValueError, match='depth_mode'):
        _model(depth_mode='inverse_depth')


def _learnable_batch(num=4, block=8):
    """Random 8x8 blocks of a class; colour and depth follow the class."""
    gen = torch.Generator().manual_seed(3)
    blocks = torch.randint(
        0, NUM_CLASSES, (num, 1, H // block, W // block), generator=gen)
    labels = blocks.repeat_interleave(block, 2).repeat_interleave(block, 3)
    colours = torch.tensor([[-1., 0., 1.], [1., -1., 0.], [0., 1., -1.]])
    inputs = colours[labels[:, 0]].permute(0, 3, 1, 2) + \
        0.1 * torch.randn(num, 3, H, W, generator=gen)
    depth = torch.tensor([2., 5., 8.])[labels]
    samples = _samples(num)
    for s, d, lab in zip(samples, depth, labels):
        s.gt_depth_map = PixelData(data=d)
        s.gt_sem_seg = PixelData(data=lab)
    return inputs, samples


def test_a_few_training_steps_reduce_both_losses():
    model = _model()
    model.train()
    inputs, samples = _learnable_batch()
    optim = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = None
    for _ in range(20):
        losses = model.loss(inputs, samples)
        if first is None:
            first = {k: v.item() for k, v in losses.items()}
        optim.zero_grad()
        sum(v for k, v in losses.items() if k.startswith('loss')).backward()
        optim.step()
    last = model.loss(inputs, samples)
    assert last['loss_depth'].item() < 0.5 * first['loss_depth']
    assert last['loss_ce'].item() < 0.5 * first['loss_ce']


def test_real_xception_backbone():
    from mmdepthseg.models.backbones.xception import Xception65
    backbone = Xception65(width_mult=0.125)
    low_ch, high_ch = backbone.out_channels
    model = _model(
        backbone=dict(type='Xception65', width_mult=0.125),
        neck=dict(type='SOSDContextNeck', in_channels=high_ch, channels=8),
        head=dict(HEAD, in_channels=(low_ch, 8))).eval()
    inputs = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        raw = model(inputs, mode='tensor')
    assert raw['depth'][0].shape == (1, 1, 16, 16)
    assert raw['seg_logits'].shape == (1, NUM_CLASSES, 16, 16)
