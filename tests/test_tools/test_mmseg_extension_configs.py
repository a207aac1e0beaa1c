# Copyright (c) mmdepthseg contributors. All rights reserved.
"""An mmseg config extended with a depth head trains with tools/train.py and
tools/test.py reports mIoU and depth metrics together."""
import glob
import os
import os.path as osp
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from _helpers import REPO_ROOT
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmdepthseg.registry import MODELS

CPU_CONFIG = osp.join(
    REPO_ROOT, 'configs', 'mmseg_extensions',
    'pspnet_r18-d8_depth_1xb4-200it_synthetic-cityscapes-64x128.py')


def _run(args: list) -> str:
    env = dict(os.environ, OMP_NUM_THREADS='1')
    env['PYTHONPATH'] = os.pathsep.join([REPO_ROOT, env.get('PYTHONPATH', '')])
    proc = subprocess.run(
        args,
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    return out


def _results_table(out: str) -> dict:
    """The metrics of tools/test.py's table (one header row, one row of
    values): mIoU and the depth metrics side by side."""
    lines = out.splitlines()
    head = next(
        (i for i, ln in enumerate(lines) if 'mIoU' in ln and 'abs_rel' in ln),
        None)
    assert head is not None, out[-3000:]
    names = [c.strip() for c in lines[head].strip('| ').split('|')]
    row = next(ln for ln in lines[head + 1:] if re.search(r'\d', ln))
    return dict(zip(names, (float(c) for c in row.strip('| ').split('|'))))


@pytest.mark.slow  # ~50 s: training and two evaluations in subprocesses
def test_cpu_variant_learns_both_tasks_and_reports_them_together(
        synthetic_cityscapes, tmp_path):
    """mmseg's PSPNet-R18 + our depth head, 60 iterations on generated
    Cityscapes-layout data, against the same model untrained.

    Measured after 60 iterations (seeds 0-3, and seed 0 with
    ``ONEDNN_MAX_CPU_ISA=AVX2``): mIoU 16.6 / 37.8 / 40.4 / 36.3 / 25.2
    and abs_rel 0.60 / 0.45 / 0.49 / 0.41 / 0.48; untrained: mIoU 0.3,
    abs_rel 1.00. The margins are half the smallest gains.
    """
    cfg = Config.fromfile(CPU_CONFIG)
    assert cfg.model.type == 'mmdepthseg.DepthSegEncoderDecoder'
    assert cfg.model.backbone.type == 'ResNetV1c'  # mmseg's, inherited
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = synthetic_cityscapes
        cfg[loader].num_workers = 0
    cfg.train_cfg.max_iters = 60
    cfg.train_cfg.val_interval = 1000
    cfg.default_hooks.checkpoint.interval = 60
    cfg.work_dir = str(tmp_path)
    cfg_path = str(tmp_path / 'cfg.py')
    cfg.dump(cfg_path)

    # the untrained model, initialised as training initialises it
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmdepthseg'):
        model = MODELS.build(cfg.model)
    model.init_weights()
    torch.save({
        'state_dict': model.state_dict(),
        'meta': {}
    }, str(tmp_path / 'untrained.pth'))

    train_out = _run([sys.executable, 'tools/train.py', cfg_path])
    for key in ('decode.loss_ce', 'aux.loss_ce', 'depth.loss_depth'):
        assert key in train_out, train_out[-3000:]
    results = {}
    for name in ('untrained', 'iter_60'):
        results[name] = _results_table(
            _run([
                sys.executable, 'tools/test.py', cfg_path,
                str(tmp_path / f'{name}.pth'), '--work-dir',
                str(tmp_path / f'test_{name}')
            ]))
    before, after = results['untrained'], results['iter_60']
    assert after['mIoU'] > before['mIoU'] + 8, results
    assert after['abs_rel'] < before['abs_rel'] - 0.2, results


EXAMPLES = sorted(
    glob.glob(osp.join(REPO_ROOT, 'configs', 'mmseg_extensions', '*.py')))


@pytest.fixture(scope='module')
def synthetic_nyu(tmp_path_factory):
    from mmdepthseg.synthetic import write_nyu
    root = str(tmp_path_factory.mktemp('synthetic_nyu'))
    write_nyu(
        root,
        seed=0,
        rooms={
            'train': 1,
            'test': 1
        },
        views_per_room=1,
        height=120,
        width=160)
    return root


@pytest.mark.parametrize('path', EXAMPLES, ids=osp.basename)
def test_example_datasets_give_mmseg_samples_with_depth(
        path, synthetic_cityscapes, synthetic_nyu):
    """Each example's train and test data (our dataset, mmseg's transforms,
    resolved through the inherited ``_scope_='mmseg'`` dicts) give packed
    samples with labels and depth of the image's size."""
    from mmengine.registry import DefaultScope

    from mmdepthseg.registry import DATASETS
    cfg = Config.fromfile(path)
    root = synthetic_nyu if 'nyu' in path else synthetic_cityscapes
    for loader in ('train_dataloader', 'test_dataloader'):
        dataset_cfg = cfg[loader].dataset
        dataset_cfg.data_root = root
        with DefaultScope.overwrite_default_scope(cfg.default_scope):
            dataset = DATASETS.build(dataset_cfg)
        np.random.seed(0)
        sample = dataset[0]
        data_sample = sample['data_samples']
        shape = data_sample.gt_sem_seg.shape
        assert data_sample.gt_depth_map.shape == shape
        assert (data_sample.gt_depth_map.data > 0).any()
        if loader == 'train_dataloader':
            assert tuple(sample['inputs'].shape[1:]) == shape


@pytest.mark.parametrize('path', EXAMPLES, ids=osp.basename)
def test_example_types_resolve_in_the_scope_they_are_built_in(path):
    """Dicts inherited through ``mmseg::`` carry ``_scope_='mmseg'``, where
    our types are not registered: each top-level component must still
    resolve (the runner builds them under the dict's ``_scope_``)."""
    from mmdepthseg.registry import DATASETS, METRICS
    cfg = Config.fromfile(path)
    parts = [(MODELS, cfg.model), (MODELS, cfg.tta_model),
             (METRICS, cfg.val_evaluator), (METRICS, cfg.test_evaluator),
             (DATASETS, cfg.train_dataloader.dataset),
             (DATASETS, cfg.test_dataloader.dataset)]
    for registry, part in parts:
        with DefaultScope.overwrite_default_scope(cfg.default_scope):
            with registry.switch_scope_and_registry(
                    part.get('_scope_')) as scoped:
                assert scoped.get(
                    part['type']) is not None, (part['type'],
                                                part.get('_scope_'))


CPU_VARIANTS = sorted(
    glob.glob(
        osp.join(REPO_ROOT, 'configs', 'mmseg_extensions', '*_cpu-*.py')))


def test_every_example_has_a_cpu_variant():
    """Each full-size example (``mmseg::`` base, real data) has a CPU
    variant that inherits it: same name up to the schedule and data."""
    examples = [p for p in EXAMPLES if 'synthetic' not in p]
    assert len(examples) == 4 and len(CPU_VARIANTS) == 4
    for example in examples:
        stem = osp.basename(example).split('_depth_')[0]
        slide = example.endswith('_slide.py')
        assert [
            p for p in CPU_VARIANTS
            if osp.basename(p).split('_depth_')[0] == stem
            and p.endswith('_slide.py') == slide
        ], example


@pytest.mark.slow  # 12-25 s each (training, then evaluation)
@pytest.mark.parametrize('path', CPU_VARIANTS, ids=osp.basename)
def test_cpu_variant_trains_and_tools_test_reports_both_tasks(
        path, synthetic_cityscapes, synthetic_nyu, tmp_path, capfd):
    """Each CPU variant (the example's ``mmseg::`` model at CPU size) trains
    two iterations on generated data and ``tools/test.py`` (its ``main``,
    in this process to spare an interpreter start) prints mIoU and the
    depth metrics in one table."""
    import runpy

    from mmengine.runner import Runner
    cfg = Config.fromfile(path)
    assert cfg.model.type == 'mmdepthseg.DepthSegEncoderDecoder'
    # mmseg's backbone, inherited through the example
    assert cfg.model.backbone.type in ('ResNetV1c', 'MixVisionTransformer')
    if path.endswith('_slide.py'):
        assert cfg.model.test_cfg.mode == 'slide'
    root = synthetic_nyu if 'nyu' in path else synthetic_cityscapes
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = root
        cfg[loader].num_workers = 0
    cfg.test_dataloader.dataset.indices = 2
    cfg.train_dataloader.batch_size = 2
    cfg.train_cfg.max_iters = 2
    cfg.train_cfg.val_interval = 1000
    cfg.default_hooks.checkpoint.interval = 2
    cfg.work_dir = str(tmp_path)
    cfg_path = str(tmp_path / 'cfg.py')
    cfg.dump(cfg_path)
    Runner.from_cfg(Config.fromfile(cfg_path)).train()
    capfd.readouterr()
    test_main = runpy.run_path(osp.join(REPO_ROOT, 'tools', 'test.py'))['main']
    test_main([
        cfg_path,
        str(tmp_path / 'iter_2.pth'), '--work-dir',
        str(tmp_path / 'test')
    ])
    out, err = capfd.readouterr()
    table = _results_table(out + err)
    assert {'mIoU', 'abs_rel', 'rmse', 'a1'} <= set(table), table
    assert all(np.isfinite(v) for v in table.values()), table
