# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Report, contain and limit training iterations with a non-finite loss."""
import logging
import math
from typing import Dict, List, Optional, Sequence, Set, Tuple, Union

import torch
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapperDict
from torch import nn

from mmdepthseg.registry import HOOKS
from ..optimizers.skip_nonfinite_optim_wrapper import (IterationGuard,
                                                       _SkipNonFiniteMixin)

DATA_BATCH = Optional[Union[dict, tuple, list]]
#: Key of the hook's state in ``checkpoint['meta']``.
META_KEY = 'nonfinite_loss'


class NonFiniteLossError(RuntimeError):
    """Raised after too many consecutive iterations with a non-finite
    loss."""


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Contain and report iterations whose loss is NaN or Inf.

    Works with :class:`~mmdepthseg.engine.optimizers.SkipNonFiniteOptimWrapper`
    (and its AMP variant), which skips the backward pass and optimizer step
    of a non-finite loss. For every iteration this hook:

    - links the runner's skipping wrappers (one, or each entry of an
      ``OptimWrapperDict``, e.g. SemiMTL's ``generator`` and
      ``discriminator``) to one :class:`IterationGuard`, so that once an
      update of the iteration is skipped, the later ones of that iteration
      are skipped too;
    - keeps a copy of the model's persistent buffers (BatchNorm running
      statistics and counts, spectral-norm vectors), which the forward pass
      updates even when no optimizer step follows; after an iteration with
      skipped updates, the buffers of the modules trained only by skipped
      wrappers are put back, so a poisoned batch leaves the whole model
      state unchanged;
    - logs which optimizers skipped, the non-finite loss terms (of the
      train step's outputs and of the values logged during the iteration),
      the files of the batch (``img_path`` of the data samples) and which
      of them hold non-finite input values; under distributed training the
      reports of all ranks, gathered on rank 0;
    - raises :class:`NonFiniteLossError` after ``max_consecutive``
      consecutive such iterations.

    The count of consecutive bad iterations is saved in checkpoints.
    Priority ``NORMAL``: after ``DiscriminatorStepHook`` (the
    discriminator update belongs to the iteration) and before the logger
    and the checkpoint hook. ``DepthSegRunner`` registers it for every run
    (``nonfinite_loss_hook`` in ``configs/_base_/default_runtime.py``).

    Args:
        max_consecutive (int): Stop training after this many consecutive
            iterations with a skipped update. Defaults to 5.
        restore_buffers (bool): Put back the buffers a skipped iteration
            changed. Defaults to True.
    """
    priority = 'NORMAL'

    def __init__(self,
                 max_consecutive: int = 5,
                 restore_buffers: bool = True) -> None:
        is_int = isinstance(max_consecutive,
                            int) and not isinstance(max_consecutive, bool)
        if not is_int or max_consecutive < 1:
            raise ValueError('NonFiniteLossHook: max_consecutive must be an '
                             f'int >= 1, got {max_consecutive!r}')
        self.max_consecutive = max_consecutive
        self.restore_buffers = restore_buffers
        self.consecutive = 0
        self.total = 0
        self.guard = IterationGuard()
        self._wrappers: Dict[str, _SkipNonFiniteMixin] = {}
        self._counts: Dict[str, int] = {}
        # (module, buffer name, names of the wrappers training the module)
        self._buffers: List[Tuple[nn.Module, str, Set[str]]] = []
        self._snapshots: List[torch.Tensor] = []
        self._log_lengths: Dict[str, int] = {}

    # ------------------------------------------------------------------
    # set-up
    # ------------------------------------------------------------------
    @staticmethod
    def _named_wrappers(optim_wrapper) -> Dict[str, object]:
        if isinstance(optim_wrapper, OptimWrapperDict):
            return dict(optim_wrapper.items())
        return {'optim_wrapper': optim_wrapper}

    def before_train(self, runner) -> None:
        """Link the wrappers to the guard; map buffers to wrappers."""
        named = self._named_wrappers(runner.optim_wrapper)
        self._wrappers = {
            name: wrapper
            for name, wrapper in named.items()
            if isinstance(wrapper, _SkipNonFiniteMixin)
        }
        unguarded = sorted(set(named) - set(self._wrappers))
        if unguarded:
            print_log(
                f'NonFiniteLossHook: optimizer wrapper(s) {unguarded} '
                f'({", ".join(type(named[n]).__name__ for n in unguarded)}) '
                'do not skip non-finite losses; use '
                'SkipNonFiniteOptimWrapper (DepthSegRunner does so for '
                'OptimWrapper / AmpOptimWrapper)',
                logger='current',
                level=logging.WARNING)
        for wrapper in self._wrappers.values():
            wrapper.iteration_guard = self.guard
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        self._buffers = self._map_buffers(model) if self.restore_buffers \
            else []
        self._snapshots = []

    def _map_buffers(
            self, model: nn.Module) -> List[Tuple[nn.Module, str, Set[str]]]:
        """Persistent buffers and the wrappers training their module.

        A buffer belongs to its module, or to the nearest ancestor that has
        parameters if its module has none; the module's parameters name the
        wrappers (all of them when no parameter is in any optimizer).
        """
        owner_of = {
            id(p): name
            for name, wrapper in self._wrappers.items()
            for group in wrapper.optimizer.param_groups
            for p in group['params']
        }
        everyone = set(self._wrappers)
        parent: Dict[int, nn.Module] = {}
        for module in model.modules():
            for child in module.children():
                parent.setdefault(id(child), module)
        entries = []
        for module in model.modules():
            names = [
                name for name, buf in module._buffers.items()
                if buf is not None
                and name not in module._non_persistent_buffers_set
            ]
            if not names:
                continue
            holder = module
            while next(holder.parameters(), None) is None and \
                    id(holder) in parent:
                holder = parent[id(holder)]
            owners = {
                owner_of[id(p)]
                for p in holder.parameters() if id(p) in owner_of
            } or everyone
            entries += [(module, name, owners) for name in names]
        return entries

    # ------------------------------------------------------------------
    # per iteration
    # ------------------------------------------------------------------
    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: DATA_BATCH = None) -> None:
        """Clear the guard, note the skip counts, copy the buffers."""
        if not self._wrappers:
            return
        self.guard.reset()
        self._counts = {
            name: wrapper.num_skipped
            for name, wrapper in self._wrappers.items()
        }
        self._log_lengths = {
            key: len(buffer.data[0])
            for key, buffer in runner.message_hub.log_scalars.items()
        }
        buffers = [module._buffers[name] for module, name, _ in self._buffers]
        if not buffers:
            return
        try:  # one fused copy (buffers are updated in place)
            torch._foreach_copy_(self._snapshots, buffers)
        except (RuntimeError, TypeError, AttributeError):
            # first iteration, or a buffer was replaced by another shape
            self._snapshots = [b.detach().clone() for b in buffers]

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: DATA_BATCH = None,
                         outputs: Optional[dict] = None) -> None:
        """Restore, report and count an iteration with skipped updates."""
        if not self._wrappers:
            return
        skipped = {
            name: wrapper
            for name, wrapper in self._wrappers.items()
            if wrapper.num_skipped > self._counts.get(name, 0)
        }
        if not skipped:
            self.consecutive = 0
            return
        self._restore(set(skipped))
        self.consecutive += 1
        self.total += 1
        report = self._local_report(runner, skipped, data_batch, outputs)
        reports = all_gather_object(report) if get_world_size() > 1 \
            else [report]
        message = (f'NonFiniteLossHook: iteration {runner.iter + 1}: '
                   'non-finite loss, optimizer step skipped (weights, '
                   'optimizer state and buffers unchanged). ' +
                   ' '.join(_format(r,
                                    len(reports) > 1) for r in reports) +
                   f' [{self.consecutive} consecutive, {self.total} in all; '
                   f'training stops after {self.max_consecutive} '
                   'consecutive]')
        if self.consecutive >= self.max_consecutive:
            raise NonFiniteLossError(
                f'{self.max_consecutive} consecutive training iterations '
                f'(up to iteration {runner.iter + 1}) had a non-finite loss; '
                'training stopped. Last: ' + message +
                '. Check the files named above, lower the learning rate, '
                'or raise nonfinite_loss_hook.max_consecutive.')
        print_log(message, logger='current', level=logging.WARNING)

    def _restore(self, skipped: Set[str]) -> None:
        """Put back the buffers of modules trained only by ``skipped``."""
        for (module, name, owners), saved in zip(self._buffers,
                                                 self._snapshots):
            if owners <= skipped:
                buf = module._buffers[name]
                if buf.shape == saved.shape:
                    buf.copy_(saved)
                else:
                    module._buffers[name] = saved.clone()

    def _local_report(self, runner, skipped: Dict[str, _SkipNonFiniteMixin],
                      data_batch: DATA_BATCH, outputs: Optional[dict]) -> dict:
        """What this rank saw: skipped wrappers, terms, files."""
        terms = {}
        for key, value in (outputs or {}).items():
            value = _as_float(value)
            if value is not None and not math.isfinite(value):
                terms[key] = value
        # values logged during the iteration by other hooks (e.g. the
        # discriminator losses of DiscriminatorStepHook)
        for key, buffer in runner.message_hub.log_scalars.items():
            name = key[len('train/'):] if key.startswith('train/') else None
            fresh = len(buffer.data[0]) > self._log_lengths.get(key, 0)
            if fresh and name and 'loss' in name and name not in terms and \
                    name not in (outputs or {}):
                value = _as_float(buffer.current())
                if value is not None and not math.isfinite(value):
                    terms[name] = value
        files, bad_inputs = _batch_files(data_batch)
        reasons = dict(
            nonfinite='loss {}',
            other_rank='loss {} here, non-finite on another rank',
            iteration='with the iteration')
        wrappers = {
            name:
            reasons[wrapper.last_skip_reason].format(wrapper.last_skipped_loss)
            for name, wrapper in skipped.items()
        }
        return dict(
            rank=get_rank(),
            wrappers=wrappers,
            terms=terms,
            files=files,
            bad_inputs=bad_inputs)

    # ------------------------------------------------------------------
    # checkpoints
    # ------------------------------------------------------------------
    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault('meta', {})[META_KEY] = dict(
            consecutive=self.consecutive, total=self.total)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('meta', {}).get(META_KEY)
        if state is not None:
            self.consecutive = int(state['consecutive'])
            self.total = int(state['total'])


def _as_float(value) -> Optional[float]:
    """A float of a number or a one-element tensor, else None."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            return None
        return float(value.detach().float().item())
    if isinstance(value, (int, float)):
        return float(value)
    return None


def _batch_files(data_batch: DATA_BATCH) -> Tuple[List[str], List[str]]:
    """``img_path`` of every sample, and of those whose input holds
    non-finite values."""
    if not isinstance(data_batch, dict):
        return [], []
    samples = data_batch.get('data_samples') or []
    inputs = data_batch.get('inputs')
    if isinstance(inputs, torch.Tensor):
        inputs = list(inputs)
    files, bad = [], []
    for i, sample in enumerate(samples):
        meta = getattr(sample, 'metainfo', {})
        path = str(meta.get('img_path', f'sample {i} (no img_path)'))
        files.append(path)
        if isinstance(inputs, Sequence) and i < len(inputs):
            x = inputs[i]
            if isinstance(x, torch.Tensor) and x.is_floating_point() and \
                    not bool(torch.isfinite(x).all()):
                bad.append(path)
    return files, bad


def _format(report: dict, with_rank: bool) -> str:
    """One rank's report as text."""
    parts = []
    if with_rank:
        parts.append(f'rank {report["rank"]}:')
    parts.append('skipped ' +
                 ', '.join(f'{name!r} ({why})'
                           for name, why in report['wrappers'].items()) + ';')
    if report['terms']:
        parts.append('non-finite terms: ' +
                     ', '.join(f'{k}={v}'
                               for k, v in report['terms'].items()) + ';')
    else:
        parts.append('no non-finite term on this rank;')
    if report['bad_inputs']:
        parts.append('non-finite input values in: ' +
                     ', '.join(report['bad_inputs']) + ';')
    parts.append('batch files: ' + (', '.join(report['files']) or 'unknown'))
    return ' '.join(parts)
