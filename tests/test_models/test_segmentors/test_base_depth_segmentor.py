# Copyright (c) mmdepthseg contributors. All rights reserved.
"""BaseDepthSegmentor: every model of the package says truthfully what it
predicts, decodes through ``encode_decode`` and slides like it wholes."""
import copy

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config, ConfigDict
from mmengine.model import BaseModule
from mmengine.registry import DefaultScope
from test_models.test_segmentors.batch import packed_batch

from mmdepthseg.models.decode_heads.base_depth_head import BaseDepthHead
from mmdepthseg.models.segmentors import BaseDepthSegmentor
from mmdepthseg.registry import MODELS

NUM_CLASSES = 4
CHANNELS = 8


@MODELS.register_module(force=True)
class _BaseTestBackbone(BaseModule):
    """1x1 convolutions: every output pixel depends on its input pixel
    only (slide and whole inference agree)."""

    def __init__(self, init_cfg=None):
        super().__init__(init_cfg)
        self.conv = nn.Sequential(
            nn.Conv2d(3, CHANNELS, 1), nn.Tanh(),
            nn.Conv2d(CHANNELS, CHANNELS, 1))

    def forward(self, x):
        return (self.conv(x), )


@MODELS.register_module(force=True)
class _BaseTestDepthHead(BaseDepthHead):
    """Depth from a 1x1 convolution (positive through a softplus)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.conv = nn.Conv2d(CHANNELS, 1, 1)

    def forward(self, inputs):
        return [self.min_depth + F.softplus(self.conv(inputs[-1]))]


SEG_HEAD = dict(
    type='FCNHead',
    in_channels=CHANNELS,
    channels=CHANNELS,
    num_convs=0,
    concat_input=False,
    kernel_size=1,
    dropout_ratio=0.,
    num_classes=NUM_CLASSES,
    align_corners=False)
DEPTH_HEAD = dict(type='_BaseTestDepthHead')
BACKBONE = dict(type='_BaseTestBackbone')


def _sosd(tasks):
    return dict(
        type='SOSDNet',
        backbone=dict(type='Xception65', width_mult=0.125),
        neck=dict(type='SOSDContextNeck', in_channels=256, channels=8),
        decode_head=dict(
            type='SOSDHead',
            tasks=tasks,
            semantic_to_depth=len(tasks) == 2,
            depth_to_semantic=len(tasks) == 2,
            in_channels=(32, 8),
            num_classes=NUM_CLASSES,
            refine_channels=4,
            common_channels=8,
            seg_channels=8,
            depth_channels=(8, 4),
            inv_depth_channels=(4, 4),
            cue_channels=4))


def _fsre():
    cfg = Config.fromfile('configs/_base_/models/fsre_r18.py').model
    cfg.decoder.num_classes = NUM_CLASSES
    return cfg


# name -> (config, tasks, depth_kind)
MODELS_UNDER_TEST = {
    'MultiTaskSegmentor': (dict(
        type='MultiTaskSegmentor',
        backbone=BACKBONE,
        depth_head=DEPTH_HEAD,
        seg_head=SEG_HEAD), ('depth', 'seg'), 'metric'),
    'MultiTaskSegmentor-depth': (dict(
        type='MultiTaskSegmentor', backbone=BACKBONE,
        depth_head=DEPTH_HEAD), ('depth', ), 'metric'),
    'DepthSegEncoderDecoder': (dict(
        type='DepthSegEncoderDecoder',
        backbone=BACKBONE,
        decode_head=SEG_HEAD,
        depth_head=DEPTH_HEAD), ('depth', 'seg'), 'metric'),
    'FSREDepth': (_fsre(), ('depth', 'seg'), 'relative'),
    'PseudoMTL': (dict(
        type='PseudoMTL',
        backbone=BACKBONE,
        depth_head=DEPTH_HEAD,
        seg_head=SEG_HEAD), ('depth', 'seg'), 'metric'),
    'PseudoMTL-seg': (dict(
        type='PseudoMTL',
        backbone=BACKBONE,
        depth_head=None,
        seg_head=SEG_HEAD,
        seg_cv_loss=dict(
            type='CrossViewSegConsistencyLoss',
            warp_with='pseudo')), ('seg', ), 'metric'),
    'SOSDNet': (_sosd(('depth', 'seg')), ('depth', 'seg'), 'metric'),
    'SOSDNet-depth': (_sosd(('depth', )), ('depth', ), 'metric'),
    'SemiMTL': (dict(
        type='SemiMTL',
        backbone=BACKBONE,
        seg_head=SEG_HEAD,
        depth_head=DEPTH_HEAD,
        mode='jtl'), ('seg', 'depth'), 'metric'),
    'SemiMTL-seg': (dict(
        type='SemiMTL', backbone=BACKBONE, seg_head=SEG_HEAD,
        mode='stl'), ('seg', ), 'metric'),
}


def _build(cfg):
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmdepthseg'):
        model = MODELS.build(copy.deepcopy(ConfigDict(cfg)))
    model.init_weights()
    return model.eval()


@pytest.mark.parametrize('name', list(MODELS_UNDER_TEST))
def test_every_model_reports_what_it_predicts(name):
    cfg, tasks, depth_kind = MODELS_UNDER_TEST[name]
    model = _build(cfg)
    assert isinstance(model, BaseDepthSegmentor)
    assert model.tasks == tasks
    assert model.with_depth_head == ('depth' in tasks)
    assert model.with_seg_head == ('seg' in tasks)
    assert model.depth_kind == depth_kind
    inputs = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        results = model.predict(inputs)
        if 'seg' in tasks:
            logits = model.encode_decode(inputs, None)
            assert logits.shape == (2, NUM_CLASSES, 64, 64)
            # encode_decode is the segmentation that predict returns
            torch.testing.assert_close(results[1].seg_logits.data,
                                       logits[1])
        else:
            with pytest.raises(RuntimeError, match='needs a seg_head'):
                model.encode_decode(inputs, None)
    for result in results:
        assert ('pred_depth_map' in result) == ('depth' in tasks)
        assert ('pred_sem_seg' in result) == ('seg' in tasks)


def test_a_model_without_decode_cannot_be_built():
    with pytest.raises(TypeError, match='decode'):
        _build(dict(type='BaseDepthSegmentor', backbone=BACKBONE))


@pytest.mark.parametrize('name', ['MultiTaskSegmentor', 'SemiMTL'])
@pytest.mark.parametrize('crop_size, stride', [((8, 12), (5, 7)),
                                               ((16, 20), (16, 20))])
def test_slide_inference_matches_whole_for_method_models(
        name, crop_size, stride):
    """A per-pixel network gives every window the whole image's values
    where they overlap, so the stitched logits and depth equal whole
    inference (a wrong window offset or a missing overlap average
    breaks this)."""
    whole = _build(MODELS_UNDER_TEST[name][0])
    slide = copy.deepcopy(whole)
    slide.test_cfg = ConfigDict(
        mode='slide', crop_size=crop_size, stride=stride)
    batch = packed_batch(2, (21, 31), metainfo=dict(ori_shape=(25, 40)))
    inputs = torch.stack(batch['inputs']).float() / 64 - 2
    assert len(slide._slide_windows(21, 31, crop_size, stride)) > 1
    with torch.no_grad():
        ref = whole.predict(inputs, copy.deepcopy(batch['data_samples']))
        out = slide.predict(inputs, copy.deepcopy(batch['data_samples']))
    for r, o in zip(ref, out):
        assert o.pred_depth_map.shape == (25, 40)
        torch.testing.assert_close(o.seg_logits.data, r.seg_logits.data)
        torch.testing.assert_close(o.pred_depth_map.data,
                                   r.pred_depth_map.data)
