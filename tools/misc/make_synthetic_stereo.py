# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Render street scenes with EXACT disparity in the KITTI stereo 2015
layout (``training/image_2``, ``image_3``, ``disp_occ_0``), to train and
measure learned stereo confidence (``tools/train_confidence.py``)::

    python tools/misc/make_synthetic_stereo.py --out data/synth_stereo_train \
        --seed 1 --num-scenes 10
    python tools/misc/make_synthetic_stereo.py --out data/synth_stereo_val \
        --seed 2 --num-scenes 5

Trees of different seeds share no scene (scene seeds ``seed * 1000 + k``).
"""
import argparse
from typing import Optional, Sequence

from mmdepthseg.stereo.stereo_data import write_synthetic_stereo


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generated stereo pairs with exact disparity, KITTI '
        'stereo 2015 layout.')
    parser.add_argument('--out', required=True, help='output root')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--num-scenes', type=int, default=4)
    parser.add_argument('--frames-per-scene', type=int, default=4)
    parser.add_argument('--height', type=int, default=96)
    parser.add_argument('--width', type=int, default=320)
    parser.add_argument(
        '--baseline', type=float, default=0.54, help='metres (KITTI)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    info = write_synthetic_stereo(
        args.out,
        seed=args.seed,
        num_scenes=args.num_scenes,
        frames_per_scene=args.frames_per_scene,
        height=args.height,
        width=args.width,
        baseline=args.baseline)
    print(f'wrote {info["frames"]} stereo pairs ({args.width}x'
          f'{args.height}, scene seeds {info["scene_seeds"]}) to {args.out}')
    return info


if __name__ == '__main__':
    main()
