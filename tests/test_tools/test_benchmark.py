# Copyright (c) mmdepthseg contributors. All rights reserved.
"""tools/analysis_tools/benchmark.py and mmdepthseg.utils.benchmark."""
import copy
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch
from _helpers import BASELINE_CFG, REPO_ROOT
from mmengine.config import Config

from mmdepthseg.registry import MODELS
from mmdepthseg.utils import register_all_modules
from mmdepthseg.utils.benchmark import (PeakMemoryMeter, benchmark,
                                        dump_json_atomic, infer_view_names,
                                        make_synthetic_batch, time_step)


@pytest.fixture(scope='module')
def baseline_cfg() -> Config:
    register_all_modules()
    return Config.fromfile(BASELINE_CFG)


def _cfg_with_dataset(**dataset) -> Config:
    return Config(dict(train_dataloader=dict(dataset=dataset)))


def test_view_names_follow_the_training_dataset(baseline_cfg):
    assert infer_view_names(baseline_cfg) == ('l', )
    kitti = _cfg_with_dataset(type='KittiRawDataset', frame_ids=[0, -1, 1])
    assert infer_view_names(kitti) == ('t', 't-1', 't+1')
    assert infer_view_names(_cfg_with_dataset(frame_ids=(0, 's'))) == ('l',
                                                                       'r')
    wrapped = _cfg_with_dataset(
        type='RepeatDataset', times=2, dataset=dict(frame_ids=(0, -1, 1, 's')))
    assert infer_view_names(wrapped) == ('t', 't-1', 't+1', 's')
    # no views in the config: --views decides, and may not contradict it
    assert len(infer_view_names(Config(dict()), num_views=3)) == 3
    with pytest.raises(ValueError, match='disagrees'):
        infer_view_names(kitti, num_views=2)


def test_synthetic_batch_has_the_contract_fields():
    batch = make_synthetic_batch(
        2, (48, 160), ('t', 't-1', 't+1'), num_classes=19)
    assert len(batch['inputs']) == 2
    img = batch['inputs'][0]
    assert img.dtype == torch.uint8 and img.shape == (9, 48, 160)
    sample = batch['data_samples'][0]
    labels = sample.gt_sem_seg.data
    assert labels.shape == (1, 48, 160) and labels.dtype == torch.int64
    assert 0 <= labels.min() and labels.max() <= 18
    depth = sample.gt_depth_map.data
    assert depth.shape == (1, 48, 160) and (depth > 0).all()
    assert torch.equal(sample.unaug_img.data, img)
    meta = sample.metainfo
    # monodepth2's normalised KITTI intrinsics scaled to 160x48 by hand
    np.testing.assert_allclose(
        meta['intrinsics'], [[92.8, 0, 80.0], [0, 92.16, 24.0], [0, 0, 1]],
        rtol=1e-6)
    assert meta['stereo_T'][0, 3] == -meta['baseline'] < 0
    assert meta['img_shape'] == meta['ori_shape'] == meta['pad_shape'] == (48,
                                                                           160)
    assert meta['view_names'] == ('t', 't-1', 't+1')


def test_time_step_times_only_the_step():
    calls = dict(step=0, make=0)

    def make_input():
        calls['make'] += 1
        return calls['make']

    def step(x):
        calls['step'] += 1

    times = time_step(step, make_input, warmup=2, repeat=3)
    assert len(times) == 3 and all(t >= 0 for t in times)
    assert calls == dict(step=5, make=5)
    with pytest.raises(ValueError):
        time_step(step, make_input, warmup=0, repeat=0)


def test_peak_memory_meter_sees_an_allocation():
    size = 64 * 1024**2
    with PeakMemoryMeter('cpu') as meter:
        block = np.ones(size, dtype=np.uint8)  # touched: resident
        del block
    assert meter.result['growth_mib'] >= 60
    assert meter.result['peak_mib'] >= meter.result['baseline_mib'] + 60


def test_benchmark_trains_and_infers_for_real(baseline_cfg):
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(baseline_cfg.model))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = benchmark(
        baseline_cfg,
        shape=(64, 64),
        batch_size=1,
        device='cpu',
        warmup=1,
        repeat=2,
        modes=('train', 'infer'),
        model=model)
    for mode in ('train', 'infer'):
        t = result[mode]['time_s']
        assert len(t['runs']) == 2 and min(t['runs']) > 0
        assert t['min'] <= t['median'] <= t['max']
        assert result[mode]['batch_size'] == 1
        mem = result[mode]['memory']
        assert mem['peak_mib'] > 0 and mem['growth_mib'] >= 0
    # 3 optimizer steps (1 warm-up + 2 timed) moved the weights
    assert result['train']['params_changed']
    assert result['train']['optimizer'] == 'Adam'
    after = model.state_dict()
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert 'seg_head.conv_seg.weight' in changed
    assert 'backbone.conv1.weight' in changed
    assert result['input'] == dict(
        shape=[64, 64], num_views=1, view_names=['l'])


def test_benchmark_rejects_unknown_modes(baseline_cfg):
    with pytest.raises(ValueError, match='modes'):
        benchmark(baseline_cfg, (32, 64), 1, modes=('forward', ))


def test_dump_json_atomic_leaves_only_the_file(tmp_path):
    path = str(tmp_path / 'sub' / 'out.json')
    dump_json_atomic(dict(a=[1, 2.5]), path)
    assert json.load(open(path)) == dict(a=[1, 2.5])
    assert os.listdir(osp.dirname(path)) == ['out.json']


def test_cli_prints_a_table_and_writes_json(tmp_path):
    out = str(tmp_path / 'bench.json')
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join([REPO_ROOT, env.get('PYTHONPATH', '')])
    proc = subprocess.run([
        sys.executable, 'tools/analysis_tools/benchmark.py', BASELINE_CFG,
        '--shape', '64', '64', '--batch-size', '2', '--device', 'cpu',
        '--warmup', '0', '--repeat', '1', '--json', out
    ],
                          cwd=REPO_ROOT,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert 'median ms' in proc.stdout and 'train' in proc.stdout
    result = json.load(open(out))
    assert result['device'] == 'cpu'
    assert result['input']['shape'] == [64, 64]
    assert result['train']['batch_size'] == 2
    assert result['infer']['batch_size'] == 1
    for mode in ('train', 'infer'):
        assert set(result[mode]) >= {'time_s', 'samples_per_s', 'memory'}
        assert set(result[mode]['time_s']) >= {'median', 'min', 'max'}
        assert set(result[mode]['memory']) >= {'peak_mib', 'growth_mib'}
