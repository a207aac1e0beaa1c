# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Training-step / inference speed and peak memory of a config's model.

The benchmark needs no dataset: it synthesises a batch that has every field
of the data contract (``docs/en/data_contract.md``) for the number of views
the config's training set produces, and runs it through the model's own
data preprocessor, exactly as the runner does:

- **train**: ``model.train_step(batch, optim_wrapper)``, i.e. preprocessing,
  forward in ``'loss'`` mode, backward and the optimizer step (the wrapper is
  built from ``cfg.optim_wrapper``; learning-rate schedulers are not run);
- **infer**: ``model.test_step(batch)`` (preprocessing + ``predict``) in eval
  mode under ``torch.no_grad()``.

Each mode is timed with ``time.perf_counter`` (``torch.cuda.synchronize``
on a GPU) over ``repeat`` runs after ``warmup`` runs; copying the synthetic
batch (the preprocessor modifies samples in place) is not timed. Peak memory
is the process's peak resident set on the CPU and
``torch.cuda.max_memory_allocated`` on a GPU (see :class:`PeakMemoryMeter`).

Each mode's work is a plain callable (:func:`make_train_step`,
:func:`make_infer_step`), so further measurements of the same step (FLOP
counting, utilisation) can wrap it and add keys to the mode's result.
"""
import copy
import ctypes
import gc
import json
import os
import platform
import resource
import statistics
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper, build_optim_wrapper
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from torch import nn

from mmdepthseg.datasets.kitti_raw import MONODEPTH2_NORMALISED_K
from mmdepthseg.datasets.utils import normalised_to_absolute_intrinsics
from mmdepthseg.registry import MODELS
from .io import atomic_open

#: Modes :func:`benchmark` knows.
MODES = ('train', 'infer')
#: Stereo baseline of the synthetic samples (KITTI's rig), metres.
KITTI_BASELINE = 0.54
_MIB = 1024.0**2


# -- views and synthetic batches ------------------------------------------
def _dataset_cfg(cfg: Config) -> Optional[dict]:
    """The training dataset's config, unwrapping dataset wrappers."""
    loader = cfg.get('train_dataloader', None)
    dataset = loader.get('dataset', None) if loader else None
    while dataset is not None:
        if 'frame_ids' in dataset or 'views' in dataset:
            return dataset
        if 'dataset' in dataset:  # RepeatDataset, ClassBalancedDataset
            dataset = dataset['dataset']
        elif dataset.get('datasets'):  # ConcatDataset: the first one
            dataset = dataset['datasets'][0]
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


def make_synthetic_batch(batch_size: int,
                         shape: Tuple[int, int],
                         view_names: Sequence[str],
                         num_classes: int = 19,
                         seed: int = 0) -> Dict[str, list]:
    """A collated batch in the packed layout of the data contract.

    Args:
        batch_size (int): Number of samples B.
        shape (tuple[int, int]): Image size ``(H, W)``.
        view_names (Sequence[str]): Names of the V views.
        num_classes (int): Labels are drawn from ``0 .. num_classes - 1``.
        seed (int): Seed of the random content.

    Returns:
        dict: ``inputs``: list of B uint8 ``(3V, H, W)`` tensors (BGR);
        ``data_samples``: list of B ``SegDataSample`` with ``gt_sem_seg``
        (LongTensor ``(1, H, W)``), ``gt_depth_map`` (``(1, H, W)``, metres
        in [1, 80]), ``unaug_img`` (a copy of the input) and the metainfo
        ``intrinsics`` (monodepth2's KITTI intrinsics at ``(H, W)``),
        ``baseline``, ``stereo_T``, ``img_shape``, ``ori_shape``,
        ``pad_shape``, ``view_names`` and the other keys a loader sets.
    """
    h, w = (int(s) for s in shape)
    if h < 1 or w < 1 or batch_size < 1:
        raise ValueError(f'need a positive shape and batch size, got shape '
                         f'{shape} and batch size {batch_size}')
    views = len(view_names)
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
            0, num_classes, (1, h, w), generator=gen, dtype=torch.int64)
        depth = 1.0 + 79.0 * torch.rand((1, h, w), generator=gen)
        sample = SegDataSample()
        sample.set_data(
            dict(
                gt_sem_seg=PixelData(data=labels),
                gt_depth_map=PixelData(data=depth),
                unaug_img=PixelData(data=img.clone())))
        paths = [f'synthetic/{name}/{i:06d}.png' for name in view_names]
        sample.set_metainfo(
            dict(
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
                reduce_zero_label=False))
        inputs.append(img)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


# -- measurement ------------------------------------------------------------
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
    measured code needed on top of what was resident before it.

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


# -- steps -----------------------------------------------------------------
def build_optim_wrapper_or_adam(model: nn.Module,
                                cfg: Config,
                                lr: float = 1e-4) -> OptimWrapper:
    """The optimizer wrapper of ``cfg.optim_wrapper``, else plain Adam.

    Args:
        model (nn.Module): The model to optimise.
        cfg (Config): Config; its ``optim_wrapper`` is used when present.
        lr (float): Learning rate of the Adam fallback.

    Returns:
        OptimWrapper: The wrapper.
    """
    optim_cfg = cfg.get('optim_wrapper', None)
    if optim_cfg:
        return build_optim_wrapper(model, copy.deepcopy(optim_cfg))
    return OptimWrapper(torch.optim.Adam(model.parameters(), lr=lr))


