# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Optimizer wrappers that skip the update of a non-finite loss."""
from typing import Dict, Optional, Tuple

import torch
import torch.distributed as torch_dist
from mmengine.dist import get_world_size, is_distributed
from mmengine.optim import AmpOptimWrapper, OptimWrapper

from mmdepthseg.registry import OPTIM_WRAPPERS


class IterationGuard:
    """State shared by the optimizer wrappers of one training iteration.

    :class:`~mmdepthseg.engine.hooks.NonFiniteLossHook` links every
    :class:`SkipNonFiniteOptimWrapper` of the runner to one guard and clears
    it before each iteration. Once an update of the iteration is skipped,
    the guard is ``poisoned`` and the other wrappers skip theirs too (the
    discriminator step of SemiMTL does not learn from a batch whose
    generator loss was NaN).
    """

    def __init__(self) -> None:
        self.poisoned = False

    def reset(self) -> None:
        """Start a new iteration."""
        self.poisoned = False


def all_ranks_finite(loss: torch.Tensor) -> bool:
    """Whether ``loss`` is finite on this rank and on every other one.

    See :func:`finite_here_and_everywhere`.
    """
    return finite_here_and_everywhere(loss)[1]


def finite_here_and_everywhere(loss: torch.Tensor) -> Tuple[bool, bool]:
    """Whether ``loss`` is finite on this rank, and on all ranks.

    One ``isfinite`` on the (scalar) loss; under distributed training one
    ``all_reduce`` (MAX) of a one-element flag, so that every rank takes the
    same decision before any of them starts a backward pass (DDP would
    otherwise wait forever for the gradients of the rank that skipped).

    Args:
        loss (Tensor): The loss (any shape; usually 0-d).

    Returns:
        tuple[bool, bool]: All elements finite on this rank; on all ranks.
    """
    bad = ~torch.isfinite(loss.detach()).all()
    if is_distributed() and get_world_size() > 1:
        flag = bad.to(torch.float32).reshape(1)
        torch_dist.all_reduce(flag, op=torch_dist.ReduceOp.MAX)
        return not bool(bad), not bool(flag.item())
    return not bool(bad), not bool(bad)


class _SkipNonFiniteMixin:
    """The skipping logic shared by the plain and the AMP wrapper."""

    def _init_skip_state(self) -> None:
        #: Updates skipped since the wrapper was built.
        self.num_skipped = 0
        #: Why the last skipped update was skipped: ``'nonfinite'`` (this
        #: wrapper's loss on this rank), ``'other_rank'`` (its loss on
        #: another rank) or ``'iteration'`` (another wrapper's update of
        #: the iteration was skipped).
        self.last_skip_reason: Optional[str] = None
        #: This rank's loss value of the last skipped update.
        self.last_skipped_loss: Optional[float] = None
        #: Shared with the runner's other wrappers by NonFiniteLossHook.
        self.iteration_guard: Optional[IterationGuard] = None
        self._accumulation_poisoned = False

    def update_params(self,
                      loss: torch.Tensor,
                      step_kwargs: Optional[Dict] = None,
                      zero_kwargs: Optional[Dict] = None) -> None:
        """Back-propagate and step, unless the loss is non-finite.

        A non-finite ``loss`` (on any rank) gets no backward pass and no
        optimizer step: parameters, gradients and optimizer state (e.g.
        Adam's step counts and moments) stay as they were. The iteration
        counter used by gradient accumulation still advances; an
        accumulation window holding a skipped micro-batch drops its update
        entirely.

        Args:
            loss (Tensor): The total loss of the step.
            step_kwargs (dict, optional): Arguments for ``optimizer.step``.
            zero_kwargs (dict, optional): Arguments for
                ``optimizer.zero_grad``.
        """
        step_kwargs = step_kwargs or {}
        zero_kwargs = zero_kwargs or {}
        guard = self.iteration_guard
        finite_here, finite = finite_here_and_everywhere(loss)
        if finite and not (guard is not None and guard.poisoned):
            self.backward(self.scale_loss(loss))
        else:
            self.num_skipped += 1
            self.last_skip_reason = 'iteration' if finite else (
                'nonfinite' if not finite_here else 'other_rank')
            self.last_skipped_loss = float(loss.detach().float().sum())
            if guard is not None:
                guard.poisoned = True
            self._inner_count += 1  # as backward() would have done
            self._accumulation_poisoned = True
        if self.should_update():
            if not self._accumulation_poisoned:
                self.step(**step_kwargs)
            self.zero_grad(**zero_kwargs)
            self._accumulation_poisoned = False


@OPTIM_WRAPPERS.register_module()
class SkipNonFiniteOptimWrapper(_SkipNonFiniteMixin, OptimWrapper):
    """``OptimWrapper`` that skips the update of a non-finite loss.

    A NaN or Inf loss (any loss term makes the total non-finite) skips the
    backward pass and the optimizer step, leaving the parameters and the
    optimizer state (Adam's step counts and moments, SGD's momentum)
    untouched. Under distributed training the ranks agree first (one
    ``all_reduce`` of a flag), so all of them skip together. The check is
    one ``isfinite`` of the scalar loss per update.

    ``DepthSegRunner`` builds this wrapper wherever a config asks for
    MMEngine's ``OptimWrapper``; :class:`NonFiniteLossHook` reports the
    skipped steps (loss terms, sample files), keeps the model's buffers
    (BatchNorm statistics) of a skipped iteration unchanged, and stops
    training after too many consecutive ones.

    Args:
        *args, **kwargs: As for ``mmengine.optim.OptimWrapper``.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_skip_state()


@OPTIM_WRAPPERS.register_module()
class SkipNonFiniteAmpOptimWrapper(_SkipNonFiniteMixin, AmpOptimWrapper):
    """``AmpOptimWrapper`` that skips the update of a non-finite loss.

    As :class:`SkipNonFiniteOptimWrapper`; the gradient scaler still skips
    steps whose (scaled) gradients overflow, as MMEngine's does.

    Args:
        *args, **kwargs: As for ``mmengine.optim.AmpOptimWrapper``.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_skip_state()
