# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Show what a config's pipeline feeds the model, sample by sample.

Every sample of the chosen phase's dataset goes through its pipeline (random
augmentations included) and is drawn by
:meth:`DepthSegLocalVisualizer.draw_input_sample`: one row per view (video
frames, stereo partner), the un-augmented view when the pipeline keeps one,
then every per-pixel map (labels in the palette, ground-truth depth, pseudo
depth, confidence). The metainfo the model receives (view names,
intrinsics, stereo baseline, SemiMTL domain and labelled tasks, shapes,
flip) and a summary of every map are printed.

Examples::

    python tools/misc/browse_dataset.py configs/fsre/fsre_r18_kitti.py \\
        --output-dir work_dirs/browse --not-show --max-samples 10
    python tools/misc/browse_dataset.py \\
        configs/synthetic/pseudo_mtl_vgg16_synthkitti.py --phase val \\
        --cfg-options val_dataloader.dataset.data_root=data/other

``--data-root`` sets the ``data_root`` of every dataset of the phase
(all sources of a multi-source dataset; ``OLD=NEW`` pairs for a phase that
reads several roots), as ``tools/train.py`` does.

``--check`` scans a whole dataset before a long run instead: it builds the
phase's dataset (split files, calibration, camera files) and passes every
sample through the pipeline's loading steps (``Load*`` and
``MapSegLabels``, no augmentation), with a progress bar, recording every
defect on the way (see :mod:`mmdepthseg.datasets.validation`) rather than
stopping at the first. It prints each defect (file, what is wrong, what was
expected), grouped by kind, and a summary, and exits with status 1 if it
found any::

    python tools/misc/browse_dataset.py configs/fsre/fsre_r18_kitti.py \
        --check --phase train
