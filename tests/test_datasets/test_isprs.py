# Copyright (c) mmdepthseg contributors. All rights reserved.
"""ISPRSDepthSegDataset (Potsdam / Vaihingen) on hand-written and converted
patch trees."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from mmdepthseg.datasets.isprs import (ISPRS_CLASSES, ISPRSDepthSegDataset,
                                       PotsdamDepthSegDataset,
                                       VaihingenDepthSegDataset)
from mmdepthseg.registry import DATASETS

STEMS = ('potsdam_2_10_0000_0000', 'potsdam_2_10_0000_0016')
SIZE = 32
CROP = (24, 20)  # the SemiMTL configs crop 384x384 out of 512x512 patches


def write_tree(root, split='train'):
    """Two 32x32 patches in the converted layout.

    Row 0 of every label map holds stored values 0, 1, 6, 7, 3 in columns
    0..4 (the rest 2 = building); row 0 of every nDSM PNG holds 0
    (invalid), 32767 (h = 0, ground), 65534 (h = 1), 45874 (h = 0.4) in
    columns 0..3, the rest 39320 (h = 0.2).
    """
    dirs = {
        k: osp.join(root, k, split)
        for k in ('img_dir', 'ann_dir', 'ndsm_dir')
    }
    for d in dirs.values():
        os.makedirs(d, exist_ok=True)
    for i, stem in enumerate(STEMS):
        img = np.zeros((SIZE, SIZE, 3), dtype=np.uint8)
        img[..., 0], img[..., 1], img[..., 2] = 10 + i, 20, 30  # B, G, R
        cv2.imwrite(osp.join(dirs['img_dir'], stem + '.png'), img)
        ann = np.full((SIZE, SIZE), 2, dtype=np.uint8)
        ann[0, :5] = (0, 1, 6, 7, 3)
        cv2.imwrite(osp.join(dirs['ann_dir'], stem + '.png'), ann)
        ndsm = np.full((SIZE, SIZE), 39320, dtype=np.uint16)
        ndsm[0, :4] = (0, 32767, 65534, 45874)
        cv2.imwrite(osp.join(dirs['ndsm_dir'], stem + '.png'), ndsm)
    return root


@pytest.fixture
def isprs_root(tmp_path):
    return write_tree(str(tmp_path / 'potsdam'))


def pipeline(crop=None):
    # the stored 7 of row 0 is no ISPRS id: mapped to 255 with a warning
    # (the default, invalid_label='error', refuses such a file)
    steps = [
        dict(type='LoadMultiViewImages'),
        dict(type='LoadDepthSegAnnotations', invalid_label='ignore')
    ]
    if crop:
        steps.append(dict(type='MultiViewRandomCrop', crop_size=crop))
    return steps + [dict(type='PackMultiViewInputs')]


def test_data_list_and_metainfo(isprs_root):
    ds = ISPRSDepthSegDataset(data_root=isprs_root)
    assert len(ds) == 2
    info = ds.get_data_info(1)
    join = osp.join
    assert info['img_path'] == join(isprs_root, 'img_dir', 'train',
                                    STEMS[1] + '.png')
    assert info['img_paths'] == [info['img_path']]
    assert info['view_names'] == ('l', )
    assert info['city'] == 'potsdam'  # the data root's name
    assert info['frame_stem'] == STEMS[1]
    assert info['tile'] == 'potsdam_2_10'
    assert info['seg_map_paths'] == [
        join(isprs_root, 'ann_dir', 'train', STEMS[1] + '.png')
    ]
    assert info['label_id_format'] == 'isprs_reduce_zero'
    assert info['depth_map_paths'] == [
        join(isprs_root, 'ndsm_dir', 'train', STEMS[1] + '.png')
    ]
    assert info['depth_format'] == 'png'
    assert info['depth_scale'] == 32767 and info['depth_offset'] == 1
    assert 'intrinsics' not in info  # orthophotos
    assert ds.metainfo['classes'] == ISPRS_CLASSES == (
        'impervious_surface', 'building', 'low_vegetation', 'tree', 'car',
        'clutter')
    assert ds.metainfo['palette'][1] == [0, 0, 255]


def test_pipeline_labels_and_ndsm_units(isprs_root):
    ds = ISPRSDepthSegDataset(
        data_root=isprs_root, city='potsdam', pipeline=pipeline())
    out = ds[0]
    sample = out['data_samples']
    assert out['inputs'].shape == (3, SIZE, SIZE)
    assert out['inputs'].dtype == torch.uint8
    # The stored channels come through as loaded (BGR order of the file).
    assert out['inputs'][:, 5, 5].tolist() == [10, 20, 30]
    seg = sample.gt_sem_seg.data
    assert seg.shape == (1, SIZE, SIZE)
    # stored 0 (boundary) -> 255, 1..6 -> 0..5, 7 -> 255; 2 -> building
    assert seg[0, 0, :5].tolist() == [255, 0, 5, 255, 2]
    assert (seg[0, 1:] == 1).all()
    depth = sample.gt_depth_map.data
    assert depth.shape == (1, SIZE, SIZE) and depth.dtype == torch.float32
    # Loaded value = nDSM + depth_offset (1); 0 = invalid; ground = 1.
    np.testing.assert_allclose(
        depth[0, 0, :4].numpy(), [0, 1, 2, 1.4], atol=1e-4)
    np.testing.assert_allclose(depth[0, 1:].numpy(), 1.2, atol=1e-4)
    assert sample.metainfo['city'] == 'potsdam'
    assert sample.metainfo['frame_stem'] == STEMS[0]


def test_random_crop_shapes(isprs_root):
    ds = VaihingenDepthSegDataset(
        data_root=isprs_root, pipeline=pipeline(CROP))
    out = ds[1]
    assert out['inputs'].shape == (3, ) + CROP
    assert out['data_samples'].gt_sem_seg.data.shape == (1, ) + CROP
    assert out['data_samples'].gt_depth_map.data.shape == (1, ) + CROP
    assert out['data_samples'].metainfo['city'] == 'vaihingen'
    assert out['data_samples'].metainfo['img_shape'] == CROP


def test_single_task_sources(isprs_root):
    seg_only = PotsdamDepthSegDataset(
        data_root=isprs_root,
        data_prefix=dict(
            img_path='img_dir/train', seg_map_path='ann_dir/train'),
        pipeline=pipeline())
    sample = seg_only[0]['data_samples']
    assert 'gt_sem_seg' in sample and 'gt_depth_map' not in sample
    assert 'depth_map_paths' not in seg_only.get_data_info(0)
    depth_only = VaihingenDepthSegDataset(
        data_root=isprs_root,
        data_prefix=dict(
            img_path='img_dir/train', depth_map_path='ndsm_dir/train'),
        pipeline=pipeline())
    sample = depth_only[0]['data_samples']
    assert 'gt_depth_map' in sample and 'gt_sem_seg' not in sample


def test_registered_and_built_from_config(isprs_root):
    for name, city in (('PotsdamDepthSegDataset',
                        'potsdam'), ('VaihingenDepthSegDataset', 'vaihingen'),
                       ('ISPRSDepthSegDataset', 'potsdam')):
        ds = DATASETS.build(dict(type=name, data_root=isprs_root))
        assert len(ds) == 2 and ds.get_data_info(0)['city'] == city


def test_trainid_labels(tmp_path):
    root = write_tree(str(tmp_path / 'isprs'))
    ds = ISPRSDepthSegDataset(
        data_root=root, label_id_format='trainIds', pipeline=pipeline())
    seg = ds[0]['data_samples'].gt_sem_seg.data
    # read as stored; 6 and 7 are outside the 6 classes: ignored (warning)
    assert seg[0, 0, :5].tolist() == [0, 1, 255, 255, 3]


def test_errors_name_the_missing_file(isprs_root, tmp_path):
    missing = osp.join(isprs_root, 'ndsm_dir', 'train', STEMS[1] + '.png')
    os.remove(missing)
    with pytest.raises(FileNotFoundError, match=missing):
        ISPRSDepthSegDataset(data_root=isprs_root)
    with pytest.raises(FileNotFoundError, match='data root'):
        ISPRSDepthSegDataset(data_root=str(tmp_path / 'nowhere'))
    with pytest.raises(KeyError, match='img_path'):
        ISPRSDepthSegDataset(
            data_root=isprs_root, data_prefix=dict(seg_map_path='ann_dir'))
    with pytest.raises(ValueError, match='label_id_format'):
        ISPRSDepthSegDataset(data_root=isprs_root, label_id_format='nope')
    with pytest.raises(ValueError, match='depth_offset'):
        ISPRSDepthSegDataset(data_root=isprs_root, depth_offset=0)


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    """Generated raw tiles of both cities, converted into 64x64 patches."""
    from mmdepthseg.converters.isprs import convert_isprs
    from mmdepthseg.synthetic.writers import write_isprs
    root = tmp_path_factory.mktemp('synthetic_isprs')
    summary = write_isprs(
        str(root / 'raw'),
        seed=0,
        tiles=dict(potsdam=dict(val=1), vaihingen=dict(val=1)),
        tile_size=9.0)
    for city, info in summary['cities'].items():
        convert_isprs(
            info['raw_root'],
            str(root / city),
            city,
            splits=info['splits'],
            patch_size=64,
            progress=False)
    return str(root)


@pytest.mark.parametrize('city', ['potsdam', 'vaihingen'])
def test_converted_generated_patches(converted, city):
    ds = ISPRSDepthSegDataset(
        data_root=osp.join(converted, city),
        data_prefix=dict(
            img_path='img_dir/val',
            seg_map_path='ann_dir/val',
            depth_map_path='ndsm_dir/val'),
        pipeline=pipeline((48, 48)))
    # 9 m at 9 cm = 100 px: windows at 0, 32, 36 along both axes.
    assert len(ds) == 9
    out = ds[4]
    sample = out['data_samples']
    assert out['inputs'].shape == (3, 48, 48)
    seg = sample.gt_sem_seg.data
    assert set(seg.unique().tolist()) <= set(range(6))
    depth = sample.gt_depth_map.data
    # Every generated pixel has a valid nDSM in [0, 1] (+ the offset 1).
    assert (depth >= 1).all() and (depth <= 2).all()
    # Ground classes (impervious, low vegetation) lie at height 0.
    ground = (seg == 0) | (seg == 2)
    assert ground.any()
    # (Vaihingen exactly; Potsdam's bilinear nDSM resampling blends heights
    # across object borders where the labels are resampled nearest.)
    at_zero = ((depth[ground] - 1).abs() < 1e-4).float().mean()
    assert at_zero > (0.999 if city == 'vaihingen' else 0.9)
