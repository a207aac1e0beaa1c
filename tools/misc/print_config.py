# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Print the whole config, after inheritance and overrides (MMSegmentation's
flags), optionally with the model graph.

``--data-root`` moves the datasets as ``tools/train.py`` does, so the printed
config is the one a run would use; ``--dump FILE`` also writes it.
"""
import argparse
import warnings
from typing import Optional, Sequence

from mmengine.config import Config, DictAction

from mmdepthseg.utils import register_all_modules
from mmdepthseg.utils.data_root import apply_data_root_args


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Print the whole config')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--graph', action='store_true', help='print the models graph')
    parser.add_argument(
        '--options',
        nargs='+',
        action=DictAction,
        help='deprecated: use --cfg-options')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file. If the value to '
        'be overwritten is a list, it should be like key="[a,b]" or key=a,b '
        'It also allows nested list/tuple values, e.g. key="[(a,b),(c,d)]" '
        'Note that the quotation marks are necessary and that no white space '
        'is allowed.')
    parser.add_argument(
        '--data-root',
        nargs='+',
        metavar='ROOT',
        help='move every dataset as tools/train.py --data-root does')
    parser.add_argument(
        '--dump', metavar='FILE', help='also write the config to this file')
    args = parser.parse_args(argv)
    if args.options and args.cfg_options:
        parser.error('--options and --cfg-options cannot be both specified; '
                     '--options is deprecated in favour of --cfg-options')
    if args.options:
        warnings.warn('--options is deprecated in favour of --cfg-options')
        args.cfg_options = args.options
    return args


def main(argv: Optional[Sequence[str]] = None) -> Config:
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    apply_data_root_args(cfg, args.cfg_options, args.data_root)
    print(f'Config:\n{cfg.pretty_text}')
    if args.dump:
        cfg.dump(args.dump)
        print(f'written to {args.dump}')
    if args.graph:
        from mmengine.registry import init_default_scope

        from mmdepthseg.registry import MODELS
        init_default_scope(cfg.get('default_scope', 'mmdepthseg'))
        print(f'Model graph:\n{MODELS.build(cfg.model)}')
    return cfg


if __name__ == '__main__':
    main()
