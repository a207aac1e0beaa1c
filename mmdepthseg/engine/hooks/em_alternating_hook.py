# Copyright (c) mmdepthseg contributors. All rights reserved.
"""EM-style alternating training of a multi-task model (SOSD-Net, Alg. 1)."""
import logging
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Set, Tuple

import torch
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapperDict
from mmengine.runner import IterBasedTrainLoop
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from mmdepthseg.registry import HOOKS

#: Key of the hook's state in ``checkpoint['meta']``.
CHECKPOINT_KEY = 'em_alternating'


@dataclass(frozen=True)
class EMPhase:
    """One phase of the alternating schedule.

    Attributes:
        name (str): Name shown in the log, e.g. ``'depth'``.
        tasks (tuple[str]): Tasks whose losses the model computes in this
            phase; written to the model's ``active_tasks``.
        trainable (tuple[str]): Parameter-name prefixes (whole dotted
            components) that the optimizer updates in this phase.
    """
    name: str
    tasks: Tuple[str, ...]
    trainable: Tuple[str, ...]


def matches_prefix(name: str, prefix: str) -> bool:
    """Whether parameter ``name`` lies under ``prefix``, component-wise.

    ``'decode_head.decoder'`` matches ``'decode_head.decoder.conv.weight'``
    and ``'decode_head.decoder'`` itself, but not
    ``'decode_head.decoder2.weight'``.
    """
    return name == prefix or name.startswith(prefix + '.')


def _build_phase(index: int, cfg: dict) -> EMPhase:
    """Check one entry of ``phases`` and turn it into an :class:`EMPhase`."""
    where = f'EMAlternatingHook: phases[{index}]'
    if not isinstance(cfg, dict):
        raise TypeError(f'{where} must be a dict with keys name, tasks, '
                        f'trainable, got {type(cfg).__name__}')
    expected = {'name', 'tasks', 'trainable'}
    if set(cfg) != expected:
        raise ValueError(f'{where} must have exactly the keys '
                         f'{sorted(expected)}, got {sorted(cfg)}')
    name = cfg['name']
    if not isinstance(name, str) or not name:
        raise ValueError(f'{where}.name must be a non-empty str, got {name!r}')
    fields = {}
    for key in ('tasks', 'trainable'):
        value = cfg[key]
        if isinstance(value, str):
            value = (value, )
        if (not isinstance(value, (list, tuple)) or not value
                or not all(isinstance(v, str) and v for v in value)):
            raise ValueError(f'{where}.{key} must be a non-empty sequence of '
                             f'non-empty str, got {cfg[key]!r}')
        fields[key] = tuple(value)
    return EMPhase(name=name, **fields)


