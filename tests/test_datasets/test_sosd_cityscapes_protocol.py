# Copyright (c) mmdepthseg contributors. All rights reserved.
"""SOSD-Net's Cityscapes protocol (Sec. 4.1) as configs/sosd/*cityscapes*
set it up: whole frames resized to 256x512, scale augmentation of that
frame back to a 256x512 input, disparity error in pixels of the 512-wide
frame over all valid pixels."""
import copy
import json
import os
import os.path as osp

import cv2
import mmcv
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose

from mmdepthseg.datasets.transforms.transforms import MultiViewRandomResize
from mmdepthseg.registry import DATASETS, METRICS, MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CFG = osp.join(ROOT, 'configs', 'sosd', 'sosd_xception65_cityscapes.py')
H, W = 1024, 2048
FX, BASELINE = 2262.52, 0.209313
STEM = 'aachen/aachen_000000_000019'
# disparity (pixels at 2048 width) by rows: [0, 512) 40 px (11.8 m),
# [512, 1000) 2 px (236.8 m: beyond the 80 m cap of the old protocol),
# [1000, 1024) invalid (PNG value 0). The bands are multiples of 4 rows,
# so any nearest-neighbour rule keeps them apart at 256 rows.
NEAR_ROWS, FAR_ROWS = 512, 1000


