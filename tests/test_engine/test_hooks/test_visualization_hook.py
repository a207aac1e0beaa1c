# Copyright (c) mmdepthseg contributors. All rights reserved.
"""DepthSegVisualizationHook: pictures reach the backends during validation.
"""
import glob
import os.path as osp
import uuid
from types import SimpleNamespace

import mmcv
import numpy as np
import pytest
import torch
from _helpers import tiny_baseline_cfg
from mmengine.runner import Runner
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmdepthseg.engine.hooks.visualization_hook import \
    DepthSegVisualizationHook
from mmdepthseg.registry import VISUALIZERS

H, W = 24, 36
ROAD = (128, 64, 128)  # Cityscapes trainId 0
MAGMA_HIGH = (251, 252, 191)  # brightest colour: the nearest depth


def _visualizer(save_dir, backends=('LocalVisBackend', )):
    """A visualizer that becomes the current instance (the hook's)."""
    return VISUALIZERS.build(
        dict(
            type='DepthSegLocalVisualizer',
            name=f'vis_{uuid.uuid4().hex}',
            vis_backends=[dict(type=b) for b in backends],
            save_dir=str(save_dir),
            depth_percentile=100.0,
            # the bare grid: the footers are tested with the visualizer
            decorate=False))


def _frames(root, drives=('drive_a', 'drive_b')):
    """One frame per drive, all with the same file name (as KITTI's)."""
    paths = []
    for i, drive in enumerate(drives):
        path = osp.join(str(root), drive, 'image_02', '0000000000.png')
        mmcv.imwrite(np.full((H, W, 3), 40 * (i + 1), dtype=np.uint8), path)
        paths.append(path)
    return paths


def _output(img_path):
    sample = SegDataSample(metainfo=dict(img_path=img_path))
    sample.set_data(
        dict(
            gt_depth_map=PixelData(data=torch.full((1, H, W), 8.0)),
            pred_depth_map=PixelData(data=torch.full((1, H, W), 2.0)),
            pred_sem_seg=PixelData(data=torch.zeros((1, H, W)).long())))
    return sample


def _runner(root, iteration):
    return SimpleNamespace(
        iter=iteration,
        val_dataloader=SimpleNamespace(
            dataset=SimpleNamespace(data_root=str(root))))


def _images(save_dir):
    return sorted(
        osp.relpath(p, str(save_dir)) for p in glob.glob(
            osp.join(str(save_dir), '**', '*.png'), recursive=True))


def test_validation_draws_every_interval_to_local_backend(tmp_path):
    root, save_dir = tmp_path / 'data', tmp_path / 'vis'
    _visualizer(save_dir)
    hook = DepthSegVisualizationHook(draw=True, interval=2)
    runner = _runner(root, iteration=300)
    # batch i holds the frames of drives i_a and i_b
    batches = [[_output(p) for p in _frames(root, (f'{i}_a', f'{i}_b'))]
               for i in range(5)]
    for batch_idx, outputs in enumerate(batches):
        hook.after_val_iter(runner, batch_idx, {}, outputs)
        # training iterations never draw
        hook.after_train_iter(runner, batch_idx, {}, outputs)
    # batches 1 and 3 are drawn (every 2nd iteration), every sample of
    # them, named after the path below data_root, at the training step
    assert _images(save_dir) == [
        f'vis_data/vis_image/val_{i}_{s}__image_02__0000000000_300.png'
        for i in (1, 3) for s in 'ab'
    ]
    drawn = mmcv.imread(
        osp.join(
            str(save_dir), 'vis_data', 'vis_image',
            'val_3_b__image_02__0000000000_300.png'),
        channel_order='rgb')
    # ground-truth row and prediction row; input | depth | segmentation
    assert drawn.shape == (2 * H, 3 * W, 3)
    assert (drawn[:H, :W] == 80).all()  # the second frame of the batch
    assert (drawn[H:, W:2 * W] == MAGMA_HIGH).all()  # 2 m: nearest
    # the class name is written over the road: most pixels stay road
    assert (drawn[H:, 2 * W:] == ROAD).all(-1).mean() > 0.5
    # the next validation round (another training step) adds its own files
    runner.iter = 400
    hook.after_val_iter(runner, 1, {}, batches[1])
    assert len(_images(save_dir)) == 6


