# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Test (and evaluate) a depth + segmentation model.

``--out DIR`` saves every prediction (depth as KITTI-style 16-bit PNG and
``.npy``, segmentation as trainId PNG and, for Cityscapes classes, labelId
PNG) and the metrics; ``--tta`` evaluates with test-time augmentation
(``tta_model`` / ``tta_pipeline`` of the config, or flips of its test
pipeline). The config, the checkpoint and the data root are checked before
the work directory and the log are created.
"""
import argparse
import copy
import os
import os.path as osp
import sys
from typing import List

from mmengine.config import Config, ConfigDict, DictAction

from mmdepthseg.utils import register_all_modules, setup_cpu_distributed
from mmdepthseg.utils.config_check import (ConfigCheckError, check_arguments,
                                           check_paths)
from mmdepthseg.utils.console import (TEST_ITER_RECORDS, ProgressBarHook,
                                      build_runner, file_only)
from mmdepthseg.utils.data_root import apply_data_root_args

#: Steps that change the image geometry; a derived TTA pipeline flips after
#: the last of them.
GEOMETRIC_STEPS = ('MultiViewResize', 'MultiViewFixedCrop',
                   'MultiViewRandomCrop', 'MultiViewRandomResize')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Test (and eval) a depth+seg model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='the directory to save the file containing evaluation metrics')
    parser.add_argument(
        '--out',
        type=str,
        help='directory where the predictions are saved: depth/<image>.png '
        '(uint16, depth x 256, KITTI depth-benchmark encoding) and '
        'depth/<image>.npy (float32, as evaluated), seg/<image>.png '
        '(class ids), seg_labelIds/<image>.png (Cityscapes classes), '
        'metrics.json; <image> is the path below the data root')
    parser.add_argument(
        '--out-depth-format',
        nargs='+',
        choices=['png', 'npy'],
        default=['png', 'npy'],
        help='depth files written by --out (default: both)')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory where painted images (input | depth | segmentation) '
        'will be saved. If specified, it will be automatically saved to the '
        'work_dir/timestamp/show_dir')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
    parser.add_argument(
        '--data-root',
        nargs='+',
        metavar='ROOT',
        help='read the test dataset from this folder instead of the '
        'config\'s data_root; a dataset with several roots takes OLD=NEW '
        'pairs')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file; data_root=... '
        'moves the datasets like --data-root')
    parser.add_argument(
        '--verbose',
        action='store_true',
        help='print the environment, the full config and the hook order on '
        'the console too (they are always in the log file)')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument(
        '--tta',
        action='store_true',
        help='Test time augmentation: the config\'s tta_model and '
        'tta_pipeline (without a tta_pipeline: the test pipeline with and '
        'without a horizontal flip)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def trigger_visualization_hook(cfg: Config,
                               args: argparse.Namespace) -> Config:
    """Turn on drawing in the visualization hook for --show / --show-dir."""
    default_hooks = cfg.default_hooks
    if 'visualization' not in default_hooks:
        raise RuntimeError(
            'VisualizationHook must be included in default_hooks. Refer to '
            'configs/_base_/default_runtime.py for how to set it up.')
    visualization_hook = default_hooks['visualization']
    visualization_hook['draw'] = True
    if args.show:
        visualization_hook['show'] = True
        visualization_hook['wait_time'] = args.wait_time
    if args.show_dir:
        # every test image is drawn into work_dir/<timestamp>/<show_dir>
        visualization_hook['test_out_dir'] = args.show_dir
    return cfg


def flip_tta_pipeline(pipeline: List[dict]) -> List[dict]:
    """A ``TestTimeAug`` pipeline from a test pipeline: every step as it is,
    with no flip / a horizontal flip after the last geometric step (resize,
    crop).

    After the last geometric step the model's un-flip of its prediction
    lands in the plain branch's frame; before the loaders of ground truth
    kept at the original image size, which a flip could not take (the
    merged prediction carries the plain branch's ground truth).

    Args:
        pipeline (list[dict]): A test pipeline starting with the image
            loader.

    Returns:
        list[dict]: ``[loader, TestTimeAug(...)]``.
    """
    pipeline = copy.deepcopy(list(pipeline))
    stages = [[step] for step in pipeline[1:]]
    geometric = [
        i for i, stage in enumerate(stages)
        if stage[0].get('type') in GEOMETRIC_STEPS
    ]
    flips = [
        dict(type='MultiViewRandomFlip', prob=0.),
        dict(type='MultiViewRandomFlip', prob=1.)
    ]
    stages.insert(geometric[-1] + 1 if geometric else 0, flips)
    return [pipeline[0], dict(type='TestTimeAug', transforms=stages)]


def _set_tta_pipelines(dataset: dict, tta_pipeline) -> None:
    """Give the test dataset (every source of a multi-source one) its TTA
    pipeline (derived from its own test pipeline when None)."""
    if dataset.get('type') == 'MultiSourceDataset':
        for source in dataset['sources']:
            _set_tta_pipelines(source['dataset'], tta_pipeline)
        return
    dataset['pipeline'] = copy.deepcopy(
        tta_pipeline) if tta_pipeline is not None else flip_tta_pipeline(
            dataset['pipeline'])


def enable_tta(cfg: Config) -> None:
    """``--tta``: wrap the model in ``tta_model`` (default
    ``DepthSegTTAModel``) and use ``tta_pipeline`` (default: flips of the
    test pipeline)."""
    tta_model = cfg.get('tta_model', None) or ConfigDict(
        type='DepthSegTTAModel')
    _set_tta_pipelines(cfg.test_dataloader.dataset,
                       cfg.get('tta_pipeline', None))
    tta_model.module = cfg.model
    cfg.model = tta_model


def build_test_cfg(args: argparse.Namespace) -> Config:
    """Merge the command line into the config."""
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    apply_data_root_args(
        cfg, args.cfg_options, args.data_root, loaders=('test_dataloader', ))
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)
    if args.tta:
        enable_tta(cfg)
    return cfg


def depth_from_inverse(cfg: Config):
    """Scale of an inverse-depth target (``DepthTargetTransform`` with
    ``mode='inverse'``) of the test pipeline, else None."""
    from mmdepthseg.apis.depth_output import depth_target_mode
    mode, scale = depth_target_mode(cfg)
    return scale if mode == 'inverse' else None


def main(argv=None) -> None:
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)
    try:
        cfg = build_test_cfg(args)
        check_arguments(cfg)
        check_paths(
            cfg, loaders=('test_dataloader', ), checkpoint=args.checkpoint)
    except (ConfigCheckError, FileNotFoundError, ValueError, KeyError) as err:
        sys.exit(f'tools/test.py: {err}')
    setup_cpu_distributed(cfg, args.launcher)
    runner = build_runner(cfg, verbose=args.verbose)
    runner.register_hook(ProgressBarHook(modes=('test', )))
    file_only(runner, TEST_ITER_RECORDS)
    if args.out:
        from mmdepthseg.engine.hooks import DepthSegPredictionWriterHook
        runner.register_hook(
            DepthSegPredictionWriterHook(
                args.out,
                depth_formats=args.out_depth_format,
                depth_from_inverse=depth_from_inverse(cfg)))
    runner.test()


if __name__ == '__main__':
    main()
