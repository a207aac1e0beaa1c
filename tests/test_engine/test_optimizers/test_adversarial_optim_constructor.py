# Copyright (c) mmdepthseg contributors. All rights reserved.
"""GeneratorDiscriminatorOptimWrapperConstructor: two optimizers, one
parameter split, schedulers keyed by optimizer."""

import pytest
import torch
import torch.distributed as dist
from _helpers import free_port
from mmengine.config import Config
from mmengine.model.wrappers import MMSeparateDistributedDataParallel
from mmengine.optim import OptimWrapperDict, build_optim_wrapper
from mmengine.runner import Runner
from test_engine.adversarial_toy_helpers import AdversarialToyModel
from torch import nn

import mmdepthseg.engine.hooks.discriminator_step_hook  # noqa: F401
from mmdepthseg.engine.optimizers.adversarial_optim_constructor import (
    GeneratorDiscriminatorOptimWrapperConstructor, get_discriminators)

G_CFG = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4))
D_CFG = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-4, betas=(0.9, 0.99)))


def _cfg(**parts) -> dict:
    return dict(
        constructor='GeneratorDiscriminatorOptimWrapperConstructor', **parts)


def _owner_of(optim_wrapper: OptimWrapperDict) -> dict:
    """id(param) -> list of (optimizer name, param group)."""
    owners = {}
    for name, wrapper in optim_wrapper.items():
        for group in wrapper.optimizer.param_groups:
            for param in group['params']:
                owners.setdefault(id(param), []).append((name, group))
    return owners


def test_each_parameter_lands_in_exactly_one_optimizer():
    model = AdversarialToyModel()
    optim_wrapper = build_optim_wrapper(
        model, _cfg(generator=G_CFG, discriminator=D_CFG))
    assert isinstance(optim_wrapper, OptimWrapperDict)
    assert sorted(optim_wrapper.keys()) == ['discriminator', 'generator']
    gen, disc = optim_wrapper['generator'], optim_wrapper['discriminator']
    assert type(gen.optimizer) is torch.optim.SGD
    assert gen.optimizer.defaults['momentum'] == 0.9
    assert gen.optimizer.defaults['weight_decay'] == 1e-4
    assert type(disc.optimizer) is torch.optim.Adam
    assert disc.optimizer.defaults['betas'] == (0.9, 0.99)

    owners = _owner_of(optim_wrapper)
    names = [name for name, _ in model.named_parameters()]
    # the toy has discriminator, head and model-level parameters
    assert 'depth_scale' in names
    assert 'discriminators.seg.0.weight_orig' in names
    for name, param in model.named_parameters():
        expected = 'discriminator' if name.startswith(
            'discriminators.') else 'generator'
        assert [owner for owner, _ in owners[id(param)]] == [expected], name
    assert len(owners) == len(names)


def test_paramwise_cfg_per_optimizer_uses_the_models_names():
    model = AdversarialToyModel()
    cfg = _cfg(
        generator=dict(
            G_CFG,
            paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)})),
        discriminator=dict(
            D_CFG,
            paramwise_cfg=dict(
                custom_keys={'discriminators.depth': dict(lr_mult=3.0)})))
    owners = _owner_of(build_optim_wrapper(model, cfg))
    for name, param in model.named_parameters():
        [(owner, group)] = owners[id(param)]
        if name.startswith('backbone.'):
            expected = 0.01 * 0.1
        elif name.startswith('discriminators.depth.'):
            expected = 1e-4 * 3.0
        elif name.startswith('discriminators.'):
            expected = 1e-4
        else:
            expected = 0.01
        assert group['lr'] == pytest.approx(expected, rel=1e-12), name


def test_separately_wrapped_model_keeps_names_and_split():
    """Under MMSeparateDistributedDataParallel every child is a DDP wrapper
    (``backbone.module.weight``); custom_keys still use the model's names.
    Parameters of the model itself, which no per-child wrapper
    synchronises, are refused."""
    dist.init_process_group(
        'gloo',
        init_method=f'tcp://127.0.0.1:{free_port()}',
        rank=0,
        world_size=1)
    cfg = _cfg(
        generator=dict(
            G_CFG,
            paramwise_cfg=dict(custom_keys={'seg_head': dict(lr_mult=0.5)})),
        discriminator=D_CFG)
    try:
        model = AdversarialToyModel(model_level_param=False)
        wrapped = MMSeparateDistributedDataParallel(
            module=model,
            broadcast_buffers=False,
            find_unused_parameters=True,
            device_ids=None)
        assert 'discriminators.module.seg.0.weight_orig' in dict(
            model.named_parameters())
        owners = _owner_of(build_optim_wrapper(wrapped, cfg))
        assert get_discriminators(wrapped) is model.discriminators.module
        for name, param in model.named_parameters():
            [(owner, group)] = owners[id(param)]
            if name.startswith('discriminators.'):
                assert (owner, group['lr']) == ('discriminator', 1e-4), name
            elif name.startswith('seg_head.'):
                assert (owner, group['lr']) == ('generator', 0.005), name
            else:
                assert (owner, group['lr']) == ('generator', 0.01), name
        assert len(owners) == len(list(model.parameters()))

        with_loose = MMSeparateDistributedDataParallel(
            module=AdversarialToyModel(model_level_param=True),
            find_unused_parameters=True,
            device_ids=None)
        with pytest.raises(
                ValueError, match=r"drift apart .*\['depth_scale'\]"):
            build_optim_wrapper(with_loose, cfg)
        # the same model unwrapped (single process) is fine
        build_optim_wrapper(with_loose.module, cfg)
    finally:
        dist.destroy_process_group()


