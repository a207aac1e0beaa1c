# Copyright (c) mmdepthseg contributors. All rights reserved.
"""EMAlternatingHook: SOSD-Net's alternating (EM) training, Algorithm 1."""
import glob
import os.path as osp
from types import SimpleNamespace

import pytest
import torch
import torch.distributed as dist
from _helpers import REPO_ROOT, free_port, run_dist_train
from mmengine.config import Config
from mmengine.hooks import CheckpointHook
from mmengine.logging import MessageHub
from mmengine.model import MMDistributedDataParallel
from mmengine.optim import OptimWrapper
from mmengine.runner import Runner
from test_engine.em_toy_helpers import (DEPTH_ONLY, SEG_ONLY, EMRecorderHook,
                                        EMToySegmentor, em_phases, snapshot)

from mmdepthseg.engine.hooks.em_alternating_hook import (EMAlternatingHook,
                                                         matches_prefix)

DEPTH, SEG = ('depth', ), ('seg', )


def _under(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + '.') for p in prefixes)


def _assert_state_equal(before: dict, after: dict, name: str) -> None:
    """Optimizer state of ``name``: both absent, or every entry equal."""
    assert (name in before) == (name in after), name
    if name in before:
        assert before[name].keys() == after[name].keys(), name
        for key, value in before[name].items():
            assert torch.equal(value, after[name][key]), (name, key)


def _check_records(records: list) -> None:
    """In each step the other task's own parameters and their optimizer
    state are bit-identical, and every parameter of the phase moved."""
    assert records
    for rec in records:
        depth_phase = rec['tasks'] == DEPTH
        assert rec['tasks'] in (DEPTH, SEG)
        frozen = SEG_ONLY if depth_phase else DEPTH_ONLY
        before, after = rec['before'], rec['after']
        for name, value in before['params'].items():
            if _under(name, frozen):
                assert name not in rec['trainable']
                assert torch.equal(value, after['params'][name]), name
                _assert_state_equal(before['state'], after['state'], name)
            else:
                assert name in rec['trainable']
                assert not torch.equal(value, after['params'][name]), name


# --------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------
def test_prefixes_match_whole_dotted_components():
    assert matches_prefix('decode_head.decoder.weight', 'decode_head.decoder')
    assert matches_prefix('decode_head.decoder', 'decode_head.decoder')
    assert not matches_prefix('decode_head.decoder2.weight',
                              'decode_head.decoder')
    assert not matches_prefix('backbone_extra.weight', 'backbone')


@pytest.mark.parametrize(
    'kwargs, match',
    [(dict(phases=[]), 'non-empty list'),
     (dict(phases=[dict(name='a', tasks=('depth', ))]), 'exactly the keys'),
     (dict(phases=[dict(name='a', tasks=(), trainable=('x', ))]),
      r'phases\[0\]\.tasks'),
     (dict(phases=[dict(name='a', tasks='seg', trainable=('', ))]),
      r'phases\[0\]\.trainable'),
     (dict(phases=em_phases() + [em_phases()[0]]), 'unique'),
     (dict(phases=em_phases(), period=0), 'period'),
     (dict(phases=em_phases(), period=1.5), 'period')])
