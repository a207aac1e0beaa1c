# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The whole report of a config (:func:`run_benchmark`): the model modes
under each setting (default, ``amp``, ``channels_last``), utilisation
against the matmul peak measured in the same run, the training loader and
the depth evaluation.
"""
import copy
from dataclasses import dataclass
from typing import Any, Dict, Optional, Sequence, Tuple

import torch
from mmengine.config import Config
from torch import nn

from mmdepthseg.registry import MODELS
from .amp import amp_dtype, amp_support
from .evaluation import (EIGEN_TEST_FRAMES, eval_gt_layout,
                         measure_depth_evaluation)
from .flops import top_modules
from .hardware import hardware_info
from .loader import measure_loader
from .matmul_peak import PEAK_MATMUL_SIZE, measure_matmul_peak, utilisation
from .steps import MODES, benchmark
from .timing import summarise_times

#: Settings :func:`run_benchmark` can measure next to the default one.
SETTINGS = ('amp', 'channels_last', 'amp+channels_last')


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


@dataclass
class BenchmarkOptions:
    """What :func:`run_benchmark` measures and how.

    Args:
        shape (tuple[int, int]): Input ``(H, W)`` of the synthetic batch.
        batch_size (int): Training batch size.
        device (str): Device to run on. Defaults to 'cpu'.
        warmup, repeat, modes, infer_batch_size, num_views, seed: As
            :func:`benchmark`.
        settings (Sequence[str]): Extra settings to measure next to the
            default one (:data:`SETTINGS`). Defaults to none.
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
    """
    shape: Tuple[int, int]
    batch_size: int
    device: str = 'cpu'
    warmup: int = 2
    repeat: int = 5
    modes: Sequence[str] = MODES
    infer_batch_size: int = 1
    num_views: Optional[int] = None
    seed: int = 0
    settings: Sequence[str] = ()
    count: bool = True
    top: int = 8
    module_depth: int = 2
    peak_size: int = PEAK_MATMUL_SIZE
    peak_repeat: int = 10
    loader: bool = True
    data_root: Optional[str] = None
    split_file: Optional[str] = None
    loader_workers: Optional[int] = None
    loader_batches: int = 10
    evaluation: bool = True
    eval_frames: int = EIGEN_TEST_FRAMES
    eval_gt_shape: Optional[Tuple[int, int]] = None

    def __post_init__(self) -> None:
        for name in self.settings:
            _setting_flags(name)


def run_benchmark(cfg: Config,
                  shape: Optional[Tuple[int, int]] = None,
                  batch_size: Optional[int] = None,
                  *,
                  options: Optional[BenchmarkOptions] = None,
                  model: Optional[nn.Module] = None,
                  **kwargs: Any) -> Dict[str, Any]:
    """Speed, FLOPs, utilisation, memory, loader and evaluation time of
    one config, in one run on one device.

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
       of :mod:`mmdepthseg.benchmark.evaluation`): predictions at
       ``shape``, ground truth of the evaluated dataset's size and density
       (:func:`eval_gt_layout`: KITTI 375x1242 with 5 % valid pixels,
       Cityscapes 1024x2048, NYUv2 480x640), in batches of the test
       dataloader's size.

    Either ``options`` or ``shape``, ``batch_size`` and any other field of
    :class:`BenchmarkOptions` as keywords, e.g.
    ``run_benchmark(cfg, (192, 640), 2, settings=('amp', ))``.

    Args:
        cfg (Config): The config.
        shape, batch_size: See :class:`BenchmarkOptions`.
        options (BenchmarkOptions, optional): Everything measured.
        model (nn.Module, optional): A built model (default: built from
            ``cfg.model``).
        **kwargs: Other fields of :class:`BenchmarkOptions`.

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
    if options is None:
        if shape is None or batch_size is None:
            raise TypeError('run_benchmark needs shape and batch_size, or '
                            'options=BenchmarkOptions(...)')
        options = BenchmarkOptions(
            shape=shape, batch_size=batch_size, **kwargs)
    elif shape is not None or batch_size is not None or kwargs:
        raise TypeError('run_benchmark takes either options or shape, '
                        'batch_size and keyword settings, not both')
    opts = options
    device = torch.device(opts.device)
    hardware = hardware_info(device)  # the load before this run's work
    dtypes = [torch.float32]
    amp_ok, amp_reason = amp_support(device)
    if amp_ok and any('amp' in name for name in opts.settings):
        dtypes.append(amp_dtype(device))

    def measure_peaks() -> Dict[str, Dict[str, Any]]:
        peaks = {}
        for dtype in dtypes:
            peak = measure_matmul_peak(device, opts.peak_size,
                                       opts.peak_repeat, dtype)
            peak['conv1x1'] = measure_matmul_peak(device, opts.peak_size,
                                                  opts.peak_repeat, dtype,
                                                  'conv1x1')
            peaks[peak['dtype']] = peak
        return peaks

    peaks_before = measure_peaks()
    if model is None:
        model = MODELS.build(copy.deepcopy(cfg.model))
    common = dict(
        shape=opts.shape,
        batch_size=opts.batch_size,
        device=str(device),
        warmup=opts.warmup,
        repeat=opts.repeat,
        modes=opts.modes,
        infer_batch_size=opts.infer_batch_size,
        num_views=opts.num_views,
        model=model,
        seed=opts.seed)
    result = benchmark(
        cfg, flops=opts.count, module_depth=opts.module_depth, **common)
    result['hardware'] = hardware
    result['settings'] = {}
    for name in opts.settings:
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
            setting=other['setting'],
            **{mode: other[mode]
               for mode in opts.modes})
    # the peak again after the work, the better one kept: on a shared
    # machine a neighbour's burst during one measurement then costs less
    peaks = _better_peaks(peaks_before, measure_peaks())
    result['peak'] = peaks
    if opts.count:
        _add_counted(result, opts, peaks)
    if opts.loader and 'train' in opts.modes:
        result['loader'] = _loader_result(cfg, opts,
                                          result['train']['samples_per_s'])
    if opts.evaluation and opts.eval_frames > 0:
        layout = eval_gt_layout(cfg)
        result['evaluation'] = measure_depth_evaluation(
            cfg,
            num_frames=opts.eval_frames,
            gt_shape=tuple(opts.eval_gt_shape or layout['shape']),
            pred_shape=tuple(opts.shape),
            density=layout['density'],
            seed=opts.seed)
    return result


