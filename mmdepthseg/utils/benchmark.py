# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Speed, FLOPs, utilisation, memory and loader throughput of a config.

The model part needs no dataset: it synthesises a batch that has every
field of the data contract (``docs/en/data_contract.md``) the config's
training set produces (the number of views, per-view pseudo labels of
stereo configs, the ``domain`` / ``labelled_tasks`` of multi-source
SemiMTL batches; see :func:`batch_layout`) and runs it through the model's
own data preprocessor, exactly as the runner does:

- **train**: ``model.train_step(batch, optim_wrapper)``, i.e. preprocessing,
  forward in ``'loss'`` mode, backward and the optimizer step (the wrapper is
  built from ``cfg.optim_wrapper``; learning-rate schedulers are not run),
  followed by ``model.discriminator_step`` where the config trains
  discriminators with ``DiscriminatorStepHook`` (SemiMTL);
- **infer**: ``model.test_step(batch)`` (preprocessing + ``predict``) in eval
  mode under ``torch.no_grad()``.

Measured per mode (:func:`benchmark`):

- wall time (``time.perf_counter``, ``torch.cuda.synchronize`` on a GPU)
  over ``repeat`` runs after ``warmup`` runs; copying the synthetic batch
  (the preprocessor modifies samples in place) is not timed;
- peak memory growth over the memory in use before the mode
  (:class:`PeakMemoryMeter`);
- FLOPs of one step, counted by ``torch.utils.flop_counter.FlopCounterMode``
  in a separate, untimed run (:func:`count_flops`): **2 FLOPs per
  multiply-add**, forward and backward of every matmul / convolution
  (element-wise work, the optimizer included, counts 0), with a
  per-module breakdown.

:func:`run_benchmark` adds the device's own limit, the fp32 matmul
throughput measured in the same run (:func:`measure_matmul_peak`), the
**utilisation** = achieved FLOP/s / that peak (:func:`utilisation`), the
``amp`` (``torch.autocast``: bfloat16 on the CPU, float16 with loss
scaling on CUDA) and ``channels_last`` settings, and the throughput of the
config's own training dataloader (:func:`measure_loader`) next to what the
training step consumes, and the time of the config's depth evaluation over
a test set of synthetic predictions
(:func:`~mmdepthseg.utils.benchmark_eval.measure_depth_evaluation`).
"""
import copy
import ctypes
import datetime
import gc
import json
import os
import platform
import resource
import statistics
import sys
import time
from contextlib import contextmanager, nullcontext
from typing import (Any, Callable, Dict, Iterator, List, Optional, Sequence,
                    Tuple, Union)

import numpy as np
import torch
from mmengine.config import Config
from mmengine.optim import (AmpOptimWrapper, OptimWrapper, OptimWrapperDict,
                            build_optim_wrapper)
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from mmdepthseg.datasets.kitti_raw import MONODEPTH2_NORMALISED_K
from mmdepthseg.datasets.utils import normalised_to_absolute_intrinsics
from mmdepthseg.registry import MODELS
from .benchmark_eval import (EIGEN_TEST_FRAMES, eval_gt_layout,
                             format_evaluation, measure_depth_evaluation)
from .io import atomic_open

#: Modes :func:`benchmark` knows.
MODES = ('train', 'infer')
#: Settings :func:`run_benchmark` can measure next to the default one.
SETTINGS = ('amp', 'channels_last', 'amp+channels_last')
#: Stereo baseline of the synthetic samples (KITTI's rig), metres.
KITTI_BASELINE = 0.54
#: Side of the square matrices of the matmul peak.
PEAK_MATMUL_SIZE = 2048
_MIB = 1024.0**2
_TASKS = ('seg', 'depth')


# -- views, batch layout and synthetic batches --
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


def view_names_from_frame_ids(frame_ids: Sequence[Any],
                              side: str = 'l') -> Tuple[str, ...]:
    """View names of KITTI-style ``frame_ids`` (as ``KittiRawDataset``).

    Args:
        frame_ids (Sequence[int | str]): e.g. ``(0, -1, 1)`` or ``(0, 's')``.
        side (str): Reference camera, ``'l'`` or ``'r'``. Defaults to 'l'.

    Returns:
        tuple[str]: e.g. ``('t', 't-1', 't+1')``, ``('l', 'r')``.
    """
    temporal = any(isinstance(f, int) and f != 0 for f in frame_ids)
    other = 'r' if side == 'l' else 'l'
    if not temporal:
        return tuple(side if f == 0 else other for f in frame_ids)
    return tuple('s' if f == 's' else ('t' if f == 0 else f't{f:+d}')
                 for f in frame_ids)


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


# -- memory and time --
def _current_rss_bytes() -> Optional[int]:
    """Resident set size now (Linux ``/proc/self/statm``), else None."""
    try:
        with open('/proc/self/statm') as f:
            resident_pages = int(f.read().split()[1])
        return resident_pages * os.sysconf('SC_PAGE_SIZE')
    except (OSError, ValueError, IndexError):
        return None


def _peak_rss_bytes() -> int:
    """The process's peak resident set (``getrusage`` ``ru_maxrss``)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # kilobytes on Linux, bytes on macOS
    return int(peak) if sys.platform == 'darwin' else int(peak) * 1024


