# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Two CPU processes (gloo, tools/dist_train.sh): a resume in the middle
equals the uninterrupted run, and a batch poisoned on one rank makes both
ranks skip the step."""
import os.path as osp

import pytest
import torch
from _helpers import REPO_ROOT, run_dist_train, tiny_baseline_cfg
from test_engine.reliability_helpers import (assert_identical,
                                             assert_same_training_state,
                                             no_validation, read_batches)

TEST_ENGINE = osp.join(REPO_ROOT, 'tests', 'test_engine')


def _dist_cfg(data_root: str, work_dir: str, max_iters: int, hooks: list):
    cfg = no_validation(
        tiny_baseline_cfg(data_root, work_dir, max_iters, batch_size=2))
    cfg.env_cfg.dist_cfg = dict(backend='gloo')
    cfg.custom_imports = dict(imports=['reliability_helpers'])
    cfg.custom_hooks = hooks
    cfg.default_hooks.logger.interval = 1
    path = osp.join(work_dir, 'cfg.py')
    cfg.dump(path)
    return path


def _train(cfg_path: str) -> str:
    proc = run_dist_train(cfg_path, 2, pythonpath=[TEST_ENGINE])
    return proc.stdout + proc.stderr


@pytest.mark.slow
def test_two_process_resume_equals_the_uninterrupted_run(
        synthetic_cityscapes, tmp_path):
    hooks = [dict(type='RecordBatchesHook')]
    straight = str(tmp_path / 'straight')
    split = str(tmp_path / 'split')
    cfg = _dist_cfg(synthetic_cityscapes, straight, 4, hooks)
    _train(cfg)
    cfg_split = _dist_cfg(synthetic_cityscapes, split, 4, hooks)
    # first half: stop after 2 iterations (checkpoint at 2), then resume
    from mmengine.config import Config
    first = Config.fromfile(cfg_split)
    first.train_cfg.max_iters = 2
    first.default_hooks.checkpoint.interval = 2
    first.dump(osp.join(split, 'first.py'))
    _train(osp.join(split, 'first.py'))
    resumed = Config.fromfile(cfg_split)
    resumed.resume = True
    resumed.default_hooks.checkpoint.interval = 2
    resumed.dump(osp.join(split, 'resumed.py'))
    log = _train(osp.join(split, 'resumed.py'))
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
