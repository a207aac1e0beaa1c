# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Two CPU processes (gloo, tools/dist_train.sh): a resume in the middle
equals the uninterrupted run, and a batch poisoned on one rank makes both
ranks skip the step."""
import os
import os.path as osp
import signal
import subprocess
import sys

import pytest
import torch
from _helpers import REPO_ROOT, free_port, tiny_baseline_cfg
from test_engine.reliability_helpers import (assert_identical,
                                             assert_same_training_state,
                                             no_validation, read_batches)

TEST_ENGINE = osp.join(REPO_ROOT, 'tests', 'test_engine')


def _dist_cfg(data_root: str,
              work_dir: str,
              max_iters: int,
              hooks: list,
              name: str = 'cfg.py',
              stop_at: int = None):
    cfg = no_validation(
        tiny_baseline_cfg(data_root, work_dir, max_iters, batch_size=2))
    cfg.default_hooks.checkpoint.interval = 2
    if stop_at is not None:
        cfg.train_cfg.max_iters = stop_at
    cfg.env_cfg.dist_cfg = dict(backend='gloo')
    cfg.custom_imports = dict(imports=['reliability_helpers'])
    cfg.custom_hooks = hooks
    cfg.default_hooks.logger.interval = 1
    os.makedirs(work_dir, exist_ok=True)
    path = osp.join(work_dir, name)
    cfg.dump(path)
    return path


def _train(cfg_path: str, *args: str) -> str:
    """``tools/dist_train.sh CFG 2 ARGS`` on the CPU (gloo)."""
    env = dict(
        os.environ,
        OMP_NUM_THREADS='1',
        PYTHON=sys.executable,
        PORT=str(free_port()))
    env['PYTHONPATH'] = os.pathsep.join(
        [REPO_ROOT, TEST_ENGINE,
         env.get('PYTHONPATH', '')])
    # own process group: a hang (ranks disagreeing about a step) is killed
    # with all of its ranks
    proc = subprocess.Popen(
        ['bash', 'tools/dist_train.sh', cfg_path, '2', *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        raise AssertionError('distributed training hung:\n' + out[-4000:])
    assert proc.returncode == 0, out[-6000:]
    return out


@pytest.mark.slow
def test_two_process_resume_equals_the_uninterrupted_run(
        synthetic_cityscapes, tmp_path):
    hooks = [dict(type='RecordBatchesHook')]
    straight = str(tmp_path / 'straight')
    split = str(tmp_path / 'split')
    cfg = _dist_cfg(synthetic_cityscapes, straight, 4, hooks)
    _train(cfg)
    # first half: stop after 2 iterations (checkpoint at 2), then resume
    _train(_dist_cfg(synthetic_cityscapes, split, 4, hooks, stop_at=2))
    log = _train(
        _dist_cfg(synthetic_cityscapes, split, 4, hooks, name='resumed.py'),
        '--resume')
    assert 'Auto resumed from the latest checkpoint' in log
    for rank in (0, 1):
        a, b = read_batches(straight, rank), read_batches(split, rank)
        assert sorted(a) == [1, 2, 3, 4] and a == b
    # the two ranks trained on different samples
    assert read_batches(straight, 0)[3] != read_batches(straight, 1)[3]
    assert_same_training_state(
        torch.load(osp.join(straight, 'iter_4.pth'), map_location='cpu'),
        torch.load(osp.join(split, 'iter_4.pth'), map_location='cpu'))


@pytest.mark.slow
def test_nan_on_one_rank_skips_the_step_on_both(synthetic_cityscapes,
                                                tmp_path):
    work = str(tmp_path)
    cfg = _dist_cfg(synthetic_cityscapes, work, 3, [
        dict(type='PoisonBatchHook', iters=[2], rank=1),
        dict(type='StateSnapshotHook', iteration=2, dump=True)
    ])
    log = _train(cfg)
    for rank in (0, 1):
        snap = torch.load(
            osp.join(work, f'snapshot_rank{rank}.pth'), map_location='cpu')
        assert_identical(snap['after'], snap['before'], f'rank {rank}')
    # rank 0 (finite loss) reports why it skipped, and rank 1's terms and
    # poisoned file
    line = next(line for line in log.splitlines()
                if 'NonFiniteLossHook: iteration 2' in line)
    assert 'rank 0:' in line and 'rank 1:' in line
    rank1 = line.split('rank 1:')[1]
    assert 'seg.loss_ce=nan' in rank1
    assert 'non-finite input values in: ' in rank1
    assert "'optim_wrapper' (loss nan)" in rank1
    assert 'non-finite on another rank' in line.split('rank 1:')[0]
    # iteration 3 trained again on both ranks, identically
    final = torch.load(osp.join(work, 'iter_3.pth'), map_location='cpu')
    steps = {int(s['step']) for s in final['optimizer']['state'].values()}
    assert steps == {2}