def test_bad_configs_are_named(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        EMAlternatingHook(**kwargs)


def _fake_runner(model, optimizer, wrapper=None):
    """The parts of a Runner that the hook reads."""
    return SimpleNamespace(
        model=wrapper if wrapper is not None else model,
        optim_wrapper=OptimWrapper(optimizer),
        hooks=[],
        train_loop=None,
        iter=0,
        epoch=0,
        message_hub=MessageHub.get_instance('em_hook_test'))


def test_unknown_prefixes_and_untrained_parameters_are_listed():
    model = EMToySegmentor()
    runner = _fake_runner(model, torch.optim.SGD(model.parameters(), lr=0.1))
    phases = em_phases()
    phases[1]['trainable'] += ('decode_head.seg', )  # not a component
    with pytest.raises(ValueError, match=r"semantic: 'decode_head.seg'"):
        EMAlternatingHook(phases).before_train(runner)

    phases = em_phases()
    phases[1]['trainable'] = tuple(p for p in phases[1]['trainable']
                                   if p != 'decode_head.seg_branch')
    with pytest.raises(ValueError, match='trained in no phase') as err:
        EMAlternatingHook(phases).before_train(runner)
    assert ("['decode_head.seg_branch.weight', "
            "'decode_head.seg_branch.bias']") in str(err.value)

    # allowed: kept frozen in every phase; restored after training
    hook = EMAlternatingHook(phases, allow_never_trained=True)
    hook.before_train(runner)
    for _ in range(2):
        hook.before_train_iter(runner, 0)
        assert not model.decode_head.seg_branch.weight.requires_grad
        hook.after_train_iter(runner, 0)
    hook.after_train(runner)
    assert all(p.requires_grad for p in model.parameters())


def test_parameters_frozen_before_training_stay_frozen():
    model = EMToySegmentor()
    model.backbone.requires_grad_(False)
    runner = _fake_runner(model, torch.optim.SGD(model.parameters(), lr=0.1))
    hook = EMAlternatingHook(em_phases())
    hook.before_train(runner)
    for _ in range(2):
        hook.before_train_iter(runner, 0)
        assert not model.backbone.weight.requires_grad
        assert model.neck.weight.requires_grad
        hook.after_train_iter(runner, 0)
    hook.after_train(runner)
    assert not model.backbone.weight.requires_grad
    assert model.decode_head.obj_2d.weight.requires_grad


def test_hook_must_run_before_the_checkpoint_hook():
    model = EMToySegmentor()
    runner = _fake_runner(model, torch.optim.SGD(model.parameters(), lr=0.1))
    hook = EMAlternatingHook(em_phases())
    runner.hooks = [CheckpointHook(), hook]
    with pytest.raises(ValueError, match='before CheckpointHook'):
        hook.before_train(runner)


def test_gradient_accumulation_must_not_mix_phases():
    model = EMToySegmentor()
    runner = _fake_runner(model, torch.optim.SGD(model.parameters(), lr=0.1))
    runner.optim_wrapper = OptimWrapper(
        runner.optim_wrapper.optimizer, accumulative_counts=2)
    with pytest.raises(ValueError, match='accumulative_counts=2'):
        EMAlternatingHook(em_phases(), period=3).before_train(runner)
    hook = EMAlternatingHook(em_phases(), period=4)
    hook.before_train(runner)  # accepted: phases span whole windows
    hook.after_train(runner)


def test_model_without_active_tasks_is_rejected():
    model = EMToySegmentor()
    del model.active_tasks
    runner = _fake_runner(model, torch.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(AttributeError, match='active_tasks'):
        EMAlternatingHook(em_phases()).before_train(runner)


# --------------------------------------------------------------------------
# mechanics: the optimizer never touches the inactive branch
# --------------------------------------------------------------------------
@pytest.mark.parametrize('make_optimizer', [
    lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=0.1),
    lambda ps: torch.optim.AdamW(ps, lr=0.01),
    lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9, weight_decay=0.1)
])
def test_inactive_parameters_and_state_ignore_any_gradient(make_optimizer):
    """Gradients as DDP may hand them (zeros, or anything) to the frozen
    branch change neither the parameters nor the optimizer state."""
    model = EMToySegmentor()
    optimizer = make_optimizer(model.parameters())
    runner = _fake_runner(model, optimizer)
    hook = EMAlternatingHook(em_phases(), period=1)
    hook.before_train(runner)
    for step, tasks in enumerate([DEPTH, SEG, DEPTH, SEG]):
        hook.before_train_iter(runner, step)
        assert model.active_tasks == tasks
        before = snapshot(model, optimizer)
        for param in model.parameters():
            # zeros on one step, ones on the next: both must be ignored
            param.grad = torch.full_like(param, float(step % 2))
            if step % 2 == 0:
                param.grad[...] = 0.5
        optimizer.step()
        optimizer.zero_grad()
        after = snapshot(model, optimizer)
        frozen = SEG_ONLY if tasks == DEPTH else DEPTH_ONLY
        for name, value in before['params'].items():
            if _under(name, frozen):
                assert torch.equal(value, after['params'][name]), name
                _assert_state_equal(before['state'], after['state'], name)
            else:
                assert not torch.equal(value, after['params'][name]), name
        hook.after_train_iter(runner, step)
    hook.after_train(runner)
    assert model.active_tasks == ('depth', 'seg')
    # the step pre-hook is gone after training
    weight = model.decode_head.obj_2d.weight
    before = weight.detach().clone()
    for param in model.parameters():
        param.grad = torch.ones_like(param)
    optimizer.step()
    assert not torch.equal(before, weight)