"""
import argparse
import copy
import os
import os.path as osp
import sys
import uuid
from typing import Any, Dict, List, Optional, Tuple

import cv2
import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmengine.utils import ProgressBar

from mmdepthseg.datasets.validation import (DatasetError, DefectCollector,
                                            collect_defects)
from mmdepthseg.registry import DATASETS
from mmdepthseg.utils import register_all_modules
from mmdepthseg.utils.data_root import apply_data_root_args
from mmdepthseg.utils.io import atomic_write_bytes
from mmdepthseg.visualization.local_visualizer import DepthSegLocalVisualizer

#: Metainfo keys printed for every sample, in this order.
META_KEYS = ('view_names', 'img_shape', 'ori_shape', 'scale_factor', 'flip',
             'flip_direction', 'baseline', 'domain', 'labelled_tasks')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Browse what the pipeline of a config feeds the model')
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--output-dir',
        default=None,
        help='write one PNG per sample into this folder')
    parser.add_argument(
        '--not-show',
        action='store_true',
        help='do not open a window (e.g. on a machine without display)')
    parser.add_argument(
        '--show-interval',
        type=float,
        default=2.0,
        help='seconds each picture is shown')
    parser.add_argument(
        '--phase',
        default='train',
        choices=['train', 'val', 'test'],
        help='which dataloader\'s dataset (and pipeline) to browse')
    parser.add_argument(
        '--max-samples',
        type=int,
        default=None,
        help='stop after this many samples (default: all)')
    parser.add_argument(
        '--data-root',
        nargs='+',
        default=None,
        metavar='ROOT',
        help="read every dataset of the phase from this folder (a phase "
        'with several roots takes OLD=NEW pairs, OLD a root or its config '
        'variable)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value pairs')
    parser.add_argument(
        '--check',
        action='store_true',
        help='scan every sample through the loading steps and report every '
        'defective file (exit status 1 if any) instead of drawing')
    args = parser.parse_args(argv)
    if args.max_samples is not None and args.max_samples < 1:
        parser.error('--max-samples must be >= 1')
    return args


def _find_transform(cfg: Any, type_name: str) -> bool:
    """Whether a transform of this type appears anywhere below ``cfg``."""
    if isinstance(cfg, dict):
        if cfg.get('type') == type_name:
            return True
        return any(_find_transform(v, type_name) for v in cfg.values())
    if isinstance(cfg, (list, tuple)):
        return any(_find_transform(v, type_name) for v in cfg)
    return False


def build_visualizer(cfg: Config, dataset_cfg: dict,
                     metainfo: dict) -> DepthSegLocalVisualizer:
    """The config's visualizer settings, without backends, with the
    dataset's classes and palette.

    SemiMTL pipelines (``DepthTargetTransform``) turn ``gt_depth_map`` into a
    regression target: it is coloured linearly (``depth_encoding='target'``)
    unless the config says otherwise.
    """
    kwargs = dict(cfg.get('visualizer', None) or {})
    for key in ('type', 'name', 'vis_backends', 'save_dir'):
        kwargs.pop(key, None)
    if _find_transform(dataset_cfg, 'DepthTargetTransform'):
        kwargs.setdefault('depth_encoding', 'target')
    visualizer = DepthSegLocalVisualizer(
        name=f'browse_dataset_{uuid.uuid4().hex}', **kwargs)
    visualizer.set_dataset_meta(
        metainfo.get('classes'), metainfo.get('palette'))
    return visualizer


def _to_numpy(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def describe(index: int,
             inputs,
             data_sample,
             classes: List[str],
             depth_is_target: bool = False) -> str:
    """A few lines on what the model receives with this sample.

    Args:
        index (int): Sample index.
        inputs (Tensor): Packed ``inputs`` ``(3V, H, W)``.
        data_sample (SegDataSample): Packed sample.
        classes (list[str]): Class names.
        depth_is_target (bool): ``gt_depth_map`` is a SemiMTL target
            (NaN invalid, 0 valid) rather than metres (0 invalid).

    Returns:
        str: The description.
    """
    meta = data_sample.metainfo
    lines = [f"sample {index}: {meta.get('img_path', '?')}"]
    lines.append(f'  inputs {tuple(inputs.shape)} {inputs.dtype} '
                 f'(3 x {inputs.shape[0] // 3} views, BGR)')
    for key in META_KEYS:
        if key in meta:
            lines.append(f'  {key}: {meta[key]}')
    if 'intrinsics' in meta:
        # (+ 0 turns the -0 of a mirrored skew into 0)
        K = np.asarray(meta['intrinsics'], dtype=np.float64) + 0.
        rows = np.array2string(
            K, precision=2, suppress_small=True, prefix='    ')
        lines.append(f'  intrinsics (3x3, pixels of the inputs):\n    {rows}')
    if 'stereo_T' in meta:
        t = np.asarray(meta['stereo_T'])[:3, 3]
        lines.append(f'  stereo_T translation: {np.round(t, 4).tolist()}')
    for key in data_sample.keys():
        field = data_sample.get(key)
        if not isinstance(field, PixelData) or 'data' not in field:
            continue
        data = _to_numpy(field.data)
        text = f'  {key:<16} {tuple(data.shape)} {data.dtype}'
        if np.issubdtype(data.dtype, np.floating):
            finite = np.isfinite(data)
            zero_valid = 'confidence' in key or (key == 'gt_depth_map'
                                                 and depth_is_target)
            if not zero_valid:
                finite &= data != 0
            if finite.any():
                text += (f'  valid {100 * finite.mean():.1f}%  range '
                         f'{data[finite].min():.3g}..{data[finite].max():.3g}')
            else:
                text += '  no valid pixel'
        elif key != 'unaug_img':
            ids = [int(i) for i in np.unique(data) if 0 <= i < len(classes)]
            text += '  classes: ' + (', '.join(classes[i]
                                               for i in ids) or 'none')
        lines.append(text)
    return '\n'.join(lines)


def _picture_name(index: int, data_sample, data_root: Optional[str]) -> str:
    """``<index>_<image path below data_root, '/' as '__'>.png``."""
    img_path = data_sample.metainfo.get('img_path', '')
    stem = osp.splitext(img_path)[0]
    if data_root and not osp.relpath(stem, data_root).startswith(os.pardir):
        stem = osp.relpath(stem, data_root)
    else:
        stem = osp.basename(stem)
    return f"{index:05d}_{stem.replace(os.sep, '__')}.png"


def _can_show() -> bool:
    return not sys.platform.startswith('linux') or bool(
        os.environ.get('DISPLAY') or os.environ.get('WAYLAND_DISPLAY'))


def browse(cfg: Config,
           phase: str = 'train',
           output_dir: Optional[str] = None,
           show: bool = True,
           show_interval: float = 2.0,
           max_samples: Optional[int] = None) -> List[Dict[str, Any]]:
    """Run the phase's dataset pipeline and draw / print every sample.

    Args:
        cfg (Config): The config (``default_scope`` and data roots set).
        phase (str): ``'train'``, ``'val'`` or ``'test'``.
        output_dir (str, optional): Folder for one PNG per sample.
        show (bool): Show the pictures in a window. Defaults to True.
        show_interval (float): Seconds a picture is shown. Defaults to 2.
        max_samples (int, optional): Number of samples; None for all.

    Returns:
        list[dict]: Per sample: ``index``, ``picture`` (RGB array),
        ``file`` (written PNG or None) and ``description``.
    """
    loader = cfg.get(f'{phase}_dataloader', None)
    if not loader or 'dataset' not in loader:
        raise KeyError(f'the config has no {phase}_dataloader.dataset')
    dataset = DATASETS.build(loader['dataset'])
    metainfo = dict(dataset.metainfo)
    visualizer = build_visualizer(cfg, loader['dataset'], metainfo)
    classes = list(visualizer.dataset_meta['classes'])
    data_root = getattr(dataset, 'data_root', None)
    if show and not _can_show():
        print('no display: pictures are not shown (use --not-show to '
              'silence this, --output-dir to keep them)')
        show = False

    total = len(dataset) if max_samples is None else min(
        max_samples, len(dataset))
    print(f'{phase} dataset: {type(dataset).__name__}, {len(dataset)} '
          f'samples, browsing {total}')
    results = []
    for index in range(total):
        item = dataset[index]
        inputs, data_sample = item['inputs'], item['data_samples']
        description = describe(index, inputs, data_sample, classes,
                               visualizer.depth_encoding == 'target')
        print(description)
        picture = visualizer.draw_input_sample(inputs, data_sample)
        out_file = None
        if output_dir is not None:
            out_file = osp.join(output_dir,
                                _picture_name(index, data_sample, data_root))
            ok, png = cv2.imencode('.png', picture[..., ::-1])
            if not ok:
                raise RuntimeError(f'cannot encode the picture of sample '
                                   f'{index} as PNG')
            atomic_write_bytes(out_file, png.tobytes())
        if show:
            visualizer.show(
                picture,
                win_name=f'{phase} sample {index}',
                wait_time=show_interval)
        results.append(
            dict(
                index=index,
                picture=picture,
                file=out_file,
                description=description))
    return results


def is_loading_step(transform) -> bool:
    """Whether a built pipeline step reads or checks files (``Load*``,
    ``MapSegLabels``) rather than augmenting or packing."""
    name = type(transform).__name__
    return name.startswith('Load') or name == 'MapSegLabels'


def leaf_datasets(dataset) -> list:
    """The datasets holding samples below a wrapper (``MultiSourceDataset``
    sources, ``ConcatDataset``, ``RepeatDataset`` ...), in order."""
    if hasattr(dataset, 'datasets'):
        return [leaf for d in dataset.datasets for leaf in leaf_datasets(d)]
    if hasattr(dataset, 'dataset'):
        return leaf_datasets(dataset.dataset)
    return [dataset]


def check_dataset(cfg: Config,
                  phase: str = 'train',
                  max_samples: Optional[int] = None,
                  progress: bool = True) -> Tuple[DefectCollector, int]:
    """Scan a phase's dataset and record every defect.

    The dataset is built (split files, calibration and camera files are
    checked; a sample whose files are bad is recorded and dropped) and
    every sample's data info goes through the loading steps of its
    pipeline (:func:`is_loading_step`), each step on its own so that a
    failing step does not hide the defects the next one finds.

    Args:
        cfg (Config): The config (``default_scope`` and data roots set).
        phase (str): ``'train'``, ``'val'`` or ``'test'``.
        max_samples (int, optional): Stop after this many samples.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        tuple[DefectCollector, int]: The defects and the number of samples
        scanned.
    """
    loader = cfg.get(f'{phase}_dataloader', None)
    if not loader or 'dataset' not in loader:
        raise KeyError(f'the config has no {phase}_dataloader.dataset')
    with collect_defects() as defects:
        try:
            dataset = DATASETS.build(copy.deepcopy(loader['dataset']))
            if hasattr(dataset, 'full_init'):
                dataset.full_init()
        except (DatasetError, OSError) as err:  # nothing left to scan
            defects.add(err)
            return defects, 0
        plan = []
        for leaf in leaf_datasets(dataset):
            pipeline = getattr(leaf, 'pipeline', None)
            steps = [
                t for t in getattr(pipeline, 'transforms', [])
                if is_loading_step(t)
            ]
            plan += [(leaf, i, steps) for i in range(len(leaf))]
        if max_samples is not None:
            plan = plan[:max_samples]
        bar = ProgressBar(len(plan)) if progress and plan else None
        for leaf, index, steps in plan:
            results = leaf.get_data_info(index)
            path = results.get('img_path')
            for step in steps:
                try:
                    out = step(copy.copy(results))
                except Exception as err:  # every failure is a finding
                    defects.add(err, path)
                    continue
                if out is not None:
                    results = out
            if bar is not None:
                bar.update()
        if bar is not None:
            print()
    return defects, len(plan)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    try:
        apply_data_root_args(
            cfg,
            args.cfg_options,
            args.data_root,
            loaders=(f'{args.phase}_dataloader', ))
    except ValueError as err:
        sys.exit(f'browse_dataset.py: {err}')
    init_default_scope(cfg.get('default_scope', 'mmdepthseg'))
    if args.check:
        defects, num = check_dataset(cfg, args.phase, args.max_samples)
        print(f'{args.phase} dataset: scanned {num} samples')
        print(defects.report())
        return 1 if len(defects) else 0
    browse(
        cfg,
        phase=args.phase,
        output_dir=args.output_dir,
        show=not args.not_show,
        show_interval=args.show_interval,
        max_samples=args.max_samples)
    return 0


if __name__ == '__main__':
    sys.exit(main())
