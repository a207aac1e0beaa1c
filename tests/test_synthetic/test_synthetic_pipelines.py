# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Generated data -> real loaders -> training pipelines -> preprocessor.

The generator renders exact depth and labels; reading its files back
through the dataset classes must reproduce them (up to the storage
formats' quantisation), and full training pipelines must produce batches
the data preprocessor accepts.
"""
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate

from mmdepthseg import synthetic
from mmdepthseg.datasets import CityscapesDepthSegDataset, KittiRawDataset
from mmdepthseg.models.data_preprocessor import MultiViewDataPreProcessor
from mmdepthseg.models.utils import stack_pixel_field

LOAD = [dict(type='LoadMultiViewImages'), dict(type='LoadDepthSegAnnotations')]


@pytest.fixture(scope='module')
def cityscapes(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synthetic_cityscapes'))
    summary = synthetic.write_cityscapes(
        root,
        seed=0,
        cities={
            'train': ['aachen'],
            'val': ['frankfurt']
        },
        frames_per_city=2,
        height=64,
        width=128)
    return root, summary


@pytest.fixture(scope='module')
def kitti(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synthetic_kitti'))
    summary = synthetic.write_kitti_raw(
        root, seed=0, num_drives=1, frames_per_drive=5, height=48, width=160)
    return root, summary


def _render(summary, key, index, num_frames, height, width, **trajectory):
    """Re-render frame ``index`` of a generated sequence (exact truth)."""
    scene = synthetic.StreetScene(**summary['scenes'][key])
    pose = scene.camera_trajectory(num_frames, **trajectory)[index]
    return scene.render(pose, np.array(summary['K']), height, width)


def _camera_baseline(root):
    path = osp.join(root, 'camera', 'train', 'aachen',
                    'aachen_000000_000019_camera.json')
    with open(path) as f:
        return json.load(f)['extrinsic']['baseline']


def _prefix(split, stereo=False):
    prefix = dict(
        img_path=f'leftImg8bit/{split}',
        seg_map_path=f'gtFine/{split}',
        disp_path=f'disparity/{split}',
        camera_path=f'camera/{split}')
    if stereo:
        prefix['right_img_path'] = f'rightImg8bit/{split}'
    return prefix


def test_cityscapes_loader_reproduces_rendered_depth_and_labels(cityscapes):
    root, summary = cityscapes
    for label_suffix in ('_gtFine_labelTrainIds.png', '_gtFine_labelIds.png'):
        ds = CityscapesDepthSegDataset(
            data_root=root,
            data_prefix=_prefix('train'),
            seg_map_suffix=label_suffix,
            pipeline=LOAD)
        results = ds[0]
        assert results['img_path'].endswith('aachen_000000_000019'
                                            '_leftImg8bit.png')
        truth = _render(summary, 'aachen', 0, 2, 64, 128,
                        **summary['trajectory'])
        np.testing.assert_array_equal(results['gt_seg_map'][0], truth['label'])
    np.testing.assert_allclose(results['intrinsics'], summary['K'], rtol=1e-6)
    depth = results['gt_depth_map'][0]
    valid = depth > 0
    assert valid.mean() > 0.3
    assert (truth['depth'][~valid] == 0).mean() > 0.9  # invalid = sky
    # disparity is stored in 1/256 px steps
    rel = np.abs(depth[valid] - truth['depth'][valid]) / truth['depth'][valid]
    assert np.median(rel) < 1e-3 and rel.max() < 0.05


def test_cityscapes_stereo_training_batch(cityscapes):
    root, _ = cityscapes
    pipeline = LOAD + [
        dict(type='KeepUnaugmentedImage'),
        dict(type='MultiViewRandomResize', ratio_range=(1.0, 1.25)),
        dict(type='MultiViewRandomCrop', crop_size=(48, 96)),
        dict(type='MultiViewRandomFlip', prob=0.5),
        dict(type='MultiViewColorJitter', prob=1.0),
        dict(type='PackMultiViewInputs')
    ]
    ds = CityscapesDepthSegDataset(
        data_root=root,
        data_prefix=_prefix('train', stereo=True),
        views=('l', 'r'),
        pipeline=pipeline)
    np.random.seed(0)
    batch = pseudo_collate([ds[0], ds[1]])
    pre = MultiViewDataPreProcessor(
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        size_divisor=32)
    out = pre(batch, training=True)
    assert out['inputs'].shape == (2, 6, 64, 96)
    seg = stack_pixel_field(out['data_samples'], 'gt_sem_seg')
    depth = stack_pixel_field(out['data_samples'], 'gt_depth_map')
    unaug = stack_pixel_field(out['data_samples'], 'unaug_img')
    assert seg.shape == depth.shape == (2, 2, 64, 96)  # extended to 2 views
    assert seg.dtype == torch.int64 and depth.dtype == torch.float32
    assert set(seg.unique().tolist()) <= set(range(19)) | {255}
    assert (depth[:, :, 48:] == 0).all() and (seg[:, :, 48:] == 255).all()
    assert unaug.shape == (2, 6, 64, 96)
    assert 0 <= unaug.min() and unaug.max() <= 1
    for sample in out['data_samples']:
        assert sample.view_names == ('l', 'r')
        assert sample.stereo_T[0, 3] == pytest.approx(-_camera_baseline(root))
        assert sample.img_shape == (48, 96)


def test_kitti_velodyne_ground_truth_matches_render(kitti):
    root, summary = kitti
    maps = {}
    # the render is camera depth: camera_z ground truth matches it exactly
    for offset, value in ((1, 'camera_z'), (0, 'camera_z'),
                          (0, 'velodyne_x')):
        ds = KittiRawDataset(
            split_file='splits/synthetic/test_files.txt',
            data_root=root,
            load_depth_from_velodyne=True,
            gt_depth=value,
            velodyne_pixel_offset=offset,
            test_mode=True,
            pipeline=LOAD)
        results = ds[1]
        maps[offset, value] = results['gt_depth_map'][0]
    truth = _render(
        summary,
        results['folder'],
        results['frame_index'],
        5,
        48,
        160,
        step=summary['step'])
    aligned = maps[0, 'camera_z']
    valid = aligned > 0
    assert valid.sum() > 200
    np.testing.assert_allclose(
        aligned[valid], truth['depth'][valid], rtol=1e-4)
    # the protocol's round(u) - 1 moves every point one pixel up-left
    np.testing.assert_array_equal(maps[1, 'camera_z'][:-1, :-1],
                                  aligned[1:, 1:])
    # the benchmark's value, the velodyne forward coordinate, lies about
    # 0.27 m (the generator's scanner-to-camera lever arm) beyond the camera
    # depth on the same pixels
    lever = maps[0, 'velodyne_x'][valid] - aligned[valid]
    assert (maps[0, 'velodyne_x'] > 0).sum() == valid.sum()
    assert 0.15 < lever.min() and lever.max() < 0.45
    assert np.mean(lever) == pytest.approx(0.27, abs=0.02)


def test_kitti_monocular_training_batch(kitti):
    root, summary = kitti
    pipeline = [
        dict(type='LoadMultiViewImages'),
        dict(type='MultiViewResize', scale=(128, 40)),
        dict(type='MultiViewRandomFlip', prob=0.5),
        dict(type='KeepUnaugmentedImage'),
        dict(type='MultiViewColorJitter', prob=0.5),
        dict(type='PackMultiViewInputs')
    ]
    ds = KittiRawDataset(
        split_file='splits/synthetic/train_files.txt',
        data_root=root,
        frame_ids=(0, -1, 1),
        pipeline=pipeline)
    assert len(ds) == summary['num_samples']['train']
    batch = pseudo_collate([ds[i] for i in range(len(ds))])
    out = MultiViewDataPreProcessor(
        mean=[0.45 * 255] * 3, std=[0.225 * 255] * 3)(batch, True)
    assert out['inputs'].shape == (len(ds), 9, 40, 128)
    for sample in out['data_samples']:
        assert sample.view_names == ('t', 't-1', 't+1')
        k = sample.intrinsics
        # normalised K at 160x48, then resized by 0.8 x 0.8333
        fx = 0.58 * 160 * 0.8
        cx = (0.5 * 160 + 0.5) * 0.8 - 0.5
        if sample.flip:
            cx = 128 - 1 - cx
        assert k[0, 0] == pytest.approx(fx) and k[0, 2] == pytest.approx(cx)