# --------------------------------------------------------------------------
# through MMEngine's Runner
# --------------------------------------------------------------------------
def _cfg(work_dir: str,
         hook: dict,
         max_iters: int = 4,
         max_epochs: int = None,
         checkpoint_interval: int = 1000,
         resume: bool = False) -> Config:
    if max_epochs is None:
        train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
        by_epoch = False
    else:
        train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
        by_epoch = True
    return Config(
        dict(
            model=dict(type='EMToySegmentor'),
            work_dir=work_dir,
            experiment_name=f'em_{osp.basename(work_dir)}_{int(resume)}',
            train_dataloader=dict(
                dataset=dict(type='EMToyDataset', length=8),
                sampler=dict(type='DefaultSampler', shuffle=False),
                collate_fn=dict(type='default_collate'),
                batch_size=2,
                num_workers=0),
            train_cfg=train_cfg,
            optim_wrapper=dict(optimizer=dict(type='Adam', lr=0.01)),
            default_hooks=dict(
                logger=dict(type='LoggerHook', interval=1),
                checkpoint=dict(
                    type='CheckpointHook',
                    interval=checkpoint_interval,
                    by_epoch=by_epoch)),
            custom_hooks=[hook, dict(type='EMRecorderHook')],
            log_processor=dict(by_epoch=by_epoch),
            default_scope='mmdepthseg',
            resume=resume,
            randomness=dict(seed=0)))


def _train(cfg: Config):
    runner = Runner.from_cfg(cfg)
    runner.train()
    recorder = next(h for h in runner.hooks if isinstance(h, EMRecorderHook))
    return runner, runner.model.task_history, recorder.records


def _log_text(work_dir: str) -> str:
    return ''.join(
        open(path).read()
        for path in glob.glob(osp.join(work_dir, '*', '*.log')))


def test_runner_steps_keep_the_other_branch_and_its_adam_state(tmp_path):
    hook = dict(type='EMAlternatingHook', phases=em_phases(), period=1)
    runner, history, records = _train(_cfg(str(tmp_path), hook, max_iters=4))
    assert history == [DEPTH, SEG, DEPTH, SEG]
    _check_records(records)
    # the depth-only parameters had Adam state when the semantic step kept
    # it: the test above compared real moments, not two empty states
    assert 'decode_head.obj_2d.weight' in records[1]['before']['state']
    assert 'decode_head.seg_branch.weight' in records[2]['before']['state']
    # restored for validation / testing after training
    model = runner.model
    assert model.active_tasks == ('depth', 'seg')
    assert all(p.requires_grad for p in model.parameters())
    log = _log_text(str(tmp_path))
    assert 'em_phase: 0' in log and 'em_phase: 1' in log
    assert '0=depth' in log and '1=semantic' in log


@pytest.mark.parametrize(
    'period, by_epoch, expected',
    [
        # every 3 iterations, 8 iterations
        (3, False, 'DDDSSSDD'),
        # by epoch: 4 iterations per epoch, 3 epochs, period 1
        (1, True, 'DDDDSSSSDDDD'),
        # by epoch, period 2
        (2, True, 'DDDDDDDDSSSS'),
    ])
def test_switching_schedule(tmp_path, period, by_epoch, expected):
    hook = dict(
        type='EMAlternatingHook',
        phases=em_phases(),
        period=period,
        by_epoch=by_epoch)
    cfg = _cfg(
        str(tmp_path),
        hook,
        max_iters=len(expected),
        max_epochs=3 if by_epoch else None)
    _, history, _ = _train(cfg)
    assert ''.join('D' if t == DEPTH else 'S' for t in history) == expected


def test_by_epoch_needs_an_epoch_based_loop(tmp_path):
    hook = dict(type='EMAlternatingHook', phases=em_phases(), by_epoch=True)
    with pytest.raises(ValueError, match='EpochBasedTrainLoop'):
        _train(_cfg(str(tmp_path), hook, max_iters=2))


_PERIOD3 = dict(type='EMAlternatingHook', phases=em_phases(), period=3)


@pytest.fixture(scope='module')
def period3_checkpoint(tmp_path_factory) -> str:
    """4 iterations with period 3 and a checkpoint after the 4th: phase
    'semantic' with 1 of its 3 iterations done."""
    work_dir = str(tmp_path_factory.mktemp('em_period3'))
    _, first, _ = _train(
        _cfg(work_dir, _PERIOD3, max_iters=4, checkpoint_interval=4))
    assert first == [DEPTH, DEPTH, DEPTH, SEG]
    return osp.join(work_dir, 'iter_4.pth')


def _resume_cfg(work_dir: str,
                ckpt: str,
                hook: dict = _PERIOD3,
                max_iters: int = 9) -> Config:
    cfg = _cfg(
        work_dir,
        hook,
        max_iters=max_iters,
        checkpoint_interval=100,
        resume=True)
    cfg.load_from = ckpt
    return cfg


def test_resume_continues_in_the_saved_phase(period3_checkpoint, tmp_path):
    meta = torch.load(period3_checkpoint, map_location='cpu')['meta']
    assert meta['em_alternating']['phase_index'] == 1
    assert meta['em_alternating']['phase_name'] == 'semantic'
    assert meta['em_alternating']['steps_in_phase'] == 1
    # iterations 5..9 of the by-hand schedule DDD SSS DDD
    _, resumed, _ = _train(_resume_cfg(str(tmp_path), period3_checkpoint))
    assert resumed == [SEG, SEG, DEPTH, DEPTH, DEPTH]


