# Copyright (c) mmdepthseg contributors. All rights reserved.
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import DefaultScope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from test_models.test_segmentors.batch import (packed_batch, random_depth,
                                               random_labels)

from mmdepthseg.models.segmentors import MultiTaskSegmentor
from mmdepthseg.registry import MODELS

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(__file__))))
BASE_CFG = osp.join(REPO_ROOT, 'configs', '_base_', 'models',
                    'baseline_r18_unet.py')
NUM_CLASSES = 19


def _model_cfg(**overrides):
    cfg = copy.deepcopy(Config.fromfile(BASE_CFG).model)
    cfg.update(overrides)
    return cfg


def _build(**overrides):
    """Build (and initialise) a model from the baseline config."""
    torch.manual_seed(0)
    # configs run under default_scope='mmdepthseg' (the data preprocessor is
    # built through MMEngine's root registry)
    with DefaultScope.overwrite_default_scope('mmdepthseg'):
        model = MODELS.build(_model_cfg(**overrides))
    model.init_weights()
    return model


@pytest.fixture(scope='module')
def baseline():
    """The baseline model, built once; tests use a deep copy of it."""
    return _build()


def _raw_batch(num=2, views=2, height=60, width=120, ori_shape=None, seed=0):
    """A batch as ``PackMultiViewInputs`` emits it (data contract)."""
    shape = (views, height, width)
    batch = packed_batch(
        num, (height, width),
        views=views,
        seed=seed,
        fields=dict(
            gt_depth_map=random_depth(2., 30., shape),
            gt_sem_seg=random_labels(NUM_CLASSES, shape)),
        metainfo=dict(
            img_path='fake.png',
            view_names=('l', 'r')[:views],
            ori_shape=ori_shape or (height, width),
            pad_shape=(height, width),
            scale_factor=(1.0, 1.0),
            flip=False,
            flip_direction=None,
            reduce_zero_label=False))
    for sample in batch['data_samples']:
        sample.gt_depth_map.data[:, :5] = 0  # invalid (sky)
        sample.gt_sem_seg.data[:, -3:] = 255
    return batch


def _preprocess(model, training, **kwargs):
    return model.data_preprocessor(_raw_batch(**kwargs), training)


def _metas(num, img_shape, ori_shape, **extra):
    return [
        SegDataSample(
            metainfo=dict(img_shape=img_shape, ori_shape=ori_shape, **extra))
        for _ in range(num)
    ]


def test_loss_mode_through_the_data_preprocessor(baseline):
    model = copy.deepcopy(baseline)
    assert isinstance(model, MultiTaskSegmentor)
    data = _preprocess(model, training=True)
    assert data['inputs'].shape == (2, 6, 64, 128)
    losses = model(**data, mode='loss')
    assert set(losses) == {'depth.loss_depth', 'seg.loss_ce', 'seg.acc_seg'}
    for value in losses.values():
        assert torch.isfinite(value).all()


def test_predict_mode_returns_maps_at_the_original_size(baseline):
    model = copy.deepcopy(baseline).eval()
    data = _preprocess(model, training=False, ori_shape=(90, 180))
    with torch.no_grad():
        results = model(**data, mode='predict')
    assert len(results) == 2
    for result in results:
        assert result.seg_logits.shape == (90, 180)
        assert result.seg_logits.data.shape == (NUM_CLASSES, 90, 180)
        assert result.pred_sem_seg.data.shape == (1, 90, 180)
        assert torch.equal(result.pred_sem_seg.data,
                           result.seg_logits.data.argmax(0, keepdim=True))
        depth = result.pred_depth_map.data
        assert depth.shape == (1, 90, 180)
        assert depth.min() >= 0.1 - 1e-5 and depth.max() <= 100.0 + 1e-3


def test_tensor_mode_returns_raw_head_outputs(baseline):
    model = copy.deepcopy(baseline).eval()
    data = _preprocess(model, training=False, height=64, width=128)
    with torch.no_grad():
        outs = model(**data, mode='tensor')
    assert set(outs) == {'depth', 'seg_logits'}
    assert [tuple(d.shape) for d in outs['depth']] == [(2, 1, 64, 128)]
    assert outs['seg_logits'].shape == (2, NUM_CLASSES, 64, 128)
    with torch.no_grad():
        logits = model.encode_decode(
            data['inputs'], [s.metainfo for s in data['data_samples']])
    assert torch.allclose(logits, outs['seg_logits'])


def test_predict_crops_padding_and_undoes_flip(baseline):
    model = copy.deepcopy(baseline).eval()
    inputs = torch.randn(2, 6, 64, 128)
    with torch.no_grad():
        raw = model(inputs, mode='tensor')
        cropped = model.predict(inputs, _metas(2, (60, 120), (60, 120)))
        flipped = model.predict(
            inputs,
            _metas(
                2, (60, 120), (60, 120),
                flip=True,
                flip_direction='horizontal'))
    depth = raw['depth'][0][:, :, :60, :120]
    logits = raw['seg_logits'][:, :, :60, :120]
    for i in range(2):
        assert torch.allclose(cropped[i].pred_depth_map.data, depth[i])
        assert torch.allclose(cropped[i].seg_logits.data, logits[i])
        assert torch.allclose(flipped[i].pred_depth_map.data,
                              depth[i].flip(-1))
        assert torch.allclose(flipped[i].seg_logits.data, logits[i].flip(-1))


