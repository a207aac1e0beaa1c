# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The inferencer asks the model what kind of depth it predicts (its
``depth_kind`` attribute) instead of testing its class."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch.nn as nn
from _helpers import REPO_ROOT, SAMPLE_IMAGE
from mmengine.config import Config

from mmdepthseg.apis import DepthSegInferencer
from mmdepthseg.apis.depth_output import (depth_output_kind, inverse_to_depth,
                                          model_depth_kind)

BASELINE_CFG = osp.join(REPO_ROOT, 'configs', 'baseline',
                        'baseline_r18-unet_4xb2-40k_cityscapes-256x512.py')
FSRE_CFG = osp.join(REPO_ROOT, 'configs', 'fsre', 'fsre_r18_kitti.py')


class _Stub(nn.Module):
    """A model that declares its depth kind (or not, with None)."""

    def __init__(self, kind=None):
        super().__init__()
        if kind is not None:
            self.depth_kind = kind


@pytest.mark.parametrize('kind, expected', [('relative', 'relative'),
                                            ('metric', 'metric'),
                                            (None, 'metric')])
def test_supervised_config_follows_the_models_attribute(kind, expected):
    """The baseline config is supervised (no median scaling, no target
    transform): only the model can say its depth is relative."""
    cfg = Config.fromfile(BASELINE_CFG)
    assert model_depth_kind(_Stub(kind)) == kind
    assert depth_output_kind(_Stub(kind), cfg) == (expected, None)


def test_config_rules_stay_above_the_attribute():
    """An inverse-depth target is converted to metres and a median-scaled
    evaluation stays relative, whatever the class declares."""
    semimtl = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'semimtl',
                 'semimtl_r101_cityscapes_cross-city.py'))
    assert depth_output_kind(_Stub('relative'), semimtl)[0] == 'metric'
    fsre = Config.fromfile(FSRE_CFG)
    assert depth_output_kind(_Stub('metric'), fsre) == ('relative', None)


def test_unknown_depth_kind_is_refused_naming_the_class():
    with pytest.raises(ValueError, match="_Stub.depth_kind .*'disparity'"):
        model_depth_kind(_Stub('disparity'))


def test_inverse_depth_to_metres_by_hand():
    np.testing.assert_allclose(
        inverse_to_depth(np.array([2.0, 0.0, -1.0, 0.5]), 10.0),
        [5.0, 0.0, 0.0, 20.0])


def test_inferencer_reports_the_depth_kind_the_model_declares(monkeypatch):
    """A supervised segmentor class declaring ``depth_kind = 'relative'``:
    the inferencer says so in its results (before the attribute, only
    FSREDepth was relative)."""
    from mmdepthseg.models.segmentors import MultiTaskSegmentor
    monkeypatch.setattr(
        MultiTaskSegmentor, 'depth_kind', 'relative', raising=False)
    cfg = Config.fromfile(BASELINE_CFG)
    cfg.test_pipeline = [
        dict(type='LoadMultiViewImages'),
        dict(type='MultiViewResize', scale=(128, 64), keep_ratio=False),
        dict(type='PackMultiViewInputs')
    ]
    inferencer = DepthSegInferencer(cfg, weights='random')
    assert inferencer.depth_kind == 'relative'
    image = cv2.resize(cv2.imread(SAMPLE_IMAGE), (96, 40))
    result = inferencer(image, return_seg_probs=False)['predictions'][0]
    assert result['depth_kind'] == 'relative'
    assert result['depth'].shape == (40, 96)
