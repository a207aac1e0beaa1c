# Copyright (c) mmdepthseg contributors. All rights reserved.
"""FLOPs and parameters of a model's inference (MMSegmentation's flags).

One synthetic image of ``--shape`` goes through preprocessing and
``predict`` (both heads, the model's own test-time options); PyTorch's
``FlopCounterMode`` counts every matmul and convolution at 2 FLOPs per
multiply-add (``mmdepthseg.benchmark.count_flops``). The largest
modules are listed. ``tools/analysis_tools/benchmark.py`` measures the
training step, timings and memory too.

Example::

    python tools/analysis_tools/get_flops.py configs/fsre/fsre_r18_kitti.py \\
        --shape 192 640
"""
import argparse
from typing import Optional, Sequence, Tuple

import torch
from mmengine.config import Config, DictAction
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope

from mmdepthseg.benchmark import (count_flops, infer_view_names,
                                  make_synthetic_batch)
from mmdepthseg.registry import MODELS
from mmdepthseg.utils import register_all_modules
from mmdepthseg.utils.console import quiet_warnings


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Get the FLOPs of a depth+seg model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--shape',
        type=int,
        nargs='+',
        default=None,
        help='input image size: H W, or one value for a square; default: '
        'the config\'s crop_size')
    parser.add_argument(
        '--top', type=int, default=8, help='largest modules listed')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file.')
    return parser.parse_args(argv)


def input_shape(shape: Optional[Sequence[int]],
                cfg: Config) -> Tuple[int, int]:
    """``(H, W)`` from ``--shape`` (one or two values) or ``crop_size``."""
    if shape is None:
        crop = cfg.get('crop_size', None)
        if crop is None or len(crop) != 2:
            raise SystemExit(f'{cfg.filename} has no crop_size (h, w): give '
                             '--shape H W')
        return int(crop[0]), int(crop[1])
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    raise SystemExit(f'--shape takes H W or one size, got {shape}')


def _format(value: float) -> str:
    for unit, scale in (('T', 1e12), ('G', 1e9), ('M', 1e6), ('K', 1e3)):
        if abs(value) >= scale:
            return f'{value / scale:.3g}{unit}'
    return f'{value:.3g}'


def get_flops(cfg: Config, shape: Tuple[int, int], top: int = 8) -> dict:
    """Inference FLOPs and parameters of ``cfg.model`` at ``shape``.

    Args:
        cfg (Config): The config.
        shape (tuple[int, int]): Input ``(H, W)``.
        top (int): Number of modules listed. Defaults to 8.

    Returns:
        dict: ``flops`` (int), ``params`` (int), ``shape`` and ``modules``
        (the ``top`` largest modules two levels deep, name -> FLOPs).
    """
    init_default_scope(cfg.get('default_scope', 'mmdepthseg'))
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    model.eval()
    # one view: inference is monocular (the other views feed the losses)
    batch = make_synthetic_batch(1, shape, infer_view_names(cfg)[:1])
    for sample in batch['data_samples']:
        sample.set_metainfo(
            dict(ori_shape=shape, img_shape=shape, pad_shape=shape))
    with torch.no_grad():
        counted = count_flops(model.test_step, batch, model=model)
    return dict(
        flops=counted['total'],
        params=sum(p.numel() for p in model.parameters()),
        shape=shape,
        modules=dict(list(counted['by_module'].items())[:top]))


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)
    quiet_warnings()  # MMSegmentation's own deprecation notices
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    result = get_flops(cfg, input_shape(args.shape, cfg), args.top)
    line = '=' * 30
    print(f'{line}\nCompute type: direct: randomly generate a picture\n'
          f'Input shape: {result["shape"]}\n'
          f'Flops: {_format(result["flops"])} (2 per multiply-add)\n'
          f'Params: {_format(result["params"])}\n{line}')
    for name, flops in result['modules'].items():
        print(f'  {name:<40s} {_format(flops)}')
    print('!!!Please be cautious if you use the results in papers. '
          'Only matmuls and convolutions are counted.')
    return result


if __name__ == '__main__':
    main()
