# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Training step, inference, FLOPs, utilisation, memory, data loading and
depth evaluation of a config, in one run on the current device.

The model is measured on a synthetic batch with the fields of the data
contract (no dataset needed); the training dataloader is measured on the
data under ``--data-root`` (n/a when absent); the config's ``DepthMetric``
evaluates ``--eval-frames`` synthetic predictions (697 at 375x1242 for
KITTI configs, the Eigen test split; n/a without a ``DepthMetric``). See
the ``mmdepthseg/benchmark/`` package (``run.py`` first) for what each
number is.

Examples::

    python tools/analysis_tools/benchmark.py configs/fsre/fsre_r18_kitti.py \
        --shape 192 640 --batch-size 2 --json work_dirs/bench/fsre.json
    # with mixed precision and channels-last, and the loader on generated
    # KITTI-layout data (tools/misc/make_synthetic_dataset.py)
    python tools/analysis_tools/benchmark.py configs/fsre/fsre_r18_kitti.py \
        --shape 192 640 --batch-size 2 --amp --channels-last \
        --data-root data/synthetic_kitti \
        --split-file splits/synthetic/train_files.txt
"""
import argparse
from typing import List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config, DictAction

from mmdepthseg.benchmark import (EIGEN_TEST_FRAMES, MODES, PEAK_MATMUL_SIZE,
                                  dump_json_atomic, format_table,
                                  run_benchmark)
from mmdepthseg.utils import register_all_modules
from mmdepthseg.utils.data_root import apply_data_root_args


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark the training step, inference and data '
        'loading of a config')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--shape',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        help='input size; default: the config\'s crop_size')
    parser.add_argument(
        '--batch-size',
        type=int,
        help='training batch size; default: train_dataloader.batch_size')
    parser.add_argument(
        '--infer-batch-size', type=int, default=1, help='inference batch')
    parser.add_argument(
        '--device',
        default='cuda' if torch.cuda.is_available() else 'cpu',
        help='cpu or cuda (default: cuda when available)')
    parser.add_argument(
        '--threads',
        type=int,
        help='torch.set_num_threads (default: torch\'s own choice)')
    parser.add_argument('--warmup', type=int, default=2, help='untimed runs')
    parser.add_argument('--repeat', type=int, default=5, help='timed runs')
    parser.add_argument(
        '--mode',
        nargs='+',
        choices=MODES,
        default=list(MODES),
        help='what to measure')
    parser.add_argument(
        '--views',
        type=int,
        help='views per sample when the config\'s dataset does not say')
    parser.add_argument('--seed', type=int, default=0, help='data seed')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='also measure mixed precision (bfloat16 autocast on the CPU, '
        'float16 with loss scaling on CUDA), where the device supports it')
    parser.add_argument(
        '--channels-last',
        action='store_true',
        help='also measure channels-last weights (with --amp: also both)')
    parser.add_argument(
        '--no-flops',
        action='store_true',
        help='skip the FLOP count (and utilisation)')
    parser.add_argument(
        '--top', type=int, default=8, help='modules listed per mode')
    parser.add_argument(
        '--module-depth',
        type=int,
        default=2,
        help='depth of the listed modules (1: the model\'s children)')
    parser.add_argument(
        '--peak-size',
        type=int,
        default=PEAK_MATMUL_SIZE,
        help='matrix side of the matmul peak')
    parser.add_argument(
        '--peak-repeat',
        type=int,
        default=10,
        help='timed runs of each peak matmul')
    parser.add_argument(
        '--data-root',
        help='data root of the training dataloader (replaces every '
        'data_root of train_dataloader.dataset, or OLD=NEW to move one root '
        'of a multi-root config); default: the config\'s')
    parser.add_argument(
        '--split-file',
        help='replaces the training split_file (KITTI raw; relative to the '
        'data root first), e.g. splits/synthetic/train_files.txt')
    parser.add_argument(
        '--loader-workers',
        type=int,
        help='dataloader workers; default: the config\'s num_workers')
    parser.add_argument(
        '--loader-batches', type=int, default=10, help='timed loader batches')
    parser.add_argument(
        '--no-loader',
        action='store_true',
        help='skip the dataloader measurement')
    parser.add_argument(
        '--eval-frames',
        type=int,
        default=EIGEN_TEST_FRAMES,
        help='frames of the depth evaluation by the config\'s DepthMetric '
        '(synthetic predictions; 0 skips it); default: KITTI Eigen\'s 697')
    parser.add_argument(
        '--eval-gt-shape',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        help='ground-truth size of the depth evaluation; default: the '
        'evaluated dataset\'s (KITTI 375x1242, Cityscapes 1024x2048, NYUv2 '
        '480x640)')
    parser.add_argument('--json', help='also write the result to this file')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file.')
    return parser.parse_args(argv)


def resolve_shape(args: argparse.Namespace, cfg: Config) -> Tuple[int, int]:
    """``--shape``, else the config's ``crop_size`` ``(h, w)``."""
    if args.shape is not None:
        return tuple(args.shape)
    crop = cfg.get('crop_size', None)
    if crop is None or len(crop) != 2:
        raise SystemExit(f'{args.config} has no crop_size (h, w); give the '
                         f'input size with --shape H W')
    return int(crop[0]), int(crop[1])


def requested_settings(args: argparse.Namespace) -> List[str]:
    """Settings measured next to the default one."""
    settings = []
    if args.amp:
        settings.append('amp')
    if args.channels_last:
        settings.append('channels_last')
    if args.amp and args.channels_last:
        settings.append('amp+channels_last')
    return settings


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    register_all_modules()
    cfg = Config.fromfile(args.config)
    # a single root replaces every root of the training datasets (as
    # before); OLD=NEW pairs move the roots of a multi-root config one by
    # one, as tools/train.py --data-root
    pairs = args.data_root is not None and '=' in args.data_root
    apply_data_root_args(
        cfg,
        args.cfg_options, [args.data_root] if pairs else None,
        loaders=('train_dataloader', ))
    data_root = None if pairs else args.data_root
    batch_size = args.batch_size
    if batch_size is None:
        batch_size = cfg.get('train_dataloader', {}).get('batch_size', 1)
    result = run_benchmark(
        cfg,
        shape=resolve_shape(args, cfg),
        batch_size=batch_size,
        device=args.device,
        warmup=args.warmup,
        repeat=args.repeat,
        modes=args.mode,
        infer_batch_size=args.infer_batch_size,
        num_views=args.views,
        seed=args.seed,
        settings=requested_settings(args),
        count=not args.no_flops,
        top=args.top,
        module_depth=args.module_depth,
        peak_size=args.peak_size,
        peak_repeat=args.peak_repeat,
        loader=not args.no_loader,
        data_root=data_root,
        split_file=args.split_file,
        loader_workers=args.loader_workers,
        loader_batches=args.loader_batches,
        eval_frames=args.eval_frames,
        eval_gt_shape=args.eval_gt_shape)
    print(format_table(result))
    if args.json:
        dump_json_atomic(result, args.json)
        print(f'wrote {args.json}')
    return result


if __name__ == '__main__':
    main()
