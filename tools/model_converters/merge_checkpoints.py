# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Merge parts of several checkpoints into one (e.g. Pseudo-MTL stage 2).

Pseudo-MTL's stage-2 initialisation takes the encoder and the depth decoder
from the stage-1 depth network and the segmentation decoder from the
stage-1 segmentation network::

    python tools/model_converters/merge_checkpoints.py \\
        --src work_dirs/pseudo-mtl_vgg16_stage1-depth_kitti/epoch_30.pth \\
            backbone depth_head \\
        --src work_dirs/pseudo-mtl_vgg16_stage1-seg_kitti/epoch_30.pth \\
            seg_head \\
        --config configs/pseudo_mtl/pseudo-mtl_vgg16_stage2_kitti.py \\
        --out work_dirs/pseudo-mtl_vgg16_stage1-merged_kitti.pth

``--config`` checks that the result loads into that config's model with
``strict=True`` before anything is written; the file is written atomically.
"""
import argparse

from mmengine.config import Config

from mmdepthseg.registry import MODELS
from mmdepthseg.utils import register_all_modules
from mmdepthseg.utils.checkpoint_merge import merge_checkpoints


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Merge the parameters under given module prefixes of '
        'several checkpoints into one checkpoint.')
    parser.add_argument(
        '--src',
        nargs='+',
        action='append',
        required=True,
        metavar=('CHECKPOINT', 'PREFIX'),
        help='a checkpoint followed by the module prefixes to take from it '
        '(e.g. backbone depth_head); repeat for every checkpoint')
    parser.add_argument('--out', required=True, help='output checkpoint')
    parser.add_argument(
        '--config', help='check that the result loads into this model')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    sources = []
    for src in args.src:
        if len(src) < 2:
            raise SystemExit(f'--src {src[0]}: give the module prefixes to '
                             'take from it, e.g. --src depth.pth backbone '
                             'depth_head')
        sources.append((src[0], src[1:]))
    model = None
    if args.config:
        register_all_modules()
        model = MODELS.build(Config.fromfile(args.config).model)
    ckpt = merge_checkpoints(sources, args.out, model=model)
    for path, modules in ckpt['meta']['merged_from'].items():
        print(f'{path}: {", ".join(modules)}')
    print(f'wrote {len(ckpt["state_dict"])} tensors to {args.out}')


if __name__ == '__main__':
    main()
