# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Train the learned stereo confidence of Pseudo-MTL: CCNN on the
matcher's disparity and the soft-threshold network on CCNN's confidence.

Both are trained from ground-truth disparity: KITTI stereo 2015
(``training/disp_occ_0``), KITTI stereo 2012 (``disp_occ``), Cityscapes'
own (SGM) disparity, or generated scenes with exact disparity
(``tools/misc/make_synthetic_stereo.py``, KITTI 2015 layout). The matcher
is the one of ``tools/generate_pseudo_depth.py`` (SGBM, same options), so
the checkpoint fits the pseudo labels it will weight::

    python tools/misc/make_synthetic_stereo.py --out data/synth_stereo_train \
        --seed 1 --num-scenes 10
    python tools/train_confidence.py data/synth_stereo_train \
        --num-disparities 48 --out work_dirs/ccnn_synth.pth \
        --val-root data/synth_stereo_val
    python tools/train_confidence.py data/kitti_stereo_2015 \
        --out work_dirs/ccnn_kitti15.pth
    python tools/generate_pseudo_depth.py data/kitti_raw --dataset kitti \
        --confidence ccnn --confidence-checkpoint work_dirs/ccnn_kitti15.pth

With ``--val-root`` the held-out pairs are scored afterwards: bad-2px of
the 50 % most confident pixels and the area under the sparsification
curve, for left-right consistency and for the learned confidence
(:mod:`mmdepthseg.stereo.confidence_eval`); the numbers are printed and
written next to the checkpoint (``<out>.json``).
"""
import argparse
import json
import os.path as osp
import time
from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.utils import ProgressBar

from mmdepthseg.stereo import (LearnedConfidence, LRConsistencyConfidence,
                               SGBMMatcher, save_confidence_checkpoint,
                               train_ccnn, train_threshold)
from mmdepthseg.stereo.confidence_eval import evaluate_pairs
from mmdepthseg.stereo.learned_confidence import ccnn_confidence
from mmdepthseg.stereo.stereo_data import list_stereo_gt, load_stereo_gt
from mmdepthseg.utils.io import atomic_write_text

DATASETS = ('kitti2015', 'kitti2012', 'cityscapes')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train CCNN + the learned soft threshold from ground-'
        'truth disparity.')
    parser.add_argument('root', help='training data root')
    parser.add_argument('--dataset', choices=DATASETS, default='kitti2015')
    parser.add_argument(
        '--splits',
        nargs='+',
        default=['train'],
        help='Cityscapes splits to train on')
    parser.add_argument('--out', required=True, help='checkpoint to write')
    parser.add_argument('--max-pairs', type=int, default=None)
    parser.add_argument(
        '--num-disparities',
        type=int,
        default=128,
        help='SGBM search range; also the CCNN input normalisation')
    parser.add_argument('--block-size', type=int, default=5)
    parser.add_argument('--uniqueness-ratio', type=int, default=10)
    parser.add_argument(
        '--error-threshold',
        type=float,
        default=3.,
        help='a disparity is correct when |d - d_gt| <= this (pixels)')
    parser.add_argument('--iters', type=int, default=2000)
    parser.add_argument('--batch-size', type=int, default=256)
    parser.add_argument('--lr', type=float, default=1e-3)
    parser.add_argument('--threshold-iters', type=int, default=300)
    parser.add_argument(
        '--no-threshold',
        action='store_true',
        help='train CCNN only (no soft-threshold network)')
    parser.add_argument('--temperature', type=float, default=10.)
    parser.add_argument('--learn-temperature', action='store_true')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--threads', type=int, default=1, help='torch CPU threads')
    parser.add_argument('--val-root', help='held-out pairs to score')
    parser.add_argument(
        '--val-dataset', choices=DATASETS, default=None, help='default: '
        '--dataset')
    parser.add_argument('--val-splits', nargs='+', default=['val'])
    parser.add_argument('--no-progress', action='store_true')
    return parser.parse_args(argv)


def _matcher(args: argparse.Namespace) -> SGBMMatcher:
    return SGBMMatcher(
        num_disparities=args.num_disparities,
        block_size=args.block_size,
        uniqueness_ratio=args.uniqueness_ratio)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        return _run(args)
    finally:
        torch.set_num_threads(threads)


def _run(args: argparse.Namespace) -> dict:
    items = list_stereo_gt(args.root, args.dataset, args.splits)
    if args.max_pairs:
        items = items[:args.max_pairs]
    matcher = _matcher(args)
    disps, gts = [], []
    bar = None if args.no_progress else ProgressBar(len(items))
    for item in items:
        left, right, gt = load_stereo_gt(item)
        disps.append(matcher(left, right)[0])
        gts.append(gt)
        if bar is not None:
            bar.update()
    sizes = sorted({d.shape for d in disps})
    t0 = time.time()
    ccnn = train_ccnn(
        disps,
        gts,
        error_threshold=args.error_threshold,
        max_disparity=args.num_disparities,
        iters=args.iters,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        log_interval=0 if args.no_progress else max(args.iters // 10, 1))
    threshold = None
    if not args.no_threshold:
        # one size for the image-level network: the common top-left window
        h = min(s[0] for s in sizes)
        w = min(s[1] for s in sizes)
        confs = [ccnn_confidence(ccnn, d)[:h, :w] for d in disps]
        threshold = train_threshold(
            confs, [d[:h, :w] for d in disps], [g[:h, :w] for g in gts],
            error_threshold=args.error_threshold,
            iters=args.threshold_iters,
            seed=args.seed,
            temperature=args.temperature,
            learn_temperature=args.learn_temperature)
    train_time = time.time() - t0
    meta = dict(
        dataset=args.dataset,
        root=osp.abspath(args.root),
        pairs=len(items),
        size=[list(s) for s in sizes],
        seed=args.seed,
        error_threshold=args.error_threshold,
        iters=args.iters,
        batch_size=args.batch_size,
        lr=args.lr,
        threshold_iters=0 if threshold is None else args.threshold_iters,
        matcher=dict(
            type='SGBMMatcher',
            num_disparities=args.num_disparities,
            block_size=args.block_size,
            uniqueness_ratio=args.uniqueness_ratio),
        train_seconds=round(train_time, 1))
    save_confidence_checkpoint(args.out, ccnn, threshold, meta)
    print(f'\nwrote {args.out} ({len(items)} pairs, {train_time:.0f} s)')
    result = dict(meta=meta)
    if args.val_root:
        val_items = list_stereo_gt(args.val_root, args.val_dataset
                                   or args.dataset, args.val_splits)
        learned = LearnedConfidence(args.out)
        methods = dict(lrc=LRConsistencyConfidence(), ccnn=learned.raw)
        if learned.soft_threshold:
            methods['ccnn+soft_threshold'] = learned
        scores = evaluate_pairs(
            val_items, matcher, methods, progress=not args.no_progress)
        result['val'] = dict(root=osp.abspath(args.val_root), scores=scores)
        print(f'\nheld-out {len(val_items)} pairs (bad = |d - d_gt| > 2 px):')
        print(f'{"confidence":<22}{"bad@50":>9}{"AUC":>9}{"AUC opt":>9}'
              f'{"bad all":>9}')
        for name, s in scores.items():
            print(f'{name:<22}{s["bad@50"]:9.4f}{s["auc"]:9.4f}'
                  f'{s["auc_optimal"]:9.4f}{s["bad_all"]:9.4f}')
        atomic_write_text(
            osp.splitext(args.out)[0] + '.json',
            json.dumps(result, indent=2, default=_json_default))
    return result


def _json_default(x):
    if isinstance(x, (np.integer, np.floating)):
        return x.item()
    raise TypeError(type(x))


if __name__ == '__main__':
    main()