def test_generator_only_config_for_models_without_discriminators():
    model = AdversarialToyModel(with_discriminators=False)
    assert get_discriminators(model) is None
    optim_wrapper = build_optim_wrapper(model, _cfg(generator=G_CFG))
    assert isinstance(optim_wrapper, OptimWrapperDict)
    assert list(optim_wrapper.keys()) == ['generator']
    owners = _owner_of(optim_wrapper)
    assert len(owners) == len(list(model.parameters()))
    # an empty ModuleDict counts as "no discriminators" too; an entry set
    # to None (a baseline config overriding a SemiMTL base) as no entry
    model.discriminators = nn.ModuleDict()
    assert get_discriminators(model) is None
    optim_wrapper = build_optim_wrapper(
        model, _cfg(generator=G_CFG, discriminator=None))
    assert list(optim_wrapper.keys()) == ['generator']


@pytest.mark.parametrize('with_d, cfg, error, match', [
    (True, _cfg(generator=G_CFG), ValueError,
     "has discriminators .* no 'discriminator' config"),
    (False, _cfg(generator=G_CFG,
                 discriminator=D_CFG), ValueError, 'has no discriminators'),
])
def test_config_must_match_the_model(with_d, cfg, error, match):
    with pytest.raises(error, match=match):
        build_optim_wrapper(
            AdversarialToyModel(with_discriminators=with_d), cfg)


@pytest.mark.parametrize('cfg, match', [
    (dict(discriminator=D_CFG), "needs a 'generator'"),
    (dict(generator=G_CFG, discriminator=D_CFG,
          type='OptimWrapper'), r"unknown keys \['type'\]"),
    (dict(generator=G_CFG, paramwise_cfg=dict(norm_decay_mult=0.)),
     'top-level optim_wrapper.paramwise_cfg'),
    (dict(generator=dict(type='OptimWrapper')),
     'optim_wrapper.generator must be an optimizer wrapper config'),
])
def test_bad_configs_are_named(cfg, match):
    with pytest.raises(ValueError, match=match):
        build_optim_wrapper(AdversarialToyModel(), _cfg(**cfg))


def test_parameter_shared_by_generator_and_discriminator_is_refused():
    model = AdversarialToyModel()
    # the seg discriminator reuses the seg head's bias
    model.discriminators.seg[2].bias = model.seg_head.bias
    constructor = GeneratorDiscriminatorOptimWrapperConstructor(
        dict(generator=G_CFG, discriminator=D_CFG))
    with pytest.raises(
            ValueError,
            match=r'in several: \[.seg_head.bias \(generator, discrimin'):
        constructor(model)


def test_runner_schedulers_keyed_by_optimizer(tmp_path):
    """Poly decay (power 0.9) of the generator's lr, constant lr for the
    discriminators, through MMEngine's Runner."""
    max_iters = 5
    cfg = Config(
        dict(
            model=dict(type='AdversarialToyModel'),
            work_dir=str(tmp_path),
            train_dataloader=dict(
                dataset=dict(type='AdversarialToyDataset', length=8),
                sampler=dict(type='DefaultSampler', shuffle=False),
                collate_fn=dict(type='default_collate'),
                batch_size=2,
                num_workers=0),
            train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters),
            optim_wrapper=_cfg(generator=G_CFG, discriminator=D_CFG),
            param_scheduler=dict(
                generator=dict(
                    type='PolyLR', power=0.9, eta_min=0.0, by_epoch=False),
                discriminator=[]),
            default_hooks=dict(
                logger=dict(type='LoggerHook', interval=1),
                checkpoint=dict(type='CheckpointHook', interval=1000)),
            custom_hooks=[dict(type='DiscriminatorStepHook')],
            default_scope='mmdepthseg',
            randomness=dict(seed=0)))
    runner = Runner.from_cfg(cfg)
    runner.train()
    hub = runner.message_hub
    g_lrs = list(hub.get_scalar('train/generator.lr').data[0])
    d_lrs = list(hub.get_scalar('train/discriminator.lr').data[0])
    # MMEngine's PolyLR decays over end - begin - 1 = max_iters - 1 steps
    # (lr 0 in the last iteration, as in MMSegmentation's schedules)
    total = max_iters - 1
    expected = [0.01 * (1 - t / total)**0.9 for t in range(max_iters)]
    assert g_lrs == pytest.approx(expected, rel=1e-9)
    assert d_lrs == [1e-4] * max_iters
    assert runner.optim_wrapper['generator'].get_lr()['lr'][0] == \
        pytest.approx(0.0, abs=1e-12)
    assert list(runner.param_schedulers) == ['generator', 'discriminator']