@HOOKS.register_module()
class EMAlternatingHook(Hook):
    """Alternate the trained tasks and parameter groups during training.

    The EM learning strategy of SOSD-Net (Algorithm 1 of "SOSD-Net: Joint
    Semantic Object Segmentation and Depth Estimation from Monocular
    Images"): in the depth phase only the depth loss is computed and only
    the depth-specific, 3D and 2D objectness branches and the common backbone
    are updated; in the semantic phase only the segmentation loss trains the
    semantic-specific, 3D and d^-2 branches and the backbone. The paper's
    weighting factor of the branch gradients in Eq. (5) is α^t = 1, which is
    plain back-propagation of the phase's loss; the hook knows nothing of a
    particular network, only parameter-name prefixes and task names.

    Mechanics, at the start of each phase:

    - the model's ``active_tasks`` is set to the phase's ``tasks`` (the model
      computes only those losses);
    - ``requires_grad`` is switched on for the phase's trainable parameters
      and off for the others (parameters that were frozen before training,
      e.g. by ``frozen_stages``, are never touched and stay frozen);
    - with ``freeze_norm_stats`` (default), every normalisation layer with
      running statistics (BatchNorm, SyncBN, ...) whose parameters are all
      frozen in the phase is put in eval mode before each iteration of the
      phase (the runner's ``model.train()`` is undone): a frozen branch
      that the phase runs as a hidden variable normalises with its running
      statistics and leaves them, and ``num_batches_tracked``, unchanged,
      so that the whole branch, buffers included, is fixed. A norm layer
      without parameters (``affine=False``) counts as frozen when its name
      lies under another phase's ``trainable`` prefix and under none of
      this phase's. The layers get their previous mode back when the phase
      ends and after training;
    - an optimizer step pre-hook sets ``.grad = None`` on the inactive
      parameters right before every ``optimizer.step()``. Adam, AdamW and
      SGD skip parameters without a gradient, so those parameters **and**
      their optimizer state (``exp_avg``, ``exp_avg_sq``, ``step``,
      momentum buffers) stay bit-identical, even when DDP hands them a zero
      gradient or weight decay would move them.

    The phase switches every ``period`` iterations (``by_epoch=False``) or
    epochs (``by_epoch=True``) and cycles through ``phases`` in order,
    starting with the first. The current phase index is logged as the
    scalar ``em_phase`` every iteration (the index-to-name map is logged when
    training starts). The phase and the count of finished iterations/epochs
    within it are saved in ``checkpoint['meta']['em_alternating']`` and
    restored on resume; a checkpoint without them (a run trained without this
    hook) continues with the phase that the schedule gives for the resumed
    iteration/epoch. Loading weights with ``load_from`` (no resume) starts
    with the first phase.

    Distributed training: parameters of the inactive tasks receive no
    gradient, so the DDP wrapper must be built with
    ``find_unused_parameters=True`` (``model_wrapper_cfg=dict(
    type='MMDistributedDataParallel', find_unused_parameters=True)`` or the
    top-level ``find_unused_parameters = True`` of the config); the hook
    raises an error for a DDP model wrapped without it or with
    ``static_graph=True``.

    Note:
        The hook updates its state in ``after_train_iter`` /
        ``after_train_epoch``, so it must run before :class:`CheckpointHook`
        (its priority must be higher than ``'VERY_LOW'``); this is checked.
        Gradient accumulation must not mix phases: with
        ``accumulative_counts = k > 1`` an iteration ``period`` must be a
        multiple of ``k``. With ``freeze_norm_stats=False`` norm layers of
        frozen branches keep training mode: they normalise with batch
        statistics and update their running statistics whenever the phase
        runs them (only the parameters are then fixed).

    Args:
        phases (Sequence[dict]): The phases in order, each
            ``dict(name=str, tasks=tuple[str], trainable=tuple[str])``;
            ``trainable`` are parameter-name prefixes of the unwrapped model,
            matched on whole dotted components.
        period (int): Length of a phase in iterations (or epochs with
            ``by_epoch=True``). Defaults to 1.
        by_epoch (bool): Count ``period`` in epochs; needs an epoch-based
            train loop. Defaults to False.
        allow_never_trained (bool): Allow trainable parameters that no phase
            names; they are kept frozen during the whole training. If False,
            such parameters raise an error in ``before_train``. Defaults to
            False.
        freeze_norm_stats (bool): Put the norm layers of the branches that a
            phase freezes in eval mode during the phase (see above).
            Defaults to True.

    Example:
        >>> custom_hooks = [
        ...     dict(type='EMAlternatingHook',
        ...          phases=[
        ...              dict(name='depth', tasks=('depth', ),
        ...                   trainable=('backbone', 'decode_head.depth')),
        ...              dict(name='semantic', tasks=('seg', ),
        ...                   trainable=('backbone', 'decode_head.seg'))],
        ...          period=1)]
    """

    priority = 'NORMAL'

    def __init__(self,
                 phases: Sequence[dict],
                 period: int = 1,
                 by_epoch: bool = False,
                 allow_never_trained: bool = False,
                 freeze_norm_stats: bool = True):
        if not isinstance(phases, (list, tuple)) or not phases:
            raise ValueError('EMAlternatingHook: `phases` must be a non-empty '
                             f'list of dicts, got {phases!r}')
        self.phases: List[EMPhase] = [
            _build_phase(i, cfg) for i, cfg in enumerate(phases)
        ]
        names = [phase.name for phase in self.phases]
        if len(set(names)) != len(names):
            raise ValueError('EMAlternatingHook: phase names must be unique, '
                             f'got {names}')
        is_int = isinstance(period, int) and not isinstance(period, bool)
        if not is_int or period < 1:
            raise ValueError('EMAlternatingHook: `period` must be a positive '
                             f'int, got {period!r}')
        self.period = period
        self.by_epoch = bool(by_epoch)
        self.allow_never_trained = allow_never_trained
        self.freeze_norm_stats = bool(freeze_norm_stats)

        self._phase_index = 0
        self._steps_in_phase = 0
        self._applied_index: Optional[int] = None
        # (state, iter) read by ``after_load_checkpoint``
        self._loaded: Optional[Tuple[Optional[dict], int]] = None
        # parameters managed by the hook: trainable when training started
        self._managed: Dict[str, nn.Parameter] = {}
        self._active_names: List[Set[str]] = []
        self._inactive: List[nn.Parameter] = []
        # per phase, the norm layers (with running statistics) it freezes
        self._frozen_norms: List[List[nn.Module]] = []
        # norm layers this hook put in eval mode -> their previous mode
        self._norm_modes: Dict[nn.Module, bool] = {}
        self._handles: list = []
        self._model: Optional[nn.Module] = None
        self._orig_active_tasks = None

    # ------------------------------------------------------------------
    # state
    # ------------------------------------------------------------------
    @property
    def phase(self) -> EMPhase:
        """The current phase."""
        return self.phases[self._phase_index]

    @property
    def phase_index(self) -> int:
        """Index of the current phase in ``phases``."""
        return self._phase_index

    def state_dict(self) -> dict:
        """The schedule state saved in checkpoints.

        Returns:
            dict: ``phase_index`` and ``steps_in_phase`` (finished iterations
            or epochs of the current phase), plus ``phase_name``,
            ``phase_names``, ``period`` and ``by_epoch`` for checking.
        """
        return dict(
            phase_index=self._phase_index,
            phase_name=self.phase.name,
            steps_in_phase=self._steps_in_phase,
            phase_names=[phase.name for phase in self.phases],
            period=self.period,
            by_epoch=self.by_epoch)

    def load_state_dict(self, state: dict) -> None:
        """Restore the schedule state written by :meth:`state_dict`.

        Raises:
            ValueError: If the checkpoint was written with other phases or
                another ``by_epoch`` setting.
        """
        names = [phase.name for phase in self.phases]
        if list(state.get('phase_names', [])) != names:
            raise ValueError(
                'EMAlternatingHook: the checkpoint\'s phases '
                f'{state.get("phase_names")} differ from the configured '
                f'phases {names}; cannot resume the alternating schedule.')
        if bool(state.get('by_epoch')) != self.by_epoch:
            raise ValueError(
                'EMAlternatingHook: the checkpoint counted phases by_epoch='
                f'{state.get("by_epoch")}, the config says by_epoch='
                f'{self.by_epoch}; cannot resume the alternating schedule.')
        self._phase_index = int(state['phase_index'])
        self._steps_in_phase = int(state['steps_in_phase'])
        # a shorter period than the checkpoint's ends the phase at once
        while self._steps_in_phase >= self.period:
            self._next_phase()

    def _next_phase(self) -> None:
        self._phase_index = (self._phase_index + 1) % len(self.phases)
        self._steps_in_phase = 0

    def _advance(self) -> None:
        """Count one finished iteration (or epoch); switch after
        ``period``."""
        self._steps_in_phase += 1
        if self._steps_in_phase >= self.period:
            self._next_phase()

    def _schedule_at(self, units: int) -> None:
        """Set the state that the schedule gives after ``units`` finished
        iterations (or epochs)."""
        self._phase_index = (units // self.period) % len(self.phases)
        self._steps_in_phase = units % self.period

    # ------------------------------------------------------------------
    # checks
    # ------------------------------------------------------------------
    def _check_runner(self, runner, model: nn.Module) -> None:
        if not hasattr(model, 'active_tasks'):
            raise AttributeError(
                f'EMAlternatingHook: the model {type(model).__name__} has no '
                '`active_tasks` attribute; the hook needs a model whose '
                '`loss()` computes only the losses of `active_tasks`.')
        wrapper = runner.model
        if isinstance(wrapper, DistributedDataParallel):
            if not wrapper.find_unused_parameters:
                raise RuntimeError(
                    'EMAlternatingHook: the model is wrapped by '
                    f'{type(wrapper).__name__} without '
                    '`find_unused_parameters=True`; the parameters of the '
                    'inactive phase get no gradient. Set '
                    '`find_unused_parameters = True` in the config (or in '
                    '`model_wrapper_cfg`).')
            if getattr(wrapper, 'static_graph', False):
                raise RuntimeError(
                    'EMAlternatingHook: DDP with `static_graph=True` cannot '
                    'follow a set of used parameters that changes between '
                    'phases; build the wrapper with static_graph=False.')
        loop = getattr(runner, 'train_loop', None)
        if self.by_epoch and isinstance(loop, IterBasedTrainLoop):
            raise ValueError(
                'EMAlternatingHook: by_epoch=True needs an epoch-based train '
                'loop (train_cfg type EpochBasedTrainLoop); with '
                'IterBasedTrainLoop use by_epoch=False and a period in '
                'iterations.')
        hooks = list(getattr(runner, 'hooks', []))
        if self in hooks:
            mine = hooks.index(self)
            for i, hook in enumerate(hooks):
                if isinstance(hook, CheckpointHook) and i < mine:
                    raise ValueError(
                        'EMAlternatingHook must run before CheckpointHook so '
                        'that saved checkpoints hold the phase after the '
                        f'finished iteration; its priority {self.priority!r} '
                        'must be higher than the CheckpointHook\'s.')
        if not self.by_epoch:
            for wrapper in self._optim_wrappers(runner.optim_wrapper):
                counts = getattr(wrapper, '_accumulative_counts', 1)
                if self.period % counts:
                    raise ValueError(
                        f'EMAlternatingHook: period={self.period} iterations '
                        f'is not a multiple of accumulative_counts={counts}; '
                        'accumulated gradients would mix phases.')

    def _resolve_parameters(self, model: nn.Module) -> None:
        """Find the trainable parameters of every phase by prefix.

        Raises:
            ValueError: For prefixes that match no parameter, and (unless
                ``allow_never_trained``) for trainable parameters that no
                phase trains.
        """
        named = dict(model.named_parameters())
        self._managed = {n: p for n, p in named.items() if p.requires_grad}
        unknown = [
            f'{phase.name}: {prefix!r}' for phase in self.phases
            for prefix in phase.trainable
            if not any(matches_prefix(n, prefix) for n in named)
        ]
        if unknown:
            raise ValueError(
                'EMAlternatingHook: these `trainable` prefixes match no '
                f'parameter of {type(model).__name__}: {unknown}. Prefixes '
                'are dotted module paths of the unwrapped model, e.g. '
                f'{sorted({n.split(".")[0] for n in named})}.')
        self._active_names = [{
            n
            for n in self._managed if any(
                matches_prefix(n, prefix) for prefix in phase.trainable)
        } for phase in self.phases]
        trained = set().union(*self._active_names)
        never = [n for n in self._managed if n not in trained]
        if never and not self.allow_never_trained:
            raise ValueError(
                f'EMAlternatingHook: {len(never)} trainable parameters are '
                f'trained in no phase: {never}. Add their prefix to a '
                'phase\'s `trainable`, freeze them in the model, or set '
                'allow_never_trained=True to keep them frozen.')

    def _resolve_norm_layers(self, model: nn.Module) -> None:
        """Find, per phase, the norm layers with running statistics that
        belong to branches the phase freezes (see the class docstring)."""
        self._frozen_norms = [[] for _ in self.phases]
        if not self.freeze_norm_stats:
            return
        for mod_name, module in model.named_modules():
            buffers = dict(module.named_buffers(recurse=False))
            if 'running_mean' not in buffers and \
                    'running_var' not in buffers:
                continue
            own = [
                f'{mod_name}.{n}' if mod_name else n
                for n, _ in module.named_parameters(recurse=False)
            ]
            for i, phase in enumerate(self.phases):
                if own:
                    # left alone when frozen (or partly) before training
                    frozen = all(n in self._managed for n in own) and \
                        not any(n in self._active_names[i] for n in own)
                else:
                    mine = any(
                        matches_prefix(mod_name, p) for p in phase.trainable)
                    other = any(
                        matches_prefix(mod_name, p)
                        for j, other_phase in enumerate(self.phases) if j != i
                        for p in other_phase.trainable)
                    frozen = other and not mine
                if frozen:
                    self._frozen_norms[i].append(module)

    def _apply_norm_modes(self) -> None:
        """Eval mode for the current phase's frozen norm layers; the others
        that this hook switched get their previous mode back."""
        frozen = self._frozen_norms[self._phase_index] \
            if self._frozen_norms else []
        frozen_ids = {id(m) for m in frozen}
        for module in list(self._norm_modes):
            if id(module) not in frozen_ids:
                module.train(self._norm_modes.pop(module))
        for module in frozen:
            if module not in self._norm_modes:
                self._norm_modes[module] = module.training
            # every iteration: the train loop's model.train() resets it
            module.eval()

    def _restore_norm_modes(self) -> None:
        for module, mode in self._norm_modes.items():
            module.train(mode)
        self._norm_modes = {}

    @staticmethod
    def _optim_wrappers(optim_wrapper) -> list:
        if isinstance(optim_wrapper, OptimWrapperDict):
            return list(optim_wrapper.values())
        return [optim_wrapper]

    # ------------------------------------------------------------------
    # phase application
    # ------------------------------------------------------------------
    def _apply_phase(self) -> None:
        """Set ``active_tasks`` and ``requires_grad`` for the current
        phase."""
        active = self._active_names[self._phase_index]
        inactive = []
        for name, param in self._managed.items():
            is_active = name in active
            param.requires_grad_(is_active)
            if not is_active:
                inactive.append(param)
        self._inactive = inactive
        self._model.active_tasks = self.phase.tasks
        self._applied_index = self._phase_index

    def _drop_inactive_grads(self, optimizer: torch.optim.Optimizer,
                             args: tuple, kwargs: dict) -> None:
        """Optimizer step pre-hook: no gradient, no update, no state
        change."""
        for param in self._inactive:
            param.grad = None

    # ------------------------------------------------------------------
    # hook points
    # ------------------------------------------------------------------
    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        self._check_runner(runner, model)
        self._resolve_parameters(model)
        self._resolve_norm_layers(model)
        self._model = model
        self._orig_active_tasks = model.active_tasks

        units = runner.epoch if self.by_epoch else runner.iter
        loaded, self._loaded = self._loaded, None
        resumed = loaded is not None and units > 0 and loaded[1] == runner.iter
        if resumed and loaded[0] is not None:
            self.load_state_dict(loaded[0])
        else:
            self._schedule_at(units)
            if resumed:
                print_log(
                    'EMAlternatingHook: the resumed checkpoint holds no EM '
                    'phase state; continuing with the phase that the '
                    f'schedule gives after {units} '
                    f'{"epochs" if self.by_epoch else "iterations"}.',
                    logger='current',
                    level=logging.WARNING)

        for wrapper in self._optim_wrappers(runner.optim_wrapper):
            self._handles.append(
                wrapper.optimizer.register_step_pre_hook(
                    self._drop_inactive_grads))
        self._apply_phase()
        unit = 'epoch' if self.by_epoch else 'iteration'
        schedule = ', '.join(f'{i}={phase.name} (tasks {list(phase.tasks)}, '
                             f'{len(self._active_names[i])} parameters)'
                             for i, phase in enumerate(self.phases))
        if self.freeze_norm_stats:
            norms = ', '.join(f'{phase.name}: {len(self._frozen_norms[i])}'
                              for i, phase in enumerate(self.phases))
            schedule += (f'; norm layers in eval mode per phase ({norms})')
        print_log(
            f'EMAlternatingHook: phases {schedule}; switching every '
            f'{self.period} {unit}(s). Starting in phase '
            f'{self._phase_index} ({self.phase.name}) after '
            f'{self._steps_in_phase} {unit}(s) of it; the log scalar '
            '`em_phase` is the phase index.',
            logger='current')

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        if self._applied_index != self._phase_index:
            self._apply_phase()
            unit, count = (('epoch', runner.epoch) if self.by_epoch else
                           ('iteration', runner.iter))
            print_log(
                f'EMAlternatingHook: phase {self._phase_index} '
                f'({self.phase.name}) from {unit} {count + 1}',
                logger='current',
                level=logging.INFO if self.by_epoch else logging.DEBUG)
        self._apply_norm_modes()
        runner.message_hub.update_scalar('train/em_phase', self._phase_index)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        if not self.by_epoch:
            self._advance()

    def after_train_epoch(self, runner) -> None:
        if self.by_epoch:
            self._advance()

    def after_train(self, runner) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self._inactive = []
        self._restore_norm_modes()
        for param in self._managed.values():
            param.requires_grad_(True)
        if self._model is not None:
            self._model.active_tasks = self._orig_active_tasks
        self._applied_index = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault('meta', {})[CHECKPOINT_KEY] = self.state_dict()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        # Resume and ``load_from`` both call this before the loop counters
        # are restored; ``before_train`` uses the state only if training
        # continues from this checkpoint's iteration (a resume).
        meta = checkpoint.get('meta', {}) or {}
        self._loaded = (meta.get(CHECKPOINT_KEY), int(meta.get('iter', 0)))