@pytest.fixture(scope='module')
def cityscapes_frame(tmp_path_factory) -> str:
    """One full-resolution Cityscapes frame in the train and val splits."""
    root = str(tmp_path_factory.mktemp('cityscapes_sosd'))
    yy, xx = np.mgrid[0:H, 0:W]
    img = np.stack([(xx // 8) % 256, (yy // 4) % 256, (xx + yy) // 16 % 256],
                   axis=-1).astype(np.uint8)
    disp = np.zeros((H, W), np.uint16)
    disp[:NEAR_ROWS] = 1 + 256 * 40
    disp[NEAR_ROWS:FAR_ROWS] = 1 + 256 * 2
    labels = np.where(yy < H // 2, 0, 13).astype(np.uint8)  # road / car
    camera = dict(
        extrinsic=dict(
            baseline=BASELINE, pitch=0, roll=0, x=1.7, y=0.1, yaw=0, z=1.2),
        intrinsic=dict(fx=FX, fy=FX, u0=1096.98, v0=513.137))
    for split in ('train', 'val'):
        files = {
            f'leftImg8bit/{split}/{STEM}_leftImg8bit.png': img,
            f'disparity/{split}/{STEM}_disparity.png': disp,
            f'gtFine/{split}/{STEM}_gtFine_labelTrainIds.png': labels
        }
        for rel, array in files.items():
            path = osp.join(root, rel)
            os.makedirs(osp.dirname(path), exist_ok=True)
            assert cv2.imwrite(path, array)
        path = osp.join(root, f'camera/{split}/{STEM}_camera.json')
        os.makedirs(osp.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            json.dump(camera, f)
    return root


def _dataset(cfg: Config, loader: str, root: str, pipeline=None):
    dataset_cfg = copy.deepcopy(cfg[loader].dataset)
    dataset_cfg.data_root = root
    if pipeline is not None:
        dataset_cfg.pipeline = pipeline
    return DATASETS.build(dataset_cfg)


def test_evaluation_frame_is_the_whole_frame_resized_to_256x512(
        cityscapes_frame):
    cfg = Config.fromfile(CFG)
    sample = _dataset(cfg, 'test_dataloader', cityscapes_frame)[0]
    img = sample['inputs'].numpy().transpose(1, 2, 0)
    full = cv2.imread(
        osp.join(cityscapes_frame, f'leftImg8bit/val/{STEM}_leftImg8bit.png'))
    # no crop: every pixel is the bilinear resize of the whole frame
    np.testing.assert_array_equal(
        img, mmcv.imresize(full, (512, 256), interpolation='bilinear'))
    meta = sample['data_samples'].metainfo
    assert meta['ori_shape'] == (256, 512) and meta['img_shape'] == (256, 512)
    depth = sample['data_samples'].gt_depth_map.data
    assert tuple(depth.shape) == (1, 256, 512)
    assert float(meta['intrinsics'][0][0]) == pytest.approx(FX / 4)


def test_disparity_error_is_in_pixels_of_the_512_wide_frame(cityscapes_frame):
    """Hand-computed: GT disparity at 512 width is 40 / 4 = 10 px (rows
    0-127) and 2 / 4 = 0.5 px (rows 128-249, 236.8 m away: counted); rows
    250-255 are invalid. A constant prediction of 4 px at 512 width is off
    by 6 and 3.5 px: over all valid pixels (128 * 6 + 122 * 3.5) / 250 =
    4.78 px. (The previous protocol, 1024x512 input evaluated against the
    2048-wide ground truth with its fx and without pixels beyond 80 m,
    gives 32 px for the same test.)"""
    cfg = Config.fromfile(CFG)
    sample = _dataset(cfg, 'test_dataloader', cityscapes_frame)[0]
    data_sample = sample['data_samples']
    meta = data_sample.metainfo
    focal_baseline = float(meta['intrinsics'][0][0]) * meta['baseline']
    pred = torch.full((1, 256, 512), focal_baseline / 4.0)
    data_sample.set_data(
        dict(pred_depth_map=type(data_sample.gt_depth_map)(data=pred)))
    metric = METRICS.build(cfg.test_evaluator)
    metric.dataset_meta = dict(classes=tuple(range(19)))
    metric.process({}, [data_sample])
    summary = metric.compute_metrics(metric.results)
    assert summary['disp_err'] == pytest.approx(
        (128 * 6 + 122 * 3.5) / 250, rel=1e-5)
    assert cfg.test_evaluator.depth_cfg.aggregation == 'pooled'


@pytest.mark.parametrize('ratio, shape',
                         [(1.0, (256, 512)), (1.75, (256, 512)),
                          (0.5, (128, 256))])
def test_training_sample_is_the_scaled_256x512_frame(cityscapes_frame,
                                                     monkeypatch, ratio,
                                                     shape):
    """Scale s of the 256x512 frame, then a 256x512 window (s > 1) or the
    whole frame (s <= 1); at s = 1 exactly the evaluation frame."""
    cfg = Config.fromfile(CFG)
    pipeline = [
        step for step in cfg.train_dataloader.dataset.pipeline
        if step.type not in ('MultiViewRandomFlip', 'MultiViewColorJitter')
    ]
    assert [s.type for s in pipeline][2:5] == [
        'MultiViewResize', 'MultiViewRandomResize', 'MultiViewRandomCrop'
    ]
    assert pipeline[2].scale == (512, 256)
    assert pipeline[4].crop_size == (256, 512)
    monkeypatch.setattr(MultiViewRandomResize, '_random_ratio',
                        lambda self: ratio)
    sample = _dataset(cfg, 'train_dataloader', cityscapes_frame, pipeline)[0]
    assert tuple(sample['inputs'].shape[1:]) == shape
    meta = sample['data_samples'].metainfo
    assert float(meta['intrinsics'][0][0]) == pytest.approx(FX / 4 * ratio)
    if ratio == 1.0:
        test = _dataset(cfg, 'test_dataloader', cityscapes_frame)[0]
        assert torch.equal(sample['inputs'], test['inputs'])
        assert torch.equal(sample['data_samples'].gt_depth_map.data,
                           test['data_samples'].gt_depth_map.data)


def test_the_data_preprocessor_pads_small_scales_to_256x512(
        cityscapes_frame, monkeypatch):
    cfg = Config.fromfile(CFG)
    pipeline = Compose([
        step for step in cfg.train_dataloader.dataset.pipeline
        if step.type not in ('MultiViewRandomFlip', 'MultiViewColorJitter')
    ])
    dataset = _dataset(cfg, 'train_dataloader', cityscapes_frame)
    samples = []
    for ratio in (0.5, 1.75):
        monkeypatch.setattr(
            MultiViewRandomResize, '_random_ratio', lambda self, r=ratio: r)
        samples.append(pipeline(dataset.get_data_info(0)))
    preprocessor = MODELS.build(cfg.model.data_preprocessor)
    batch = preprocessor(
        dict(
            inputs=[s['inputs'] for s in samples],
            data_samples=[s['data_samples'] for s in samples]),
        training=True)
    assert tuple(batch['inputs'].shape) == (2, 3, 256, 512)
    small = batch['data_samples'][0]
    assert (small.gt_depth_map.data[:, 128:] == 0).all()
    assert (small.gt_depth_map.data[:, :, 256:] == 0).all()
    assert (small.gt_sem_seg.data[:, 128:] == 255).all()
    assert (small.gt_depth_map.data[:, :128, :256] > 0).any()
