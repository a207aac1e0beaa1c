# Copyright (c) mmdepthseg contributors. All rights reserved.
"""One adapter from a config's test pipeline to inference: the pseudo-label
generator's pipeline and the inferencer's share its rules."""
import numpy as np
import pytest
from _helpers import SAMPLE_IMAGE
from mmengine.config import Config

from mmdepthseg.apis.inference_pipeline import (FixedCropWindow,
                                                MultiViewInferencerLoader,
                                                build_inference_pipeline,
                                                build_inferencer_pipeline,
                                                inference_steps,
                                                paste_crop_window)
from mmdepthseg.set_env import register_all_modules

register_all_modules(init_default_scope=True)


def _cfg(*middle) -> Config:
    return Config(
        dict(test_pipeline=[
            dict(type='LoadMultiViewImages'), *middle,
            dict(type='MultiViewResize', scale=(64, 32), keep_ratio=False),
            dict(type='LoadDepthSegAnnotations'),
            dict(type='MapSegLabels'),
            dict(type='DepthTargetTransform', mode='inverse', scale=2.0),
            dict(type='PackMultiViewInputs')
        ]))


def test_label_transforms_are_dropped_for_both_pipelines():
    """Annotation loaders and the transforms of labels (class mapping,
    depth target) need labels: an image file alone runs through."""
    steps = [s['type'] for s in inference_steps(_cfg())]
    assert steps == [
        'LoadMultiViewImages', 'MultiViewResize', 'PackMultiViewInputs'
    ]
    packed = build_inference_pipeline(_cfg())(dict(img_path=SAMPLE_IMAGE))
    assert packed['inputs'].shape == (3, 32, 64)
    assert 'gt_sem_seg' not in packed['data_samples']

    pipeline = build_inferencer_pipeline(_cfg())
    kinds = [type(t).__name__ for t in pipeline.transforms]
    assert kinds == [
        'MultiViewInferencerLoader', 'MultiViewResize', 'PackMultiViewInputs'
    ]
    packed = pipeline(dict(img=np.zeros((20, 30, 3), np.uint8)))
    assert packed['data_samples'].metainfo['ori_shape'] == (20, 30)


def test_random_transforms_are_refused_naming_them():
    cfg = _cfg(dict(type='MultiViewRandomFlip', prob=0.5))
    for build in (build_inference_pipeline, build_inferencer_pipeline):
        with pytest.raises(ValueError, match='MultiViewRandomFlip'):
            build(cfg)


def test_missing_test_pipeline_is_named():
    with pytest.raises(KeyError, match='test_pipeline'):
        build_inference_pipeline(Config(dict(model=dict())))


def test_fixed_crop_window_is_remembered_and_pasted_back():
    cfg = Config(
        dict(test_pipeline=[
            dict(type='LoadMultiViewImages'),
            dict(
                type='MultiViewFixedCrop', crop_size=(8, 10), offset=(5, 3)),
            dict(type='PackMultiViewInputs')
        ]))
    pipeline = build_inferencer_pipeline(cfg)
    assert isinstance(pipeline.transforms[0], MultiViewInferencerLoader)
    assert isinstance(pipeline.transforms[1], FixedCropWindow)
    packed = pipeline(dict(img=np.zeros((20, 30, 3), np.uint8)))
    meta = packed['data_samples'].metainfo
    assert meta['crop_window'] == (5, 3, 20, 30)
    assert meta['ori_shape'] == (8, 10)
    full = paste_crop_window(np.ones((2, 8, 10)), meta['crop_window'], -1)
    assert full.shape == (2, 20, 30)
    assert (full[:, 5:13, 3:13] == 1).all() and (full == 1).sum() == 160
