# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Convert the labelled NYU Depth v2 release for SOSD-Net (NYUv2-40).

Reads the official ``nyu_depth_v2_labeled.mat`` (1,449 RGB-D frames with
894-class labels; MATLAB v7.3 = HDF5, read with h5py) and ``splits.mat``
(the official 795 / 654 train / test indices), maps the labels to the 40
classes of Gupta et al. and writes::

    OUT/images/{train,test}/<NNNN>.jpg        RGB
    OUT/annotations/{train,test}/<NNNN>.png   uint16 depth in millimetres
    OUT/labels40/{train,test}/<NNNN>.png      uint8 40-class ids, 0 unlabelled

which ``NYUDepthSegDataset`` (``configs/_base_/datasets/nyu_sosd.py``)
reads. Resumable (frames whose files exist are skipped, ``--overwrite``
rewrites them), atomic, with a progress bar. See
``mmdepthseg.converters.nyu``.

Example::

    python tools/dataset_converters/nyu.py nyu_depth_v2_labeled.mat \
        splits.mat -o data/nyu
    # with the official mapping file instead of the shipped table
    python tools/dataset_converters/nyu.py nyu_depth_v2_labeled.mat \
        splits.mat -o data/nyu --class-mapping classMapping40.mat
"""
import argparse
import json

from mmdepthseg.converters.nyu import convert_nyu


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert nyu_depth_v2_labeled.mat + splits.mat into the '
        'NYU layout (images, depth in mm, 40-class labels).')
    parser.add_argument('labeled_mat', help='nyu_depth_v2_labeled.mat')
    parser.add_argument(
        'splits_mat', help='splits.mat (trainNdxs / testNdxs, one-based)')
    parser.add_argument('-o', '--out-dir', required=True)
    parser.add_argument(
        '--class-mapping',
        help='894 -> 40 table: classMapping40.mat (mapClass), .npy or text '
        'of 894 ids; default: the table shipped with mmdepthseg')
    parser.add_argument(
        '--img-ext',
        choices=['.jpg', '.png'],
        default='.jpg',
        help="image format (.png needs img_suffix='.png' in the dataset "
        'config)')
    parser.add_argument('--jpeg-quality', type=int, default=95)
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='rewrite frames that already exist (default: skip them)')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    summary = convert_nyu(
        args.labeled_mat,
        args.splits_mat,
        args.out_dir,
        class_mapping=args.class_mapping,
        img_ext=args.img_ext,
        jpeg_quality=args.jpeg_quality,
        overwrite=args.overwrite)
    print(json.dumps(summary, indent=1))


if __name__ == '__main__':
    main()
