# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Infinite sampler drawing one mini-batch from every source (SemiMTL)."""
import itertools
from typing import Iterator, List, Optional, Sequence, Union

import numpy as np
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler

from mmdepthseg.registry import DATA_SAMPLERS
from ..multi_source import MultiSourceDataset


@DATA_SAMPLERS.register_module()
class MultiSourceSampler(Sampler):
    """Yield blocks holding a fixed number of samples of every source.

    Algorithm 1 of SemiMTL loops over the K datasets in every iteration,
    drawing one mini-batch from each. This sampler yields global indices of
    a :class:`~mmdepthseg.datasets.multi_source.MultiSourceDataset` in
    consecutive blocks of ``sum(batch_size_per_source)`` indices: the first
    ``batch_size_per_source[0]`` from source 0, then
    ``batch_size_per_source[1]`` from source 1, and so on (source order).
    **The dataloader's ``batch_size`` must equal that sum**, so that every
    batch is one block; the dataset checks this when a batch is fetched
    and names both numbers otherwise. Like MMEngine's ``InfiniteSampler``
    it never ends (use an iteration-based loop).

    Each source ``k`` has its own infinite stream of permutations of its
    indices (seeded by ``(seed, k)``; identity order without shuffle),
    split between the DDP ranks as ``InfiniteSampler`` splits its stream:
    rank ``r`` of ``W`` takes elements ``r, r + W, ...``. Every rank thus
    gets its disjoint share of every source, and the global batch of an
    iteration holds ``W * batch_size_per_source[k]`` samples of source
    ``k``.

    Config (MMEngine ``Runner``)::

        train_dataloader = dict(
            batch_size=4,  # = 2 + 2
            sampler=dict(type='MultiSourceSampler',
                         batch_size_per_source=[2, 2]),
            dataset=dict(type='MultiSourceDataset', sources=[...]))

    Args:
        dataset (MultiSourceDataset): The multi-source dataset; its domains
            must be exactly 1..K (the discriminators' classes).
        batch_size_per_source (int | Sequence[int]): Samples per source in
            every block; an int applies to every source, a sequence needs
            one entry per source.
        shuffle (bool): Shuffle every source. Defaults to True.
        seed (int, optional): Random seed, the same on every rank. None
            draws one and synchronises it across ranks.
    """

    def __init__(self,
                 dataset: MultiSourceDataset,
                 batch_size_per_source: Union[int, Sequence[int]],
                 shuffle: bool = True,
                 seed: Optional[int] = None) -> None:
        if not isinstance(dataset, MultiSourceDataset):
            raise TypeError('MultiSourceSampler needs a MultiSourceDataset, '
                            f'got {type(dataset).__name__}')
        num_sources = len(dataset.datasets)
        if isinstance(batch_size_per_source, int):
            batch_size_per_source = [batch_size_per_source] * num_sources
        batch_sizes = [int(b) for b in batch_size_per_source]
        if len(batch_sizes) != num_sources:
            raise ValueError(
                f'batch_size_per_source has {len(batch_sizes)} entries '
                f'{batch_sizes} but the dataset has {num_sources} sources '
                f'(domains {dataset.domains})')
        if min(batch_sizes) < 1:
            raise ValueError('every batch_size_per_source must be >= 1, got '
                             f'{batch_sizes}')
        if sorted(dataset.domains) != list(range(1, num_sources + 1)):
            raise ValueError(f'training domains must be 1..{num_sources}, got '
                             f'{dataset.domains}')
        self.rank, self.world_size = get_dist_info()
        self.dataset = dataset
        self.batch_size_per_source = batch_sizes
        self.batch_size = sum(batch_sizes)
        self.shuffle = shuffle
        self.seed = sync_random_seed() if seed is None else int(seed)
        self.sizes = dataset.source_sizes
        self.offsets = dataset.source_offsets
        dataset.expect_batch_layout(batch_sizes)

    def _source_indices(self, k: int) -> Iterator[int]:
        """This rank's infinite share of source ``k`` (local indices)."""

        def stream() -> Iterator[int]:
            rng = np.random.default_rng([self.seed & 0xFFFFFFFFFFFFFFFF, k])
            while True:
                if self.shuffle:
                    yield from rng.permutation(self.sizes[k]).tolist()
                else:
                    yield from range(self.sizes[k])

        return itertools.islice(stream(), self.rank, None, self.world_size)

    def _blocks(self) -> Iterator[int]:
        streams: List[Iterator[int]] = [
            self._source_indices(k) for k in range(len(self.sizes))
        ]
        while True:
            for stream, offset, num in zip(streams, self.offsets,
                                           self.batch_size_per_source):
                for local in itertools.islice(stream, num):
                    yield offset + local

    def __iter__(self) -> Iterator[int]:
        """Yield global indices, block after block, forever.

        Every ``iter()`` starts the stream afresh (a pure function of the
        seed), so a new dataloader iterator (a resumed run, persistent or
        restarted workers) sees the same stream; indices prefetched by a
        discarded iterator are not lost from it.
        """
        yield from self._blocks()

    def __len__(self) -> int:
        """Size of the dataset (as ``InfiniteSampler``)."""
        return len(self.dataset)

    def set_epoch(self, epoch: int) -> None:
        """Not used by iteration-based training."""
