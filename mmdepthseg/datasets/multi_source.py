# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Several datasets (domains), each labelling some tasks (SemiMTL)."""
import bisect
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.structures import BaseDataElement

from mmdepthseg.registry import DATASETS
from mmdepthseg.structures.keys import (GT_DEPTH_MAP, GT_SEG_MAP,
                                        TASK_GT_FIELDS, TASKS)

#: Task names of SemiMTL.
#: Ground truth of each task: (results key before packing, packed field).
TASK_FIELDS: Dict[str, Tuple[str, str]] = {
    'seg': (GT_SEG_MAP, TASK_GT_FIELDS['seg']),
    'depth': (GT_DEPTH_MAP, TASK_GT_FIELDS['depth']),
}
#: Results keys listing the maps of each task (``seg_fields`` ...).
_FIELD_LISTS = {'seg': 'seg_fields', 'depth': 'depth_fields'}
#: Data-info keys ``LoadDepthSegAnnotations`` loads each task from.
TASK_INFO_KEYS: Dict[str, Tuple[str, ...]] = {
    'seg': ('seg_map_paths', 'seg_map_path'),
    'depth': ('depth_map_paths', 'depth_map_path'),
}
#: Where each task's path comes from in the usual dataset configs.
_PREFIX_HINT = {
    'seg': "data_prefix['seg_map_path']",
    'depth': "data_prefix['disp_path'] / ['depth_map_path']",
}
_SOURCE_KEYS = ('dataset', 'domain', 'tasks')


def _palette_key(palette) -> Optional[tuple]:
    return None if palette is None else tuple(
        tuple(int(c) for c in colour) for colour in palette)


