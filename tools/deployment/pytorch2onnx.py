# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Export a depth + segmentation model to ONNX and check it.

The graph takes one normalised RGB view ``inputs`` ``(B, 3, H, W)`` and
returns ``depth`` ``(B, 1, H, W)`` and / or ``seg_logits``
``(B, C, H, W)`` at the input size: ``model.predict`` without the final
crop / flip / resize to the original image (see
``mmdepthseg/deployment/onnx_export.py``). The batch axis is dynamic;
``--dynamic-shape`` makes H and W dynamic where the model's operations
allow it.

Examples::

    python tools/deployment/pytorch2onnx.py CONFIG CKPT \\
        --output-file model.onnx --shape 192 640 --verify
    # a randomly initialised model (no checkpoint)
    python tools/deployment/pytorch2onnx.py CONFIG --random-init \\
        --output-file model.onnx --shape 64 192 --verify

Needs the optional ONNX packages: ``pip install 'mmdepthseg[onnx]'`` or
``pip install -r requirements/optional.txt``. Exit status: 0 on success,
1 when the verification exceeds ``--rtol``, 2 on a usage error or missing
packages.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

import numpy as np
import torch
from mmengine.config import DictAction

from mmdepthseg.deployment import onnx_export
from mmdepthseg.utils.console import quiet_warnings


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Export a depth + segmentation model to ONNX')
    parser.add_argument('config', help='config file')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        default=None,
        help='checkpoint file; without it the model is randomly initialised')
    parser.add_argument(
        '--random-init',
        action='store_true',
        help='export a randomly initialised model (no checkpoint)')
    parser.add_argument(
        '--output-file',
        default=None,
        help='output .onnx file (default: <config name>.onnx)')
    parser.add_argument(
        '--shape',
        type=int,
        nargs=2,
        required=True,
        metavar=('H', 'W'),
        help='input height and width (multiples of the size divisor)')
    parser.add_argument(
        '--dynamic-shape',
        action='store_true',
        help='make H and W dynamic as well as the batch axis')
    parser.add_argument(
        '--opset', type=int, default=18, help='ONNX opset version')
    parser.add_argument(
        '--verify',
        action='store_true',
        help='run the file with onnxruntime (CPU) and compare with PyTorch')
    parser.add_argument(
        '--image',
        default=None,
        help='also verify on this image (resized to --shape)')
    parser.add_argument(
        '--rtol',
        type=float,
        default=1e-4,
        help='largest accepted max|onnx - torch| / max|torch| per output')
    parser.add_argument(
        '--intrinsics',
        type=float,
        nargs=4,
        default=None,
        metavar=('FX', 'FY', 'CX', 'CY'),
        help='camera of the input size, for models that need it (SOSD-Net '
        "with depth_mode='disparity'); baked into the graph")
    parser.add_argument(
        '--baseline',
        type=float,
        default=None,
        help='stereo baseline (metres), with --intrinsics')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value pairs')
    args = parser.parse_args(argv)
    if args.random_init and args.checkpoint is not None:
        parser.error('give a checkpoint or --random-init, not both')
    if args.image is not None and not args.verify:
        parser.error('--image is used by --verify')
    if args.output_file is None:
        args.output_file = osp.splitext(osp.basename(args.config))[0] + \
            '.onnx'
    return args


def _img_meta(args: argparse.Namespace) -> dict:
    meta = {}
    if args.intrinsics is not None:
        fx, fy, cx, cy = args.intrinsics
        meta['intrinsics'] = np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1]],
                                      dtype=np.float32)
    if args.baseline is not None:
        meta['baseline'] = float(args.baseline)
    return meta


class _StepProgress:
    """A progress bar over the stages of the export, on standard error.

    Args:
        total (int): Number of stages known at the start.
    """

    def __init__(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress,
                                   TextColumn, TimeElapsedColumn)
        self.progress = Progress(
            TextColumn('{task.description:<45}'),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True))
        self.task = self.progress.add_task('starting', total=total)
        self.started = False

    def __enter__(self) -> '_StepProgress':
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self.progress.stop()

    def add(self, stages: int) -> None:
        """``stages`` more stages."""
        total = self.progress.tasks[0].total
        self.progress.update(self.task, total=total + stages)

    def step(self, description: str) -> None:
        """Finish the current stage and describe the next one."""
        self.progress.update(
            self.task,
            advance=1 if self.started else 0,
            description=description)
        self.started = True


def _verification_inputs(args: argparse.Namespace, model) -> List[tuple]:
    """(description, tensor) pairs the exported graph is checked on."""
    height, width = args.shape
    generator = torch.Generator().manual_seed(1)
    inputs = [('random, batch 2',
               torch.randn(2, 3, height, width, generator=generator))]
    if args.dynamic_shape:
        step = getattr(model.data_preprocessor, 'size_divisor', None) or 32
        inputs.append((f'random, batch 1, {height + step}x{width + 2 * step}',
                       torch.randn(
                           1,
                           3,
                           height + step,
                           width + 2 * step,
                           generator=generator)))
    if args.image is not None:
        inputs.append((f'image {args.image}',
                       onnx_export.load_image_input(model, args.image,
                                                    args.shape)))
    return inputs


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        onnx_export.require('onnx', 'onnxscript',
                            *(['onnxruntime'] if args.verify else []))
    except ImportError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2

    quiet_warnings()  # MMSegmentation's own deprecation notices
    if args.checkpoint is None:
        print('no checkpoint: exporting a randomly initialised model')
    verify_inputs = []
    with _StepProgress(2) as progress:
        progress.step('building the model')
        model = onnx_export.build_export_model(args.config, args.checkpoint,
                                               args.cfg_options)
        img_meta = _img_meta(args)
        progress.step('exporting (tracing the model)')
        try:
            dims = onnx_export.export_onnx(
                model,
                args.output_file,
                tuple(args.shape),
                dynamic_shape=args.dynamic_shape,
                opset_version=args.opset,
                img_meta=img_meta)
        except (KeyError, ValueError, RuntimeError) as err:
            progress.stop()
            print(f'error: export failed: {err}', file=sys.stderr)
            if isinstance(err, KeyError) and not img_meta:
                print(
                    'hint: this model reads camera metainfo; give '
                    '--intrinsics and --baseline',
                    file=sys.stderr)
            return 2
        if args.verify:
            verify_inputs = _verification_inputs(args, model)
            progress.add(len(verify_inputs))
            results = []
            for description, inputs in verify_inputs:
                progress.step(f'verifying in onnxruntime: {description}')
                results.append(
                    onnx_export.verify_onnx(args.output_file, model, inputs,
                                            img_meta))
        progress.step('done')
    print(f'exported {args.output_file} (opset {args.opset})')
    for name, shape in dims.items():
        print(f'  {name:<11} {shape}')
    if not args.verify:
        return 0

    status = 0
    for (description, inputs), errors in zip(verify_inputs, results):
        print(f'onnxruntime (CPU) vs PyTorch, input {description} '
              f'{tuple(inputs.shape)}:')
        for name, err in errors.items():
            ok = err['max_rel'] <= args.rtol
            status = status if ok else 1
            print(f"  {name:<11} max abs {err['max_abs']:.3e}  "
                  f"max rel {err['max_rel']:.3e}  "
                  f"{'ok' if ok else f'ABOVE rtol {args.rtol:g}'}")
    return status


if __name__ == '__main__':
    sys.exit(main())
