# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Config arguments checked against the classes the registries give, and
paths checked before the work directory exists."""
import os.path as osp

import pytest
from mmengine.config import Config

from mmdepthseg.utils.config_check import (ConfigCheckError,
                                           accepted_arguments, check_arguments,
                                           check_paths)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASELINE = osp.join(
    ROOT, 'configs', 'baseline',
    'baseline_r18-unet_1xb4-600it_synthetic-cityscapes-128x256.py')
SEMIMTL = osp.join(ROOT, 'configs', 'synthetic',
                   'semimtl_r18_synthcityscapes.py')


def _problems(cfg):
    with pytest.raises(ConfigCheckError) as err:
        check_arguments(cfg)
    return str(err.value)


def test_the_shipped_configs_pass():
    check_arguments(Config.fromfile(BASELINE))
    check_arguments(Config.fromfile(SEMIMTL))


@pytest.mark.parametrize('key, value, expected', [
    ('default_hooks.checkpoint.intervl', 1,
     "default_hooks.checkpoint: CheckpointHook has no argument 'intervl'; "
     "did you mean 'interval'?"),
    ('default_hooks.logger.intrval', 1, "did you mean 'interval'?"),
    ('train_cfg.max_iter', 3, "IterBasedTrainLoop has no argument "
     "'max_iter'; did you mean 'max_iters'?"),
    ('val_cfg.fp61', True, "ValLoop has no argument 'fp61'; did you mean "
     "'fp16'?"),
    ('optim_wrapper.optimizer.weight_decy', 0.1,
     "Adam has no argument 'weight_decy'; did you mean 'weight_decay'?"),
    ('optim_wrapper.clip_grads', None, "OptimWrapper has no argument "
     "'clip_grads'; did you mean 'clip_grad'?"),
    ('log_processor.window_sise', 5, "did you mean 'window_size'?"),
    ('randomness.sed', 1, "did you mean 'seed'?"),
    ('default_hooks.checkpoint.type', 'CheckpointHok',
     "'CheckpointHok' is not a registered hook; did you mean "
     "'CheckpointHook'?"),
])
def test_typos_are_reported_with_the_nearest_name(key, value, expected):
    cfg = Config.fromfile(BASELINE)
    cfg.merge_from_dict({key: value})
    assert expected in _problems(cfg)


def test_schedulers_and_custom_hooks_and_every_problem_at_once():
    cfg = Config.fromfile(BASELINE)
    cfg.param_scheduler[0]['strat_factor'] = 0.5
    cfg.custom_hooks = [dict(type='EMAlternatingHook', perod=3)]
    cfg.train_cfg.runner = None
    text = _problems(cfg)
    assert "param_scheduler[0]: LinearLR has no argument 'strat_factor'; " \
        "did you mean 'start_factor'?" in text
    assert "custom_hooks[0]: EMAlternatingHook has no argument 'perod'" in \
        text
    assert "train_cfg: 'runner' is set by the runner" in text


def test_generator_discriminator_wrappers_are_checked_one_by_one():
    cfg = Config.fromfile(SEMIMTL)
    cfg.optim_wrapper.discriminator.optimizer['bettas'] = (0.9, 0.99)
    cfg.param_scheduler.generator[0]['powr'] = 1.0
    text = _problems(cfg)
    assert "optim_wrapper.discriminator.optimizer: Adam has no argument " \
        "'bettas'; did you mean 'betas'?" in text
    assert "param_scheduler.generator[0]: PolyLR has no argument 'powr'" \
        in text


def test_kwargs_follow_the_class_hierarchy():
    from mmengine.optim import AmpOptimWrapper

    from mmdepthseg.engine.optimizers import CPUAmpOptimWrapper

    # **kwargs go to OptimWrapper
    assert {'loss_scale', 'clip_grad',
            'accumulative_counts'} <= accepted_arguments(AmpOptimWrapper)
    assert {'dtype', 'clip_grad'} <= accepted_arguments(CPUAmpOptimWrapper)

    class Open:

        def __init__(self, a, **kwargs):
            pass

    assert accepted_arguments(Open) is None  # cannot tell: not checked


def test_missing_paths_are_named(tmp_path):
    cfg = Config.fromfile(BASELINE)
    cfg.load_from = str(tmp_path / 'nope.pth')
    with pytest.raises(FileNotFoundError) as err:
        check_paths(cfg, ('train_dataloader', ), checkpoint='https://x/y.pth')
    text = str(err.value)
    assert 'nope.pth' in text and 'data/synthetic_cityscapes' in text
    assert 'y.pth' not in text  # remote checkpoints are not looked for
    cfg.load_from = None
    cfg.train_dataloader.dataset.data_root = str(tmp_path)
    check_paths(cfg, ('train_dataloader', ))
