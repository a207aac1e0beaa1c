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


def _tta_first_branch(tta_pipeline):
    """The un-augmented branch of a TestTimeAug pipeline: the first
    alternative of every stage, without the no-op flip."""
    loader, aug = tta_pipeline
    assert aug['type'] == 'TestTimeAug'
    steps = [loader]
    for stage in aug['transforms']:
        step = stage[0]
        if step['type'] in ('MultiViewRandomFlip',
                            'RandomFlip') and step['prob'] == 0:
            continue
        steps.append(step)
    return steps


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, ROOT))
def test_config_is_seeded_checked_and_its_tta_matches_the_test(path):
    from mmdepthseg.utils.config_check import check_arguments
    cfg = Config.fromfile(path)
    assert cfg.randomness.seed is not None  # default_runtime.py
    check_arguments(cfg)  # no unknown argument in hooks, loops, optimizers
    assert MODELS.get(cfg.tta_model.type) is not None
    if cfg.get('tta_pipeline'):
        # a stale tta_pipeline inherited from a base that tested at another
        # size: its plain branch must be the test pipeline itself
        first = [dict(step) for step in _tta_first_branch(cfg.tta_pipeline)]
        assert first == [
            dict(step) for step in cfg.test_dataloader.dataset.pipeline
        ]
