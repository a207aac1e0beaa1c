# Copyright (c) mmdepthseg contributors. All rights reserved.
"""KittiSemanticDataset: KITTI 2015 semantic benchmark layout, labelIds."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmdepthseg.datasets.kitti_semantic import KittiSemanticDataset
from mmdepthseg.registry import DATASETS

H, W = 64, 160
STEMS = ('000000', '000001')
NET_SCALE = (40, 16)  # (w, h), the network input of the tiny test
TEST_PIPELINE = [
    dict(type='LoadMultiViewImages'),
    dict(type='MultiViewResize', scale=NET_SCALE, keep_ratio=False),
    dict(type='LoadDepthSegAnnotations', with_depth=False),
    dict(type='PackMultiViewInputs')
]
EVAL_CONFIG = osp.join(
    osp.dirname(__file__), '..', '..', 'configs', 'fsre',
    'fsre_r18_kitti_semantic-eval.py')


def _label_ids(index: int) -> np.ndarray:
    """Top rows road (7), a car (26) block, the rest unlabeled (0)."""
    label = np.zeros((H, W), dtype=np.uint8)
    label[:H // 2] = 7
    label[H // 2:, :W // 2] = 26
    label[0, 0] = 0 if index == 0 else 7
    return label


@pytest.fixture
def kitti_2015(tmp_path):
    root = tmp_path / 'kitti_2015'
    img_dir = root / 'training' / 'image_2'
    sem_dir = root / 'training' / 'semantic'
    img_dir.mkdir(parents=True)
    sem_dir.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i, stem in enumerate(STEMS):
        img = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
        cv2.imwrite(str(img_dir / f'{stem}_10.png'), img)
        cv2.imwrite(str(sem_dir / f'{stem}_10.png'), _label_ids(i))
    # a distractor that the `_10.png` suffix must skip
    cv2.imwrite(str(img_dir / 'notes.png'), np.zeros((4, 4, 3), np.uint8))
    return root


def test_data_list_paths(kitti_2015):
    ds = KittiSemanticDataset(data_root=str(kitti_2015), lazy_init=False)
    assert len(ds) == 2
    info = ds.get_data_info(1)
    img = osp.join(str(kitti_2015), 'training', 'image_2', '000001_10.png')
    assert info['img_path'] == img
    assert info['img_paths'] == [img]
    assert tuple(info['view_names']) == ('l', )
    assert info['seg_map_paths'] == [
        osp.join(str(kitti_2015), 'training', 'semantic', '000001_10.png')
    ]
    assert info['label_id_format'] == 'cityscapes_labelIds'
    assert info['frame_stem'] == '000001'
    assert 'intrinsics' not in info
    assert ds.metainfo['classes'][13] == 'car'
    assert len(ds.metainfo['classes']) == 19


def test_pipeline_maps_label_ids_to_train_ids(kitti_2015):
    ds = KittiSemanticDataset(
        data_root=str(kitti_2015), pipeline=TEST_PIPELINE, test_mode=True)
    out = ds[0]
    # network input at the resized scale, labels at full resolution
    assert out['inputs'].shape == (3, NET_SCALE[1], NET_SCALE[0])
    assert out['inputs'].dtype == torch.uint8
    sample = out['data_samples']
    gt = sample.gt_sem_seg.data
    assert gt.shape == (1, H, W)
    assert gt.dtype == torch.int64
    expected = np.full((H, W), 255, dtype=np.int64)  # 0 unlabeled -> 255
    expected[:H // 2] = 0  # 7 road -> 0
    expected[H // 2:, :W // 2] = 13  # 26 car -> 13
    expected[0, 0] = 255
    assert torch.equal(gt[0], torch.from_numpy(expected))
    assert tuple(sample.ori_shape) == (H, W)
    assert tuple(sample.img_shape) == (NET_SCALE[1], NET_SCALE[0])
    assert sample.img_path.endswith('000000_10.png')
    assert 'intrinsics' not in sample.metainfo
    assert 'gt_depth_map' not in sample
    assert int(ds[1]['data_samples'].gt_sem_seg.data[0, 0, 0]) == 0


def test_missing_root_and_label_name_the_path(kitti_2015, tmp_path):
    missing = str(tmp_path / 'nowhere')
    with pytest.raises(FileNotFoundError, match='nowhere') as err:
        KittiSemanticDataset(data_root=missing)
    assert 'Dataset preparation' in str(err.value)
    label = kitti_2015 / 'training' / 'semantic' / '000001_10.png'
    label.unlink()
    with pytest.raises(FileNotFoundError, match='000001_10.png'):
        KittiSemanticDataset(data_root=str(kitti_2015))


def test_bad_label_id_format(kitti_2015):
    with pytest.raises(ValueError, match='label_id_format'):
        KittiSemanticDataset(
            data_root=str(kitti_2015), label_id_format='labelIDs')


def test_eval_config_has_kitti_semantic_test_set(kitti_2015):
    cfg = Config.fromfile(EVAL_CONFIG)
    ds_cfg = cfg.test_dataloader.dataset
    assert ds_cfg.type == 'KittiSemanticDataset'
    assert ds_cfg.data_root == 'data/kitti_2015'
    assert ds_cfg.label_id_format == 'cityscapes_labelIds'
    # nothing of the KITTI raw test set survives the replacement
    assert 'split_file' not in ds_cfg
    steps = [t['type'] for t in ds_cfg.pipeline]
    assert steps.index('MultiViewResize') < steps.index(
        'LoadDepthSegAnnotations')
    assert ds_cfg.pipeline[1]['scale'] == (640, 192)
    assert ds_cfg.pipeline[1]['keep_ratio'] is False
    assert cfg.test_evaluator.type == 'DepthSegMetric'
    assert cfg.test_evaluator.iou_cfg.iou_metrics == ['mIoU']
    # the training model and KITTI raw validation are untouched
    assert cfg.model.type == Config.fromfile(
        EVAL_CONFIG.replace('_semantic-eval', '')).model.type
    assert cfg.val_dataloader.dataset.type == 'KittiRawDataset'
    # and the config builds a dataset over the real layout
    ds_cfg.data_root = str(kitti_2015)
    ds = DATASETS.build(ds_cfg)
    assert ds[0]['data_samples'].gt_sem_seg.data.shape == (1, H, W)


def test_eval_config_metric_reports_miou_only(kitti_2015):
    from mmengine.structures import PixelData

    from mmdepthseg.registry import METRICS
    cfg = Config.fromfile(EVAL_CONFIG)
    cfg.test_dataloader.dataset.data_root = str(kitti_2015)
    ds = DATASETS.build(cfg.test_dataloader.dataset)
    metric = METRICS.build(cfg.test_evaluator)
    metric.dataset_meta = ds.metainfo
    sample = ds[0]['data_samples']
    pred = sample.gt_sem_seg.data.clone()
    pred[pred == 255] = 0
    pred[0, -1, 0] = 0  # one car pixel predicted as road
    sample.pred_sem_seg = PixelData(data=pred)
    metric.process({}, [sample])
    res = metric.evaluate(1)
    n_car = (H - H // 2) * (W // 2)
    n_road = (H // 2) * W - 1
    miou = (n_road / (n_road + 1) + (n_car - 1) / n_car) / 2 * 100
    assert res['mIoU'] == pytest.approx(miou, abs=0.01)
    assert 'abs_rel' not in res
