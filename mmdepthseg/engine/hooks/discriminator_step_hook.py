# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The discriminator update of adversarial multi-task training (SemiMTL)."""
import logging
from typing import Optional, Union

import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapperDict
from torch import nn

from mmdepthseg.registry import HOOKS
from ..optimizers.adversarial_optim_constructor import (
    DISCRIMINATOR_KEY, check_separate_ddp_coverage, get_discriminators)

DATA_BATCH = Optional[Union[dict, tuple, list]]


@HOOKS.register_module()
class DiscriminatorStepHook(Hook):
    """Update the discriminators after each generator step.

    SemiMTL (Algorithm 1) alternates, within every training iteration, the
    generator step with the discriminators frozen (``model.train_step``,
    run by the train loop; one generator update per domain, or one in all
    with ``generator_update='pooled'``) and one discriminator step on the
    detached predictions of every domain and the ground truth of that
    iteration. This hook runs the latter in ``after_train_iter``::

        log_vars = model.discriminator_step(
            runner.optim_wrapper['discriminator'])

    on the unwrapped model (under ``MMSeparateDistributedDataParallel`` the
    model's ``discriminators`` child is its own DDP wrapper, so the
    gradients are still averaged across ranks) and writes the returned
    values to the message hub as ``train/<name>`` (e.g.
    ``train/loss_d_seg``; a total named ``loss`` is logged as
    ``train/loss_d`` so as not to overwrite the generator's), where the
    LoggerHook of the same iteration prints them.

    Its priority, ``ABOVE_NORMAL``, places the step after the runtime-info
    hook (which records the generator's losses) and before the iteration
    timer, the logger, the parameter schedulers (the discriminator step uses
    this iteration's learning rate) and the checkpoint hook (a checkpoint
    holds both updates).

    Distributed training: with ``model_wrapper_cfg=dict(
    type='MMSeparateDistributedDataParallel', broadcast_buffers=False,
    find_unused_parameters=True)`` each child of the model is its own DDP
    wrapper. The generator step may call the frozen
    (``requires_grad_(False)``) discriminators any number of times, but
    ``discriminator_step`` must call ``self.discriminators`` once per
    backward, with every task's input in that call: a second forward of
    the same DDP wrapper whose graph lacks parameters the first one used
    makes DDP fail ("Expected to mark a variable ready only once").

    Models without discriminators (single-task and joint-training
    baselines; see
    :func:`mmdepthseg.engine.optimizers.get_discriminators`) are skipped
    with one log line. With an ``OptimWrapperDict``, ``before_train`` also
    initialises the iteration counters of each sub-wrapper (which
    ``OptimWrapperDict.initialize_count_status`` leaves undone), so that
    gradient accumulation stays aligned after a resume. Under
    ``MMSeparateDistributedDataParallel`` it refuses trainable parameters
    that no per-child DDP wrapper synchronises
    (:func:`mmdepthseg.engine.optimizers.check_separate_ddp_coverage`).

    Args:
        interval (int): Run the discriminator step every ``interval``
            training iterations. Defaults to 1 (every iteration, as in the
            paper).
        check_grads (bool): Before each discriminator step, check that no
            discriminator parameter carries a non-zero gradient, i.e. that
            the generator step really kept the discriminators frozen
            (otherwise the generator's adversarial gradients would leak into
            the discriminator update). Skipped when the discriminator
            wrapper accumulates gradients. Defaults to True.
    """
    priority = 'ABOVE_NORMAL'

    def __init__(self, interval: int = 1, check_grads: bool = True) -> None:
        is_int = isinstance(interval, int) and not isinstance(interval, bool)
        if not is_int or interval < 1:
            raise ValueError('DiscriminatorStepHook: interval must be an int '
                             f'>= 1, got {interval!r}')
        self.interval = interval
        self.check_grads = check_grads
        self._enabled = False

    @staticmethod
    def _unwrap(runner) -> nn.Module:
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def before_train(self, runner) -> None:
        """Check the model and the optimizer wrappers; decide whether the
        hook is active."""
        check_separate_ddp_coverage(runner.model)
        model = self._unwrap(runner)
        optim_wrapper = runner.optim_wrapper
        discriminators = get_discriminators(model)
        is_dict = isinstance(optim_wrapper, OptimWrapperDict)
        has_d_optim = is_dict and DISCRIMINATOR_KEY in optim_wrapper
        if is_dict:
            for name, wrapper in optim_wrapper.items():
                owner = model
                if name == DISCRIMINATOR_KEY and discriminators is not None:
                    owner = discriminators
                wrapper.initialize_count_status(owner, runner.iter,
                                                runner.max_iters)
        model_name = type(model).__name__
        if discriminators is None:
            if has_d_optim:
                raise ValueError(
                    "DiscriminatorStepHook: optim_wrapper has a "
                    f"'{DISCRIMINATOR_KEY}' entry but {model_name} has no "
                    'discriminators (model.discriminators is missing, None '
                    'or has no parameters)')
            self._enabled = False
            print_log(
                f'DiscriminatorStepHook: {model_name} has no '
                'discriminators; no discriminator step will run.',
                logger='current',
                level=logging.INFO)
            return
        if not has_d_optim:
            raise ValueError(
                f'DiscriminatorStepHook: {model_name} has discriminators, so '
                "runner.optim_wrapper must be an OptimWrapperDict with a "
                f"'{DISCRIMINATOR_KEY}' entry (use optim_wrapper=dict("
                "constructor='GeneratorDiscriminatorOptimWrapperConstructor'"
                ', ...)), got '
                f'{type(optim_wrapper).__name__}'
                f'{list(optim_wrapper.keys()) if is_dict else ""}')
        if not callable(getattr(model, 'discriminator_step', None)):
            raise AttributeError(
                f'DiscriminatorStepHook: {model_name} has discriminators '
                'but no discriminator_step(optim_wrapper) method')
        self._enabled = True

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: DATA_BATCH = None,
                         outputs: Optional[dict] = None) -> None:
        """Run one discriminator step and log its losses."""
        if not self._enabled or not self.every_n_train_iters(
                runner, self.interval):
            return
        model = self._unwrap(runner)
        optim_wrapper = runner.optim_wrapper[DISCRIMINATOR_KEY]
        if self.check_grads and getattr(optim_wrapper, '_accumulative_counts',
                                        1) == 1:
            self._check_no_gradient(model)
        log_vars = model.discriminator_step(optim_wrapper)
        if not isinstance(log_vars, dict):
            raise TypeError(
                f'{type(model).__name__}.discriminator_step must return a '
                f'dict of log variables, got {type(log_vars).__name__}')
        for name, value in log_vars.items():
            # 'loss' (a total from BaseModel.parse_losses) would overwrite
            # the generator's total loss in the log
            key = 'loss_d' if name == 'loss' else name
            runner.message_hub.update_scalar(f'train/{key}',
                                             _to_scalar(name, value))

    @staticmethod
    def _check_no_gradient(model: nn.Module) -> None:
        """Raise if a discriminator parameter holds a non-zero gradient."""
        discriminators = get_discriminators(model)
        dirty = [
            name for name, param in discriminators.named_parameters()
            if param.grad is not None and bool(param.grad.any())
        ]
        if dirty:
            raise RuntimeError(
                'DiscriminatorStepHook: before the discriminator step, '
                f'discriminators.{dirty[0]} (and {len(dirty) - 1} more) '
                'already hold gradients: the generator step must keep the '
                'discriminators frozen (no gradient into their parameters), '
                'e.g. with requires_grad_(False) around it')


def _to_scalar(name: str, value) -> float:
    """A loggable float from a 0-d / 1-element tensor or a number."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f'discriminator_step: log variable {name} must '
                             f'be a scalar, got shape {tuple(value.shape)}')
        return float(value.detach().item())
    return float(value)
