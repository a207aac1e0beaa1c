# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Prepare a KITTI raw tree for mmdepthseg.

Steps, in order:

1. check ``RAW_ROOT`` (date folders with ``calib_cam_to_cam.txt`` and
   ``calib_velo_to_cam.txt``, drive folders);
2. copy the monodepth2 split files ``<split>/*_files.txt`` from
   ``--splits-dir`` into ``OUT/splits/`` (no online fetching: the files come
   from https://github.com/nianticlabs/monodepth2/tree/master/splits, and a
   copy ships in ``data/kitti_splits/``);
3. with ``--to-jpeg``: write ``image_0{2,3}/data/<frame>.jpg`` next to every
   PNG, in place (PNGs are kept; delete them yourself to save space);
   resumable, finished JPEGs are skipped;
4. with ``--export-gt SPLIT``: write the ground-truth depth of every line of
   ``OUT/splits/SPLIT/test_files.txt`` into ``OUT/gt_depths_SPLIT.npz``
   (keys ``files`` and ``depth_00000``, ...; see
   ``mmdepthseg.converters.kitti``). By default this is what
   monodepth2's ``export_gt_depth.py`` writes, the ground truth of the
   published KITTI tables: for ``eigen`` (and any split but
   ``eigen_benchmark``) the velodyne scan projected into camera 2 (3 for
   side ``r``), each pixel holding the point's forward coordinate in the
   scanner frame (``--gt-depth velodyne_x``); for ``eigen_benchmark`` the
   depth-completion annotations ``<drive>/proj_depth/groundtruth/
   image_02/<frame>.png`` (``--gt-depth improved``, value / 256).
   ``--gt-depth camera_z`` stores the camera-frame depth instead (about
   0.27 m less, the camera's true depth: for the synthetic generator's data
   or comparisons with works that used it; not the published protocol).

Example::

    python tools/dataset_converters/kitti.py data/kitti_raw \
        --out-dir data/kitti_raw --splits-dir data/kitti_splits \
        --to-jpeg --export-gt eigen --nproc 8
"""
import argparse

from mmdepthseg.converters import prepare_kitti_raw


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Prepare a KITTI raw tree: check it, install the split '
        'files, optionally convert PNG to JPEG, export Eigen ground truth. '
        'Split files are not fetched online: take them from '
        'https://github.com/nianticlabs/monodepth2/tree/master/splits or '
        'data/kitti_splits/.')
    parser.add_argument('raw_root', help='KITTI raw root (date folders)')
    parser.add_argument(
        '--out-dir',
        required=True,
        help='receives splits/ and gt_depths_<split>.npz')
    parser.add_argument(
        '--splits-dir',
        help='folder with <split>/*_files.txt (eigen/test_files.txt, '
        'eigen_zhou/train_files.txt, eigen_zhou/val_files.txt); may be '
        'omitted when OUT/splits already holds them')
    parser.add_argument(
        '--to-jpeg',
        action='store_true',
        help='write <frame>.jpg next to every image_02/image_03 PNG')
    parser.add_argument('--jpeg-quality', type=int, default=92)
    parser.add_argument(
        '--export-gt',
        nargs='+',
        default=[],
        metavar='SPLIT',
        help='splits whose test_files.txt gets OUT/gt_depths_<split>.npz')
    parser.add_argument(
        '--pixel-offset',
        type=int,
        default=1,
        help="devkit's round(u) - 1 rule: 1 for real KITTI, 0 for the "
        'synthetic generator')
    parser.add_argument(
        '--gt-depth',
        choices=('velodyne_x', 'camera_z', 'improved'),
        default=None,
        help='ground truth of the exported splits: velodyne_x (the published '
        "benchmark's: velodyne forward coordinate), camera_z (camera-frame "
        'depth, not the published protocol) or improved (depth-completion '
        'annotations). Default: improved for eigen_benchmark, velodyne_x '
        "otherwise (monodepth2's export_gt_depth.py)")
    parser.add_argument(
        '--improved-gt-root',
        default=None,
        help='root of the extracted depth-completion download '
        '(<root>/{train,val}/<drive>_sync/proj_depth/groundtruth/); by '
        'default the annotations are looked for inside the raw drive folders')
    parser.add_argument('--nproc', type=int, default=1)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    summary = prepare_kitti_raw(
        args.raw_root,
        args.out_dir,
        splits_dir=args.splits_dir,
        to_jpeg=args.to_jpeg,
        jpeg_quality=args.jpeg_quality,
        export_gt=args.export_gt,
        pixel_offset=args.pixel_offset,
        nproc=args.nproc,
        gt_depth=args.gt_depth,
        improved_gt_root=args.improved_gt_root)
    print(f'\ndates: {", ".join(summary["dates"])}')
    print(f'split files: {", ".join(summary["splits"])}')
    if 'jpeg' in summary:
        print(f'jpeg: {summary["jpeg"]}')
    for path in summary['gt_files']:
        print(f'ground truth: {path}')


if __name__ == '__main__':
    main()
