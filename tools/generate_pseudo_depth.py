# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Write stereo pseudo depth and confidence labels for a dataset tree.

Semi-global matching (OpenCV ``StereoSGBM``) gives the disparity of both
views of every stereo pair, a confidence in [0, 1] its reliability, and the
dataset's calibration converts disparity to metric depth. The confidence is
either left-right consistency (``--confidence lrc``, the default) or the
learned one of the paper (``--confidence ccnn``: CCNN and the learned soft
threshold, a checkpoint of ``tools/train_confidence.py``). Outputs are
16-bit PNGs (depth ``round(m * 256)``, confidence ``round(c * 65535)``,
0 = invalid) in trees mirroring the image trees; see
:mod:`mmdepthseg.stereo.pseudo_depth` for the exact paths. Finished pairs
are skipped, so an interrupted run can simply be restarted; ``--nproc N``
shares the pairs among N processes (same files as one process)::

    python tools/generate_pseudo_depth.py data/kitti_raw --dataset kitti \
        --nproc 8
    python tools/generate_pseudo_depth.py data/cityscapes \
        --dataset cityscapes --num-disparities 192 --splits train val \
        --confidence ccnn --confidence-checkpoint work_dirs/ccnn.pth
    python tools/generate_pseudo_depth.py data/own_video_stereo \
        --dataset own_video
"""
import argparse
from typing import Optional, Sequence

from mmdepthseg.stereo import generate_dataset_pseudo_depth


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Stereo pseudo depth + confidence PNGs for KITTI raw, '
        'Cityscapes or own stereo footage (resumable, atomic writes).')
    parser.add_argument('root', help='dataset root')
    parser.add_argument(
        '--dataset',
        choices=['kitti', 'cityscapes', 'own_video'],
        default='kitti')
    parser.add_argument(
        '--img-suffix',
        default=None,
        help='image file ending (default: .png for kitti, every image '
        'ending for own_video)')
    parser.add_argument(
        '--splits', nargs='+', default=None, help='Cityscapes splits')
    parser.add_argument(
        '--num-disparities',
        type=int,
        default=128,
        help='SGBM search range (multiple of 16)')
    parser.add_argument('--block-size', type=int, default=5)
    parser.add_argument('--uniqueness-ratio', type=int, default=10)
    parser.add_argument(
        '--confidence',
        choices=['lrc', 'ccnn'],
        default='lrc',
        help='lrc: left-right consistency through --conf-mode; ccnn: the '
        'learned CCNN confidence (+ its soft threshold) of '
        '--confidence-checkpoint')
    parser.add_argument(
        '--confidence-checkpoint',
        help='checkpoint of tools/train_confidence.py (--confidence ccnn)')
    parser.add_argument(
        '--no-soft-threshold',
        action='store_true',
        help='ccnn: write CCNN\'s confidence without the learned soft '
        'threshold')
    parser.add_argument(
        '--device', default='cpu', help='torch device of --confidence ccnn')
    parser.add_argument(
        '--nproc',
        type=int,
        default=1,
        help='worker processes (pairs are shared among them)')
    parser.add_argument(
        '--conf-mode', choices=['exp', 'sigmoid', 'hard'], default='exp')
    parser.add_argument(
        '--conf-tau', type=float, default=1.0, help='softness (pixels)')
    parser.add_argument(
        '--conf-threshold',
        type=float,
        default=1.0,
        help='LR error threshold of sigmoid/hard (pixels)')
    parser.add_argument('--no-progress', action='store_true')
    return parser.parse_args(argv)


def confidence_cfg(args: argparse.Namespace) -> dict:
    """The ``TASK_UTILS`` config of the chosen confidence."""
    if args.confidence == 'ccnn':
        if not args.confidence_checkpoint:
            raise SystemExit('--confidence ccnn needs --confidence-checkpoint '
                             '(train one with tools/train_confidence.py)')
        return dict(
            type='LearnedConfidence',
            checkpoint=args.confidence_checkpoint,
            soft_threshold=False if args.no_soft_threshold else None,
            device=args.device)
    return dict(
        type='LRConsistencyConfidence',
        mode=args.conf_mode,
        tau=args.conf_tau,
        threshold=args.conf_threshold)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    counts = generate_dataset_pseudo_depth(
        args.root,
        dataset=args.dataset,
        matcher=dict(
            type='SGBMMatcher',
            num_disparities=args.num_disparities,
            block_size=args.block_size,
            uniqueness_ratio=args.uniqueness_ratio),
        confidence=confidence_cfg(args),
        img_suffix=args.img_suffix if args.img_suffix is not None else
        ('.png' if args.dataset == 'kitti' else None),
        splits=args.splits,
        progress=not args.no_progress,
        nproc=args.nproc)
    print(f'\n{counts["pairs"]} stereo pairs: wrote {counts["written"]}, '
          f'skipped {counts["skipped"]} already done, '
          f'{counts["size_mismatch"]} with mismatched image sizes')
    return counts


if __name__ == '__main__':
    main()
