# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Depth + segmentation of an image or a folder of images.

Writes ``OUT_DIR/vis/<name>.png``: input | colour-mapped depth with a colour
bar | segmentation overlay with a legend of the classes present; with
``--save-pred`` the raw maps (``pred/<name>_depth.npy``, float32;
``pred/<name>_seg.png``, uint8 class ids), with ``--save-ply`` a coloured
point cloud (``ply/<name>.ply``, needs ``--intrinsics``)::

    python demo/image_demo.py demo/frames/ configs/fsre/fsre_r18_kitti.py \
        fsre_r18_kitti.pth --out-dir outputs --device cpu \
        --intrinsics 721.5 721.5 609.6 172.9 --save-ply --max-depth 80

Without a checkpoint (or with `random`) the model is randomly initialised (to
try the tool); a metafile model name without released weights needs
`random` to say so.
Self-supervised models (FSRE-Depth) give relative depth: the colour bar then
says so, and point clouds are in the same relative units.
"""
import argparse
import os.path as osp
import sys

from mmdepthseg.apis import DepthSegInferencer


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Predict depth and segmentation of images and draw them '
        'side by side (optionally with point clouds).')
    parser.add_argument('inputs', help='an image file or a folder of images')
    parser.add_argument(
        'config', help='config file or a model name of configs/*/metafile')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        default=None,
        help='checkpoint file; "random" (or nothing, with a config file) '
        'for a randomly initialised model')
    parser.add_argument(
        '--out-dir', required=True, help='folder for pictures and files')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument(
        '--intrinsics',
        type=float,
        nargs=4,
        metavar=('FX', 'FY', 'CX', 'CY'),
        help='camera intrinsics in pixels at the input images\' size')
    parser.add_argument(
        '--save-ply',
        action='store_true',
        help='write ply/<name>.ply point clouds (needs --intrinsics)')
    parser.add_argument(
        '--ply-color',
        choices=['image', 'class'],
        default='image',
        help='colour points by the image or by the class palette')
    parser.add_argument(
        '--ply-ascii',
        action='store_true',
        help='ASCII PLY instead of binary little endian')
    parser.add_argument(
        '--max-depth',
        type=float,
        default=None,
        help='drop farther points from the point clouds')
    parser.add_argument(
        '--stride',
        type=int,
        default=1,
        help='keep every N-th pixel row / column in the point clouds')
    parser.add_argument(
        '--save-pred',
        action='store_true',
        help='also write the raw depth (.npy) and class map (.png)')
    parser.add_argument(
        '--opacity',
        type=float,
        default=0.6,
        help='weight of the class colours over the image')
    args = parser.parse_args(argv)
    if not osp.exists(args.inputs):
        parser.error(f'input not found: {args.inputs}')
    if args.config.endswith('.py') and not osp.isfile(args.config):
        parser.error(f'config file not found: {args.config}')
    if args.checkpoint not in (None, 'random') \
            and '://' not in args.checkpoint \
            and not osp.isfile(args.checkpoint):
        parser.error(f'checkpoint not found: {args.checkpoint}')
    if args.save_ply and args.intrinsics is None:
        parser.error('--save-ply needs --intrinsics FX FY CX CY')
    if args.stride < 1:
        parser.error(f'--stride must be >= 1, got {args.stride}')
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    inferencer = DepthSegInferencer(
        args.config,
        args.checkpoint,
        device=args.device,
        intrinsics=args.intrinsics,
        batch_size=args.batch_size)
    out = inferencer(
        args.inputs,
        out_dir=args.out_dir,
        return_seg_probs=False,
        save_pred=args.save_pred,
        save_ply=args.save_ply,
        ply_color=args.ply_color,
        ply_binary=not args.ply_ascii,
        max_depth=args.max_depth,
        stride=args.stride,
        opacity=args.opacity)
    num = len(out['predictions'])
    print(f'{num} image{"s" if num != 1 else ""}: pictures in '
          f'{osp.join(args.out_dir, "vis")}' +
          (f', point clouds in {osp.join(args.out_dir, "ply")}' if args.
           save_ply else '') +
          (f', raw maps in {osp.join(args.out_dir, "pred")}' if args.
           save_pred else ''))
    if inferencer.depth_kind == 'relative':
        print('note: the model is self-supervised, its depth is relative '
              '(known up to scale)')


if __name__ == '__main__':
    sys.exit(main())