def _add_counted(result: Dict[str, Any], opts: BenchmarkOptions,
                 peaks: Dict[str, Dict[str, Any]]) -> None:
    """Utilisation and the top modules of every measured mode and setting
    (in place)."""
    for mode in opts.modes:
        measured = result[mode]
        _add_utilisation(measured, measured['flops'], peaks['float32'])
        measured['top_modules'] = top_modules(
            measured['flops_by_module'],
            measured['flops_forward'],
            opts.top,
            depth=opts.module_depth)
        for entry in result['settings'].values():
            if mode in entry:
                dtype = entry['setting']['amp_dtype'] or 'float32'
                _add_utilisation(entry[mode], measured['flops'],
                                 peaks.get(dtype, peaks['float32']))


def _loader_result(cfg: Config, opts: BenchmarkOptions,
                   consumption: float) -> Dict[str, Any]:
    """The training loader's throughput next to the training step's
    consumption (samples/s) and their ratio."""
    stats = measure_loader(
        cfg,
        batch_size=opts.batch_size,
        data_root=opts.data_root,
        split_file=opts.split_file,
        num_workers=opts.loader_workers,
        batches=opts.loader_batches,
        seed=opts.seed)
    stats['train_consumption_per_s'] = consumption
    if stats['available']:
        stats['ratio'] = stats['samples_per_s'] / consumption
    return stats


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
