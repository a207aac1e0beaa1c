# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Cut ISPRS Potsdam / Vaihingen tiles into 512x512 patches (SemiMTL).

Reads the raw tiles of one city (image, colour-coded labels, nDSM),
resamples them to 9 cm (Potsdam: 5 cm -> 9 cm), normalises the nDSM to
[0, 1], maps the label colours to MMSegmentation's 0..6 indices (0 =
ignore) and writes 512x512 patches with a 50 % overlapping sliding window
to ``OUT/{img_dir,ann_dir,ndsm_dir}/{train,val}`` (the official train /
test tiles; the test tiles become ``val``). Resumable: finished tiles are
skipped. See ``mmdepthseg.converters.isprs`` and
``docs/en/dataset_formats.md``.

Examples::

    python tools/dataset_converters/isprs.py potsdam data/potsdam_raw \
        -o data/potsdam --nproc 8
    python tools/dataset_converters/isprs.py vaihingen data/vaihingen_raw \
        -o data/vaihingen \
        --ndsm-pattern 'NDSM/dsm_09cm_matching_{id}_normalized.jpg'

Potsdam's raw root holds the extracted ``3_Ortho_IRRG``, ``5_Labels_all``
and ``1_DSM_normalisation`` folders; Vaihingen's ``top``,
``ground_truth_COMPLETE`` and ``ndsm`` (adapt the ``--*-pattern`` options
to the names of your release).
"""
import argparse
import json

from mmdepthseg.converters.isprs import convert_isprs


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert ISPRS Potsdam / Vaihingen tiles into 512x512 '
        'patches at 9 cm GSD (images, labels 0..6, nDSM in [0, 1]).')
    parser.add_argument(
        'city',
        help="'potsdam' or 'vaihingen' (defaults for the file patterns, "
        'tile lists and GSD)')
    parser.add_argument('raw_root', help='folder of the extracted archives')
    parser.add_argument('-o', '--out-dir', required=True)
    parser.add_argument(
        '--train-tiles',
        nargs='+',
        help='tile ids of the train split (default: the official ones, '
        "e.g. '2_10' or 'area1')")
    parser.add_argument(
        '--val-tiles',
        nargs='+',
        help='tile ids of the val split (default: the official test '
        'tiles)')
    for modality in ('img', 'label', 'ndsm'):
        parser.add_argument(
            f'--{modality}-pattern',
            nargs='+',
            metavar='PATTERN',
            help=f'{modality} file(s) relative to RAW_ROOT, alternatives '
            'tried in order; fields {id}, {row}, {col}, {area}, e.g. '
            "'top/top_mosaic_09cm_{id}.tif'")
    parser.add_argument(
        '--src-gsd',
        type=float,
        help='metres per pixel of the raw tiles (default 0.05 potsdam, '
        '0.09 vaihingen)')
    parser.add_argument('--dst-gsd', type=float, default=0.09)
    parser.add_argument('--patch-size', type=int, default=512)
    parser.add_argument('--overlap', type=float, default=0.5)
    parser.add_argument(
        '--ndsm-norm',
        choices=['global', 'tile'],
        default='global',
        help='global: (v - lo) / (hi - lo) with --ndsm-range (default 0 and '
        'the dtype max, i.e. / 255 for 8-bit files); tile: per-tile min-max')
    parser.add_argument(
        '--ndsm-range',
        nargs=2,
        type=float,
        metavar=('LO', 'HI'),
        help='stored nDSM values mapped to 0 and 1 (required for float '
        'files in metres)')
    parser.add_argument(
        '--ndsm-nodata', type=float, help='stored nDSM value meaning no data')
    parser.add_argument(
        '--label-tolerance',
        type=int,
        default=0,
        help='per-channel colour tolerance of the label mapping')
    parser.add_argument(
        '--img-interp', choices=['area', 'bilinear'], default='area')
    parser.add_argument(
        '--no-labels', action='store_true', help='skip the label tiles')
    parser.add_argument(
        '--no-ndsm', action='store_true', help='skip the nDSM tiles')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='convert tiles again even if an earlier run finished them')
    parser.add_argument('--nproc', type=int, default=1)
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    splits = {
        split: tiles
        for split, tiles in (('train', args.train_tiles),
                             ('val', args.val_tiles)) if tiles is not None
    } or None  # None: the official tile lists
    patterns = {
        m: getattr(args, f'{m}_pattern')
        for m in ('img', 'label', 'ndsm') if getattr(args, f'{m}_pattern')
    }
    summary = convert_isprs(
        args.raw_root,
        args.out_dir,
        args.city,
        splits=splits,
        patterns=patterns,
        src_gsd=args.src_gsd,
        dst_gsd=args.dst_gsd,
        patch_size=args.patch_size,
        overlap=args.overlap,
        ndsm_norm=args.ndsm_norm,
        ndsm_range=args.ndsm_range,
        ndsm_nodata=args.ndsm_nodata,
        label_tolerance=args.label_tolerance,
        img_interp=args.img_interp,
        with_labels=not args.no_labels,
        with_ndsm=not args.no_ndsm,
        overwrite=args.overwrite,
        nproc=args.nproc)
    print(f'\n{args.city}: {json.dumps(summary["num_patches"])} patches in '
          f'{args.out_dir} ({len(summary["converted"])} tiles converted, '
          f'{len(summary["skipped"])} already done)')
    return summary


if __name__ == '__main__':
    main()