def test_without_data_root_names_fall_back_to_file_names(tmp_path):
    root, save_dir = tmp_path / 'data', tmp_path / 'vis'
    paths = _frames(root)
    _visualizer(save_dir)
    hook = DepthSegVisualizationHook(draw=True, interval=1)
    runner = SimpleNamespace(iter=7)  # e.g. a multi-source dataset
    hook.after_val_iter(runner, 0, {}, [_output(paths[0])])
    assert _images(save_dir) == ['vis_data/vis_image/val_0000000000_7.png']


def test_draw_false_does_nothing(tmp_path):
    root, save_dir = tmp_path / 'data', tmp_path / 'vis'
    paths = _frames(root)
    _visualizer(save_dir)
    with pytest.warns(UserWarning, match='draw is False'):
        hook = DepthSegVisualizationHook(draw=False, interval=1)
    runner = _runner(root, iteration=10)
    for batch_idx in range(3):
        hook.after_val_iter(runner, batch_idx, {}, [_output(paths[0])])
        hook.after_test_iter(runner, batch_idx, {}, [_output(paths[0])])
    assert _images(save_dir) == []


def test_test_out_dir_draws_every_test_image_mirroring_the_tree(tmp_path):
    root, save_dir = tmp_path / 'data', tmp_path / 'vis'
    paths = _frames(root)
    _visualizer(save_dir)
    hook = DepthSegVisualizationHook(draw=True, interval=50, test_out_dir='x')
    runner = SimpleNamespace(
        iter=0,
        log_dir=str(tmp_path / 'log'),
        test_dataloader=SimpleNamespace(
            dataset=SimpleNamespace(data_root=str(root))))
    hook.after_test_iter(runner, 0, {}, [_output(p) for p in paths])
    assert _images(tmp_path / 'log') == [
        f'x/drive_{d}/image_02/0000000000.png' for d in 'ab'
    ]
    assert _images(save_dir) == []  # not sent to the backends


def test_tensorboard_backend_receives_the_images(tmp_path):
    pytest.importorskip('tensorboard')
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    root, save_dir = tmp_path / 'data', tmp_path / 'vis'
    paths = _frames(root)
    vis = _visualizer(
        save_dir, backends=('LocalVisBackend', 'TensorboardVisBackend'))
    hook = DepthSegVisualizationHook(draw=True, interval=1)
    hook.after_val_iter(_runner(root, 50), 0, {}, [_output(paths[0])])
    vis.close()
    events = glob.glob(
        osp.join(str(save_dir), '**', 'events.out.tfevents*'), recursive=True)
    assert len(events) == 1
    accumulator = EventAccumulator(osp.dirname(events[0]))
    accumulator.Reload()
    tag = 'val_drive_a__image_02__0000000000'
    assert accumulator.Tags()['images'] == [tag]
    assert [e.step for e in accumulator.Images(tag)] == [50]


def test_training_run_logs_validation_pictures(synthetic_cityscapes, tmp_path):
    """A real training run: one iteration, then a validation round over 5
    frames with interval 2 draws validation iterations 1 and 3."""
    cfg = tiny_baseline_cfg(
        synthetic_cityscapes, str(tmp_path), max_iters=1, batch_size=1)
    cfg.val_dataloader.dataset.indices = 5
    cfg.default_hooks.visualization = dict(
        type='DepthSegVisualizationHook', draw=True, interval=2)
    cfg.visualizer.name = f'vis_{uuid.uuid4().hex}'
    runner = Runner.from_cfg(cfg)
    runner.train()
    pictures = sorted(
        glob.glob(osp.join(runner.log_dir, 'vis_data', 'vis_image', '*.png')))
    # named after the path below data_root, at training step 1
    assert [osp.basename(p) for p in pictures] == [
        f'val_leftImg8bit__val__frankfurt__frankfurt_{i:06d}_000019'
        '_leftImg8bit_1.png' for i in (1, 3)
    ]
    drawn = mmcv.imread(pictures[0], channel_order='rgb')
    # 128x256 frames: ground truth and prediction rows, three panels, each
    # row with its footer (label, colour bar, legend) below it
    assert drawn.shape[1:] == (3 * 256, 3)
    assert drawn.shape[0] > 2 * 128
