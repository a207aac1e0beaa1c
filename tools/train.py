# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Train a depth + segmentation model (MMSegmentation's flags).

Before the Runner starts (and so before the work directory and the log
exist), the config is checked: hook / loop / optimizer / scheduler
arguments against what their classes accept (a typo is reported with the
nearest valid name), the data roots and ``load_from`` against the disk.
The console shows a short summary; the environment, the full config and
the hook order are in the log file (``--verbose`` prints them too).
"""
import argparse
import logging
import os
import os.path as osp
import sys

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import print_log

from mmdepthseg.utils import register_all_modules, setup_cpu_distributed
from mmdepthseg.utils.config_check import (ConfigCheckError, check_arguments,
                                           check_paths)
from mmdepthseg.utils.console import build_runner
from mmdepthseg.utils.data_root import apply_data_root_args


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a depth+seg model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        action='store_true',
        default=False,
        help='resume from the newest complete checkpoint in the work_dir '
        '(an unreadable latest one, e.g. from a run killed while saving, is '
        'skipped with a warning)')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic-mixed-precision training: float16 with '
        'dynamic loss scaling on a GPU (AmpOptimWrapper), bfloat16 autocast '
        'on a CPU that supports it (CPUAmpOptimWrapper)')
    parser.add_argument(
        '--data-root',
        nargs='+',
        metavar='ROOT',
        help='read every dataset from this folder instead of the config\'s '
        'data_root (sources of multi-source datasets included); a config '
        'with several roots takes OLD=NEW pairs, OLD a root or its config '
        'variable, e.g. data_root=/data/cs synscapes_root=/data/syn')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file; data_root=... '
        'moves the datasets like --data-root')
    parser.add_argument(
        '--verbose',
        action='store_true',
        help='print the environment, the full config and the hook order on '
        'the console too (they are always in the log file)')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def _amp_wrapper(wrapper: dict, where: str) -> None:
    """Turn one ``OptimWrapper`` config into its mixed-precision form."""
    kind = wrapper.get('type', 'OptimWrapper')
    if kind in ('AmpOptimWrapper', 'CPUAmpOptimWrapper'):
        print_log(
            f'AMP training is already enabled in your config ({where}).',
            logger='current',
            level=logging.WARNING)
        return
    if kind != 'OptimWrapper':
        raise ConfigCheckError(
            f'--amp is only supported when the optimizer wrapper type is '
            f'`OptimWrapper`, but {where} is {kind}')
    if torch.cuda.is_available():
        wrapper['type'] = 'AmpOptimWrapper'
        wrapper['loss_scale'] = 'dynamic'
    else:
        wrapper['type'] = 'CPUAmpOptimWrapper'
        wrapper['dtype'] = 'bfloat16'


def enable_amp(cfg: Config) -> None:
    """``--amp``: float16 + loss scaling on CUDA, bfloat16 autocast on a CPU.

    Raises:
        ConfigCheckError: No CUDA and a CPU without native bfloat16, or a
            wrapper type other than ``OptimWrapper``.
    """
    from mmdepthseg.engine.optimizers import cpu_supports_bfloat16
    if not torch.cuda.is_available() and not cpu_supports_bfloat16():
        raise ConfigCheckError(
            '--amp: no CUDA device, and this CPU has no native bfloat16 '
            '(oneDNN reports no AVX512-BF16 / AMX / AVX512 core support), '
            'so mixed precision would be slower than float32; train '
            'without --amp')
    optim_wrapper = cfg.optim_wrapper
    constructor = optim_wrapper.get('constructor',
                                    'DefaultOptimWrapperConstructor')
    if constructor == 'DefaultOptimWrapperConstructor':
        _amp_wrapper(optim_wrapper, 'optim_wrapper')
        return
    # a constructor of several wrappers (SemiMTL's generator and
    # discriminators): each one
    subs = [k for k, v in optim_wrapper.items()
            if isinstance(v, dict) and 'optimizer' in v]
    if not subs:
        raise ConfigCheckError(
            f'--amp: cannot find the optimizer wrappers of {constructor}')
    for key in subs:
        _amp_wrapper(optim_wrapper[key], f'optim_wrapper.{key}')


def build_train_cfg(args: argparse.Namespace) -> Config:
    """Merge the command line into the config."""
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    apply_data_root_args(cfg, args.cfg_options, args.data_root)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        enable_amp(cfg)
    cfg.resume = args.resume
    return cfg


def train_loaders(cfg: Config) -> tuple:
    """Dataloaders a training run reads (validation only with a
    ``val_cfg``)."""
    loaders = ['train_dataloader']
    if cfg.get('val_cfg') and cfg.get('val_dataloader'):
        loaders.append('val_dataloader')
    return tuple(loaders)


def main(argv=None) -> None:
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)
    try:
        cfg = build_train_cfg(args)
        check_arguments(cfg)
        check_paths(cfg, loaders=train_loaders(cfg))
    except (ConfigCheckError, FileNotFoundError, ValueError) as err:
        sys.exit(f'tools/train.py: {err}')
    setup_cpu_distributed(cfg, args.launcher)
    runner = build_runner(cfg, verbose=args.verbose)
    runner.train()


if __name__ == '__main__':
    main()
