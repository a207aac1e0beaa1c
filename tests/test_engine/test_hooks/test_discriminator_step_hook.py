# Copyright (c) mmdepthseg contributors. All rights reserved.
"""DiscriminatorStepHook: the discriminator update after each generator
step, its isolation from the generator, resume and DDP."""
import glob
import itertools
import os.path as osp
from types import SimpleNamespace

import pytest
import torch
import torch.distributed as dist
from _helpers import REPO_ROOT, free_port, run_dist_train
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper, build_optim_wrapper
from mmengine.runner import Runner
from test_engine.adversarial_toy_helpers import (AdversarialRecorderHook,
                                                 AdversarialToyModel,
                                                 snapshot_optim_state)

from mmdepthseg.engine.hooks.discriminator_step_hook import \
    DiscriminatorStepHook
from mmdepthseg.engine.optimizers.adversarial_optim_constructor import \
    GeneratorDiscriminatorOptimWrapperConstructor  # noqa: F401
from mmdepthseg.utils.dist_utils import setup_cpu_distributed

G_CFG = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4))
D_CFG = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-3, betas=(0.9, 0.99)))
ADVERSARIAL_OPTIM = dict(
    constructor='GeneratorDiscriminatorOptimWrapperConstructor',
    generator=G_CFG,
    discriminator=D_CFG)
# ``end`` beyond the runs: MMEngine's PolyLR reaches lr 0 in iteration
# end - 1, where the generator step would change nothing
SCHEDULERS = dict(
    generator=dict(
        type='PolyLR', power=0.9, eta_min=0.0, end=100, by_epoch=False),
    discriminator=[])

_RUN_ID = itertools.count()


def _is_d(name: str) -> bool:
    return name.startswith('discriminators.')


def _cfg(work_dir: str,
         max_iters: int = 3,
         model: dict = None,
         optim_wrapper: dict = ADVERSARIAL_OPTIM,
         hook: dict = None,
         checkpoint_interval: int = 1000,
         resume: bool = False) -> Config:
    return Config(
        dict(
            model=model or dict(type='AdversarialToyModel'),
            work_dir=work_dir,
            # unique: two runners of one second must not share the
            # logger / message hub instances
            experiment_name=(f'adversarial_{osp.basename(work_dir)}_'
                             f'{next(_RUN_ID)}'),
            train_dataloader=dict(
                dataset=dict(type='AdversarialToyDataset', length=8),
                sampler=dict(type='DefaultSampler', shuffle=True),
                collate_fn=dict(type='default_collate'),
                batch_size=2,
                num_workers=0),
            train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters),
            optim_wrapper=optim_wrapper,
            param_scheduler=SCHEDULERS,
            default_hooks=dict(
                logger=dict(type='LoggerHook', interval=1),
                checkpoint=dict(
                    type='CheckpointHook',
                    interval=checkpoint_interval,
                    by_epoch=False)),
            custom_hooks=[
                hook or dict(type='DiscriminatorStepHook'),
                dict(
                    type='AdversarialRecorderHook', stage='g',
                    priority='HIGH'),
                dict(
                    type='AdversarialRecorderHook', stage='d',
                    priority='LOW'),
            ],
            log_processor=dict(by_epoch=False),
            default_scope='mmdepthseg',
            resume=resume,
            randomness=dict(seed=0)))


def _train(cfg: Config):
    runner = Runner.from_cfg(cfg)
    runner.train()
    recorders = {
        h.stage: h.records
        for h in runner.hooks if isinstance(h, AdversarialRecorderHook)
    }
    return runner, recorders


def _log_text(work_dir: str) -> str:
    text = ''
    for path in glob.glob(osp.join(work_dir, '*', '*.log')):
        with open(path) as f:
            text += f.read()
    return text


