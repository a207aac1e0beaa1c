# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Download and verify the ImageNet checkpoints the configs start from.

Run it on a machine with internet access; it puts every file where training
looks for it (the torch.hub cache, ``$TORCH_HOME/hub/checkpoints``) and
checks each against its pinned SHA-256. Copy that folder to an offline
machine (same relative place under its ``$TORCH_HOME``) and training finds
the files there::

    python tools/misc/fetch_pretrained.py                # all of them
    python tools/misc/fetch_pretrained.py configs/fsre/fsre_r18_kitti.py
    python tools/misc/fetch_pretrained.py --list         # what and where

Positional arguments are names from the table (``--list``) or config files,
whose ``Pretrained`` init configs are fetched.
"""
import argparse
import os.path as osp
import sys
from typing import Dict, List, Optional, Tuple

from mmdepthseg.utils.pretrained import (PRETRAINED_CHECKPOINTS,
                                         ChecksumMismatchError,
                                         PretrainedWeightsUnavailable,
                                         cache_path, fetch_checkpoint, is_url)


def _from_config(path: str) -> List[Tuple[str, Optional[str]]]:
    """(checkpoint, sha256) of every ``Pretrained`` init_cfg of a config."""
    from mmengine.config import Config
    found = []

    def walk(node):
        if isinstance(node, dict):
            init = node.get('init_cfg')
            for c in init if isinstance(init, list) else [init]:
                if isinstance(c, dict) and c.get('type') == 'Pretrained':
                    found.append((c['checkpoint'], c.get('sha256')))
            for value in node.values():
                walk(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                walk(value)

    walk(Config.fromfile(path).model.to_dict())
    return found


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Download and verify the pinned ImageNet checkpoints.')
    parser.add_argument(
        'targets',
        nargs='*',
        help='checkpoint names (see --list) or config files; default: all')
    parser.add_argument(
        '--list',
        action='store_true',
        help='print the table (name, URL, SHA-256, cache path) and exit')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if args.list:
        for name, spec in PRETRAINED_CHECKPOINTS.items():
            state = 'cached' if osp.isfile(cache_path(spec.url)) else \
                'missing'
            print(f'{name}: {spec.description}\n  url    {spec.url}\n'
                  f'  sha256 {spec.sha256}\n  path   '
                  f'{cache_path(spec.url)} ({state})')
        return 0
    wanted: Dict[str, Optional[str]] = {}
    for target in args.targets or list(PRETRAINED_CHECKPOINTS):
        if target in PRETRAINED_CHECKPOINTS:
            spec = PRETRAINED_CHECKPOINTS[target]
            wanted[spec.url] = spec.sha256
        elif osp.isfile(target):
            wanted.update(
                (c, s) for c, s in _from_config(target) if is_url(c))
        else:
            print(f'{target}: neither a checkpoint name '
                  f'({", ".join(PRETRAINED_CHECKPOINTS)}) nor a config file',
                  file=sys.stderr)
            return 2
    failed = 0
    for url, sha256 in wanted.items():
        try:
            path = fetch_checkpoint(url, sha256, owner='fetch_pretrained')
            print(f'ok  {path}')
        except (PretrainedWeightsUnavailable, ChecksumMismatchError) as exc:
            failed += 1
            print(f'FAILED {url}: {exc}', file=sys.stderr)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
