# Copyright (c) mmdepthseg contributors. All rights reserved.
"""N iterations, save, resume, M more == N + M uninterrupted, bit for bit,
for every method (DepthSegRunner, as tools/train.py builds it)."""
import os.path as osp

import pytest
import torch
from _helpers import tiny_baseline_cfg, tiny_fsre_cfg, tiny_pseudo_mtl_cfg
from test_engine.reliability_helpers import (Interrupted,
                                             assert_same_training_state, load,
                                             no_validation, read_batches,
                                             tiny_esosd_cfg, tiny_semimtl_cfg,
                                             train)

RECORD = dict(type='RecordBatchesHook')


def _straight_and_resumed(make_cfg,
                          tmp_path,
                          n: int,
                          m: int,
                          resumed_cfg=None):
    """Train ``n + m`` iterations straight, and ``n`` then (resumed) ``m``;
    return both final checkpoints, the iteration-``n`` checkpoint and both
    runs' batch records."""
    straight_dir = str(tmp_path / 'straight')
    split_dir = str(tmp_path / 'split')
    cfg = no_validation(make_cfg(straight_dir, n + m))
    cfg.default_hooks.checkpoint.update(interval=n, max_keep_ckpts=-1)
    train(cfg, n + m, extra_hooks=[RECORD])
    cfg = no_validation(make_cfg(split_dir, n + m))
    cfg.default_hooks.checkpoint.update(interval=n, max_keep_ckpts=-1)
    train(cfg, n, extra_hooks=[RECORD])
    if resumed_cfg is not None:
        cfg = resumed_cfg(cfg)
    train(cfg, n + m, resume=True, extra_hooks=[RECORD])
    final = f'iter_{n + m}.pth'
    return (load(osp.join(straight_dir,
                          final)), load(osp.join(split_dir, final)),
            load(osp.join(split_dir, f'iter_{n}.pth')),
            read_batches(straight_dir), read_batches(split_dir))


def _check(straight, resumed, middle, batches_a, batches_b, extra_meta=()):
    # the same batches (files, augmented pixels, ground truth) in the same
    # order, then the same parameters, buffers and optimizer states
    assert batches_a == batches_b
    assert_same_training_state(straight, resumed, extra_meta=extra_meta)
    moved = [
        k for k, v in straight['state_dict'].items() if v.is_floating_point()
        and not torch.equal(v, middle['state_dict'][k])
    ]
    assert moved, 'the resumed iterations changed no weight'


@pytest.mark.slow
def test_fsre_resume_is_bit_exact(synthetic_kitti, tmp_path):
    # FSRE's photometric loss draws noise (torch RNG) every iteration: the
    # random states must be restored, not just the weights
    out = _straight_and_resumed(
        lambda wd, it: tiny_fsre_cfg(synthetic_kitti, wd, it, (64, 128)),
        tmp_path, 2, 2)
    _check(*out)


@pytest.mark.slow
def test_pseudo_mtl_resume_is_bit_exact(synthetic_kitti_pseudo, tmp_path):
    out = _straight_and_resumed(
        lambda wd, it: tiny_pseudo_mtl_cfg(synthetic_kitti_pseudo, wd, it,
                                           (64, 128)), tmp_path, 2, 2)
    _check(*out)


@pytest.mark.slow
def test_esosd_resume_restores_the_em_phase(synthetic_cityscapes, tmp_path):
    # period 1: after 1 iteration the semantic phase is next; a resume
    # that restarted with the depth phase would train other parameters
    out = _straight_and_resumed(
        lambda wd, it: tiny_esosd_cfg(synthetic_cityscapes, wd, it), tmp_path,
        1, 2)
    _check(*out, extra_meta=('em_alternating', ))


@pytest.mark.slow
def test_semimtl_resume_restores_both_optimizers(synthetic_semimtl, tmp_path):
    out = _straight_and_resumed(
        lambda wd, it: tiny_semimtl_cfg(synthetic_semimtl, wd, it), tmp_path,
        2, 2)
    _check(*out)
    straight = out[0]
    assert set(straight['optimizer']) == {'generator', 'discriminator'}
    # the discriminators were trained in the resumed iterations too
    d_keys = [k for k in straight['state_dict'] if 'discriminators' in k]
    assert any(
        not torch.equal(straight['state_dict'][k], out[2]['state_dict'][k])
        for k in d_keys)