def _check_isolation(g_records: list, d_records: list) -> None:
    """Generator step: every discriminator parameter bit-identical, every
    generator parameter moved; discriminator step: the reverse."""
    assert g_records and len(g_records) == len(d_records)
    for g_rec, d_rec in zip(g_records, d_records):
        before, after_g, after_d = (g_rec['before'], g_rec['after_g'],
                                    d_rec['after_d'])
        assert any(map(_is_d, before)) and not all(map(_is_d, before))
        for name, value in before.items():
            if _is_d(name):
                assert torch.equal(value, after_g[name]), name
                assert not torch.equal(after_g[name], after_d[name]), name
            else:
                assert not torch.equal(value, after_g[name]), name
                assert torch.equal(after_g[name], after_d[name]), name


# --------------------------------------------------------------------------
# through MMEngine's Runner
# --------------------------------------------------------------------------
def test_steps_change_only_their_own_parameters(tmp_path):
    runner, records = _train(_cfg(str(tmp_path), max_iters=3))
    _check_isolation(records['g'], records['d'])
    model = runner.model
    assert len(model.d_step_log) == 3
    # the discriminator losses reach the message hub and the log
    for record, returned in zip(records['d'], model.d_step_log):
        for key in ('loss_d_seg', 'loss_d_depth'):
            assert record['logged'][f'train/{key}'] == pytest.approx(
                returned[key].item(), rel=1e-6)
        # the generator's total loss is not overwritten
        assert 'train/loss' in record['logged']
    log = _log_text(str(tmp_path))
    assert 'loss_d_seg:' in log and 'loss_d_depth:' in log
    assert 'loss_adv_seg:' in log


def test_interval(tmp_path):
    hook = dict(type='DiscriminatorStepHook', interval=2)
    runner, records = _train(_cfg(str(tmp_path), max_iters=5, hook=hook))
    assert len(runner.model.d_step_log) == 2  # after iterations 2 and 4
    for g_rec, d_rec in zip(records['g'], records['d']):
        stepped = (g_rec['iter'] + 1) % 2 == 0
        for name, value in g_rec['after_g'].items():
            if _is_d(name):
                assert torch.equal(value,
                                   d_rec['after_d'][name]) != stepped, name


def test_leaking_generator_gradients_are_caught(tmp_path):
    model = dict(type='AdversarialToyModel', freeze_discriminators=False)
    with pytest.raises(RuntimeError, match='already hold gradients'):
        _train(_cfg(str(tmp_path / 'a'), max_iters=1, model=model))
    # the check can be switched off: the leaked gradients then enter the
    # discriminator update (what the check guards against). Against the
    # same iteration with frozen discriminators (same seed, same batch):
    # the generator step is the same, the discriminator step is not.
    hook = dict(type='DiscriminatorStepHook', check_grads=False)
    leaky_runner, leaky = _train(
        _cfg(str(tmp_path / 'b'), max_iters=1, model=model, hook=hook))
    clean_runner, clean = _train(_cfg(str(tmp_path / 'c'), max_iters=1))
    (leaky_g, ), (clean_g, ) = leaky['g'], clean['g']
    (leaky_d, ), (clean_d, ) = leaky['d'], clean['d']
    names = list(clean_g['before'])
    for name in names:
        assert torch.equal(leaky_g['before'][name], clean_g['before'][name])
        assert torch.equal(leaky_g['after_g'][name],
                           clean_g['after_g'][name]), name
        if not _is_d(name):
            assert torch.equal(leaky_d['after_d'][name],
                               clean_d['after_d'][name]), name
    # Adam's first moment after one step is (1 - beta1) * gradient: every
    # discriminator parameter got another gradient (Adam's first step
    # moves each weight by about lr whatever the gradient's size, so the
    # weights alone would hardly show it)
    d_names = [n for n in names if _is_d(n)]
    assert d_names
    moments = []
    for runner in (leaky_runner, clean_runner):
        state = runner.optim_wrapper['discriminator'].optimizer.state
        params = dict(runner.model.named_parameters())
        moments.append({n: state[params[n]]['exp_avg'] for n in d_names})
    for name in d_names:
        assert not torch.allclose(
            moments[0][name], moments[1][name], rtol=1e-3, atol=1e-7), name


