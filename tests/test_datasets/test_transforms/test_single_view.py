# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Depth through MMSegmentation's single-view pipeline.

A crafted sample whose image, labels and depth all encode the pixel
position goes through mmseg's RandomResize / RandomCrop / RandomFlip /
PackSegInputs (and our DepthSegPad); afterwards every pixel's depth is one
of the original values (no interpolation) and points at the same source
pixel as the image and the label map.
"""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmcv.transforms import Compose

H, W = 120, 200  # image coordinates fit in uint8
LABEL_STEP = 16  # label = x // LABEL_STEP


def _write_sample(root):
    """Image B = x, G = y; label x // 16; depth 1 + x + 1000 y (npy)."""
    ys, xs = np.mgrid[0:H, 0:W]
    img = np.stack([xs, ys, np.zeros_like(xs)], -1).astype(np.uint8)
    cv2.imwrite(osp.join(root, 'img.png'), img)
    cv2.imwrite(osp.join(root, 'seg.png'), (xs // LABEL_STEP).astype(np.uint8))
    np.save(
        osp.join(root, 'depth.npy'), (1 + xs + 1000 * ys).astype(np.float32))
    return dict(
        img_path=osp.join(root, 'img.png'),
        seg_map_paths=[osp.join(root, 'seg.png')],
        depth_map_paths=[osp.join(root, 'depth.npy')],
        depth_format='npy',
        seg_fields=[],
        depth_fields=[])


def _pipeline(scale_ratio, flip, pad=None):
    transforms = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadSingleViewDepthSegAnnotations'),
        dict(
            type='RandomResize',
            scale=(W, H),
            ratio_range=(scale_ratio, scale_ratio),
            keep_ratio=True),
        dict(type='RandomCrop', crop_size=(48, 80), cat_max_ratio=0.75),
        dict(type='RandomFlip', prob=1.0 if flip else 0.0),
    ]
    if pad is not None:
        transforms.append(dict(type='DepthSegPad', size=pad))
    transforms.append(dict(type='PackSegInputs'))
    return Compose(transforms)


@pytest.mark.parametrize('scale_ratio, flip', [(1.6, True), (0.7, False),
                                               (1.0, True)])
def test_mmseg_geometric_transforms_keep_depth_values_and_alignment(
        tmp_path, scale_ratio, flip):
    info = _write_sample(str(tmp_path))
    np.random.seed(0)
    packed = _pipeline(scale_ratio, flip)(dict(info))
    sample = packed['data_samples']
    img = packed['inputs'].numpy().astype(np.float64)  # (3, h, w) BGR
    depth = sample.gt_depth_map.data
    labels = sample.gt_sem_seg.data
    assert depth.dtype == torch.float32 and depth.shape == (1, 48, 80)
    assert labels.shape == (1, 48, 80) and labels.dtype == torch.int64
    assert sample.flip is flip
    depth = depth[0].numpy()
    # Values unchanged: every depth decodes to an integer source pixel.
    src_x, src_y = (depth - 1) % 1000, (depth - 1) // 1000
    assert np.array_equal(src_x, np.round(src_x))
    assert (src_x >= 0).all() and (src_x < W).all()
    assert (src_y >= 0).all() and (src_y < H).all()
    # Aligned: depth, image and labels name the same source pixel (to
    # within one source pixel: nearest vs bilinear sampling).
    img_x, img_y = img[0], img[1]
    inner = np.s_[1:-1, 1:-1]  # bilinear clamping at the image border
    assert np.abs(src_x - img_x)[inner].max() <= 1.01
    assert np.abs(src_y - img_y)[inner].max() <= 1.01
    assert (labels[0].numpy() == src_x // LABEL_STEP).all()
    # The flip really mirrors: x decreases along a row when flipped.
    step = np.sign(np.diff(src_x, axis=1)).mean()
    assert step < 0 if flip else step > 0


def test_depth_seg_pad_pads_depth_invalid_and_labels_ignored(tmp_path):
    """MMCV's Pad pads gt_seg_map only; DepthSegPad pads the depth too, with
    0 (invalid)."""
    info = _write_sample(str(tmp_path))
    np.random.seed(0)
    packed = _pipeline(0.5, False, pad=(96, 64))(dict(info))
    sample = packed['data_samples']
    assert packed['inputs'].shape == (3, 64, 96)
    depth = sample.gt_depth_map.data[0]
    labels = sample.gt_sem_seg.data[0]
    assert depth.shape == labels.shape == (64, 96)
    assert (depth[48:] == 0).all() and (depth[:, 80:] == 0).all()
    assert (labels[48:] == 255).all() and (labels[:, 80:] == 255).all()
    assert (depth[:48, :80] >= 1).all()


def test_cityscapes_dataset_in_mmseg_pipeline(synthetic_cityscapes):
    """Our Cityscapes dataset (depth from disparity) with mmseg's transforms
    gives mmseg-layout samples with gt_depth_map."""
    from mmdepthseg.registry import DATASETS
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadSingleViewDepthSegAnnotations'),
        dict(
            type='RandomResize',
            scale=(256, 128),
            ratio_range=(1.0, 1.5),
            keep_ratio=True),
        dict(type='RandomCrop', crop_size=(64, 128), cat_max_ratio=0.75),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PhotoMetricDistortion'),
        dict(type='PackSegInputs')
    ]
    dataset = DATASETS.build(
        dict(
            type='CityscapesDepthSegDataset',
            data_root=synthetic_cityscapes,
            data_prefix=dict(
                img_path='leftImg8bit/val',
                seg_map_path='gtFine/val',
                disp_path='disparity/val',
                camera_path='camera/val'),
            pipeline=pipeline))
    sample = dataset[0]
    assert sample['inputs'].shape == (3, 64, 128)
    depth = sample['data_samples'].gt_depth_map.data
    assert depth.shape == (1, 64, 128)
    assert (depth > 0).any() and (depth >= 0).all()


def test_sparse_kitti_depth_keeps_its_values_through_mmseg_transforms(
        synthetic_kitti):
    """Velodyne depth (sparse, 0 = no point) through mmseg's resize / crop
    / flip: nearest sampling only picks measured values or holes, never a
    blend of a point and a hole."""
    from mmengine.config import Config

    from mmdepthseg.registry import DATASETS
    cfg = Config.fromfile(
        osp.join(
            osp.dirname(__file__), '..', '..', '..', 'configs', '_base_',
            'datasets', 'synthetic_kitti.py'))
    dataset_cfg = cfg.val_dataloader.dataset
    dataset_cfg.data_root = synthetic_kitti
    loading = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadSingleViewDepthSegAnnotations')
    ]
    raw = DATASETS.build(dict(dataset_cfg, pipeline=loading))
    augmented = DATASETS.build(
        dict(
            dataset_cfg,
            pipeline=loading + [
                dict(
                    type='RandomResize',
                    scale=(320, 96),
                    ratio_range=(1.3, 1.3),
                    keep_ratio=True),
                dict(type='RandomCrop', crop_size=(64, 128)),
                dict(type='RandomFlip', prob=1.0),
                dict(type='PackSegInputs')
            ]))
    np.random.seed(0)
    measured = raw[0]['gt_depth_map']
    assert measured.ndim == 2 and (measured == 0).mean() > 0.5  # sparse
    sample = augmented[0]
    depth = sample['data_samples'].gt_depth_map.data[0].numpy()
    assert depth.shape == (64, 128) == tuple(sample['inputs'].shape[1:])
    points = depth[depth > 0]
    assert points.size > 0 and (depth == 0).mean() > 0.3
    assert np.isin(points, measured[measured > 0]).all()
