# Copyright (c) mmdepthseg contributors. All rights reserved.
"""A data order that a resumed run reproduces exactly.

Two halves that travel together (``DepthSegRunner`` installs both on the
training dataloader):

- :class:`ResumableSampler` wraps any index sampler (MMEngine's
  ``InfiniteSampler`` / ``DefaultSampler``, :class:`MultiSourceSampler`) and
  yields ``(index, seed)`` keys. ``seed`` is a function of the run's seed,
  the rank, the epoch and the key's position in this rank's stream only.
  :meth:`ResumableSampler.resume_at` starts the next pass ``n`` positions
  into the stream without loading a single sample (MMEngine's loop instead
  loads and throws away every batch already trained on).
- :class:`SeededDataset` wraps the dataset: before it fetches a batch (or a
  sample) it seeds ``numpy``, ``random`` and ``torch`` with the key's seed
  and restores their previous states afterwards. The random augmentations
  of a batch are therefore fixed by its position in the stream, whichever
  worker fetches it, however many workers there are, whether workers are
  persistent, and whatever the process consumed from its random generators
  before; and fetching in the main process (``num_workers=0``) leaves the
  main process's random streams (dropout, noise in losses) untouched.
"""
import itertools
import random
from typing import Any, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.dataset import InfiniteSampler
from mmengine.dist import get_dist_info
from torch.utils.data import Dataset, Sampler

#: ``(dataset index, seed of the random draws while fetching it)``.
SeededKey = Tuple[int, int]


def sample_seed(base_seed: int, rank: int, epoch: int, position: int) -> int:
    """The augmentation seed of one position of a sampler's stream.

    Args:
        base_seed (int): The run's seed (``randomness.seed``).
        rank (int): Distributed rank.
        epoch (int): Epoch (0 for infinite samplers).
        position (int): Position of the key in this rank's stream of the
            epoch (0-based).

    Returns:
        int: A 32-bit seed, well mixed from the four numbers
        (``numpy.random.SeedSequence``).
    """
    entropy = [int(base_seed) & 0xFFFFFFFFFFFFFFFF, rank, epoch, position]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


