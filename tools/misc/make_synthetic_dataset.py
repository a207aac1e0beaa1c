# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Generate synthetic street scenes in the KITTI raw or Cityscapes layout.

Examples::

    python tools/misc/make_synthetic_dataset.py --layout cityscapes \
        --out data/synthetic_cityscapes --seed 0
    python tools/misc/make_synthetic_dataset.py --layout kitti \
        --out data/synthetic_kitti --num-drives 3 --frames-per-drive 40

Same seed, same bytes. Files are written atomically, so an interrupted run
leaves only complete files (re-running overwrites them).
"""
import argparse
import json
import os.path as osp
import sys
import time

try:
    from mmdepthseg.datasets.synthetic import write_cityscapes, write_kitti_raw
except ImportError:  # running from a source tree that is not installed
    sys.path.insert(
        0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
    from mmdepthseg.datasets.synthetic import write_cityscapes, write_kitti_raw


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Render procedural street scenes (exact depth, '
        'Cityscapes trainIds, stereo and video) in a real dataset layout.')
    parser.add_argument(
        '--layout', choices=['kitti', 'cityscapes'], required=True)
    parser.add_argument('--out', required=True, help='output root folder')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--height',
        type=int,
        default=None,
        help='image height (default: 192 kitti, 256 cityscapes)')
    parser.add_argument(
        '--width',
        type=int,
        default=None,
        help='image width (default: 640 kitti, 512 cityscapes)')
    parser.add_argument(
        '--no-antialias',
        action='store_true',
        help='sample the radiance at pixel centres only (no pixel filter)')
    kitti = parser.add_argument_group('kitti')
    kitti.add_argument('--num-drives', type=int, default=3)
    kitti.add_argument('--frames-per-drive', type=int, default=20)
    kitti.add_argument('--date', default='2011_09_26')
    kitti.add_argument('--img-ext', default='.png', choices=['.png', '.jpg'])
    city = parser.add_argument_group('cityscapes')
    city.add_argument(
        '--train-cities', nargs='+', default=['aachen', 'bochum', 'bremen'])
    city.add_argument('--val-cities', nargs='+', default=['frankfurt'])
    city.add_argument('--frames-per-city', type=int, default=20)
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    t0 = time.time()
    if args.layout == 'kitti':
        summary = write_kitti_raw(
            args.out,
            seed=args.seed,
            num_drives=args.num_drives,
            frames_per_drive=args.frames_per_drive,
            height=args.height or 192,
            width=args.width or 640,
            date=args.date,
            img_ext=args.img_ext,
            antialias=not args.no_antialias,
            progress=True)
    else:
        summary = write_cityscapes(
            args.out,
            seed=args.seed,
            cities={
                'train': args.train_cities,
                'val': args.val_cities
            },
            frames_per_city=args.frames_per_city,
            height=args.height or 256,
            width=args.width or 512,
            antialias=not args.no_antialias,
            progress=True)
    print(f'\nwrote the {args.layout} layout to {args.out} in '
          f'{time.time() - t0:.1f} s')
    for key, value in summary.items():
        if key == 'splits':
            value = {k: f'{len(v)} frames' for k, v in value.items()}
        if key != 'scenes':
            print(f'  {key}: {json.dumps(value)}')
    return summary


if __name__ == '__main__':
    main()
