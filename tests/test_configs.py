# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Every config parses and names registered components."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

from mmdepthseg.registry import DATASETS, MODELS, TRANSFORMS

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    p for p in glob.glob(
        osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p)


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, ROOT))
def test_config_builds_its_model(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmdepthseg'
    model = MODELS.build(cfg.model)
    assert model is not None
    for loader in ('train_dataloader', 'test_dataloader'):
        for dataset in _datasets(cfg[loader].dataset):
            assert DATASETS.get(dataset.type) is not None, dataset.type
            for step in dataset.pipeline:
                assert TRANSFORMS.get(step.type) is not None, step.type


def _datasets(dataset):
    """The leaf datasets of a (multi-source) dataset config."""
    if dataset.type == 'MultiSourceDataset':
        assert DATASETS.get(dataset.type) is not None
        return [d for src in dataset.sources for d in _datasets(src.dataset)]
    return [dataset]