def test_models_without_discriminators_are_skipped(tmp_path):
    runner, records = _train(
        _cfg(
            str(tmp_path),
            max_iters=2,
            model=dict(type='AdversarialToyModel', with_discriminators=False),
            optim_wrapper=dict(
                constructor='GeneratorDiscriminatorOptimWrapperConstructor',
                generator=G_CFG)))
    assert runner.model.d_step_log == []
    assert list(runner.optim_wrapper.keys()) == ['generator']
    assert 'has no discriminators; no discriminator step' in _log_text(
        str(tmp_path))
    logged = records['d'][-1]['logged']
    assert 'train/loss_depth' in logged
    assert not any(key.startswith('train/loss_d_') for key in logged)


def _fake_runner(model, optim_wrapper):
    return SimpleNamespace(
        model=model,
        optim_wrapper=optim_wrapper,
        iter=0,
        max_iters=10,
        message_hub=MessageHub.get_instance('adversarial_hook_test'))


def test_misconfigurations_are_named():
    with pytest.raises(ValueError, match='interval must be an int >= 1'):
        DiscriminatorStepHook(interval=0)
    model = AdversarialToyModel()
    plain = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(
            ValueError, match="OptimWrapperDict with a "
            "'discriminator' entry"):
        DiscriminatorStepHook().before_train(_fake_runner(model, plain))

    optim_wrapper = build_optim_wrapper(model, ADVERSARIAL_OPTIM)
    model.discriminator_step = None
    with pytest.raises(AttributeError, match='no discriminator_step'):
        DiscriminatorStepHook().before_train(
            _fake_runner(model, optim_wrapper))

    no_d = AdversarialToyModel(with_discriminators=False)
    with pytest.raises(ValueError, match="'discriminator' entry but"):
        DiscriminatorStepHook().before_train(_fake_runner(no_d, optim_wrapper))


# --------------------------------------------------------------------------
# resume
# --------------------------------------------------------------------------
def _optim_states(runner) -> dict:
    return {
        name:
        dict(
            state=snapshot_optim_state(wrapper.optimizer),
            lr=[g['lr'] for g in wrapper.optimizer.param_groups])
        for name, wrapper in runner.optim_wrapper.items()
    }


def _assert_nested_equal(a, b, where=''):
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            _assert_nested_equal(a[key], b[key], f'{where}.{key}')
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_nested_equal(x, y, f'{where}[{i}]')
    elif torch.is_tensor(a):
        assert torch.equal(a, b), where
    else:
        assert a == b, where


def test_resume_restores_both_optimizers_and_schedulers(tmp_path):
    # 4 iterations in one go
    straight, _ = _train(_cfg(str(tmp_path / 'straight'), max_iters=4))
    # 2 iterations, checkpoint, then resume
    first, _ = _train(
        _cfg(str(tmp_path / 'split'), max_iters=2, checkpoint_interval=2))
    ckpt = osp.join(str(tmp_path / 'split'), 'iter_2.pth')
    saved = torch.load(ckpt, map_location='cpu', weights_only=True)
    assert set(saved['optimizer']) == {'generator', 'discriminator'}
    assert set(saved['param_schedulers']) == {'generator', 'discriminator'}

    # resumed without training further: the states equal the first run's
    cfg = _cfg(str(tmp_path / 'split'), max_iters=2, resume=True)
    cfg.load_from = ckpt
    loaded, _ = _train(cfg)
    states = _optim_states(first)
    # both optimizers really have state: SGD momentum, Adam moments
    assert 'momentum_buffer' in states['generator']['state'][0]
    assert {'exp_avg', 'exp_avg_sq',
            'step'} <= set(states['discriminator']['state'][0])
    _assert_nested_equal(states, _optim_states(loaded), 'optim')
    _assert_nested_equal(
        {
            n: [s.state_dict() for s in ss]
            for n, ss in first.param_schedulers.items()
        }, {
            n: [s.state_dict() for s in ss]
            for n, ss in loaded.param_schedulers.items()
        }, 'schedulers')

    # resumed and trained to 4: bit-identical to the straight run (a lost
    # Adam or momentum state would change the weights)
    cfg = _cfg(str(tmp_path / 'split'), max_iters=4, resume=True)
    cfg.load_from = ckpt
    resumed, _ = _train(cfg)
    for (name, a), (_, b) in zip(straight.model.named_parameters(),
                                 resumed.model.named_parameters()):
        assert torch.equal(a, b), name
    _assert_nested_equal(
        _optim_states(straight), _optim_states(resumed), 'optim')


