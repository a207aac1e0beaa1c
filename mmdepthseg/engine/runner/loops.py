# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Training loops that resume exactly where a checkpoint left off."""
import logging
from typing import Optional

from mmengine.dataset import InfiniteSampler
from mmengine.logging import print_log
from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop
from mmengine.runner.loops import _InfiniteDataloaderIterator
from torch.utils.data import DataLoader

from mmdepthseg.datasets.samplers import MultiSourceSampler, ResumableSampler
from mmdepthseg.registry import LOOPS
from .rng_state import preserved_rng_state, set_rng_state


def resumable_sampler(dataloader: DataLoader) -> Optional[ResumableSampler]:
    """The dataloader's :class:`ResumableSampler`, if it has one and
    batches of a fixed size (``batch_size``, not a ``batch_sampler``)."""
    sampler = getattr(dataloader, 'sampler', None)
    if isinstance(sampler, ResumableSampler) and dataloader.batch_size:
        return sampler
    return None


class _ResumeMixin:
    """What both loops do on resume."""

    def _init_resume(self) -> None:
        self._resume_rng_state: Optional[dict] = None
        self._resume_seed: Optional[int] = None

    def set_resume_state(self,
                         rng_state: Optional[dict] = None,
                         seed: Optional[int] = None) -> None:
        """Called by ``DepthSegRunner.resume``.

        Args:
            rng_state (dict, optional): This rank's random states at the
                checkpoint (:func:`get_rng_state`), restored right before
                the first resumed iteration.
            seed (int, optional): The run's seed after the resume (the
                checkpoint's), given to the sampler.
        """
        self._resume_rng_state = rng_state
        self._resume_seed = seed

    def _restore_rng(self) -> None:
        if self._resume_rng_state is not None:
            set_rng_state(self._resume_rng_state)
            self._resume_rng_state = None

    def _run_val(self) -> None:
        """Validate without consuming the training's random streams (a
        resumed run does not repeat the validation before the checkpoint)."""
        with preserved_rng_state():
            self.runner.val_loop.run()


@LOOPS.register_module()
class ResumableIterBasedTrainLoop(_ResumeMixin, IterBasedTrainLoop):
    """``IterBasedTrainLoop`` whose resume reproduces the uninterrupted run.

    MMEngine's loop resumes at iteration ``n`` by loading and discarding
    ``n`` batches (hours for a long run) and leaves the random streams as
    they are. With a :class:`ResumableSampler` (``DepthSegRunner`` installs
    one) this loop instead starts a fresh dataloader iterator ``n``
    batches into the sampler's stream without loading anything, restores
    the random states saved in the checkpoint right before the first
    resumed iteration, and validates without touching the training's
    random streams. Without one it falls back to MMEngine's replay.

    Args:
        *args, **kwargs: As for ``mmengine.runner.IterBasedTrainLoop``.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_resume()

    def _fast_forward(self) -> None:
        sampler = resumable_sampler(self.dataloader)
        if sampler is None:
            print_log(
                f'Advance dataloader {self._iter} steps to skip data that '
                'has already been trained (the dataloader has no '
                'ResumableSampler)',
                logger='current',
                level=logging.WARNING)
            for _ in range(self._iter):
                next(self.dataloader_iterator)
            return
        if self._resume_seed is not None:
            sampler.reseed(self._resume_seed)
        inner = sampler.sampler
        if isinstance(inner, (InfiniteSampler, MultiSourceSampler)):
            epoch, batches = 0, self._iter
        else:  # a finite sampler restarted by _InfiniteDataloaderIterator
            per_epoch = len(self.dataloader)
            epoch, batches = divmod(self._iter, per_epoch)
            sampler.set_epoch(epoch)
        sampler.resume_at(batches * self.dataloader.batch_size)
        with preserved_rng_state():
            self.dataloader_iterator = _InfiniteDataloaderIterator(
                self.dataloader)
        self.dataloader_iterator._epoch = epoch
        print_log(
            f'Resumed the data stream at iteration {self._iter} (epoch '
            f'{epoch}, batch {batches}) without loading the trained batches',
            logger='current')

    def run(self) -> None:
        """Launch training (resuming exactly if ``iter > 0``)."""
        self.runner.call_hook('before_train')
        self.runner.call_hook('before_train_epoch')
        if self._iter > 0:
            self._fast_forward()
        self._restore_rng()
        while self._iter < self._max_iters and not self.stop_training:
            self.runner.model.train()

            data_batch = next(self.dataloader_iterator)
            self.run_iter(data_batch)

            self._decide_current_val_interval()
            if (self.runner.val_loop is not None
                    and self._iter >= self.val_begin
                    and (self._iter % self.val_interval == 0
                         or self._iter == self._max_iters)):
                self._run_val()

        self.runner.call_hook('after_train_epoch')
        self.runner.call_hook('after_train')
        return self.runner.model


@LOOPS.register_module()
class ResumableEpochBasedTrainLoop(_ResumeMixin, EpochBasedTrainLoop):
    """``EpochBasedTrainLoop`` whose resume reproduces the uninterrupted run.

    Resuming from a checkpoint written in the middle of an epoch (an
    iteration-interval checkpoint), MMEngine's loop restarts that epoch
    from its first batch. With a :class:`ResumableSampler` this loop
    continues at the next batch of the epoch instead; in every case it
    restores the random states saved in the checkpoint before training
    goes on, and validates without touching the training's random streams.

    Args:
        *args, **kwargs: As for ``mmengine.runner.EpochBasedTrainLoop``.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_resume()
        self._skip_batches = 0

    def run(self):
        """Launch training."""
        self.runner.call_hook('before_train')
        if self._iter > 0:
            sampler = resumable_sampler(self.dataloader)
            if sampler is not None and self._resume_seed is not None:
                sampler.reseed(self._resume_seed)
            done = self._iter - self._epoch * len(self.dataloader)
            if 0 < done < len(self.dataloader):
                if sampler is None:
                    print_log(
                        f'Resuming in the middle of epoch {self._epoch + 1} '
                        'without a ResumableSampler: the epoch restarts from '
                        'its first batch',
                        logger='current',
                        level=logging.WARNING)
                else:
                    self._skip_batches = done
        self._restore_rng()
        while self._epoch < self._max_epochs and not self.stop_training:
            self.run_epoch()

            self._decide_current_val_interval()
            if (self.runner.val_loop is not None
                    and self._epoch >= self.val_begin
                    and (self._epoch % self.val_interval == 0
                         or self._epoch == self._max_epochs)):
                self._run_val()

        self.runner.call_hook('after_train')
        return self.runner.model

    def run_epoch(self) -> None:
        """Iterate one epoch (its rest, right after a mid-epoch resume)."""
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        start, self._skip_batches = self._skip_batches, 0
        if start:
            sampler = resumable_sampler(self.dataloader)
            sampler.resume_at(start * self.dataloader.batch_size)
            # the uninterrupted run drew this epoch's iterator seed before
            # the checkpoint's random states were saved
            with preserved_rng_state():
                batches = iter(self.dataloader)
        else:
            batches = iter(self.dataloader)
        for idx, data_batch in enumerate(batches, start):
            self.run_iter(idx, data_batch)

        self.runner.call_hook('after_train_epoch')
        self._epoch += 1
