# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Convert timm's aligned Xception-65 ImageNet weights to Xception65's keys.

The SOSD-Net configs load timm's ``xception65`` file directly (the keys are
mapped on the fly, see ``Xception65.convert_pretrained``); this tool writes
the mapped weights once, e.g. to inspect them or to ship a file in
mmdepthseg's own names, and reports every key that does not fit::

    python tools/model_converters/xception65_timm2mmdepthseg.py \\
        tf_xception_65-c9ae96e8.pth work_dirs/xception65_imagenet.pth

``SRC`` is a local file or a URL (default: the checkpoint the SOSD configs
pin, fetched into the torch.hub cache and SHA-256-verified). The result
loads with ``init_cfg=dict(type='Pretrained', checkpoint=DST, sha256=<the
printed hash>, layout='own')``. With any missing, unexpected or mis-shaped
key nothing is written (exit status 1) unless ``--force``.
"""
import argparse
import sys
from typing import List, Optional

from mmdepthseg.models.backbones.xception import (Xception65,
                                                  convert_timm_xception65)
from mmdepthseg.utils.io import atomic_torch_save
from mmdepthseg.utils.pretrained import (PRETRAINED_CHECKPOINTS,
                                         compare_state_dicts, file_sha256,
                                         load_pretrained_state_dict)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    spec = PRETRAINED_CHECKPOINTS['xception65']
    parser = argparse.ArgumentParser(
        description="Convert timm's xception65 (aligned Xception-65, TF "
        'DeepLab ImageNet weights) to mmdepthseg Xception65 keys.')
    parser.add_argument(
        'src',
        nargs='?',
        default=spec.url,
        help=f'timm checkpoint, path or URL (default: {spec.url})')
    parser.add_argument('dst', help='output checkpoint (.pth)')
    parser.add_argument(
        '--sha256',
        default=None,
        help='pinned SHA-256 (or >= 8-digit prefix) of SRC; default: the '
        'pin of the default URL, none for other files')
    parser.add_argument(
        '--num-middle-blocks',
        type=int,
        default=16,
        help='middle-flow blocks of the target Xception65 (default: 16)')
    parser.add_argument(
        '--width-mult',
        type=float,
        default=1.0,
        help='width multiplier of the target Xception65 (default: 1.0)')
    parser.add_argument(
        '--force',
        action='store_true',
        help='write even if some keys do not fit')
    args = parser.parse_args(argv)
    if args.sha256 is None and args.src == spec.url:
        args.sha256 = spec.sha256
    return args


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    state = load_pretrained_state_dict(
        args.src, args.sha256, cfg_key=None, owner='the converter')
    renamed, sources, dropped = convert_timm_xception65(state)
    model = Xception65(
        width_mult=args.width_mult, num_middle_blocks=args.num_middle_blocks)
    report = compare_state_dicts(model.state_dict(), renamed, sources)
    print(f'{args.src}: {len(state)} tensors, {len(renamed)} mapped, '
          f'classifier dropped: {dropped}')
    for title, keys in (('missing', report.missing),
                        ('unexpected', report.unexpected),
                        ('shape mismatch', report.mismatched)):
        print(f'{title} keys: {len(keys)}')
        for key in keys:
            print(f'  {key}')
    if not report.ok and not args.force:
        print('nothing written (use --force to write anyway)',
              file=sys.stderr)
        return 1
    meta = dict(
        source=args.src,
        source_layout='timm xception65',
        converter='tools/model_converters/xception65_timm2mmdepthseg.py')
    atomic_torch_save(dict(state_dict=renamed, meta=meta), args.dst)
    digest = file_sha256(args.dst)
    print(f'wrote {args.dst} (sha256 {digest}); load it with '
          f"init_cfg=dict(type='Pretrained', checkpoint='{args.dst}', "
          f"sha256='{digest}', layout='own')")
    return 0


if __name__ == '__main__':
    sys.exit(main())