@DATASETS.register_module()
class MultiSourceDataset:
    """Concatenated sources, each with a domain index and labelled tasks.

    SemiMTL (Sec. 3, Algorithm 1) trains on K datasets (domains) that label
    only some of the tasks ``'seg'`` / ``'depth'``. Every data info of
    source ``k`` is stamped with ``domain`` (int, 1..K) and
    ``labelled_tasks`` (tuple of task names) before the source's own
    pipeline runs, so ``PackMultiViewInputs`` puts both into the metainfo;
    the wrapper sets them on the packed ``data_samples`` as well (also for
    pipelines packed by other transforms).

    **Unlabelled tasks are dropped, not refused.** After the pipeline the
    wrapper removes the ground truth of every task the source does not
    label (``gt_sem_seg`` / ``gt_depth_map`` of a packed sample,
    ``gt_seg_map`` / ``gt_depth_map`` and their ``seg_fields`` /
    ``depth_fields`` entries of an unpacked one), even if the underlying
    dataset loaded it: no fake labels reach the model. The pipeline itself
    may still use such maps, e.g. Synscapes's class map to set the sky's
    depth target (``DepthTargetTransform(sky_label=10)``) in a depth-only
    source; leave a task's paths out of the source's config to save
    loading it, and keep label-driven augmentation (``cat_max_ratio`` of
    the random crop) off in a source whose labels must stay unseen.

    **Labelled tasks are checked** at ``full_init`` (the first data info of
    the source must hold one of :data:`TASK_INFO_KEYS` of every labelled
    task) and for every loaded sample (the ground-truth field must exist):
    both errors name the source and the missing key.

    Metainfo: the ``classes`` / ``palette`` of the sources that label
    ``'seg'`` must agree (``ValueError`` otherwise); the wrapper's metainfo
    is the first seg-labelled source's (the first source's if none labels
    ``'seg'``), plus ``domain_tasks`` (dict domain -> labelled tasks).

    Training uses :class:`~mmdepthseg.datasets.samplers.MultiSourceSampler`
    (one mini-batch per source and iteration); validation uses the same
    wrapper over every domain's validation set with ``test_mode=True`` and
    MMEngine's ``DefaultSampler``.

    Example::

        dataset = dict(
            type='MultiSourceDataset',
            sources=[
                dict(dataset=cityscapes_seg, domain=1, tasks=('seg', )),
                dict(dataset=cityscapes_depth, domain=2, tasks=('depth', )),
            ])

    Args:
        sources (Sequence[dict]): One dict per source with ``dataset`` (a
            dataset config or a built :class:`~mmengine.dataset.BaseDataset`
            with its pipeline), ``domain`` (int >= 1, unique) and ``tasks``
            (a subset of ``('seg', 'depth')``).
        lazy_init (bool): Defer building the sources' data lists to
            :meth:`full_init`. Defaults to False.
        test_mode (bool, optional): Set ``test_mode`` of every source
            config that does not set it (a source that sets another value,
            or a built source with another value, raises ``ValueError``).
            Defaults to None (sources keep their own).
    """

    def __init__(self,
                 sources: Sequence[dict],
                 lazy_init: bool = False,
                 test_mode: Optional[bool] = None) -> None:
        if not sources:
            raise ValueError('MultiSourceDataset needs at least one source')
        self.datasets: List[BaseDataset] = []
        self.domains: List[int] = []
        self.labelled_tasks: List[Tuple[str, ...]] = []
        for i, source in enumerate(sources):
            dataset, domain, tasks = self._parse_source(i, source)
            self.datasets.append(self._build(i, dataset, test_mode))
            self.domains.append(domain)
            self.labelled_tasks.append(tasks)
        if len(set(self.domains)) != len(self.domains):
            raise ValueError(
                f'source domains must be unique, got {self.domains}')
        self._metainfo = self._merge_metainfo()
        self._batch_layout: Optional[Tuple[int, ...]] = None
        self.cumulative_sizes: List[int] = []
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    # ------------------------------------------------------------------
    # construction
    # ------------------------------------------------------------------
    @staticmethod
    def _parse_source(i: int, source: dict) -> tuple:
        if not isinstance(source, dict) or set(source) != set(_SOURCE_KEYS):
            raise ValueError(
                f'source {i} must be a dict with exactly the keys '
                f'{_SOURCE_KEYS}, got {source!r}')
        domain = source['domain']
        is_int = isinstance(
            domain, (int, np.integer)) and not isinstance(domain, bool)
        if not is_int or domain < 1:
            raise ValueError(
                f'source {i}: domain must be an int >= 1, got {domain!r}')
        tasks = source['tasks']
        tasks = (tasks, ) if isinstance(tasks, str) else tuple(tasks)
        unknown = [t for t in tasks if t not in TASKS]
        if unknown or len(set(tasks)) != len(tasks):
            raise ValueError(f'source {i}: tasks must be distinct names from '
                             f'{TASKS}, got {tasks}')
        # canonical order, so equal sets compare equal
        tasks = tuple(t for t in TASKS if t in tasks)
        return source['dataset'], int(domain), tasks

    @staticmethod
    def _build(i: int, dataset: Union[dict, BaseDataset],
               test_mode: Optional[bool]) -> BaseDataset:
        if isinstance(dataset, dict):
            cfg = copy.deepcopy(dataset)
            if test_mode is not None:
                if cfg.setdefault('test_mode', test_mode) != test_mode:
                    raise ValueError(
                        f'source {i} sets test_mode={cfg["test_mode"]} but '
                        f'the wrapper test_mode={test_mode}')
            dataset = DATASETS.build(cfg)
        if not isinstance(dataset, BaseDataset):
            raise TypeError(
                f'source {i}: dataset must be a config dict or an mmengine '
                f'BaseDataset, got {type(dataset).__name__}')
        if test_mode is not None and dataset.test_mode != test_mode:
            raise ValueError(f'source {i} ({type(dataset).__name__}) has '
                             f'test_mode={dataset.test_mode} but the wrapper '
                             f'test_mode={test_mode}')
        return dataset

    def _describe(self, i: int) -> str:
        return (f'source {i} (domain {self.domains[i]}, '
                f'{type(self.datasets[i]).__name__}, labelled tasks '
                f'{self.labelled_tasks[i]})')

    def _merge_metainfo(self) -> dict:
        seg_sources = [
            i for i, tasks in enumerate(self.labelled_tasks) if 'seg' in tasks
        ]
        ref = seg_sources[0] if seg_sources else 0
        meta = copy.deepcopy(self.datasets[ref].metainfo)
        for i in seg_sources[1:]:
            other = self.datasets[i].metainfo
            for key, norm in (('classes', tuple), ('palette', _palette_key)):
                a, b = meta.get(key), other.get(key)
                if (a is None) != (b is None) or (a is not None
                                                  and norm(a) != norm(b)):
                    raise ValueError(
                        f'the segmentation-labelled sources must share '
                        f'{key}: {self._describe(ref)} has {a}, '
                        f'{self._describe(i)} has {b}')
        meta['domain_tasks'] = dict(zip(self.domains, self.labelled_tasks))
        return meta

    def full_init(self) -> None:
        """Initialise every source and check its labels (once)."""
        if self._fully_initialized:
            return
        sizes = []
        for i, dataset in enumerate(self.datasets):
            dataset.full_init()
            if len(dataset) == 0:
                raise ValueError(f'{self._describe(i)} has no samples')
            info = dataset.get_data_info(0)
            for task in self.labelled_tasks[i]:
                if not any(info.get(k) for k in TASK_INFO_KEYS[task]):
                    raise KeyError(
                        f'{self._describe(i)} labels {task!r} but its data '
                        f'info (e.g. {info.get("img_path")}) has none of '
                        f'{TASK_INFO_KEYS[task]}; give the dataset '
                        f'{_PREFIX_HINT[task]} or drop {task!r} from tasks')
            sizes.append(len(dataset))
        self.cumulative_sizes = np.cumsum(sizes).tolist()
        self._fully_initialized = True

    # ------------------------------------------------------------------
    # indexing
    # ------------------------------------------------------------------
    @property
    def metainfo(self) -> dict:
        """Meta information (a copy): classes, palette, domain_tasks."""
        return copy.deepcopy(self._metainfo)

    @property
    def source_sizes(self) -> List[int]:
        """Number of samples of every source, in source order."""
        self.full_init()
        return [len(d) for d in self.datasets]

    @property
    def source_offsets(self) -> List[int]:
        """Global index of the first sample of every source."""
        self.full_init()
        return [0] + self.cumulative_sizes[:-1]

    def __len__(self) -> int:
        self.full_init()
        return self.cumulative_sizes[-1]

    def source_of(self, idx: int) -> Tuple[int, int]:
        """(source index, index within the source) of global ``idx``."""
        self.full_init()
        if not -len(self) <= idx < len(self):
            raise IndexError(
                f'index {idx} out of range for {len(self)} samples')
        idx = int(idx) % len(self)
        source = bisect.bisect_right(self.cumulative_sizes, idx)
        return source, idx - self.source_offsets[source]

    def get_data_info(self, idx: int) -> dict:
        """The data info of global ``idx`` with ``domain`` and
        ``labelled_tasks`` added."""
        source, sample_idx = self.source_of(idx)
        return self._stamped_info(source, sample_idx)

    def _stamped_info(self, source: int, sample_idx: int) -> dict:
        info = self.datasets[source].get_data_info(sample_idx)
        info['domain'] = self.domains[source]
        info['labelled_tasks'] = self.labelled_tasks[source]
        return info

    def __getitem__(self, idx: int) -> dict:
        """Run the source's pipeline on the stamped data info of ``idx``.

        As :class:`~mmengine.dataset.BaseDataset`: in training a ``None``
        from the pipeline is retried (``max_refetch`` times) with another
        random sample of the **same** source, in ``test_mode`` it raises.
        """
        source, sample_idx = self.source_of(idx)
        dataset = self.datasets[source]
        if dataset.test_mode:
            data = dataset.pipeline(self._stamped_info(source, sample_idx))
            if data is None:
                raise RuntimeError(f'{self._describe(source)}: the test '
                                   f'pipeline returned None for sample '
                                   f'{sample_idx}')
            return self._finalise(source, data)
        for _ in range(dataset.max_refetch + 1):
            data = dataset.pipeline(self._stamped_info(source, sample_idx))
            if data is not None:
                return self._finalise(source, data)
            sample_idx = dataset._rand_another()
        raise RuntimeError(
            f'{self._describe(source)}: no valid sample after '
            f'{dataset.max_refetch} re-fetches (the pipeline keeps '
            'returning None)')

    def _finalise(self, source: int, data: dict) -> dict:
        """Drop the unlabelled tasks' ground truth, check the labelled
        ones', stamp the packed sample (or the unpacked results)."""
        tasks = self.labelled_tasks[source]
        sample = data.get('data_samples')
        packed = isinstance(sample, BaseDataElement)
        holder = sample if packed else data
        path = (sample.metainfo if packed else data).get('img_path')
        for task in TASKS:
            name = TASK_FIELDS[task][1 if packed else 0]
            if task in tasks:
                if name not in holder:
                    raise KeyError(
                        f'{self._describe(source)}: sample {path} has no '
                        f'{name!r} after the pipeline; load its labels '
                        f'(data info keys {TASK_INFO_KEYS[task]}, '
                        f'LoadDepthSegAnnotations) or drop {task!r} from '
                        'tasks')
            elif name in holder:
                if packed:
                    delattr(sample, name)
                else:
                    del data[name]
                    fields = data.get(_FIELD_LISTS[task]) or []
                    if name in fields:
                        fields.remove(name)
        stamp = dict(domain=self.domains[source], labelled_tasks=tasks)
        if packed:
            sample.set_metainfo(stamp)
        else:
            data.update(stamp)
        return data

    # ------------------------------------------------------------------
    # batches (MultiSourceSampler)
    # ------------------------------------------------------------------
    def expect_batch_layout(self,
                            batch_size_per_source: Sequence[int]) -> None:
        """Declare the batch composition, checked by :meth:`__getitems__`.

        Called by ``MultiSourceSampler``: every batch the dataloader asks
        for must then hold ``batch_size_per_source[k]`` samples of source
        ``k``, in source order (i.e. the dataloader's ``batch_size`` equals
        their sum).
        """
        layout = tuple(int(b) for b in batch_size_per_source)
        if len(layout) != len(self.datasets):
            raise ValueError(f'{len(layout)} batch sizes for '
                             f'{len(self.datasets)} sources')
        self._batch_layout = layout

    def __getitems__(self, indices: Sequence[int]) -> List[dict]:
        """Fetch a batch (PyTorch's batched fetch), checking its layout.

        Raises:
            ValueError: The batch does not hold one mini-batch per source as
                declared by :meth:`expect_batch_layout`, typically because
                the dataloader's ``batch_size`` differs from the sampler's
                ``sum(batch_size_per_source)``.
        """
        if self._batch_layout is not None:
            layout = self._batch_layout
            if len(indices) != sum(layout):
                raise ValueError(
                    f"the dataloader's batch_size is {len(indices)} but "
                    f'MultiSourceSampler(batch_size_per_source='
                    f'{list(layout)}) yields blocks of {sum(layout)} '
                    f'samples (one mini-batch per source): set the '
                    f"dataloader's batch_size to {sum(layout)}")
            got = [self.source_of(i)[0] for i in indices]
            want = [k for k, b in enumerate(layout) for _ in range(b)]
            if got != want:
                raise ValueError(
                    f'batch of sources {got} does not follow the layout '
                    f'{list(layout)} of MultiSourceSampler')
        return [self[i] for i in indices]

    def __repr__(self) -> str:
        sources = ', '.join(
            f'domain {d}: {type(ds).__name__} {t} x{len(ds)}'
            for d, t, ds in zip(self.domains, self.labelled_tasks,
                                self.datasets))
        return f'{self.__class__.__name__}({sources})'
