# Copyright (c) mmdepthseg contributors. All rights reserved.
"""tools/train.py and tools/test.py as a user runs them."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from _helpers import REPO_ROOT, free_port, tiny_baseline_cfg
from mmengine.config import Config
from mmengine.runner import Runner

# trainings and tests in subprocesses, two of them distributed
pytestmark = pytest.mark.slow


def _run(args: list, cwd: str = REPO_ROOT, env: dict = None) -> str:
    env = dict(os.environ, **(env or {}))
    env['PYTHONPATH'] = os.pathsep.join([
        REPO_ROOT,
        osp.join(REPO_ROOT, 'tests', 'test_tools'),
        env.get('PYTHONPATH', '')
    ])
    proc = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    return out


@pytest.fixture(scope='module')
def trained(synthetic_cityscapes, tmp_path_factory):
    """Train 4 iterations with a checkpoint every 2, then resume to 6."""
    work_dir = str(tmp_path_factory.mktemp('train_tools'))
    cfg = tiny_baseline_cfg(
        synthetic_cityscapes,
        work_dir,
        max_iters=4,
        checkpoint_interval=2,
        batch_size=2)
    cfg.default_hooks.logger.interval = 1
    cfg_path = osp.join(work_dir, 'cfg.py')
    cfg.dump(cfg_path)
    first = _run([sys.executable, 'tools/train.py', cfg_path])
    resumed = _run([
        sys.executable, 'tools/train.py', cfg_path, '--resume',
        '--cfg-options', 'train_cfg.max_iters=6'
    ])
    return dict(
        work_dir=work_dir, cfg_path=cfg_path, first=first, resumed=resumed)


def test_resume_continues_iteration_and_optimizer(trained):
    work_dir = trained['work_dir']
    ckpt4 = torch.load(osp.join(work_dir, 'iter_4.pth'), map_location='cpu')
    ckpt6 = torch.load(osp.join(work_dir, 'iter_6.pth'), map_location='cpu')
    assert ckpt4['meta']['iter'] == 4 and ckpt6['meta']['iter'] == 6
    assert 'Iter(train) [5/6]' in trained['resumed']
    assert 'Iter(train) [1/6]' not in trained['resumed']
    # Adam's step count continues from the restored optimizer state: a
    # fresh optimizer would have counted only 2 steps
    steps4 = {int(s['step']) for s in ckpt4['optimizer']['state'].values()}
    steps6 = {int(s['step']) for s in ckpt6['optimizer']['state'].values()}
    assert steps4 == {4} and steps6 == {6}


def _logged_test_metrics(work_dir: str) -> dict:
    """The metrics a ``tools/test.py`` run logged: MMEngine's LoggerHook
    writes them to ``<work_dir>/<timestamp>/<timestamp>.json``."""
    paths = glob.glob(osp.join(work_dir, '*', '*.json'))
    assert len(paths) == 1, paths
    with open(paths[0]) as f:
        records = [json.loads(line) for line in f if line.strip()]
    assert records, paths[0]
    return records[-1]


METRIC_KEYS = ('aAcc', 'mIoU', 'mAcc', 'abs_rel', 'sq_rel', 'rmse', 'a1',
               'disp_err')


@pytest.fixture(scope='module')
def single_process_test(trained) -> dict:
    """``tools/test.py`` on the last checkpoint, drawing every frame."""
    work_dir = osp.join(trained['work_dir'], 'single_test')
    out = _run([
        sys.executable, 'tools/test.py', trained['cfg_path'],
        osp.join(trained['work_dir'], 'iter_6.pth'), '--work-dir', work_dir,
        '--show-dir', 'vis'
    ])
    return dict(
        out=out, work_dir=work_dir, metrics=_logged_test_metrics(work_dir))


def test_test_tool_reports_both_tasks_and_draws(trained, single_process_test,
                                                tmp_path):
    out, metrics = single_process_test['out'], single_process_test['metrics']
    for key in ('mIoU', 'abs_rel', 'rmse', 'a1'):
        assert key in out
    # the tool's numbers are the checkpoint's: the same evaluation run in
    # this process with the checkpoint loaded (an untrained or otherwise
    # loaded model gives other numbers)
    cfg = Config.fromfile(trained['cfg_path'])
    cfg.work_dir = str(tmp_path)
    cfg.load_from = osp.join(trained['work_dir'], 'iter_6.pth')
    cfg.experiment_name = 'test_tool_reference'
    expected = Runner.from_cfg(cfg).test()
    untrained = dict(cfg, load_from=None, experiment_name='untrained')
    untrained = Runner.from_cfg(Config(untrained)).test()
    for key in METRIC_KEYS:
        assert metrics[key] == pytest.approx(expected[key], rel=1e-5), key
    assert metrics['abs_rel'] != pytest.approx(untrained['abs_rel'], rel=1e-3)
    pics = glob.glob(
        osp.join(single_process_test['work_dir'], '*', 'vis', '**', '*.png'),
        recursive=True)
    # one picture per val frame (1 city x 12 frames), mirroring the tree
    assert len(pics) == 12
    assert all(
        osp.join('vis', 'leftImg8bit', 'val', 'frankfurt') in p for p in pics)


def test_distributed_cpu_testing_equals_single_process_testing(
        trained, single_process_test):
    work_dir = osp.join(trained['work_dir'], 'dist_test')
    out = _run([
        'bash', 'tools/dist_test.sh', trained['cfg_path'],
        osp.join(trained['work_dir'], 'iter_6.pth'), '2', '--work-dir',
        work_dir
    ],
               env=dict(
                   OMP_NUM_THREADS='1',
                   PYTHON=sys.executable,
                   PORT=str(free_port())))
    # results of both ranks are gathered: all 12 val frames, once each
    assert 'segmentation (12 images) and depth (12 images)' in out
    # and give the single process's numbers: every frame once, the same
    # per-image values averaged (a frame evaluated twice or lost, or one
    # rank's results only, would change them); 1 vs 2 threads may round
    # the convolutions differently
    metrics = _logged_test_metrics(work_dir)
    single = single_process_test['metrics']
    for key in METRIC_KEYS:
        assert metrics[key] == pytest.approx(single[key], rel=1e-5), key


def test_distributed_cpu_training_keeps_ranks_identical(
        synthetic_cityscapes, tmp_path):
    work_dir = str(tmp_path)
    cfg = tiny_baseline_cfg(
        synthetic_cityscapes, work_dir, max_iters=3, batch_size=2)
    cfg.train_cfg.val_interval = 1000
    cfg.custom_imports = dict(imports=['dist_helpers'])
    cfg.custom_hooks = [dict(type='DumpRankWeightsHook')]
    cfg.env_cfg.dist_cfg = dict(backend='gloo')
    cfg_path = osp.join(work_dir, 'cfg.py')
    cfg.dump(cfg_path)
    _run(['bash', 'tools/dist_train.sh', cfg_path, '2'],
         env=dict(
             OMP_NUM_THREADS='1', PYTHON=sys.executable,
             PORT=str(free_port())))
    rank0 = torch.load(osp.join(work_dir, 'rank0.pth'), map_location='cpu')
    rank1 = torch.load(osp.join(work_dir, 'rank1.pth'), map_location='cpu')
    assert rank0['wrapper'] == 'MMDistributedDataParallel'
    moved = False
    for name, value in rank0['final'].items():
        torch.testing.assert_close(value, rank1['final'][name])
        torch.testing.assert_close(rank0['initial'][name],
                                   rank1['initial'][name])
        if value.is_floating_point() and not torch.equal(
                value, rank0['initial'][name]):
            moved = True
    assert moved, 'training did not change the weights'
