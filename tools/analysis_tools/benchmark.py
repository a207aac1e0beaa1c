# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Training-step time, inference time and peak memory of a config's model.

No dataset is needed: a synthetic batch with the fields of the data
contract is generated (see ``mmdepthseg/utils/benchmark.py``).

Example::

    python tools/analysis_tools/benchmark.py CONFIG --shape 192 640 \
        --batch-size 2 --device cpu --json bench.json
"""
import argparse
from typing import Optional, Sequence, Tuple

import torch
from mmengine.config import Config, DictAction

from mmdepthseg.utils import register_all_modules
from mmdepthseg.utils.benchmark import (MODES, benchmark, dump_json_atomic,
                                        format_table)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark the training step and inference of a config')
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


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    register_all_modules()
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    batch_size = args.batch_size
    if batch_size is None:
        batch_size = cfg.get('train_dataloader', {}).get('batch_size', 1)
    result = benchmark(
        cfg,
        shape=resolve_shape(args, cfg),
        batch_size=batch_size,
        device=args.device,
        warmup=args.warmup,
        repeat=args.repeat,
        modes=args.mode,
        infer_batch_size=args.infer_batch_size,
        num_views=args.views,
        seed=args.seed)
    print(format_table(result))
    if args.json:
        dump_json_atomic(result, args.json)
        print(f'wrote {args.json}')
    return result


if __name__ == '__main__':
    main()
