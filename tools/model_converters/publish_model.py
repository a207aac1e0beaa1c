# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Make a checkpoint ready to publish (MMSegmentation's flags).

Drops the training-only state (``optimizer``: the optimizer state of every
wrapper, ``param_schedulers``), keeps the weights and ``meta`` (dataset
classes and palette for the inferencer), and puts the first 8 hex digits of
the SHA-256 of the written file into its name, as OpenMMLab's model zoo
does: ``out_file=fsre_r18_kitti.pth`` becomes
``fsre_r18_kitti-1a2b3c4d.pth``. The file appears only complete (written
to a temporary name, then renamed).
"""
import argparse
import hashlib
import os
import os.path as osp
from typing import Optional, Sequence

import torch

from mmdepthseg.utils import register_safe_checkpoint_globals
from mmdepthseg.utils.io import atomic_torch_save

#: Checkpoint keys only a resumed training run needs.
TRAINING_ONLY_KEYS = ('optimizer', 'param_schedulers')
BLOCK_SIZE = 1 << 20


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Process a checkpoint to be published')
    parser.add_argument('in_file', help='input checkpoint filename')
    parser.add_argument('out_file', help='output checkpoint filename')
    return parser.parse_args(argv)


def sha256sum(filename: str) -> str:
    """SHA-256 hex digest of a file."""
    digest = hashlib.sha256()
    with open(filename, 'rb') as f:
        for block in iter(lambda: f.read(BLOCK_SIZE), b''):
            digest.update(block)
    return digest.hexdigest()


def process_checkpoint(in_file: str, out_file: str) -> str:
    """Strip ``in_file`` and write it as ``<out_file stem>-<sha8>.pth``.

    Args:
        in_file (str): A training checkpoint.
        out_file (str): Output name; its ``.pth`` ending is kept after the
            hash.

    Returns:
        str: The published file's path.
    """
    if not osp.isfile(in_file):
        raise FileNotFoundError(f'checkpoint not found: {in_file}')
    register_safe_checkpoint_globals()
    checkpoint = torch.load(in_file, map_location='cpu')
    if not isinstance(checkpoint, dict):
        raise TypeError(f'{in_file}: expected a checkpoint dict, got '
                        f'{type(checkpoint).__name__}')
    for key in TRAINING_ONLY_KEYS:
        checkpoint.pop(key, None)
    stem = out_file[:-len('.pth')] if out_file.endswith('.pth') else out_file
    tmp = f'{stem}.publishing.pth'
    atomic_torch_save(checkpoint, tmp)
    final = f'{stem}-{sha256sum(tmp)[:8]}.pth'
    os.replace(tmp, final)
    return final


def main(argv: Optional[Sequence[str]] = None) -> str:
    args = parse_args(argv)
    final = process_checkpoint(args.in_file, args.out_file)
    print(f'published {final}')
    return final


if __name__ == '__main__':
    main()
