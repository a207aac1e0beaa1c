# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The Cityscapes Pseudo-MTL configs on a tree in the real layout: bonnet
crop, 256x96 stereo pairs with left ground truth and right pseudo labels in
the 7 categories, pseudo depth of both views, and Eq. 11 on the batch."""
import glob
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
import torch
from _helpers import REPO_ROOT
from mmengine.config import Config

from mmdepthseg.datasets.utils import LABEL_LUTS
from mmdepthseg.registry import DATASETS, MODELS
from mmdepthseg.stereo.pseudo_depth import generate_dataset_pseudo_depth

CFG = osp.join(REPO_ROOT, 'configs', 'pseudo_mtl',
               'pseudo_mtl_vgg16_cityscapes.py')
H, W = 128, 256  # the synthetic_cityscapes frames
CROP_H = 96  # top 3/4, as 768 of Cityscapes' 1024 rows


@pytest.fixture(scope='module')
def cityscapes_pseudo(tmp_path_factory, synthetic_cityscapes):
    root = str(tmp_path_factory.mktemp('cityscapes_pseudo'))
    shutil.copytree(synthetic_cityscapes, root, dirs_exist_ok=True)
    generate_dataset_pseudo_depth(root, dataset='cityscapes', progress=False)
    # pseudo labels of the right views: a segmentor would write trainIds
    # here; the generated labels stand in for its output
    for split in ('train', 'val'):
        for path in glob.glob(
                osp.join(root, 'gtFine', split, '*',
                         '*_gtFine_labelTrainIds.png')):
            rel = osp.relpath(path, osp.join(root, 'gtFine'))
            out = osp.join(
                root, 'pseudoSeg',
                rel.replace('_gtFine_labelTrainIds.png', '_rightImg8bit.png'))
            os.makedirs(osp.dirname(out), exist_ok=True)
            shutil.copyfile(path, out)
    return root


def _cfg(root):
    cfg = Config.fromfile(CFG)
    for loader in ('train_dataloader', 'val_dataloader'):
        cfg[loader].dataset.data_root = root
        for step in cfg[loader].dataset.pipeline:
            if step.type == 'MultiViewFixedCrop':
                step.crop_size = (CROP_H, W)
    return cfg


def test_train_pipeline_feeds_eq11(cityscapes_pseudo):
    cfg = _cfg(cityscapes_pseudo)
    cfg.train_dataloader.dataset.pipeline = [
        s for s in cfg.train_dataloader.dataset.pipeline
        if s.type not in ('MultiViewRandomFlip', 'MultiViewColorJitter')
    ]
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    assert dataset.metainfo['classes'][0] == 'flat'
    sample = dataset[0]
    inputs, ds = sample['inputs'], sample['data_samples']
    assert inputs.shape == (6, 96, 256)  # left + right at 256x96
    assert ds.gt_sem_seg.data.shape == (2, 96, 256)
    assert set(ds.gt_sem_seg.data.unique().tolist()) <= set(range(7)) | {255}
    assert ds.gt_pseudo_depth.data.shape == (2, 96, 256)
    assert ds.gt_confidence.data.max() <= 1
    # crop keeps cy (top window), resize 256/256 x 96/96 keeps fx
    info = dataset.get_data_info(0)
    np.testing.assert_allclose(ds.intrinsics, info['intrinsics'], rtol=1e-5)
    # left labels: the labelIds file through the category table, cropped
    label_ids = cv2.imread(info['seg_map_paths'][0], cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(
        ds.gt_sem_seg.data[0].numpy(),
        LABEL_LUTS['cityscapes_labelIds_to_categories'][label_ids[:CROP_H]])

    model = MODELS.build(cfg.model)
    batch = model.data_preprocessor(
        dict(inputs=[inputs], data_samples=[ds]), True)
    losses = model(**batch, mode='loss')
    assert {'loss_depth_conf', 'loss_ce', 'loss_depth_cv_lr',
            'loss_seg_cv_r'} <= set(losses)
    assert all(torch.isfinite(v) for v in losses.values())


def test_test_pipeline_gives_cropped_ground_truth(cityscapes_pseudo):
    cfg = _cfg(cityscapes_pseudo)
    dataset = DATASETS.build(cfg.val_dataloader.dataset)
    ds = dataset[0]['data_samples']
    assert dataset[0]['inputs'].shape == (3, 96, 256)
    assert ds.gt_depth_map.data.shape == (1, 96, 256)
    assert ds.gt_sem_seg.data.shape == (1, 96, 256)
    assert (ds.gt_depth_map.data > 0).float().mean() > 0.5
