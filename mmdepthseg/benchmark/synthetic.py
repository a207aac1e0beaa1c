# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Synthetic batches with every field of a config's training batches.

The view names, pseudo labels, domains and labelled tasks of the config's
training set (:func:`batch_layout`) and a batch of random images with
KITTI-like intrinsics and a stereo baseline in that layout
(:func:`make_synthetic_batch`), so no dataset is needed to time a model.
"""
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from torch import nn

from mmdepthseg.datasets.kitti_raw import MONODEPTH2_NORMALISED_K
from mmdepthseg.datasets.utils import normalised_to_absolute_intrinsics
from mmdepthseg.structures import view_names_for_frame_ids

#: Stereo baseline of the synthetic samples (KITTI's rig), metres.
KITTI_BASELINE = 0.54
_TASKS = ('seg', 'depth')


def _dataset_cfg(cfg: Config) -> Optional[dict]:
    """The training dataset's config, unwrapping dataset wrappers.

    ``RepeatDataset`` / ``ClassBalancedDataset`` (``dataset``),
    ``ConcatDataset`` (``datasets``: the first) and ``MultiSourceDataset``
    (``sources``: the first source's ``dataset``) are looked through.
    """
    loader = cfg.get('train_dataloader', None)
    dataset = loader.get('dataset', None) if loader else None
    while dataset is not None:
        if 'frame_ids' in dataset or 'views' in dataset:
            return dataset
        if 'dataset' in dataset:  # RepeatDataset, ClassBalancedDataset
            dataset = dataset['dataset']
        elif dataset.get('datasets'):  # ConcatDataset: the first one
            dataset = dataset['datasets'][0]
        elif dataset.get('sources'):  # MultiSourceDataset: the first one
            dataset = dataset['sources'][0].get('dataset', None)
        else:
            return dataset
    return None


#: Kept under its old name for callers of the benchmark package.
view_names_from_frame_ids = view_names_for_frame_ids


def infer_view_names(cfg: Config,
                     num_views: Optional[int] = None) -> Tuple[str, ...]:
    """Names of the views a training sample of ``cfg`` holds.

    Read from ``train_dataloader.dataset`` (through dataset wrappers):
    ``frame_ids`` (KITTI raw) or ``views`` (Cityscapes). Configs without
    either fall back to ``num_views`` (default 1) generic names.

    Args:
        cfg (Config): The config.
        num_views (int, optional): Number of views when the config does not
            say; also checked against the config when it does.

    Returns:
        tuple[str]: One name per view, the reference view first.
    """
    dataset = _dataset_cfg(cfg)
    names = None
    if dataset is not None and 'frame_ids' in dataset:
        names = view_names_from_frame_ids(tuple(dataset['frame_ids']))
    elif dataset is not None and 'views' in dataset:
        names = tuple(dataset['views'])
    if names is None:
        count = 1 if num_views is None else int(num_views)
        if count < 1:
            raise ValueError(f'num_views must be >= 1, got {num_views}')
        return ('l', ) + tuple(f'v{i}' for i in range(1, count))
    if num_views is not None and num_views != len(names):
        raise ValueError(
            f'--views {num_views} disagrees with the config, whose '
            f'train_dataloader.dataset gives {len(names)} views {names}')
    return names


def split_batch(batch_size: int, preferred: Sequence[int]) -> List[int]:
    """Samples per source of a multi-source batch of ``batch_size``.

    ``preferred`` (the sampler's ``batch_size_per_source``) is kept when it
    sums to ``batch_size``; otherwise the batch is split evenly, the first
    sources taking the remainder.

    Args:
        batch_size (int): Samples in the batch.
        preferred (Sequence[int]): The config's samples per source (K
            entries).

    Returns:
        list[int]: K counts summing to ``batch_size``, each >= 1.
    """
    num = len(preferred)
    if num < 1:
        raise ValueError('split_batch needs at least one source')
    if batch_size < num:
        raise ValueError(
            f'a multi-source batch needs one sample per source: batch size '
            f'{batch_size} < {num} sources')
    if sum(preferred) == batch_size and min(preferred) >= 1:
        return [int(p) for p in preferred]
    base, rest = divmod(batch_size, num)
    return [base + (1 if i < rest else 0) for i in range(num)]


def _pipeline_types(dataset: Optional[dict]) -> Dict[str, dict]:
    """Transform configs of a dataset config's pipeline, by type name."""
    steps = (dataset or {}).get('pipeline', None) or []
    return {
        str(step.get('type')): step
        for step in steps if isinstance(step, dict)
    }


def batch_layout(cfg: Config,
                 model: nn.Module,
                 batch_size: int,
                 num_views: Optional[int] = None,
                 train: bool = True) -> Dict[str, Any]:
    """The keyword arguments of :func:`make_synthetic_batch` for a config.

    Read from the training dataloader config:

    - ``view_names``: :func:`infer_view_names`;
    - ``num_classes``: ``model.seg_head.num_classes`` (default 19);
    - ``pseudo_depth`` and ``map_views``: a pipeline with
      ``LoadPseudoDepth`` (Pseudo-MTL) trains on per-view pseudo depth,
      confidence and labels of every view (``map_views = V``); otherwise
      maps are given for the reference view (``map_views = 1``);
    - ``inverse_depth``: a ``DepthTargetTransform`` with
      ``mode='inverse'`` makes ``gt_depth_map`` inverse depth;
    - ``sources``: a ``MultiSourceDataset`` gives every sample the
      ``domain`` and ``labelled_tasks`` of its source, the batch split
      between the sources in source order as the ``MultiSourceSampler``
      does (:func:`split_batch`); training batches only (inference does
      not read them).

    Args:
        cfg (Config): The config.
        model (nn.Module): The built model.
        batch_size (int): Samples in the batch.
        num_views (int, optional): See :func:`infer_view_names`.
        train (bool): A training batch (else an inference batch).
            Defaults to True.

    Returns:
        dict: ``view_names``, ``num_classes``, ``map_views``,
        ``pseudo_depth``, ``inverse_depth`` and ``sources`` (None, or one
        ``(domain, tasks)`` per sample).
    """
    view_names = infer_view_names(cfg, num_views)
    seg_head = getattr(model, 'seg_head', None)
    num_classes = int(getattr(seg_head, 'num_classes', 19) or 19)
    dataset = _dataset_cfg(cfg)
    steps = _pipeline_types(dataset)
    pseudo_depth = 'LoadPseudoDepth' in steps
    target = steps.get('DepthTargetTransform', {})
    inverse_depth = target.get('mode', None) == 'inverse'
    sources = None
    loader = cfg.get('train_dataloader', None) or {}
    top = loader.get('dataset', None) or {}
    if train and top.get('sources'):
        entries = [(int(s['domain']), tuple(s.get('tasks', _TASKS)))
                   for s in top['sources']]
        sampler = loader.get('sampler', None) or {}
        preferred = sampler.get('batch_size_per_source', 1)
        if isinstance(preferred, int):
            preferred = [preferred] * len(entries)
        counts = split_batch(batch_size, list(preferred))
        sources = [e for e, c in zip(entries, counts) for _ in range(c)]
    return dict(
        view_names=tuple(view_names),
        num_classes=num_classes,
        map_views=len(view_names) if pseudo_depth else 1,
        pseudo_depth=pseudo_depth,
        inverse_depth=inverse_depth,
        sources=sources)


def make_synthetic_batch(
    batch_size: int,
    shape: Tuple[int, int],
    view_names: Sequence[str],
    num_classes: int = 19,
    seed: int = 0,
    map_views: int = 1,
    pseudo_depth: bool = False,
    inverse_depth: bool = False,
    sources: Optional[Sequence[Tuple[int, Sequence[str]]]] = None
) -> Dict[str, list]:
    """A collated batch in the packed layout of the data contract.

    Args:
        batch_size (int): Number of samples B.
        shape (tuple[int, int]): Image size ``(H, W)``.
        view_names (Sequence[str]): Names of the V views.
        num_classes (int): Labels are drawn from ``0 .. num_classes - 1``.
        seed (int): Seed of the random content.
        map_views (int): V', the views the per-view maps (labels, depth,
            pseudo depth, confidence) are given for. Defaults to 1.
        pseudo_depth (bool): Add ``gt_pseudo_depth`` (metres) and
            ``gt_confidence`` (in [0, 1]). Defaults to False.
        inverse_depth (bool): ``gt_depth_map`` holds inverse depth (1/m,
            SemiMTL's target) instead of metres. Defaults to False.
        sources (Sequence[tuple[int, Sequence[str]]], optional): One
            ``(domain, labelled_tasks)`` per sample (multi-source batches):
            set as metainfo, and only the labelled tasks' ground truth is
            kept. Default: None (every field, no domain).

    Returns:
        dict: ``inputs``: list of B uint8 ``(3V, H, W)`` tensors (BGR);
        ``data_samples``: list of B ``SegDataSample`` with ``gt_sem_seg``
        (LongTensor ``(V', H, W)``), ``gt_depth_map`` (``(V', H, W)``,
        metres in [1, 80] or their inverse), ``unaug_img`` (a copy of the
        input), optionally ``gt_pseudo_depth`` / ``gt_confidence``, and the
        metainfo ``intrinsics`` (monodepth2's KITTI intrinsics at
        ``(H, W)``), ``baseline``, ``stereo_T``, ``img_shape``,
        ``ori_shape``, ``pad_shape``, ``view_names`` and the other keys a
        loader sets (plus ``domain`` / ``labelled_tasks`` with ``sources``).
    """
    h, w = (int(s) for s in shape)
    if h < 1 or w < 1 or batch_size < 1:
        raise ValueError(f'need a positive shape and batch size, got shape '
                         f'{shape} and batch size {batch_size}')
    views = len(view_names)
    if not 1 <= map_views <= views:
        raise ValueError(f'map_views must be in [1, {views}] (the number of '
                         f'views), got {map_views}')
    if sources is not None and len(sources) != batch_size:
        raise ValueError(f'sources needs one (domain, tasks) per sample: '
                         f'got {len(sources)} for batch size {batch_size}')
    gen = torch.Generator().manual_seed(seed)
    intrinsics = normalised_to_absolute_intrinsics(MONODEPTH2_NORMALISED_K, w,
                                                   h)
    stereo_t = np.eye(4, dtype=np.float32)
    stereo_t[0, 3] = -KITTI_BASELINE
    inputs, samples = [], []
    for i in range(batch_size):
        img = torch.randint(
            0, 256, (3 * views, h, w), generator=gen, dtype=torch.uint8)
        labels = torch.randint(
            0,
            num_classes, (map_views, h, w),
            generator=gen,
            dtype=torch.int64)
        depth = 1.0 + 79.0 * torch.rand((map_views, h, w), generator=gen)
        fields = dict(
            gt_sem_seg=PixelData(data=labels),
            gt_depth_map=PixelData(data=1.0 /
                                   depth if inverse_depth else depth),
            unaug_img=PixelData(data=img.clone()))
        if pseudo_depth:
            fields['gt_pseudo_depth'] = PixelData(data=depth.clone())
            fields['gt_confidence'] = PixelData(
                data=torch.rand((map_views, h, w), generator=gen))
        paths = [f'synthetic/{name}/{i:06d}.png' for name in view_names]
        meta = dict(
            img_path=paths[0],
            img_paths=paths,
            view_names=tuple(view_names),
            intrinsics=intrinsics.copy(),
            baseline=KITTI_BASELINE,
            stereo_T=stereo_t.copy(),
            ori_shape=(h, w),
            img_shape=(h, w),
            pad_shape=(h, w),
            scale_factor=(1.0, 1.0),
            flip=False,
            flip_direction=None,
            reduce_zero_label=False)
        if sources is not None:
            domain, tasks = sources[i]
            tasks = tuple(t for t in _TASKS if t in tuple(tasks))
            meta.update(domain=int(domain), labelled_tasks=tasks)
            if 'seg' not in tasks:
                del fields['gt_sem_seg']
            if 'depth' not in tasks:
                del fields['gt_depth_map']
        sample = SegDataSample()
        sample.set_data(fields)
        sample.set_metainfo(meta)
        inputs.append(img)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)
