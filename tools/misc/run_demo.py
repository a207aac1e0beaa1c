# Copyright (c) mmdepthseg contributors. All rights reserved.
"""`make demo`: generate street scenes, train a model, evaluate, draw.

Runs the same commands a user would (`tools/misc/make_synthetic_dataset.py`,
`tools/train.py`, `tools/test.py --show-dir`) and prints one depth +
segmentation table and where the pictures are.
"""
import argparse
import glob
import json
import os.path as osp
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--config', required=True)
    parser.add_argument('--data-root', default='data/synthetic_kitti')
    parser.add_argument(
        '--layout',
        choices=['kitti', 'cityscapes'],
        default='kitti',
        help='on-disk layout of the generated data the config reads')
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--max-iters', type=int, default=None)
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of the generated data')
    parser.add_argument(
        '--train-seed',
        type=int,
        default=0,
        help='seed of the training run (randomness.seed): the same seed on '
        'the same machine gives the same numbers')
    return parser.parse_args()


def run(cmd: list) -> None:
    print('\n$ ' + ' '.join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT)


def latest_metrics(work_dir: str) -> dict:
    """Metrics JSON that MMEngine wrote for the latest test run."""
    files = sorted(
        glob.glob(osp.join(work_dir, '*', '*.json')), key=osp.getmtime)
    if not files:
        raise FileNotFoundError(f'no metrics JSON under {work_dir}')
    with open(files[-1]) as f:
        return json.load(f)


def print_table(metrics: dict) -> None:
    seg = [k for k in ('mIoU', 'mAcc', 'aAcc') if k in metrics]
    depth = [
        k for k in metrics
        if k not in seg and k not in ('step', 'time', 'data_time')
    ]
    print('\n' + '=' * 60)
    print('depth + segmentation on held-out generated frames')
    print('-' * 60)
    for key in seg + depth:
        val = metrics[key]
        if isinstance(val, float):
            print(f'  {key:<22s} {val:10.4f}')
    print('=' * 60)


def main() -> None:
    args = parse_args()
    py = sys.executable
    t0 = time.time()
    marker = 'splits' if args.layout == 'kitti' else 'leftImg8bit'
    if not osp.isdir(osp.join(ROOT, args.data_root, marker)):
        run([
            py, 'tools/misc/make_synthetic_dataset.py', '--layout',
            args.layout, '--out', args.data_root, '--seed',
            str(args.seed)
        ])
    train_cmd = [
        py, 'tools/train.py', args.config, '--work-dir', args.work_dir,
        '--data-root', args.data_root, '--cfg-options',
        f'randomness.seed={args.train_seed}'
    ]
    if args.max_iters:
        train_cmd += [f'train_cfg.max_iters={args.max_iters}']
    run(train_cmd)
    with open(osp.join(ROOT, args.work_dir, 'last_checkpoint')) as f:
        ckpt = f.read().strip()
    show_dir = 'vis'
    run([
        py, 'tools/test.py', args.config, ckpt, '--work-dir', args.work_dir,
        '--show-dir', show_dir, '--data-root', args.data_root
    ])
    metrics = latest_metrics(osp.join(ROOT, args.work_dir))
    print_table(metrics)
    runs = sorted(
        glob.glob(osp.join(ROOT, args.work_dir, '*', show_dir)),
        key=osp.getmtime)
    pics = sorted(
        glob.glob(osp.join(runs[-1], '**', '*.png'),
                  recursive=True)) if runs else []
    print(f'checkpoint: {ckpt}')
    if pics:
        print(f'pictures ({len(pics)}): {osp.dirname(pics[0])}')
        print(f'  e.g. {pics[0]}')
    print(f'demo finished in {time.time() - t0:.0f} s')


if __name__ == '__main__':
    main()