# --------------------------------------------------------------------------
# distributed
# --------------------------------------------------------------------------
def test_cpu_set_up_gives_ddp_wrappers_no_device_ids(monkeypatch):
    """The Runner passes ``device_ids=[local_rank]`` to every DDP-derived
    wrapper; on a CPU-only machine the set-up overrides it with None."""
    for key, value in dict(
            MASTER_ADDR='127.0.0.1',
            MASTER_PORT=str(free_port()),
            RANK='0',
            WORLD_SIZE='1',
            LOCAL_RANK='0').items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    separate = dict(
        type='MMSeparateDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=True)
    try:
        cfg = Config(dict(model_wrapper_cfg=separate))
        assert setup_cpu_distributed(cfg, 'pytorch') is True
        assert cfg.model_wrapper_cfg == dict(separate, device_ids=None)
        for kept in (dict(type='MMDistributedDataParallel',
                          device_ids=[0]), dict(type='NotADDPWrapper')):
            cfg = Config(dict(model_wrapper_cfg=kept))
            setup_cpu_distributed(cfg, 'pytorch')
            assert cfg.model_wrapper_cfg == kept
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


@pytest.mark.slow
def test_two_process_gloo_with_separate_ddp(tmp_path):
    """2 ranks, MMSeparateDistributedDataParallel (via tools/train.py and the
    CPU set-up of mmdepthseg.utils.dist_utils): both steps isolated on each
    rank, and G and D parameters identical across ranks."""
    work_dir = str(tmp_path)
    cfg = _cfg(
        work_dir,
        max_iters=3,
        model=dict(type='AdversarialToyModel', model_level_param=False))
    cfg.custom_hooks[1] = dict(
        type='AdversarialRecorderHook', stage='g', priority='HIGH', dump=True)
    cfg.custom_hooks[2] = dict(
        type='AdversarialRecorderHook', stage='d', priority='LOW', dump=True)
    cfg.custom_imports = dict(imports=[
        'adversarial_toy_helpers',
        'mmdepthseg.engine.hooks.discriminator_step_hook',
        'mmdepthseg.engine.optimizers.adversarial_optim_constructor'
    ])
    cfg.model_wrapper_cfg = dict(
        type='MMSeparateDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=True)
    cfg.env_cfg = dict(dist_cfg=dict(backend='gloo'))
    cfg_path = osp.join(work_dir, 'cfg.py')
    cfg.dump(cfg_path)
    run_dist_train(
        cfg_path, pythonpath=[osp.join(REPO_ROOT, 'tests', 'test_engine')])
    ranks = []
    for rank in (0, 1):
        dumps = {
            stage:
            torch.load(
                osp.join(work_dir, f'adversarial_{stage}_rank{rank}.pth'),
                map_location='cpu',
                weights_only=True)
            for stage in ('g', 'd')
        }
        assert dumps['g']['wrapper'] == 'MMSeparateDistributedDataParallel'
        _check_isolation(dumps['g']['records'], dumps['d']['records'])
        ranks.append(dumps)
    # the ranks saw different batches, yet hold the same weights
    for stage, key in (('g', 'before'), ('g', 'after_g'), ('d', 'after_d')):
        for rec0, rec1 in zip(ranks[0][stage]['records'],
                              ranks[1][stage]['records']):
            assert rec0[key].keys() == rec1[key].keys()
            for name, value in rec0[key].items():
                assert torch.equal(value, rec1[key][name]), (key, name)
    # names under the separate wrappers: each child is its own DDP module
    names = ranks[0]['d']['records'][-1]['after_d']
    assert 'discriminators.module.seg.0.weight_orig' in names
    assert 'backbone.module.weight' in names
