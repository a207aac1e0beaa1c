# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Throughput of a config's own training dataloader (:func:`measure_loader`),
optionally on another data root or with another number of workers
(:func:`train_loader_cfg`).
"""
import copy
import gc
import time
from typing import Any, Dict, Iterator, Optional

from mmengine.config import Config

from .synthetic import split_batch


def _override_dataset(node: Any, data_root: Optional[str],
                      split_file: Optional[str]) -> None:
    """Set ``data_root`` (and KITTI's ``split_file``) of every dataset
    config inside ``node`` (through wrappers and multi-source lists)."""
    if isinstance(node, dict):
        if data_root is not None and 'data_root' in node:
            node['data_root'] = data_root
        if split_file is not None and 'split_file' in node:
            node['split_file'] = split_file
        for key, value in node.items():
            if key != 'pipeline':
                _override_dataset(value, data_root, split_file)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _override_dataset(value, data_root, split_file)


def train_loader_cfg(cfg: Config,
                     batch_size: Optional[int] = None,
                     data_root: Optional[str] = None,
                     split_file: Optional[str] = None,
                     num_workers: Optional[int] = None) -> dict:
    """The config's ``train_dataloader``, pointed at other data.

    Args:
        cfg (Config): The config.
        batch_size (int, optional): Batch size (a ``MultiSourceSampler``'s
            ``batch_size_per_source`` is split to match, see
            :func:`split_batch`). Default: the config's.
        data_root (str, optional): Replaces every ``data_root`` of the
            dataset config (e.g. generated data). Default: the config's.
        split_file (str, optional): Replaces every ``split_file`` (KITTI
            raw; relative paths are looked up under the data root first).
        num_workers (int, optional): Worker processes. Default: the
            config's.

    Returns:
        dict: A dataloader config for ``Runner.build_dataloader``.
    """
    loader = copy.deepcopy(cfg.get('train_dataloader', None))
    if not loader:
        raise KeyError(f'{getattr(cfg, "filename", "the config")} has no '
                       'train_dataloader')
    loader = loader.to_dict() if hasattr(loader, 'to_dict') else dict(loader)
    _override_dataset(loader['dataset'], data_root, split_file)
    if batch_size is not None:
        loader['batch_size'] = int(batch_size)
        sampler = loader.get('sampler', None) or {}
        if 'batch_size_per_source' in sampler:
            preferred = sampler['batch_size_per_source']
            count = len(loader['dataset'].get('sources', []))
            if isinstance(preferred, int):
                preferred = [preferred] * count
            sampler['batch_size_per_source'] = split_batch(
                int(batch_size), list(preferred))
    if num_workers is not None:
        loader['num_workers'] = int(num_workers)
    if not loader.get('num_workers', 0):
        loader['persistent_workers'] = False
    return loader


def _endless(loader: Any) -> Iterator[Any]:
    """Batches of ``loader``, starting a new epoch whenever one ends."""
    while True:
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:
            raise RuntimeError('the training dataloader yields no batch')


def measure_loader(cfg: Config,
                   batch_size: Optional[int] = None,
                   data_root: Optional[str] = None,
                   split_file: Optional[str] = None,
                   num_workers: Optional[int] = None,
                   batches: int = 10,
                   warmup: Optional[int] = None,
                   seed: int = 0) -> Dict[str, Any]:
    """Samples per second of the config's own training dataloader.

    The loader (dataset, pipeline, sampler, workers, collate function) is
    built by MMEngine's ``Runner.build_dataloader`` from
    :func:`train_loader_cfg` and consumed as fast as it produces: after
    ``warmup`` batches (the workers' start and the prefetched backlog),
    ``batches`` batches are timed. A dataset that cannot be built (absent
    data) gives ``available=False`` and the reason.

    Args:
        cfg (Config): The config (modules registered).
        batch_size (int, optional): See :func:`train_loader_cfg`.
        data_root (str, optional): See :func:`train_loader_cfg`.
        split_file (str, optional): See :func:`train_loader_cfg`.
        num_workers (int, optional): See :func:`train_loader_cfg`.
        batches (int): Timed batches. Defaults to 10.
        warmup (int, optional): Untimed batches first. Default:
            ``2 * num_workers + 1`` (the prefetch depth of PyTorch's
            loader, plus one).
        seed (int): Seed of the sampler and workers. Defaults to 0.

    Returns:
        dict: ``available``; when True also ``samples_per_s``,
        ``batch_size``, ``num_workers``, ``batches``, ``samples``,
        ``time_s`` and ``warmup``; when False ``reason``. ``data_root`` is
        the root given (None: the config's).
    """
    from mmengine.runner import Runner
    if batches < 1:
        raise ValueError(f'batches must be >= 1, got {batches}')
    result: Dict[str, Any] = dict(data_root=data_root)
    try:
        loader_cfg = train_loader_cfg(cfg, batch_size, data_root, split_file,
                                      num_workers)
        workers = int(loader_cfg.get('num_workers', 0))
        loader = Runner.build_dataloader(loader_cfg, seed=seed)
    except Exception as err:  # absent or incomplete data
        message = f'{type(err).__name__}: {err}'
        result.update(available=False, reason=message[:500])
        return result
    if warmup is None:
        warmup = 2 * workers + 1
    stream = _endless(loader)
    try:
        for _ in range(warmup):
            next(stream)
        samples = 0
        start = time.perf_counter()
        for _ in range(batches):
            samples += len(next(stream)['inputs'])
        elapsed = time.perf_counter() - start
    finally:
        stream.close()
        del stream, loader
        gc.collect()
    result.update(
        available=True,
        samples_per_s=samples / elapsed,
        batch_size=int(loader_cfg['batch_size']),
        num_workers=workers,
        batches=batches,
        samples=samples,
        time_s=elapsed,
        warmup=warmup)
    return result
