# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Write pseudo segmentation labels for an image tree.

Runs any MMSegmentation-style config + checkpoint (mmseg's own or
mmdepthseg's) over every image below ``--img-dir`` and writes uint8 trainId
PNGs into ``--out-dir`` with the same relative paths (extension ``.png``).
Finished files are skipped, so an interrupted run can simply be restarted;
every file is written atomically.

For KITTI raw, write the labels where ``KittiRawDataset(seg_dir=
'semantic_{cam:02d}')`` reads them::

    python tools/generate_pseudo_seg.py CONFIG CHECKPOINT \
        --img-dir data/kitti_raw --out-dir data/kitti_raw \
        --dir-map image_0 semantic_0 --device cuda:0 --batch-size 8

(``<drive>/image_02/data/x.png`` -> ``<drive>/semantic_02/data/x.png``;
with ``--dir-map`` only folders containing its source string are read.)
"""
import argparse

from mmdepthseg.apis import generate_pseudo_seg, init_segmentor


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Write trainId label PNGs predicted by a segmentor into '
        'a tree mirroring an image tree (resumable, atomic writes).')
    parser.add_argument('config', help='MMSegmentation-style config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--img-dir', required=True, help='image root')
    parser.add_argument('--out-dir', required=True, help='label root')
    parser.add_argument(
        '--img-suffix', default='.png', help='image file ending')
    parser.add_argument(
        '--dir-map',
        nargs=2,
        action='append',
        default=[],
        metavar=('SRC', 'DST'),
        help='replace SRC by DST in folder names of the output path (e.g. '
        'image_0 semantic_0); repeatable; only folders containing a SRC are '
        'read')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument('--batch-size', type=int, default=1)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    model = init_segmentor(args.config, args.checkpoint, device=args.device)
    counts = generate_pseudo_seg(
        model,
        args.img_dir,
        args.out_dir,
        img_suffix=args.img_suffix,
        dir_map=[tuple(m) for m in args.dir_map],
        batch_size=args.batch_size)
    print(f'\nwrote {counts["written"]} label maps, skipped '
          f'{counts["skipped"]} already present, under {args.out_dir}')


if __name__ == '__main__':
    main()