def test_resume_follows_the_state_in_the_checkpoint(period3_checkpoint,
                                                    tmp_path):
    """The phase comes from the checkpoint, not from the iteration count."""
    ckpt = torch.load(period3_checkpoint, map_location='cpu')
    ckpt['meta']['em_alternating'].update(phase_index=0, steps_in_phase=2)
    ckpt_path = osp.join(str(tmp_path), 'edited.pth')
    torch.save(ckpt, ckpt_path)
    _, resumed, _ = _train(_resume_cfg(str(tmp_path), ckpt_path, max_iters=8))
    assert resumed == [DEPTH, SEG, SEG, SEG]


def test_resume_without_em_state_follows_the_schedule(period3_checkpoint,
                                                      tmp_path):
    """A checkpoint of a run without the hook: the phase that the schedule
    gives after 4 iterations, with a warning."""
    ckpt = torch.load(period3_checkpoint, map_location='cpu')
    del ckpt['meta']['em_alternating']
    ckpt_path = osp.join(str(tmp_path), 'no_em.pth')
    torch.save(ckpt, ckpt_path)
    _, resumed, _ = _train(_resume_cfg(str(tmp_path), ckpt_path, max_iters=7))
    assert resumed == [SEG, SEG, DEPTH]
    assert 'holds no EM phase state' in _log_text(str(tmp_path))


def test_load_from_without_resume_starts_with_the_first_phase(
        period3_checkpoint, tmp_path):
    cfg = _resume_cfg(str(tmp_path), period3_checkpoint, max_iters=4)
    cfg.resume = False
    _, history, _ = _train(cfg)
    assert history == [DEPTH, DEPTH, DEPTH, SEG]


def test_resume_with_other_phases_is_refused(period3_checkpoint, tmp_path):
    swapped = dict(_PERIOD3, phases=em_phases()[::-1])
    with pytest.raises(ValueError, match='differ from the configured'):
        _train(_resume_cfg(str(tmp_path), period3_checkpoint, swapped))


# --------------------------------------------------------------------------
# distributed
# --------------------------------------------------------------------------
def test_ddp_without_find_unused_parameters_is_rejected():
    dist.init_process_group(
        'gloo',
        init_method=f'tcp://127.0.0.1:{free_port()}',
        rank=0,
        world_size=1)
    try:
        for flag in (False, True):
            model = EMToySegmentor()
            wrapper = MMDistributedDataParallel(
                module=model, device_ids=None, find_unused_parameters=flag)
            runner = _fake_runner(
                model, torch.optim.Adam(model.parameters()), wrapper=wrapper)
            hook = EMAlternatingHook(em_phases())
            if flag:
                hook.before_train(runner)  # accepted
                hook.after_train(runner)
            else:
                with pytest.raises(
                        RuntimeError, match='find_unused_parameters=True'):
                    hook.before_train(runner)
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_two_process_gloo_training_keeps_frozen_parameters(tmp_path):
    """2 ranks, period 1: every step leaves the other branch and its Adam
    state untouched on both ranks, and the ranks stay identical."""
    work_dir = str(tmp_path)
    cfg = _cfg(work_dir,
               dict(type='EMAlternatingHook', phases=em_phases(), period=1))
    cfg.custom_hooks[1] = dict(type='EMRecorderHook', dump=True)
    cfg.custom_imports = dict(imports=[
        'em_toy_helpers', 'mmdepthseg.engine.hooks.em_alternating_hook'
    ])
    cfg.find_unused_parameters = True
    cfg.env_cfg = dict(dist_cfg=dict(backend='gloo'))
    cfg_path = osp.join(work_dir, 'cfg.py')
    cfg.dump(cfg_path)
    run_dist_train(
        cfg_path, pythonpath=[osp.join(REPO_ROOT, 'tests', 'test_engine')])
    ranks = [
        torch.load(osp.join(work_dir, f'em_rank{r}.pth'), map_location='cpu')
        for r in (0, 1)
    ]
    assert ranks[0]['wrapper'] == 'MMDistributedDataParallel'
    for rank in ranks:
        assert [r['tasks'] for r in rank['records']] == [DEPTH, SEG] * 2
        _check_records(rank['records'])
    for rec0, rec1 in zip(ranks[0]['records'], ranks[1]['records']):
        for when in ('before', 'after'):
            for name, value in rec0[when]['params'].items():
                assert torch.equal(value, rec1[when]['params'][name]), name
