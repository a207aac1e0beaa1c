# Copyright (c) mmdepthseg contributors. All rights reserved.
"""A non-finite loss skips the update and leaves every state unchanged;
too many in a row stop training (SkipNonFiniteOptimWrapper,
NonFiniteLossHook, installed by DepthSegRunner)."""
import os.path as osp

import pytest
import torch
from _helpers import tiny_baseline_cfg
from mmengine.optim import OptimWrapper
from test_engine.reliability_helpers import (StateSnapshotHook,
                                             assert_identical, find_hook,
                                             log_text, no_validation,
                                             tiny_semimtl_cfg, train)
from torch import nn

from mmdepthseg.engine import (IterationGuard, NonFiniteLossError,
                               SkipNonFiniteOptimWrapper)


def _toy_wrapper(**kwargs):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1))
    optim = torch.optim.Adam(model.parameters(), lr=0.1)
    return model, SkipNonFiniteOptimWrapper(optimizer=optim, **kwargs)


def _snapshot(model, wrapper):
    return ({
        k: v.clone()
        for k, v in model.state_dict().items()
    }, {
        i: {
            k: v.clone()
            for k, v in s.items()
        }
        for i, s in wrapper.optimizer.state_dict()['state'].items()
    })


def test_wrapper_skips_a_nan_and_an_inf_loss_without_touching_state():
    model, wrapper = _toy_wrapper()
    x = torch.randn(5, 3)
    wrapper.update_params(model(x).pow(2).mean())  # Adam state exists now
    before = _snapshot(model, wrapper)
    for poison in (float('nan'), float('inf')):
        wrapper.update_params(model(x).pow(2).mean() + poison)
        assert all(p.grad is None or not p.grad.any()
                   for p in model.parameters())
        assert_identical(_snapshot(model, wrapper), before)
    assert wrapper.num_skipped == 2
    assert wrapper.last_skip_reason == 'nonfinite'
    # the iteration counter (gradient accumulation) still advanced
    assert wrapper._inner_count == 3
    wrapper.update_params(model(x).pow(2).mean())
    steps = {int(s['step']) for s in wrapper.optimizer.state.values()}
    assert steps == {2}


def test_accumulation_window_with_a_bad_micro_batch_drops_its_update():
    model, wrapper = _toy_wrapper(accumulative_counts=2)
    wrapper.initialize_count_status(model, 0, 100)
    x = torch.randn(5, 3)
    before = _snapshot(model, wrapper)
    wrapper.update_params(model(x).pow(2).mean())  # good micro-batch
    wrapper.update_params(model(x).sum() * float('nan'))  # window boundary
    assert_identical(_snapshot(model, wrapper), before)
    assert all(p.grad is None for p in model.parameters())
    wrapper.update_params(model(x).pow(2).mean())
    wrapper.update_params(model(x).pow(2).mean())
    assert not torch.equal(model[0].weight, before[0]['0.weight'])


def test_a_poisoned_iteration_skips_the_other_wrappers_too():
    model, generator = _toy_wrapper()
    _, discriminator = _toy_wrapper()
    guard = IterationGuard()
    generator.iteration_guard = discriminator.iteration_guard = guard
    x = torch.randn(5, 3)
    generator.update_params(model(x).sum() * float('nan'))
    discriminator.update_params(model(x).pow(2).mean())  # finite
    assert discriminator.num_skipped == 1
    assert discriminator.last_skip_reason == 'iteration'
    guard.reset()
    discriminator.update_params(model(x).pow(2).mean())
    assert discriminator.num_skipped == 1


def _baseline(data_root, work_dir, max_iters, **kwargs):
    cfg = no_validation(
        tiny_baseline_cfg(data_root, work_dir, max_iters, batch_size=2))
    cfg.update(kwargs)
    return cfg