def make_train_step(model: nn.Module,
                    optim_wrapper: OptimWrapper) -> Callable[[dict], dict]:
    """One training iteration as the runner runs it.

    Returns:
        Callable: ``step(batch) -> log_vars``: preprocessing, forward
        (``'loss'`` mode), backward and optimizer step via
        ``model.train_step``.
    """

    def step(batch: dict) -> dict:
        return model.train_step(batch, optim_wrapper)

    return step


def make_infer_step(model: nn.Module) -> Callable[[dict], list]:
    """One inference pass: preprocessing + ``predict`` without gradients.

    Returns:
        Callable: ``step(batch) -> list[SegDataSample]``.
    """

    def step(batch: dict) -> list:
        with torch.no_grad():
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
    return platform.processor() or platform.machine()


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
              seed: int = 0) -> Dict[str, Any]:
    """Measure a config's training step and inference.

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

    Returns:
        dict: ``config``, ``model``, ``num_params``, ``device``,
        ``device_name``, ``torch``, ``num_threads``, ``input`` (``shape``,
        ``view_names``, ``num_views``), ``warmup``, ``repeat`` and per
        mode (``'train'``, ``'infer'``) a dict with ``batch_size``,
        ``time_s`` (``median``/``min``/``max``/``mean`` seconds and the
        ``runs``), ``samples_per_s`` and ``memory``
        (:class:`PeakMemoryMeter`); ``train`` also has ``optimizer`` and
        ``params_changed`` (whether the steps changed the weights).
    """
    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        raise ValueError(f'modes must be a non-empty subset of {MODES}, got '
                         f'{list(modes)}')
    device = torch.device(device)
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise RuntimeError('device cuda requested but torch.cuda is not '
                           'available; use --device cpu')
    view_names = infer_view_names(cfg, num_views)
    if model is None:
        # ``init_weights`` is not called: speed does not depend on the
        # values, and pretrained ``init_cfg`` paths / URLs need not exist.
        model = MODELS.build(copy.deepcopy(cfg.model))
    model = model.to(device)
    seg_head = getattr(model, 'seg_head', None)
    num_classes = int(getattr(seg_head, 'num_classes', 19) or 19)

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
        warmup=warmup,
        repeat=repeat)

    for mode in modes:
        bsz = batch_size if mode == 'train' else infer_batch_size
        batch = make_synthetic_batch(bsz, shape, view_names, num_classes, seed)

        def make_input(batch=batch):
            # the preprocessor pads / converts the samples in place
            return copy.deepcopy(batch)

        if mode == 'train':
            model.train()
            optim_wrapper = build_optim_wrapper_or_adam(model, cfg)
            before = _param_checksums(model)
            measured = _measure(
                make_train_step(model, optim_wrapper), make_input, warmup,
                repeat, device, bsz)
            measured['optimizer'] = type(optim_wrapper.optimizer).__name__
            measured['params_changed'] = bool((_param_checksums(model)
                                               != before).any())
            optim_wrapper.zero_grad()
            del optim_wrapper
        else:
            model.eval()
            measured = _measure(
                make_infer_step(model), make_input, warmup, repeat, device,
                bsz)
        result[mode] = measured
    return result


# -- reporting ---------------------------------------------------------------
def format_table(result: Dict[str, Any]) -> str:
    """A plain-text table of :func:`benchmark`'s result."""
    h, w = result['input']['shape']
    header = ('mode', 'batch', 'median ms', 'min ms', 'max ms', 'samples/s',
              'peak MiB', 'growth MiB')
    rows = [header]
    for mode in MODES:
        if mode not in result:
            continue
        res = result[mode]
        t = res['time_s']
        mem = res['memory']
        rows.append((mode, str(res['batch_size']), f"{t['median'] * 1e3:.1f}",
                     f"{t['min'] * 1e3:.1f}", f"{t['max'] * 1e3:.1f}",
                     f"{res['samples_per_s']:.2f}", f"{mem['peak_mib']:.0f}",
                     f"{mem['growth_mib']:.0f}"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [
        f"{result['model']} ({result['num_params'] / 1e6:.2f} M params) on "
        f"{result['device']} ({result['device_name']}, "
        f"{result['num_threads']} threads), input {h}x{w}, "
        f"{result['input']['num_views']} view(s) "
        f"{tuple(result['input']['view_names'])}, warmup "
        f"{result['warmup']}, repeat {result['repeat']}"
    ]
    for i, row in enumerate(rows):
        lines.append('  '.join(c.rjust(wd) for c, wd in zip(row, widths)))
        if i == 0:
            lines.append('  '.join('-' * wd for wd in widths))
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
    if 'train' in result and not result['train']['params_changed']:
        lines.append('WARNING: the training steps did not change any weight')
    return '\n'.join(lines)


def dump_json_atomic(obj: Any, path: str) -> None:
    """Write ``obj`` as JSON to ``path`` atomically (temp file + replace).

    Args:
        obj: A JSON-serialisable object.
        path (str): Output file; its folder is created if needed.
    """
    with atomic_open(path, 'w') as f:
        json.dump(obj, f, indent=2)
        f.write('\n')
