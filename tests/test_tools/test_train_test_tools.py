# Copyright (c) mmdepthseg contributors. All rights reserved.
"""tools/train.py and tools/test.py as a user runs them."""
import glob
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from _helpers import REPO_ROOT, free_port, tiny_baseline_cfg


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


def test_test_tool_reports_both_tasks_and_draws(trained):
    work_dir = trained['work_dir']
    out = _run([
        sys.executable, 'tools/test.py', trained['cfg_path'],
        osp.join(work_dir, 'iter_6.pth'), '--work-dir', work_dir, '--show-dir',
        'vis'
    ])
    for key in ('mIoU', 'abs_rel', 'rmse', 'a1'):
        assert key in out
    pics = glob.glob(
        osp.join(work_dir, '*', 'vis', '**', '*.png'), recursive=True)
    # one picture per val frame (1 city x 12 frames), mirroring the tree
    assert len(pics) == 12
    assert all(
        osp.join('vis', 'leftImg8bit', 'val', 'frankfurt') in p for p in pics)


def test_distributed_cpu_testing_evaluates_every_frame_once(trained):
    out = _run([
        'bash', 'tools/dist_test.sh', trained['cfg_path'],
        osp.join(trained['work_dir'], 'iter_6.pth'), '2', '--work-dir',
        osp.join(trained['work_dir'], 'dist_test')
    ],
               env=dict(
                   OMP_NUM_THREADS='1',
                   PYTHON=sys.executable,
                   PORT=str(free_port())))
    # results of both ranks are gathered: all 12 val frames, once each
    assert 'segmentation (12 images) and depth (12 images)' in out
    assert 'mIoU' in out and 'abs_rel' in out


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