@pytest.mark.slow
def test_resume_with_workers_and_another_config_seed(synthetic_cityscapes,
                                                     tmp_path):
    """Two dataloader workers (their random streams restart with a resumed
    run) and a resumed config without a seed (MMEngine takes the
    checkpoint's seed only after the sampler was built)."""

    def make(wd, it):
        cfg = tiny_baseline_cfg(synthetic_cityscapes, wd, it, batch_size=2)
        cfg.train_dataloader.num_workers = 2
        return cfg

    def unseeded(cfg):
        cfg = cfg.copy()
        cfg.randomness = dict(seed=None)
        return cfg

    _check(*_straight_and_resumed(make, tmp_path, 2, 2, unseeded))


@pytest.mark.slow
def test_iteration_loop_over_a_finite_sampler_resumes_mid_epoch(
        synthetic_cityscapes, tmp_path):
    """IterBasedTrainLoop + DefaultSampler restarted every epoch (2 batches
    per epoch via num_batch_per_epoch): resumed at iteration 3, i.e. the
    second batch of the second epoch, with that epoch's order."""

    def make(wd, it):
        cfg = tiny_baseline_cfg(synthetic_cityscapes, wd, it, batch_size=2)
        cfg.train_dataloader.sampler = dict(
            type='DefaultSampler', shuffle=True)
        cfg.train_dataloader.num_batch_per_epoch = 2
        return cfg

    out = _straight_and_resumed(make, tmp_path, 3, 2)
    _check(*out)
    # epochs 0, 1, 2 of a 4-sample slice: iterations 1-2, 3-4, 5
    files = {i: set(r['files']) for i, r in out[3].items()}
    assert files[1] | files[2] == files[3] | files[4]
    assert [r['files'] for r in (out[3][1], out[3][2])] != \
        [r['files'] for r in (out[3][3], out[3][4])]


def test_epoch_based_resume_in_the_middle_of_an_epoch(synthetic_cityscapes,
                                                      tmp_path):
    """EpochBasedTrainLoop + DefaultSampler, checkpoint after 3 of the 6
    iterations of an epoch: the resumed run goes on with batch 4, not with
    the epoch's first batch again."""

    def make(wd, it):
        cfg = tiny_baseline_cfg(synthetic_cityscapes, wd, it, batch_size=4)
        cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1)
        cfg.train_dataloader.sampler = dict(
            type='DefaultSampler', shuffle=True)
        cfg.default_hooks.checkpoint.by_epoch = False
        cfg.log_processor = dict(by_epoch=False)
        return cfg

    straight_dir, split_dir = str(tmp_path / 'a'), str(tmp_path / 'b')
    cfg = no_validation(make(straight_dir, 0))
    cfg.default_hooks.checkpoint.interval = 3
    train_epoch(cfg)
    cfg = no_validation(make(split_dir, 0))
    cfg.default_hooks.checkpoint.interval = 3
    cfg.train_cfg.max_epochs = 1
    train_epoch(cfg, stop_at=3)
    train_epoch(cfg, resume=True)
    a = read_batches(straight_dir)
    b = read_batches(split_dir)
    assert len(a) == 6 and a == b
    assert_same_training_state(
        load(osp.join(straight_dir, 'iter_6.pth')),
        load(osp.join(split_dir, 'iter_6.pth')))


def train_epoch(cfg, stop_at=None, resume=False):
    """One epoch of an epoch-based config; ``stop_at`` ends the run after
    that iteration (and its checkpoint), as a kill then would."""
    hooks = [RECORD]
    if stop_at is not None:
        hooks.append(dict(type='InterruptAtHook', iteration=stop_at))
    try:
        train(cfg, None, resume=resume, extra_hooks=hooks)
    except Interrupted:
        assert stop_at is not None
