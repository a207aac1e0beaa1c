# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Generate synthetic scenes in the KITTI raw, Cityscapes, NYUv2 or ISPRS
layout.

Street scenes for KITTI raw and Cityscapes, indoor rooms for NYU Depth v2
(MMSegmentation's layout plus the 40-class ``labels40`` folder), top-down
city tiles for ISPRS Potsdam / Vaihingen (raw tiles in ``OUT/raw/<city>``,
cut into patches in ``OUT/<city>`` by the ISPRS converter).

Examples::

    python tools/misc/make_synthetic_dataset.py --layout cityscapes \
        --out data/synthetic_cityscapes --seed 0
    python tools/misc/make_synthetic_dataset.py --layout kitti \
        --out data/synthetic_kitti --num-drives 3 --frames-per-drive 40
    python tools/misc/make_synthetic_dataset.py --layout nyu \
        --out data/synthetic_nyu --train-rooms 40 --test-rooms 10
    python tools/misc/make_synthetic_dataset.py --layout isprs \
        --out data/synthetic_isprs --isprs-train-tiles 8 --patch-size 256
    python tools/misc/make_synthetic_dataset.py --layout video \
        --out data/synthetic_footage --num-frames 200 --still 80 30

``--layout video`` writes footage as a user records it (``drive.mp4``, the
same frames in ``drive/``, a camera file ``drive.json``, labels and depth),
the input of ``tools/dataset_converters/video.py`` (docs/en/own_video.md).

Same seed, same bytes. Files are written atomically, so an interrupted run
leaves only complete files (re-running overwrites them).
"""
import argparse
import json
import os.path as osp
import sys
import time

try:
    from mmdepthseg.synthetic import (write_cityscapes, write_isprs,
                                      write_kitti_raw, write_nyu,
                                      write_street_video)
except ImportError:  # running from a source tree that is not installed
    sys.path.insert(
        0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
    from mmdepthseg.synthetic import (write_cityscapes, write_isprs,
                                      write_kitti_raw, write_nyu,
                                      write_street_video)

#: Default (height, width) per layout.
DEFAULT_SIZES = dict(
    kitti=(192, 640), cityscapes=(256, 512), nyu=(480, 640), video=(192, 640))
#: Default image extension per layout.
DEFAULT_IMG_EXT = dict(kitti='.png', nyu='.jpg')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Render procedural street scenes (exact depth, '
        'Cityscapes trainIds, stereo and video) or indoor rooms (exact '
        'depth, NYUv2-40 labels) in a real dataset layout.')
    parser.add_argument(
        '--layout',
        choices=['kitti', 'cityscapes', 'nyu', 'isprs', 'video'],
        required=True)
    parser.add_argument('--out', required=True, help='output root folder')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--height',
        type=int,
        default=None,
        help='image height (default: 192 kitti, 256 cityscapes, 480 nyu)')
    parser.add_argument(
        '--width',
        type=int,
        default=None,
        help='image width (default: 640 kitti, 512 cityscapes, 640 nyu)')
    parser.add_argument(
        '--no-antialias',
        action='store_true',
        help='sample the radiance at pixel centres only (no pixel filter)')
    parser.add_argument(
        '--img-ext',
        default=None,
        choices=['.png', '.jpg'],
        help='image extension of kitti and nyu (default: .png kitti, .jpg '
        'nyu)')
    kitti = parser.add_argument_group('kitti')
    kitti.add_argument('--num-drives', type=int, default=3)
    kitti.add_argument('--frames-per-drive', type=int, default=20)
    kitti.add_argument('--date', default='2011_09_26')
    city = parser.add_argument_group('cityscapes')
    city.add_argument(
        '--train-cities', nargs='+', default=['aachen', 'bochum', 'bremen'])
    city.add_argument('--val-cities', nargs='+', default=['frankfurt'])
    city.add_argument(
        '--train-extra-cities',
        nargs='+',
        default=[],
        help='cities of a train_extra split (SemiMTL: a depth-only domain)')
    city.add_argument(
        '--val-extra-cities',
        nargs='+',
        default=[],
        help='cities of a val_extra split (validation of that domain)')
    city.add_argument('--frames-per-city', type=int, default=20)
    video = parser.add_argument_group('video')
    video.add_argument('--num-frames', type=int, default=200)
    video.add_argument(
        '--still',
        nargs=2,
        type=int,
        action='append',
        metavar=('START', 'LENGTH'),
        help='frames where the camera stands still (repeatable)')
    video.add_argument(
        '--stereo', action='store_true', help='also a right camera')
    nyu = parser.add_argument_group('nyu')
    nyu.add_argument('--train-rooms', type=int, default=8)
    nyu.add_argument('--test-rooms', type=int, default=2)
    nyu.add_argument('--views-per-room', type=int, default=4)
    isprs = parser.add_argument_group(
        'isprs', 'raw tiles per city at its GSD (potsdam 5 cm, vaihingen '
        '9 cm), converted to 9 cm patches with 50 % overlap')
    isprs.add_argument('--cities', nargs='+', default=['potsdam', 'vaihingen'])
    isprs.add_argument(
        '--isprs-train-tiles', type=int, default=4, help='tiles per city')
    isprs.add_argument(
        '--isprs-val-tiles', type=int, default=2, help='tiles per city')
    isprs.add_argument(
        '--tile-size', type=float, default=40.0, help='tile side (metres)')
    isprs.add_argument('--patch-size', type=int, default=256)
    isprs.add_argument(
        '--no-convert',
        action='store_true',
        help='write the raw tiles only (OUT/raw/<city>)')
    return parser.parse_args(argv)


def _make_isprs(args: argparse.Namespace) -> dict:
    """Write raw ISPRS-like tiles to ``OUT/raw/<city>`` and (unless
    ``--no-convert``) cut them into ``OUT/<city>/{img,ann,ndsm}_dir``."""
    counts = {'train': args.isprs_train_tiles, 'val': args.isprs_val_tiles}
    summary = write_isprs(
        osp.join(args.out, 'raw'),
        seed=args.seed,
        tiles={city: dict(counts)
               for city in args.cities},
        tile_size=args.tile_size,
        progress=True)
    if not args.no_convert:
        from mmdepthseg.converters.isprs import convert_isprs
        summary['patches'] = {}
        for city, info in summary['cities'].items():
            print(f'\nconverting {city}')
            converted = convert_isprs(
                info['raw_root'],
                osp.join(args.out, city),
                city,
                splits=info['splits'],
                patch_size=args.patch_size)
            summary['patches'][city] = converted['num_patches']
    return summary


def main(argv=None) -> dict:
    args = parse_args(argv)
    t0 = time.time()
    height, width = DEFAULT_SIZES.get(args.layout, (None, None))
    height, width = args.height or height, args.width or width
    img_ext = args.img_ext or DEFAULT_IMG_EXT.get(args.layout)
    if args.layout == 'kitti':
        summary = write_kitti_raw(
            args.out,
            seed=args.seed,
            num_drives=args.num_drives,
            frames_per_drive=args.frames_per_drive,
            height=height,
            width=width,
            date=args.date,
            img_ext=img_ext,
            antialias=not args.no_antialias,
            progress=True)
    elif args.layout == 'isprs':
        summary = _make_isprs(args)
    elif args.layout == 'video':
        summary = write_street_video(
            args.out,
            seed=args.seed,
            num_frames=args.num_frames,
            still=[tuple(s) for s in args.still or []],
            height=height,
            width=width,
            stereo=args.stereo,
            antialias=not args.no_antialias,
            progress=True)
    elif args.layout == 'nyu':
        summary = write_nyu(
            args.out,
            seed=args.seed,
            rooms={
                'train': args.train_rooms,
                'test': args.test_rooms
            },
            views_per_room=args.views_per_room,
            height=height,
            width=width,
            img_ext=img_ext,
            antialias=not args.no_antialias,
            progress=True)
    else:
        summary = write_cityscapes(
            args.out,
            seed=args.seed,
            cities={
                split: names
                for split, names in (('train', args.train_cities),
                                     ('val', args.val_cities),
                                     ('train_extra', args.train_extra_cities),
                                     ('val_extra', args.val_extra_cities))
                if names
            },
            frames_per_city=args.frames_per_city,
            height=height,
            width=width,
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