@pytest.mark.slow
def test_poisoned_batch_leaves_model_and_optimizer_bit_identical(
        synthetic_cityscapes, tmp_path):
    cfg = _baseline(synthetic_cityscapes, str(tmp_path), 3)
    runner = train(
        cfg,
        3,
        extra_hooks=[
            dict(type='PoisonBatchHook', iters=[2], sample=1),
            dict(type='StateSnapshotHook', iteration=2)
        ])
    snap = find_hook(runner, StateSnapshotHook)
    # weights, BatchNorm statistics and counts, Adam moments and steps
    assert_identical(snap.after, snap.before)
    steps = {
        int(s['step'])
        for s in snap.after['optimizer']['optim_wrapper'].values()
    }
    assert steps == {1}
    # training went on: iteration 3 stepped
    final = runner.optim_wrapper.optimizer.state_dict()['state']
    assert {int(s['step']) for s in final.values()} == {2}
    log = log_text(runner)
    line = next(line for line in log.splitlines()
                if 'NonFiniteLossHook: iteration' in line)
    assert 'iteration 2' in line
    # the non-finite terms, the batch's files, and the poisoned sample
    assert 'seg.loss_ce=nan' in line and 'depth.loss_depth=nan' in line
    poisoned = line.split('non-finite input values in: ')[1].split(';')[0]
    assert poisoned.endswith('_leftImg8bit.png')
    assert poisoned in line.split('batch files: ')[1]


@pytest.mark.slow
def test_consecutive_bad_iterations_stop_training(synthetic_cityscapes,
                                                  tmp_path):
    cfg = _baseline(
        synthetic_cityscapes,
        str(tmp_path),
        6,
        nonfinite_loss_hook=dict(type='NonFiniteLossHook', max_consecutive=2))
    cfg.default_hooks.checkpoint.interval = 2
    # 1 bad, 2 good (the count restarts), 3 and 4 bad: stop at 4
    with pytest.raises(NonFiniteLossError) as err:
        train(
            cfg,
            6,
            extra_hooks=[dict(type='PoisonBatchHook', iters=[1, 3, 4])])
    message = str(err.value)
    assert '2 consecutive training iterations (up to iteration 4)' in message
    assert 'seg.loss_ce=nan' in message and '_leftImg8bit.png' in message
    # the checkpoint of iteration 2 was the last one written
    assert osp.exists(osp.join(str(tmp_path), 'iter_2.pth'))
    assert not osp.exists(osp.join(str(tmp_path), 'iter_4.pth'))


@pytest.mark.slow
def test_poisoned_batch_skips_both_semimtl_optimizers(synthetic_semimtl,
                                                      tmp_path):
    cfg = no_validation(tiny_semimtl_cfg(synthetic_semimtl, str(tmp_path), 3))
    runner = train(
        cfg,
        3,
        extra_hooks=[
            dict(type='PoisonBatchHook', iters=[2], sample=1),
            dict(type='StateSnapshotHook', iteration=2)
        ])
    snap = find_hook(runner, StateSnapshotHook)
    assert set(snap.before['optimizer']) == {'generator', 'discriminator'}
    # generator and discriminators, their spectral-norm vectors and BN
    # statistics, SGD momenta and Adam moments: all unchanged
    assert_identical(snap.after, snap.before)
    # the generator steps once per domain (generator_update='per_domain'),
    # the discriminators once: every step of the poisoned iteration skipped
    assert runner.optim_wrapper['generator'].num_skipped == 2
    assert runner.optim_wrapper['discriminator'].num_skipped == 1
    assert runner.optim_wrapper['discriminator'].last_skip_reason in (
        'nonfinite', 'iteration')
    line = next(
        line for line in log_text(runner).splitlines()
        if 'NonFiniteLossHook: iteration' in line)
    assert "'generator'" in line and "'discriminator'" in line
    assert 'loss_seg=nan' in line


def test_plain_optim_wrapper_is_replaced_by_the_runner(synthetic_cityscapes,
                                                       tmp_path):
    cfg = _baseline(synthetic_cityscapes, str(tmp_path), 1)
    runner = train(cfg, 1)
    assert type(runner.optim_wrapper) is SkipNonFiniteOptimWrapper
    cfg = _baseline(
        synthetic_cityscapes,
        str(tmp_path / 'off'),
        1,
        nonfinite_loss_hook=None)
    runner = train(cfg, 1)
    assert type(runner.optim_wrapper) is OptimWrapper