class ResumableSampler(Sampler):
    """Wrap an index sampler: ``(index, seed)`` keys and a cheap resume.

    Every ``iter()`` replays the wrapped sampler's stream from its start
    (for ``InfiniteSampler``, whose ``__iter__`` continues one shared
    generator, a fresh generator is made), skipping the first ``n``
    positions after :meth:`resume_at`. Position ``p`` of epoch ``e`` yields
    ``(index, sample_seed(seed, rank, e, p))``.

    Use it with :class:`SeededDataset` only (a plain dataset cannot take
    the tuple keys).

    Args:
        sampler (Sampler): The index sampler; it must yield the same stream
            for the same epoch on every ``iter()`` (true of MMEngine's and
            mmdepthseg's samplers).
        seed (int): The run's seed.
        sampler_uses_run_seed (bool): Whether the wrapped sampler was built
            with the run's seed (no ``seed`` in its config), so that
            :meth:`reseed` must reseed it too. Defaults to True.
    """

    def __init__(self,
                 sampler: Sampler,
                 seed: int,
                 sampler_uses_run_seed: bool = True) -> None:
        self.sampler = sampler
        self.seed = int(seed)
        self.sampler_uses_run_seed = sampler_uses_run_seed
        self.rank, _ = get_dist_info()
        self.epoch = 0
        self._start = 0

    def _fresh_indices(self) -> Iterator[int]:
        """The wrapped stream from its beginning."""
        if isinstance(self.sampler, InfiniteSampler):
            # its __iter__ continues the generator made in __init__
            return self.sampler._indices_of_rank()
        return iter(self.sampler)

    def resume_at(self, position: int) -> None:
        """Start the next ``iter()`` at ``position`` of the stream.

        Args:
            position (int): Number of keys of the current epoch's stream
                already consumed (e.g. ``iterations * batch_size``).
        """
        if position < 0:
            raise ValueError(f'ResumableSampler.resume_at: position must be '
                             f'>= 0, got {position}')
        self._start = int(position)

    def reseed(self, seed: int) -> None:
        """Take the run's seed restored from a checkpoint.

        The wrapped sampler's ``seed`` follows when it was built from the
        run's seed (MMEngine's and mmdepthseg's samplers read it whenever
        a stream starts).
        """
        self.seed = int(seed)
        if self.sampler_uses_run_seed and hasattr(self.sampler, 'seed'):
            self.sampler.seed = int(seed)

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch of the wrapped sampler and of the seeds."""
        self.epoch = int(epoch)
        if hasattr(self.sampler, 'set_epoch'):
            self.sampler.set_epoch(epoch)

    def __iter__(self) -> Iterator[SeededKey]:
        start, self._start = self._start, 0
        indices = self._fresh_indices()
        if start:
            # consume indices only: no sample is loaded
            indices = itertools.islice(indices, start, None)
        for position, index in enumerate(indices, start):
            yield int(index), sample_seed(self.seed, self.rank, self.epoch,
                                          position)

    def __len__(self) -> int:
        return len(self.sampler)

    def __deepcopy__(self, memo: dict) -> 'ResumableSampler':
        # a built sampler placed in a dataloader config is used as it is
        # (MMEngine deep-copies the config; InfiniteSampler holds a
        # generator, which cannot be copied)
        return self

    def __getattr__(self, name: str) -> Any:
        # attributes of the wrapped sampler (batch_size_per_source, ...)
        if name == 'sampler':
            raise AttributeError(name)
        return getattr(self.sampler, name)


class _SeededRandomness:
    """Seed ``numpy``, ``random`` and ``torch`` (CPU) and restore their
    states on exit."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def __enter__(self) -> None:
        self._states = (np.random.get_state(), random.getstate(),
                        torch.get_rng_state())
        np.random.seed(self.seed)
        random.seed(self.seed)
        torch.manual_seed(self.seed)

    def __exit__(self, *exc) -> None:
        np_state, py_state, torch_state = self._states
        np.random.set_state(np_state)
        random.setstate(py_state)
        torch.set_rng_state(torch_state)


class SeededDataset(Dataset):
    """Fetch samples with the random generators seeded by the key.

    Keys are the ``(index, seed)`` pairs of :class:`ResumableSampler`; a
    batch (``__getitems__``, PyTorch's batched fetch) is fetched under the
    seed of its first key, through the wrapped dataset's own
    ``__getitems__`` when it has one (so that e.g.
    :class:`MultiSourceDataset` still checks the batch layout). A plain
    ``int`` key fetches without seeding. Every other attribute
    (``metainfo``, ``pipeline``, ...) is the wrapped dataset's.

    Args:
        dataset (Dataset): The dataset.
    """

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    @staticmethod
    def _split(key: Union[int, SeededKey]) -> Tuple[int, Optional[int]]:
        if isinstance(key, (tuple, list)):
            return int(key[0]), int(key[1])
        return key, None

    def __getitem__(self, key: Union[int, SeededKey]) -> Any:
        index, seed = self._split(key)
        if seed is None:
            return self.dataset[index]
        with _SeededRandomness(seed):
            return self.dataset[index]

    def __getitems__(self, keys: Sequence[Union[int, SeededKey]]) -> List:
        split = [self._split(key) for key in keys]
        indices = [index for index, _ in split]
        seed = split[0][1] if split else None
        fetch = getattr(self.dataset, '__getitems__', None)

        def get() -> List:
            if fetch is not None:
                return fetch(indices)
            return [self.dataset[index] for index in indices]

        if seed is None:
            return get()
        with _SeededRandomness(seed):
            return get()

    def __len__(self) -> int:
        return len(self.dataset)

    def __deepcopy__(self, memo: dict) -> 'SeededDataset':
        # used as it is when MMEngine deep-copies a dataloader config
        return self

    def __getattr__(self, name: str) -> Any:
        if name == 'dataset':  # not set yet (unpickling in a worker)
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.dataset!r})'