def _release_free_heap() -> None:
    """Give memory freed by earlier work back to the OS (glibc only).

    Without it, memory the allocator kept from an earlier mode would be
    counted in the next mode's baseline and hide that mode's growth.
    """
    try:
        ctypes.CDLL('libc.so.6').malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (Linux >= 4.0), if permitted.

    Writing ``5`` to ``/proc/self/clear_refs`` resets the high-water mark
    that ``ru_maxrss`` reports, so each mode gets its own peak.

    Returns:
        bool: Whether the mark was reset.
    """
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


class PeakMemoryMeter:
    """Peak memory of the code run inside ``with`` (CPU or CUDA).

    - CUDA: ``torch.cuda.reset_peak_memory_stats`` on entry;
      ``baseline_mib`` = ``memory_allocated`` on entry, ``peak_mib`` =
      ``max_memory_allocated`` on exit (tensors only, not the caching
      allocator's reserve, which is reported as ``peak_reserved_mib``).
    - CPU: the resident set. On entry, freed heap memory is returned to the
      OS (glibc ``malloc_trim``) and ``baseline_mib`` is the current RSS;
      ``peak_mib`` is the process's peak RSS (``ru_maxrss``) on exit. The
      peak mark is reset on entry where Linux allows it (``peak_reset`` True);
      otherwise ``peak_mib`` is the peak of the whole process so far and may
      come from earlier work.

    ``growth_mib`` = ``peak_mib - baseline_mib`` (>= 0) is the memory the
    measured code needed on top of what was resident before it (the model,
    and for a later mode what earlier modes left), i.e. the step's own
    activations, gradients, optimizer state and workspace.

    Args:
        device (torch.device | str): The device whose memory is measured.
    """

    def __init__(self, device: Any) -> None:
        self.device = torch.device(device)
        self.result: Dict[str, Any] = {}

    def __enter__(self) -> 'PeakMemoryMeter':
        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._baseline = torch.cuda.memory_allocated(self.device)
        else:
            gc.collect()
            _release_free_heap()
            self._peak_reset = _reset_peak_rss()
            current = _current_rss_bytes()
            self._baseline = current if current is not None \
                else _peak_rss_bytes()
        return self

    def __exit__(self, *exc_info) -> None:
        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)
            peak = torch.cuda.max_memory_allocated(self.device)
            self.result = dict(
                kind='cuda_max_memory_allocated',
                baseline_mib=self._baseline / _MIB,
                peak_mib=peak / _MIB,
                growth_mib=max(0, peak - self._baseline) / _MIB,
                peak_reserved_mib=torch.cuda.max_memory_reserved(self.device) /
                _MIB)
        else:
            peak = _peak_rss_bytes()
            self.result = dict(
                kind='cpu_peak_rss',
                baseline_mib=self._baseline / _MIB,
                peak_mib=peak / _MIB,
                growth_mib=max(0, peak - self._baseline) / _MIB,
                peak_reset=self._peak_reset)


def _synchronize(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def time_step(step: Callable[[Any], Any],
              make_input: Callable[[], Any],
              warmup: int,
              repeat: int,
              device: Any = 'cpu') -> List[float]:
    """Wall times of ``step(make_input())``; ``make_input`` is not timed.

    Args:
        step (Callable): The work to time, called with one input.
        make_input (Callable): Makes a fresh input for every call.
        warmup (int): Untimed calls first.
        repeat (int): Timed calls (>= 1).
        device (torch.device | str): Synchronised around each timed call
            when it is a CUDA device.

    Returns:
        list[float]: ``repeat`` durations in seconds.
    """
    if warmup < 0 or repeat < 1:
        raise ValueError(f'need warmup >= 0 and repeat >= 1, got warmup='
                         f'{warmup} and repeat={repeat}')
    device = torch.device(device)
    for _ in range(warmup):
        step(make_input())
    times = []
    for _ in range(repeat):
        data = make_input()
        _synchronize(device)
        start = time.perf_counter()
        step(data)
        _synchronize(device)
        times.append(time.perf_counter() - start)
    return times


def summarise_times(times: Sequence[float]) -> Dict[str, Any]:
    """Median / min / max / mean of durations (seconds)."""
    return dict(
        median=statistics.median(times),
        min=min(times),
        max=max(times),
        mean=statistics.fmean(times),
        runs=list(times))


def _param_checksums(model: nn.Module) -> torch.Tensor:
    """One float64 sum per trainable parameter (cheap change detector)."""
    with torch.no_grad():
        sums = [
            p.detach().double().sum() for p in model.parameters()
            if p.requires_grad
        ]
    return torch.stack(sums).cpu() if sums else torch.zeros(0)


# -- FLOPs --
#: Name of the bucket holding the backward FLOPs in :func:`count_flops`.
BACKWARD = '(backward)'


class _ForwardAttributingFlopCounter(FlopCounterMode):
    """``FlopCounterMode`` that attributes backward FLOPs to no module.

    ``FlopCounterMode`` credits each op to every module its
    ``ModuleTracker`` holds open. In the forward pass that set is exact
    (forward pre/post hooks); in the backward pass a module stays open
    until the gradients of *all* its inputs exist, so a decoder fed by
    several encoder stages is still open while the encoder's backward
    runs, and the encoder's gradient FLOPs are credited to it too (the
    children of a model can then add up to more than the whole). Here the
    backward ops count towards the total and a :data:`BACKWARD` bucket
    only; modules get their exact forward FLOPs.
    """

    def _count_flops(self, func_packet, out, args, kwargs):
        if func_packet in self.flop_registry and self.mod_tracker.is_bw:
            flops = self.flop_registry[func_packet](
                *args, **kwargs, out_val=out)
            self.flop_counts['Global'][func_packet] += flops
            self.flop_counts[BACKWARD][func_packet] += flops
            return out
        return super()._count_flops(func_packet, out, args, kwargs)


def _module_totals(
        raw: Dict[Tuple[str, ...], int]) -> Dict[Tuple[str, ...], int]:
    """Forward FLOPs of every module and of its ancestors.

    A module whose methods are called directly (``head.loss(...)`` runs
    ``self.forward`` without ``__call__``) is never entered by the module
    tracker, so only its called descendants have counts; its total is the
    sum of its children's totals.

    Args:
        raw (dict[tuple[str, ...], int]): Path -> FLOPs of the modules the
            tracker entered.

    Returns:
        dict[tuple[str, ...], int]: Path -> FLOPs of those modules and of
        all their ancestors (except the root).
    """
    children: Dict[Tuple[str, ...], set] = {}
    for path in raw:
        for i in range(1, len(path)):
            children.setdefault(path[:i], set()).add(path[:i + 1])
    totals: Dict[Tuple[str, ...], int] = {}

    def total(path: Tuple[str, ...]) -> int:
        if path not in totals:
            totals[path] = raw[path] if path in raw else sum(
                total(child) for child in children.get(path, ()))
        return totals[path]

    for path in set(raw) | set(children):
        total(path)
    return totals


def _conv_backward_flop(grad_out_shape: Sequence[int],
                        x_shape: Sequence[int],
                        w_shape: Sequence[int],
                        _bias: Any,
                        _stride: Any,
                        _padding: Any,
                        _dilation: Any,
                        transposed: bool,
                        _output_padding: Any,
                        _groups: int,
                        output_mask: Sequence[bool],
                        out_shape: Any = None,
                        **kwargs) -> int:
    """FLOPs of ``aten.convolution_backward``, grouped convolutions right.

    The input gradient is a (transposed) convolution of the output
    gradient with the weight, the weight gradient one of the input with
    the output gradient: each takes exactly the multiply-adds of the
    forward convolution. PyTorch's own formula (2.13) computes the weight
    gradient as if ``groups`` were 1, i.e. ``groups`` times too many for a
    depthwise convolution (Xception's separable convolutions); this one
    counts ``forward x (number of gradients asked for)``, which equals
    PyTorch's formula for ``groups == 1``.
    """
    from torch.utils.flop_counter import conv_flop_count
    forward = conv_flop_count(
        list(x_shape), list(w_shape), list(grad_out_shape), transposed)
    return forward * (int(bool(output_mask[0])) + int(bool(output_mask[1])))


def count_flops(fn: Callable[..., Any],
                *args,
                model: Optional[nn.Module] = None,
                module_depth: int = 2,
                **kwargs) -> Dict[str, Any]:
    """FLOPs of ``fn(*args, **kwargs)`` by ``FlopCounterMode``.

    The counter sees every matmul / convolution / attention op dispatched
    while ``fn`` runs, forward and backward (a ``backward()`` inside
    ``fn`` is counted), at **2 FLOPs per multiply-add** (a ``(M, K) @ (K,
    N)`` matmul is ``2 M K N``; the weight and input gradients of a linear
    layer are two more such matmuls, hence forward + backward = 3 x
    forward). Element-wise work (activations, normalisation, the
    optimizer) is not counted. Convolution gradients are counted by
    :func:`_conv_backward_flop` (PyTorch's formula over-counts grouped
    convolutions).

    Modules are named by their path in ``model`` (``'backbone.layer1'``)
    and get their **forward** FLOPs (children included); the backward
    FLOPs are reported as one number (see
    :class:`_ForwardAttributingFlopCounter` for why).

    Args:
        fn (Callable): The work to count.
        *args: Positional arguments of ``fn``.
        model (nn.Module, optional): Root whose submodules are named;
            without it the names start with the class name of the first
            module called.
        module_depth (int): Keep modules up to this depth below the root
            (1: the model's children). Defaults to 2.
        **kwargs: Keyword arguments of ``fn``.

    Returns:
        dict: ``total`` (int FLOPs, forward + backward), ``forward`` and
        ``backward`` (their split), ``by_op`` (aten op name -> FLOPs),
        ``by_module`` (name -> forward FLOPs, depth <= ``module_depth``,
        largest first) and ``output`` (what ``fn`` returned).
    """
    counter = _ForwardAttributingFlopCounter(
        display=False,
        depth=None,
        custom_mapping={
            torch.ops.aten.convolution_backward: _conv_backward_flop
        })
    root = None
    if model is not None:
        root = type(model).__name__
        # name the submodules by their path in ``model`` even when its own
        # forward is not called (e.g. SemiMTL's train_step calls children)
        name_fn = getattr(counter.mod_tracker, '_get_mod_name', None)
        if callable(name_fn):
            name_fn(model)
    with counter:
        output = fn(*args, **kwargs)
    counts = counter.get_flop_counts()
    total = int(counter.get_total_flops())
    backward = int(sum(counts.get(BACKWARD, {}).values()))
    by_op: Dict[str, int] = {}
    for op, value in counts.get('Global', {}).items():
        name = str(getattr(op, '__name__', op))
        by_op[name] = by_op.get(name, 0) + int(value)
    raw: Dict[Tuple[str, ...], int] = {}
    for name, ops in counts.items():
        if name in ('Global', BACKWARD):
            continue
        parts = tuple(name.split('.'))
        if root is not None:
            if parts[0] != root or len(parts) < 2:
                continue
            parts = parts[1:]
        raw[parts] = int(sum(ops.values()))
    by_module = {
        '.'.join(path): flops
        for path, flops in _module_totals(raw).items()
        if len(path) <= module_depth
    }
    by_module = dict(
        sorted(by_module.items(), key=lambda item: (-item[1], item[0])))
    return dict(
        total=total,
        forward=total - backward,
        backward=backward,
        by_op=dict(sorted(by_op.items(), key=lambda item: -item[1])),
        by_module=by_module,
        output=output)


def top_modules(by_module: Dict[str, int],
                total: int,
                top: int = 8,
                depth: Optional[int] = None) -> List[Dict[str, Any]]:
    """The ``top`` modules with the most FLOPs.

    Args:
        by_module (dict[str, int]): Name -> FLOPs (:func:`count_flops`).
        total (int): The FLOPs the shares are of (the forward FLOPs of the
            step, as ``by_module`` holds forward FLOPs).
        top (int): How many. Defaults to 8.
        depth (int, optional): Only modules at exactly this depth (1: the
            model's children), so that no entry contains another. Default:
            every depth.

    Returns:
        list[dict]: ``name``, ``flops`` and ``share`` (of ``total``),
        largest first.
    """
    items = [(n, f) for n, f in by_module.items()
             if depth is None or n.count('.') + 1 == depth]
    items.sort(key=lambda item: (-item[1], item[0]))
    return [
        dict(name=n, flops=int(f), share=f / total if total else 0.0)
        for n, f in items[:max(0, top)]
    ]


# -- the device's limit --
def measure_matmul_peak(device: Any = 'cpu',
                        size: int = PEAK_MATMUL_SIZE,
                        repeat: int = 10,
                        dtype: torch.dtype = torch.float32,
                        via: str = 'mm') -> Dict[str, Any]:
    """The device's matrix-multiply throughput, best of ``repeat`` runs.

    Times one ``size x size`` by ``size x size`` product (``2 size^3``
    FLOPs, the same convention as :func:`count_flops`) with the current
    thread count, after one untimed run, computed

    - ``via='mm'``: by ``torch.mm`` (the BLAS library: MKL on x86 CPUs,
      cuBLAS on CUDA), the issue's definition of the peak;
    - ``via='conv1x1'``: as a 1x1 convolution of ``size`` channels over
      ``size`` pixels (oneDNN on the CPU, cuDNN on CUDA), the library the
      networks' convolutions run on. The two can differ a lot: on AMD CPUs
      MKL's sgemm may use narrower vector code than oneDNN, and a
      convolutional network then exceeds 100 % of the ``mm`` peak.

    Args:
        device (torch.device | str): Where to multiply.
        size (int): Matrix side. Defaults to 2048.
        repeat (int): Timed runs. Defaults to 10.
        dtype (torch.dtype): Element type. Defaults to float32.
        via (str): ``'mm'`` or ``'conv1x1'``. Defaults to 'mm'.

    Returns:
        dict: ``dtype``, ``via``, ``size``, ``flops`` (of one product),
        ``time_s`` (:func:`summarise_times`) and ``flops_per_s`` (from the
        fastest run).
    """
    if via not in ('mm', 'conv1x1'):
        raise ValueError(f"via must be 'mm' or 'conv1x1', got {via!r}")
    device = torch.device(device)
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(size, size, generator=gen).to(device=device, dtype=dtype)
    b = torch.randn(size, size, generator=gen).to(device=device, dtype=dtype)
    if via == 'mm':
        out = torch.empty(size, size, device=device, dtype=dtype)

        def product(_: Any) -> torch.Tensor:
            return torch.mm(a, b, out=out)
    else:
        # (1, C_in = size, size, 1) pixels by a (C_out = size, C_in) filter
        pixels = a.t().contiguous().view(1, size, size, 1)
        weight = b.t().contiguous().view(size, size, 1, 1)

        def product(_: Any) -> torch.Tensor:
            return torch.nn.functional.conv2d(pixels, weight)

    with torch.no_grad():
        times = time_step(
            product, lambda: None, warmup=1, repeat=repeat, device=device)
    flops = 2 * size**3
    return dict(
        dtype=str(dtype).replace('torch.', ''),
        via=via,
        size=size,
        flops=flops,
        time_s=summarise_times(times),
        flops_per_s=flops / min(times))


def utilisation(flops: float, seconds: float,
                peak_flops_per_s: float) -> float:
    """Achieved FLOP/s as a fraction of the peak: ``flops / seconds / peak``.

    Args:
        flops (float): FLOPs of one step.
        seconds (float): Wall time of that step.
        peak_flops_per_s (float): The device's peak FLOP/s.

    Returns:
        float: The utilisation (1.0 = the peak).
    """
    if seconds <= 0 or peak_flops_per_s <= 0:
        raise ValueError(f'utilisation needs a positive time and peak, got '
                         f'{seconds} s and {peak_flops_per_s} FLOP/s')
    return flops / seconds / peak_flops_per_s


# -- steps, optimizer wrappers and settings --
class AutocastOptimWrapper(OptimWrapper):
    """An ``OptimWrapper`` whose ``optim_context`` runs under autocast.

    MMEngine's ``AmpOptimWrapper`` needs a GPU; this one gives the CPU the
    same mixed precision: the forward inside ``optim_context`` runs under
    ``torch.autocast(device_type, dtype)`` (bfloat16 needs no loss
    scaling), the backward and the update outside it as usual.

    Args:
        dtype (str | torch.dtype): Autocast type. Defaults to 'bfloat16'.
        device_type (str): ``'cpu'`` or ``'cuda'``. Defaults to 'cpu'.
        **kwargs: ``OptimWrapper``'s arguments (``optimizer``, ...).
    """

    def __init__(self,
                 dtype: Union[str, torch.dtype] = 'bfloat16',
                 device_type: str = 'cpu',
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.cast_dtype = getattr(torch, dtype) if isinstance(dtype,
                                                              str) else dtype
        self.device_type = device_type

    @contextmanager
    def optim_context(self, model: nn.Module) -> Iterator[None]:
        with super().optim_context(model), torch.autocast(
                device_type=self.device_type, dtype=self.cast_dtype):
            yield


def amp_dtype(device: Any) -> torch.dtype:
    """Autocast type of ``--amp``: float16 on CUDA, bfloat16 on the CPU."""
    return torch.float16 if torch.device(device).type == 'cuda' \
        else torch.bfloat16


def amp_support(device: Any) -> Tuple[bool, str]:
    """Whether the device runs :func:`amp_dtype` natively.

    CUDA: float16 always. CPU: bfloat16 where oneDNN has native bfloat16
    kernels (AVX512-BF16 / AMX); elsewhere it would be emulated, slower
    than fp32, so the setting is not measured.

    Returns:
        tuple[bool, str]: Supported, and why not (empty when supported).
    """
    device = torch.device(device)
    if device.type == 'cuda':
        return True, ''
    if device.type != 'cpu':
        return False, f'no autocast setting known for {device.type}'
    try:
        native = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        native = False
    if not native:
        return False, 'this CPU has no native bfloat16 matmul (oneDNN)'
    return True, ''


def _amp_optim_wrapper_cfg(optim_cfg: dict, device: torch.device) -> dict:
    """``optim_cfg`` with every wrapper (a dict with an ``optimizer``) made
    a mixed-precision one: ``AmpOptimWrapper`` (float16, dynamic loss
    scaling) on CUDA, :class:`AutocastOptimWrapper` (bfloat16) on the CPU.
    Works for a plain wrapper and for the sub-wrappers of a constructor
    (``generator`` / ``discriminator``)."""
    optim_cfg = copy.deepcopy(optim_cfg)

    def visit(node: Any) -> None:
        if not isinstance(node, dict):
            return
        if 'optimizer' in node:
            if device.type == 'cuda':
                node.update(type=AmpOptimWrapper, dtype='float16')
            else:
                node.update(
                    type=AutocastOptimWrapper,
                    dtype='bfloat16',
                    device_type=device.type)
            return
        for value in node.values():
            visit(value)

    visit(optim_cfg)
    return optim_cfg


def build_optim_wrapper_or_adam(
        model: nn.Module,
        cfg: Config,
        lr: float = 1e-4,
        amp: bool = False,
        device: Any = 'cpu') -> Union[OptimWrapper, OptimWrapperDict]:
    """The optimizer wrapper of ``cfg.optim_wrapper``, else plain Adam.

    Args:
        model (nn.Module): The model to optimise.
        cfg (Config): Config; its ``optim_wrapper`` is used when present
            (a constructor may return an ``OptimWrapperDict``, e.g. SemiMTL's
            generator / discriminator wrappers).
        lr (float): Learning rate of the Adam fallback.
        amp (bool): Mixed precision (see :func:`amp_dtype`). Defaults to
            False.
        device (torch.device | str): The training device (for ``amp``).

    Returns:
        OptimWrapper | OptimWrapperDict: The wrapper.
    """
    device = torch.device(device)
    optim_cfg = cfg.get('optim_wrapper', None)
    if not optim_cfg:
        optim_cfg = dict(
            type='OptimWrapper', optimizer=dict(type='Adam', lr=lr))
    optim_cfg = copy.deepcopy(optim_cfg)
    if amp:
        optim_cfg = _amp_optim_wrapper_cfg(optim_cfg, device)
    return build_optim_wrapper(model, optim_cfg)


def _optimizer_names(optim_wrapper: OptimWrapper) -> Union[str, dict]:
    if isinstance(optim_wrapper, OptimWrapperDict):
        return {
            key: type(wrapper.optimizer).__name__
            for key, wrapper in optim_wrapper.items()
        }
    return type(optim_wrapper.optimizer).__name__


def trains_discriminators(cfg: Config, model: nn.Module) -> bool:
    """Whether a training iteration of ``cfg`` also runs
    ``model.discriminator_step`` (a ``DiscriminatorStepHook`` in
    ``custom_hooks`` and a model with discriminators, e.g. SemiMTL)."""
    hooks = cfg.get('custom_hooks', None) or []
    has_hook = any(
        isinstance(h, dict) and h.get('type') == 'DiscriminatorStepHook'
        for h in hooks)
    return has_hook and callable(getattr(
        model, 'discriminator_step', None)) and bool(
            getattr(model, 'with_discriminators', True))


def make_train_step(
        model: nn.Module,
        optim_wrapper: OptimWrapper,
        discriminator_step: bool = False) -> Callable[[dict], dict]:
    """One training iteration as the runner runs it.

    Args:
        model (nn.Module): The model.
        optim_wrapper (OptimWrapper | OptimWrapperDict): Its wrapper(s).
        discriminator_step (bool): Also run
            ``model.discriminator_step(optim_wrapper['discriminator'])``
            after the generator step, as ``DiscriminatorStepHook`` does in
            every iteration. Defaults to False.

    Returns:
        Callable: ``step(batch) -> log_vars``: preprocessing, forward
        (``'loss'`` mode), backward and optimizer step via
        ``model.train_step`` (and the discriminator update).
    """

    def step(batch: dict) -> dict:
        log_vars = model.train_step(batch, optim_wrapper)
        if discriminator_step:
            wrapper = optim_wrapper['discriminator'] \
                if isinstance(optim_wrapper, OptimWrapperDict) \
                else optim_wrapper
            log_vars.update(model.discriminator_step(wrapper))
        return log_vars

    return step


def make_infer_step(
        model: nn.Module,
        autocast_dtype: Optional[torch.dtype] = None
) -> Callable[[dict], list]:
    """One inference pass: preprocessing + ``predict`` without gradients.

    Args:
        model (nn.Module): The model (in eval mode).
        autocast_dtype (torch.dtype, optional): Run under
            ``torch.autocast`` of the model's device with this type.
            Default: None (no autocast).

    Returns:
        Callable: ``step(batch) -> list[SegDataSample]``.
    """

    def step(batch: dict) -> list:
        context = nullcontext()
        if autocast_dtype is not None:
            device_type = next(model.parameters()).device.type
            context = torch.autocast(
                device_type=device_type, dtype=autocast_dtype)
        with torch.no_grad(), context:
            return model.test_step(batch)

    return step


def _measure(step: Callable, make_input: Callable, warmup: int, repeat: int,
             device: torch.device, batch_size: int) -> Dict[str, Any]:
    with PeakMemoryMeter(device) as meter:
        times = time_step(step, make_input, warmup, repeat, device)
    summary = summarise_times(times)
    return dict(
        batch_size=batch_size,
        time_s=summary,
        samples_per_s=batch_size / summary['median'],
        memory=meter.result)


def _device_name(device: torch.device) -> str:
    if device.type == 'cuda':
        return torch.cuda.get_device_name(device)
    return cpu_model_name() or platform.machine()


def cpu_model_name() -> Optional[str]:
    """The CPU's ``model name`` from ``/proc/cpuinfo`` (Linux), else
    ``platform.processor()`` (None when both are empty)."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.lower().startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def hardware_info(device: Any = 'cpu') -> Dict[str, Any]:
    """What the numbers were measured on.

    Returns:
        dict: ``cpu`` (model name), ``logical_cpus`` (``os.cpu_count``),
        ``usable_cpus`` (this process's CPU affinity), ``torch``,
        ``num_threads`` (``torch.get_num_threads``), ``device``,
        ``python``, ``time`` (ISO, local), ``load_avg`` (the 1, 5 and 15
        minute load averages: other work on a shared machine makes the
        times noisy) and, on CUDA, ``gpu`` and ``cuda``.
    """
    device = torch.device(device)
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count()
    info = dict(
        cpu=cpu_model_name() or platform.machine(),
        logical_cpus=os.cpu_count(),
        usable_cpus=usable,
        torch=torch.__version__,
        num_threads=torch.get_num_threads(),
        device=str(device),
        python=platform.python_version(),
        time=datetime.datetime.now().isoformat(timespec='seconds'),
        load_avg=list(os.getloadavg()) if hasattr(os, 'getloadavg') else None)
    if device.type == 'cuda':
        info.update(
            gpu=torch.cuda.get_device_name(device), cuda=torch.version.cuda)
    return info


@contextmanager
def _memory_format(model: nn.Module, channels_last: bool) -> Iterator[None]:
    """Keep the model's 4-D weights channels-last inside the block."""
    if not channels_last:
        yield
        return
    model.to(memory_format=torch.channels_last)
    try:
        yield
    finally:
        model.to(memory_format=torch.contiguous_format)


def benchmark(cfg: Config,
              shape: Tuple[int, int],
              batch_size: int,
              device: str = 'cpu',
              warmup: int = 2,
              repeat: int = 5,
              modes: Sequence[str] = MODES,
              infer_batch_size: int = 1,
              num_views: Optional[int] = None,
              model: Optional[nn.Module] = None,
              seed: int = 0,
              amp: bool = False,
              channels_last: bool = False,
              flops: bool = False,
              module_depth: int = 2) -> Dict[str, Any]:
    """Measure a config's training step and inference in one setting.

    Args:
        cfg (Config): The config (its modules must be registered, e.g. by
            ``register_all_modules()``).
        shape (tuple[int, int]): Input size ``(H, W)``.
        batch_size (int): Batch size of the training step.
        device (str): ``'cpu'`` or ``'cuda'`` (or ``'cuda:N'``).
        warmup (int): Untimed runs before timing each mode.
        repeat (int): Timed runs of each mode.
        modes (Sequence[str]): Subset of ``('train', 'infer')``, run in
            this order.
        infer_batch_size (int): Batch size of inference. Defaults to 1.
        num_views (int, optional): Views per sample when the config's
            training dataset does not say (see :func:`infer_view_names`).
        model (nn.Module, optional): An already built model of ``cfg`` to
            measure (it is moved to ``device`` and trained in place);
            default: ``MODELS.build(cfg.model)``.
        seed (int): Seed of the synthetic data. Defaults to 0.
        amp (bool): Mixed precision (:func:`amp_dtype`): the training
            wrappers become mixed-precision ones and inference runs under
            ``torch.autocast``. Defaults to False.
        channels_last (bool): Keep the model's 4-D weights in
            ``torch.channels_last`` (convolutions then produce
            channels-last activations). Defaults to False.
        flops (bool): Also count each mode's FLOPs (:func:`count_flops`)
            in one more, untimed, run after the timed ones. Defaults to
            False.
        module_depth (int): Depth of the per-module FLOPs. Defaults to 2.

    Returns:
        dict: ``config``, ``model``, ``num_params``, ``device``,
        ``device_name``, ``torch``, ``num_threads``, ``input`` (``shape``,
        ``view_names``, ``num_views``, ``layout``), ``setting`` (``amp``,
        ``amp_dtype``, ``channels_last``), ``warmup``, ``repeat`` and per
        mode (``'train'``, ``'infer'``) a dict with ``batch_size``,
        ``time_s`` (``median``/``min``/``max``/``mean`` seconds and the
        ``runs``), ``samples_per_s`` and ``memory``
        (:class:`PeakMemoryMeter`); ``train`` also has ``optimizer``,
        ``discriminator_step`` and ``params_changed`` (whether the steps
        changed the weights); with ``flops`` each mode has ``flops``
        (total), ``flops_forward``, ``flops_backward``, ``flops_by_op``
        and ``flops_by_module`` (forward FLOPs, see :func:`count_flops`).
    """
    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        raise ValueError(f'modes must be a non-empty subset of {MODES}, got '
                         f'{list(modes)}')
    device = torch.device(device)
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise RuntimeError('device cuda requested but torch.cuda is not '
                           'available; use --device cpu')
    if model is None:
        # ``init_weights`` is not called: speed does not depend on the
        # values, and pretrained ``init_cfg`` paths / URLs need not exist.
        model = MODELS.build(copy.deepcopy(cfg.model))
    model = model.to(device)
    layouts = {
        mode:
        batch_layout(
            cfg,
            model,
            batch_size if mode == 'train' else infer_batch_size,
            num_views,
            train=mode == 'train')
        for mode in modes
    }
    view_names = next(iter(layouts.values()))['view_names']
    cast = amp_dtype(device) if amp else None

    result: Dict[str, Any] = dict(
        config=getattr(cfg, 'filename', None),
        model=type(model).__name__,
        num_params=sum(p.numel() for p in model.parameters()),
        device=str(device),
        device_name=_device_name(device),
        torch=torch.__version__,
        num_threads=torch.get_num_threads(),
        input=dict(
            shape=[int(shape[0]), int(shape[1])],
            num_views=len(view_names),
            view_names=list(view_names)),
        setting=dict(
            amp=bool(amp),
            amp_dtype=str(cast).replace('torch.', '') if amp else None,
            channels_last=bool(channels_last)),
        warmup=warmup,
        repeat=repeat)

    with _memory_format(model, channels_last):
        for mode in modes:
            bsz = batch_size if mode == 'train' else infer_batch_size
            layout = layouts[mode]
            batch = make_synthetic_batch(bsz, shape, seed=seed, **layout)

            def make_input(batch=batch):
                # the preprocessor pads / converts the samples in place
                return copy.deepcopy(batch)

            if mode == 'train':
                model.train()
                optim_wrapper = build_optim_wrapper_or_adam(
                    model, cfg, amp=amp, device=device)
                with_d = trains_discriminators(cfg, model)
                step = make_train_step(model, optim_wrapper, with_d)
                before = _param_checksums(model)
                measured = _measure(step, make_input, warmup, repeat, device,
                                    bsz)
                measured['optimizer'] = _optimizer_names(optim_wrapper)
                measured['discriminator_step'] = with_d
                measured['params_changed'] = bool((_param_checksums(model)
                                                   != before).any())
            else:
                model.eval()
                step = make_infer_step(model, cast)
                measured = _measure(step, make_input, warmup, repeat, device,
                                    bsz)
            if flops:
                counted = count_flops(
                    step, make_input(), model=model, module_depth=module_depth)
                measured['flops'] = counted['total']
                measured['flops_forward'] = counted['forward']
                measured['flops_backward'] = counted['backward']
                measured['flops_by_op'] = counted['by_op']
                measured['flops_by_module'] = counted['by_module']
            if mode == 'train':
                optim_wrapper.zero_grad()
                del optim_wrapper, step
            result[mode] = measured
        result['input']['layout'] = _layout_summary(layouts)
    return result


def _layout_summary(layouts: Dict[str, dict]) -> Dict[str, Any]:
    """JSON-friendly description of the synthetic training batch."""
    layout = layouts.get('train', next(iter(layouts.values())))
    summary = dict(
        map_views=layout['map_views'],
        pseudo_depth=layout['pseudo_depth'],
        inverse_depth=layout['inverse_depth'],
        num_classes=layout['num_classes'])
    if layout['sources'] is not None:
        summary['sources'] = [[d, list(t)] for d, t in layout['sources']]
    return summary


# -- data loading --
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


# -- the whole report --
def _add_utilisation(measured: Dict[str, Any], flops: int,
                     peak: Dict[str, Any]) -> None:
    """Achieved FLOP/s and utilisation of a mode's result (in place)."""
    t = measured['time_s']
    measured['flops'] = int(flops)
    measured['flops_per_s'] = flops / t['median']
    measured['peak_dtype'] = peak['dtype']
    measured['utilisation'] = utilisation(flops, t['median'],
                                          peak['flops_per_s'])
    measured['utilisation_best'] = utilisation(flops, t['min'],
                                               peak['flops_per_s'])
    if 'conv1x1' in peak:
        measured['utilisation_conv1x1'] = utilisation(
            flops, t['median'], peak['conv1x1']['flops_per_s'])


def _setting_flags(name: str) -> Dict[str, bool]:
    if name not in SETTINGS:
        raise ValueError(f'settings must be in {SETTINGS}, got {name!r}')
    return dict(amp='amp' in name, channels_last='channels_last' in name)


def run_benchmark(
        cfg: Config,
        shape: Tuple[int, int],
        batch_size: int,
        device: str = 'cpu',
        warmup: int = 2,
        repeat: int = 5,
        modes: Sequence[str] = MODES,
        infer_batch_size: int = 1,
        num_views: Optional[int] = None,
        seed: int = 0,
        settings: Sequence[str] = (),
        count: bool = True,
        top: int = 8,
        module_depth: int = 2,
        peak_size: int = PEAK_MATMUL_SIZE,
        peak_repeat: int = 10,
        loader: bool = True,
        data_root: Optional[str] = None,
        split_file: Optional[str] = None,
        loader_workers: Optional[int] = None,
        loader_batches: int = 10,
        model: Optional[nn.Module] = None,
        evaluation: bool = True,
        eval_frames: int = EIGEN_TEST_FRAMES,
        eval_gt_shape: Optional[Tuple[int, int]] = None) -> Dict[str, Any]:
    """Everything issue 7 asks of one config, in one run on one device.

    1. The device's fp32 matmul peak (:func:`measure_matmul_peak`) by
       ``torch.mm`` (the utilisation's reference) and as a 1x1 convolution
       (a second utilisation, ``utilisation_conv1x1``); also the
       :func:`amp_dtype` peaks when an ``amp`` setting is asked for.
       Measured before and after the rest, the faster of the two kept.
    2. :func:`benchmark` of the default setting (fp32, contiguous) with
       FLOPs, achieved FLOP/s and utilisation (median and best time) per
       mode, and the ``top`` modules at ``module_depth``.
    3. Each of ``settings`` (``'amp'``, ``'channels_last'``,
       ``'amp+channels_last'``) measured on the same model (same FLOPs;
       utilisation against the peak of its own compute type). ``amp``
       where :func:`amp_support` says no is skipped with the reason; a
       setting that fails records the error.
    4. The training dataloader's throughput (:func:`measure_loader`) next
       to the training step's consumption (``batch_size / median step
       time``) and their ratio.
    5. The depth evaluation of ``eval_frames`` synthetic predicted frames
       by the config's own ``DepthMetric`` (:func:`measure_depth_evaluation`
       of ``mmdepthseg.utils.benchmark_eval``): predictions at ``shape``,
       ground truth of the evaluated dataset's size and density
       (:func:`eval_gt_layout`: KITTI 375x1242 with 5 % valid pixels,
       Cityscapes 1024x2048, NYUv2 480x640), in batches of the test
       dataloader's size.

    Args:
        cfg, shape, batch_size, device, warmup, repeat, modes,
            infer_batch_size, num_views, seed, model: As
            :func:`benchmark`.
        settings (Sequence[str]): Extra settings to measure.
        count (bool): Count FLOPs (and utilisation). Defaults to True.
        top (int): Modules listed per mode. Defaults to 8.
        module_depth (int): Depth of the listed modules. Defaults to 2.
        peak_size (int): Matrix side of the peak. Defaults to 2048.
        peak_repeat (int): Timed runs of each peak. Defaults to 10.
        loader (bool): Measure the dataloader. Defaults to True.
        data_root, split_file: See :func:`train_loader_cfg`.
        loader_workers (int, optional): Workers of the loader (default:
            the config's).
        loader_batches (int): Timed loader batches. Defaults to 10.
        evaluation (bool): Measure the depth evaluation. Defaults to True.
        eval_frames (int): Frames of the depth evaluation (0: none).
            Defaults to 697 (KITTI's Eigen test split).
        eval_gt_shape (tuple[int, int], optional): Ground-truth size of the
            depth evaluation. Default: the evaluated dataset's
            (:func:`eval_gt_layout`).

    Returns:
        dict: :func:`benchmark`'s result plus ``hardware``
        (:func:`hardware_info`), ``peak`` (dtype -> the ``mm`` peak with
        the ``conv1x1`` one inside), per mode ``flops``, ``flops_per_s``,
        ``utilisation``, ``utilisation_best``, ``utilisation_conv1x1``,
        ``top_modules`` (with ``count``), ``settings`` (name -> per-mode
        results, or ``skipped`` / ``error``), ``loader`` (with
        ``train_consumption_per_s`` and ``ratio`` when available) and
        ``evaluation`` (``available=False`` with the ``reason`` for a
        config without a ``DepthMetric``).
    """
    device = torch.device(device)
    for name in settings:
        _setting_flags(name)
    hardware = hardware_info(device)  # the load before this run's work
    dtypes = [torch.float32]
    amp_ok, amp_reason = amp_support(device)
    if amp_ok and any('amp' in name for name in settings):
        dtypes.append(amp_dtype(device))

    def measure_peaks() -> Dict[str, Dict[str, Any]]:
        peaks = {}
        for dtype in dtypes:
            peak = measure_matmul_peak(device, peak_size, peak_repeat, dtype)
            peak['conv1x1'] = measure_matmul_peak(device, peak_size,
                                                  peak_repeat, dtype,
                                                  'conv1x1')
            peaks[peak['dtype']] = peak
        return peaks

    peaks_before = measure_peaks()
    if model is None:
        model = MODELS.build(copy.deepcopy(cfg.model))
    common = dict(
        shape=shape,
        batch_size=batch_size,
        device=str(device),
        warmup=warmup,
        repeat=repeat,
        modes=modes,
        infer_batch_size=infer_batch_size,
        num_views=num_views,
        model=model,
        seed=seed)
    result = benchmark(cfg, flops=count, module_depth=module_depth, **common)
    result['hardware'] = hardware
    result['settings'] = {}
    for name in settings:
        flags = _setting_flags(name)
        if flags['amp'] and not amp_ok:
            result['settings'][name] = dict(skipped=amp_reason)
            continue
        try:
            other = benchmark(cfg, **flags, **common)
        except Exception as err:  # an op without a kernel for the setting
            result['settings'][name] = dict(
                error=f'{type(err).__name__}: {err}'[:500])
            continue
        result['settings'][name] = dict(
            setting=other['setting'], **{mode: other[mode]
                                         for mode in modes})
    # the peak again after the work, the better one kept: on a shared
    # machine a neighbour's burst during one measurement then costs less
    peaks = _better_peaks(peaks_before, measure_peaks())
    result['peak'] = peaks

    if count:
        for mode in modes:
            measured = result[mode]
            _add_utilisation(measured, measured['flops'], peaks['float32'])
            measured['top_modules'] = top_modules(
                measured['flops_by_module'],
                measured['flops_forward'],
                top,
                depth=module_depth)
            for entry in result['settings'].values():
                if mode in entry:
                    dtype = entry['setting']['amp_dtype'] or 'float32'
                    _add_utilisation(entry[mode], measured['flops'],
                                     peaks.get(dtype, peaks['float32']))

    if loader and 'train' in modes:
        stats = measure_loader(
            cfg,
            batch_size=batch_size,
            data_root=data_root,
            split_file=split_file,
            num_workers=loader_workers,
            batches=loader_batches,
            seed=seed)
        consumption = result['train']['samples_per_s']
        stats['train_consumption_per_s'] = consumption
        if stats['available']:
            stats['ratio'] = stats['samples_per_s'] / consumption
        result['loader'] = stats

    if evaluation and eval_frames > 0:
        layout = eval_gt_layout(cfg)
        result['evaluation'] = measure_depth_evaluation(
            cfg,
            num_frames=eval_frames,
            gt_shape=tuple(eval_gt_shape or layout['shape']),
            pred_shape=tuple(shape),
            density=layout['density'],
            seed=seed)
    return result


def _better_peaks(
        first: Dict[str, Dict[str, Any]],
        second: Dict[str, Dict[str, Any]]) -> Dict[str, Dict[str, Any]]:
    """Per dtype and way (``mm`` / ``conv1x1``), the faster of two peak
    measurements; its ``time_s`` holds the runs of both."""

    def better(a: Dict[str, Any], b: Dict[str, Any]) -> Dict[str, Any]:
        best = dict(a if a['flops_per_s'] >= b['flops_per_s'] else b)
        best['time_s'] = summarise_times(a['time_s']['runs'] +
                                         b['time_s']['runs'])
        return best

    peaks = {}
    for dtype, peak in first.items():
        merged = better({
            k: v
            for k, v in peak.items() if k != 'conv1x1'
        }, {
            k: v
            for k, v in second[dtype].items() if k != 'conv1x1'
        })
        merged['conv1x1'] = better(peak['conv1x1'], second[dtype]['conv1x1'])
        peaks[dtype] = merged
    return peaks


# -- reporting --
def _fmt_flops(value: Optional[float]) -> str:
    return '-' if value is None else f'{value / 1e9:.1f}'


def _fmt_pct(value: Optional[float]) -> str:
    return '-' if value is None else f'{100 * value:.0f}'


def _mode_row(mode: str, setting: str, res: Dict[str, Any]) -> Tuple[str, ...]:
    t = res['time_s']
    mem = res['memory']
    return (mode, setting, str(res['batch_size']), f"{t['median'] * 1e3:.1f}",
            f"{t['min'] * 1e3:.1f}",
            f"{t['max'] * 1e3:.1f}", f"{res['samples_per_s']:.2f}",
            _fmt_flops(res.get('flops')), _fmt_flops(res.get('flops_per_s')),
            _fmt_pct(res.get('utilisation')),
            _fmt_pct(res.get('utilisation_conv1x1')), f"{mem['peak_mib']:.0f}",
            f"{mem['growth_mib']:.0f}")


def _setting_label(result: Dict[str, Any]) -> str:
    setting = result.get('setting', {})
    parts = []
    if setting.get('amp'):
        parts.append(f"amp-{setting.get('amp_dtype')}")
    if setting.get('channels_last'):
        parts.append('channels_last')
    return '+'.join(parts) or 'fp32'


def format_table(result: Dict[str, Any]) -> str:
    """A plain-text report of :func:`benchmark` / :func:`run_benchmark`."""
    h, w = result['input']['shape']
    header = ('mode', 'setting', 'batch', 'median ms', 'min ms', 'max ms',
              'samples/s', 'GFLOP', 'GFLOP/s', 'util %', 'util 1x1 %',
              'peak MiB', 'growth MiB')
    rows = [header]
    base = _setting_label(result)
    for mode in MODES:
        if mode in result:
            rows.append(_mode_row(mode, base, result[mode]))
    notes = []
    for name, entry in result.get('settings', {}).items():
        if 'skipped' in entry or 'error' in entry:
            why = entry.get('skipped', entry.get('error'))
            notes.append(f'{name}: not measured ({why})')
            continue
        for mode in MODES:
            if mode in entry:
                rows.append(
                    _mode_row(mode, _setting_label(entry), entry[mode]))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    hw = result.get('hardware', {})
    cores = f", {hw['usable_cpus']} usable cores" if hw else ''
    if hw.get('load_avg'):
        cores += f", load {hw['load_avg'][0]:.1f}"
    lines = [
        f"{result['model']} ({result['num_params'] / 1e6:.2f} M params) on "
        f"{result['device']} ({result['device_name']}{cores}, "
        f"{result['num_threads']} threads, torch {result['torch']}), input "
        f"{h}x{w}, {result['input']['num_views']} view(s) "
        f"{tuple(result['input']['view_names'])}, warmup "
        f"{result['warmup']}, repeat {result['repeat']}"
    ]
    for dtype, peak in result.get('peak', {}).items():
        line = (f"peak: {dtype} matmul {peak['size']}^3 by torch.mm at "
                f"{peak['flops_per_s'] / 1e9:.1f} GFLOP/s")
        if 'conv1x1' in peak:
            line += (f", as a 1x1 convolution at "
                     f"{peak['conv1x1']['flops_per_s'] / 1e9:.1f} GFLOP/s")
        lines.append(line + f" (best of {len(peak['time_s']['runs'])})")
    for i, row in enumerate(rows):
        lines.append('  '.join(c.rjust(wd) for c, wd in zip(row, widths)))
        if i == 0:
            lines.append('  '.join('-' * wd for wd in widths))
    lines.extend(notes)
    if 'flops' in result.get('train', result.get('infer', {})):
        lines.append('FLOPs: torch.utils.flop_counter (2 per multiply-add, '
                     'forward + backward for train); util = GFLOP/s at the '
                     'median time / torch.mm peak of the compute type '
                     '(util 1x1: / the 1x1-convolution peak)')
    memory = [result[m]['memory'] for m in MODES if m in result]
    if memory and memory[0]['kind'] == 'cpu_peak_rss':
        if all(m['peak_reset'] for m in memory):
            lines.append('memory: peak resident set of each mode (peak mark '
                         'reset per mode); growth over the RSS before it')
        else:
            lines.append('memory: peak resident set of the whole process so '
                         'far (could not reset the peak mark); growth over '
                         'the RSS before the mode')
    elif memory:
        lines.append('memory: torch.cuda.max_memory_allocated; growth over '
                     'memory_allocated before the mode')
    if result.get('train', {}).get('discriminator_step'):
        lines.append('train step includes the discriminator step '
                     '(DiscriminatorStepHook)')
    if 'train' in result and not result['train']['params_changed']:
        lines.append('WARNING: the training steps did not change any weight')
    for mode in MODES:
        modules = result.get(mode, {}).get('top_modules')
        if modules:
            parts = [
                f"{m['name']} {m['flops'] / 1e9:.1f} ({100 * m['share']:.0f}%)"
                for m in modules
            ]
            lines.append(f'top modules ({mode}, forward GFLOP and share of '
                         'the forward): ' + ', '.join(parts))
    loader = result.get('loader')
    if loader is not None:
        lines.append(format_loader(loader))
    if result.get('evaluation') is not None:
        lines.append(format_evaluation(result['evaluation']))
    return '\n'.join(lines)


def format_loader(loader: Dict[str, Any]) -> str:
    """One line on :func:`measure_loader`'s result."""
    need = loader.get('train_consumption_per_s')
    need_text = '' if need is None else \
        f'; the training step consumes {need:.2f} samples/s'
    if not loader['available']:
        return f"loader: n/a ({loader['reason']}){need_text}"
    ratio = loader.get('ratio')
    ratio_text = '' if ratio is None else f' (ratio {ratio:.1f}x)'
    return (f"loader: {loader['samples_per_s']:.2f} samples/s with "
            f"{loader['num_workers']} workers, batch {loader['batch_size']} "
            f"({loader['samples']} samples timed){need_text}{ratio_text}")


def _util_cell(res: Dict[str, Any]) -> str:
    """``'41 (22)'``: utilisation against the mm (1x1-conv) peak."""
    text = _fmt_pct(res.get('utilisation'))
    if res.get('utilisation_conv1x1') is not None:
        text += f" ({_fmt_pct(res['utilisation_conv1x1'])})"
    return text


def format_markdown(results: Sequence[Dict[str, Any]],
                    names: Optional[Sequence[str]] = None) -> str:
    """A markdown table of :func:`run_benchmark` results (one row each).

    Columns: config, input, train batch, train step median (min-max) ms,
    train GFLOP and utilisation (against the ``torch.mm`` peak, in
    brackets the 1x1-convolution one), inference median ms (batch), GFLOP
    and utilisation, train peak / growth memory, loader samples/s (workers)
    against the step's consumption, the depth evaluation's seconds
    (frames), and one train-time column per extra setting found in the
    results.

    Args:
        results (Sequence[dict]): :func:`run_benchmark` results.
        names (Sequence[str], optional): Row names (default: the config
            file names).

    Returns:
        str: The table (no trailing newline).
    """
    settings = []
    for res in results:
        for name in res.get('settings', {}):
            if name not in settings:
                settings.append(name)
    header = [
        'config', 'input', 'train batch', 'train ms (min-max)', 'train GFLOP',
        'train util % (1x1)', 'infer ms (batch)', 'infer GFLOP',
        'infer util % (1x1)', 'train peak / growth MiB',
        'loader samples/s (workers) / step needs', 'eval s (frames)'
    ] + [f'train ms {name}' for name in settings]
    lines = [
        '| ' + ' | '.join(header) + ' |',
        '|' + '|'.join('---' for _ in header) + '|'
    ]
    for i, res in enumerate(results):
        name = names[i] if names is not None else config_name(
            res.get('config'))
        h, w = res['input']['shape']
        cells = [f'`{name}`', f'{h}x{w}']
        train, infer = res.get('train'), res.get('infer')
        if train:
            t = train['time_s']
            cells += [
                str(train['batch_size']),
                f"{t['median'] * 1e3:.0f} ({t['min'] * 1e3:.0f}-"
                f"{t['max'] * 1e3:.0f})",
                _fmt_flops(train.get('flops')),
                _util_cell(train)
            ]
        else:
            cells += ['-'] * 4
        if infer:
            cells += [
                f"{infer['time_s']['median'] * 1e3:.0f} "
                f"({infer['batch_size']})",
                _fmt_flops(infer.get('flops')),
                _util_cell(infer)
            ]
        else:
            cells += ['-'] * 3
        if train:
            mem = train['memory']
            cells.append(f"{mem['peak_mib']:.0f} / {mem['growth_mib']:.0f}")
        else:
            cells.append('-')
        loader = res.get('loader')
        if loader is None:
            cells.append('-')
        elif not loader['available']:
            cells.append('n/a')
        else:
            cells.append(f"{loader['samples_per_s']:.1f} "
                         f"({loader['num_workers']}) / "
                         f"{loader['train_consumption_per_s']:.2f} = "
                         f"{loader['ratio']:.0f}x")
        evaluation = res.get('evaluation')
        if evaluation is None:
            cells.append('-')
        elif not evaluation['available']:
            cells.append('n/a')
        else:
            cells.append(f"{evaluation['time_s']:.2f} "
                         f"({evaluation['num_frames']})")
        for name in settings:
            entry = res.get('settings', {}).get(name)
            if entry is None:
                cells.append('-')
            elif 'skipped' in entry:
                cells.append('skipped')
            elif 'error' in entry:
                cells.append('failed')
            elif 'train' in entry:
                cells.append(f"{entry['train']['time_s']['median'] * 1e3:.0f}")
            else:
                cells.append('-')
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def config_name(path: Optional[str]) -> str:
    """File name of ``path`` without folder and extension ('?' if None)."""
    if not path:
        return '?'
    return os.path.splitext(os.path.basename(path))[0]


def _jsonable(obj: Any) -> Any:
    """``obj`` with tuples as lists, numpy / torch scalars as numbers and
    other objects (dtypes, classes) as strings."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (bool, int, float, str)) or obj is None:
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    return str(obj)


def dump_json_atomic(obj: Any, path: str) -> None:
    """Write ``obj`` as JSON to ``path`` atomically (temp file + replace).

    Args:
        obj: A JSON-serialisable object (tuples, numpy scalars and other
            objects are converted, see :func:`_jsonable`).
        path (str): Output file; its folder is created if needed.
    """
    with atomic_open(path, 'w') as f:
        json.dump(_jsonable(obj), f, indent=2)
        f.write('\n')