def test_predict_without_data_samples_keeps_the_input_size(baseline):
    model = copy.deepcopy(baseline).eval()
    with torch.no_grad():
        results = model.predict(torch.randn(1, 3, 64, 96))
    assert results[0].pred_depth_map.data.shape == (1, 64, 96)
    assert results[0].pred_sem_seg.data.shape == (1, 64, 96)


def test_backbone_encodes_only_the_reference_view(baseline):
    model = copy.deepcopy(baseline).eval()
    inputs = torch.randn(1, 6, 64, 64)
    other = inputs.clone()
    other[:, 3:] = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        out_a = model(inputs, mode='tensor')
        out_b = model(other, mode='tensor')
        other[:, :3] += 1.0
        out_c = model(other, mode='tensor')
    assert torch.equal(out_a['depth'][0], out_b['depth'][0])
    assert torch.equal(out_a['seg_logits'], out_b['seg_logits'])
    assert not torch.allclose(out_a['seg_logits'], out_c['seg_logits'])
    with pytest.raises(ValueError, match='3V'):
        model(torch.randn(1, 4, 64, 64), mode='tensor')


@pytest.mark.parametrize('loss_key,trained,untouched',
                         [('depth.loss_depth', 'depth_head', 'seg_head'),
                          ('seg.loss_ce', 'seg_head', 'depth_head')])
def test_each_head_backpropagates_into_the_backbone(baseline, loss_key,
                                                    trained, untouched):
    model = copy.deepcopy(baseline)
    data = _preprocess(model, training=True, height=64, width=64)
    losses = model(**data, mode='loss')
    losses[loss_key].backward()
    assert model.backbone.conv1.weight.grad.abs().sum() > 0
    assert model.backbone.layer4[0].downsample[0].weight.grad.abs().sum() > 0
    assert any(p.grad is not None and p.grad.abs().sum() > 0
               for p in getattr(model, trained).parameters())
    assert all(p.grad is None or p.grad.abs().sum() == 0
               for p in getattr(model, untouched).parameters())


def _learnable_batch(num=2, size=64, block=16):
    """Images of coloured blocks whose class and depth follow the colour."""
    gen = torch.Generator().manual_seed(0)
    data = _raw_batch(num=num, views=1, height=size, width=size)
    palette = torch.randint(
        0, 256, (NUM_CLASSES, 3), dtype=torch.uint8, generator=gen)
    cells = size // block
    for i, sample in enumerate(data['data_samples']):
        classes = torch.randint(0, NUM_CLASSES, (cells, cells), generator=gen)
        classes = classes.repeat_interleave(block,
                                            0).repeat_interleave(block, 1)
        data['inputs'][i] = palette[classes].permute(2, 0, 1).contiguous()
        sample.gt_sem_seg = PixelData(data=classes[None].clone())
        sample.gt_depth_map = PixelData(data=2.0 + 3.0 * classes[None].float())
    return data


def test_training_steps_on_one_batch_reduce_both_losses(baseline):
    # Adam as in the baseline schedules: plain SGD on a metric-depth L1
    # through the sigmoid parametrisation is fragile (see UNetDepthHead).
    model = copy.deepcopy(baseline)
    model.train()
    optim_wrapper = OptimWrapper(torch.optim.Adam(model.parameters(), lr=2e-4))
    data = _learnable_batch()
    history = []
    for _ in range(16):
        log_vars = model.train_step(copy.deepcopy(data), optim_wrapper)
        history.append({k: float(v) for k, v in log_vars.items()})
    first, last = history[0], history[-1]
    assert all(torch.isfinite(torch.tensor(h['loss'])) for h in history)
    assert last['loss'] < 0.6 * first['loss'], history
    assert last['depth.loss_depth'] < 0.7 * first['depth.loss_depth']
    assert last['seg.loss_ce'] < 0.8 * first['seg.loss_ce']


def test_single_task_models():
    depth_only = _build(seg_head=None).eval()
    seg_only = _build(depth_head=None).eval()
    data = _preprocess(depth_only, training=True, height=64, width=64)
    assert set(depth_only(**data, mode='loss')) == {'depth.loss_depth'}
    assert set(seg_only(**data, mode='loss')) == {'seg.loss_ce', 'seg.acc_seg'}
    inputs = torch.randn(1, 3, 64, 64)
    metas = _metas(1, (64, 64), (32, 32))
    with torch.no_grad():
        depth_result = depth_only.predict(inputs, metas)[0]
        seg_result = seg_only.predict(inputs, _metas(1, (64, 64), (32, 32)))[0]
    assert depth_result.pred_depth_map.data.shape == (1, 32, 32)
    assert 'pred_sem_seg' not in depth_result
    assert seg_result.pred_sem_seg.data.shape == (1, 32, 32)
    assert 'pred_depth_map' not in seg_result
    with pytest.raises(RuntimeError, match='seg_head'):
        depth_only.encode_decode(inputs, [metas[0].metainfo])


def test_invalid_configurations_raise():
    with pytest.raises(ValueError, match='depth_head, a seg_head'):
        _build(depth_head=None, seg_head=None)
    with pytest.raises(ValueError, match='MultiTaskSegmentor.*tiles'):
        _build(test_cfg=dict(mode='tiles'))
    with pytest.raises(KeyError, match='crop_size and stride'):
        _build(test_cfg=dict(mode='slide', crop_size=(64, 64)))
