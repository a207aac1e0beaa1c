# Copyright (c) mmdepthseg contributors. All rights reserved.
"""SynscapesDataset on hand-written tiny trees in the real layout."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

# registers DepthTargetTransform for the pipelines
import mmdepthseg.datasets.transforms.depth_target  # noqa: F401
from mmdepthseg.datasets.synscapes import (SYNSCAPES_SPLIT_IDS,
                                           SynscapesDataset,
                                           read_synscapes_intrinsics)

H, W = 4, 6
FX, FY, U0, V0 = 1590.0, 1592.5, 2.5, 1.75
SPLIT_IDS = dict(train=(1, 3), val=(4, 4), test=(5, 5))
# Cityscapes labelIds per column: road, sky, car, unlabelled, person, sky
LABEL_IDS = np.array([7, 23, 26, 0, 24, 23], dtype=np.uint8)
TRAIN_IDS = np.array([0, 10, 13, 255, 11, 10])
# metres per column (0 = invalid); the sky columns hold a far value
DEPTH = np.array([2.0, 1000.0, 8.0, 0.0, 0.5, 1000.0], dtype=np.float32)
LOAD = [dict(type='LoadMultiViewImages'), dict(type='LoadDepthSegAnnotations')]


def write_synscapes_tree(root, ids=(1, 2, 3, 4, 5), depth_png=False):
    """Frame i: constant colour i, labels LABEL_IDS and depth DEPTH * i per
    column, intrinsics (FX, FY, U0 + i, V0)."""
    for sub in ('img/rgb', 'img/class', 'img/depth', 'meta'):
        os.makedirs(osp.join(root, sub), exist_ok=True)
    for i in ids:
        cv2.imwrite(
            osp.join(root, 'img/rgb', f'{i}.png'),
            np.full((H, W, 3), i, dtype=np.uint8))
        cv2.imwrite(
            osp.join(root, 'img/class', f'{i}.png'),
            np.tile(LABEL_IDS, (H, 1)))
        depth = np.tile(DEPTH * i, (H, 1))
        if depth_png:
            cv2.imwrite(
                osp.join(root, 'img/depth', f'{i}.png'),
                np.round(depth * 10).astype(np.uint16))
        else:
            np.save(osp.join(root, 'img/depth', f'{i}.npy'), depth)
        meta = dict(
            camera=dict(
                extrinsic=dict(
                    pitch=0.0, roll=0.0, x=1.7, y=0.1, yaw=0.0, z=1.2),
                intrinsic=dict(fx=FX, fy=FY, u0=U0 + i, v0=V0, resx=W,
                               resy=H)),
            scene=dict(),
            instance=dict())
        with open(osp.join(root, 'meta', f'{i}.json'), 'w') as f:
            json.dump(meta, f)
    return root


@pytest.fixture
def synscapes_root(tmp_path):
    return write_synscapes_tree(str(tmp_path / 'synscapes'))


def test_split_by_consecutive_ids(synscapes_root):
    for split, ids in (('train', [1, 2, 3]), ('val', [4]), ('test', [5]),
                       (None, [1, 2, 3, 4, 5])):
        ds = SynscapesDataset(synscapes_root, split=split, split_ids=SPLIT_IDS)
        assert [ds.get_data_info(i)['frame_id'] for i in range(len(ds))] == ids


def test_default_split_is_20k_1k_4k(tmp_path):
    root = str(tmp_path / 'syn')
    os.makedirs(osp.join(root, 'img/rgb'))
    ids = [1, 20000, 20001, 21000, 21001, 25000]
    for i in ids:
        cv2.imwrite(
            osp.join(root, 'img/rgb', f'{i}.png'), np.zeros((2, 2, 3),
                                                            np.uint8))
    assert SYNSCAPES_SPLIT_IDS == dict(
        train=(1, 20000), val=(20001, 21000), test=(21001, 25000))
    got = {}
    for split in ('train', 'val', 'test'):
        ds = SynscapesDataset(
            root, split=split, data_prefix=dict(img_path='img/rgb'))
        got[split] = [ds.get_data_info(i)['frame_id'] for i in range(len(ds))]
    assert got == dict(
        train=[1, 20000], val=[20001, 21000], test=[21001, 25000])
    # a tree numbered from 0 is refused, naming the stray frame
    cv2.imwrite(
        osp.join(root, 'img/rgb', '0.png'), np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(ValueError, match=r'\[0\]'):
        SynscapesDataset(root, data_prefix=dict(img_path='img/rgb'))


def test_data_info_paths_and_intrinsics(synscapes_root):
    ds = SynscapesDataset(synscapes_root, split='val', split_ids=SPLIT_IDS)
    info = ds.get_data_info(0)
    assert info['img_path'] == osp.join(synscapes_root, 'img/rgb', '4.png')
    assert info['img_paths'] == [info['img_path']]
    assert info['view_names'] == ('l', )
    assert info['frame_stem'] == '4'
    assert info['seg_map_paths'] == [
        osp.join(synscapes_root, 'img/class', '4.png')
    ]
    assert info['label_id_format'] == 'cityscapes_labelIds'
    assert info['depth_map_paths'] == [
        osp.join(synscapes_root, 'img/depth', '4.npy')
    ]
    assert info['depth_format'] == 'npy'
    np.testing.assert_allclose(info['intrinsics'],
                               [[FX, 0, U0 + 4], [0, FY, V0], [0, 0, 1]])
    assert ds.metainfo['classes'][10] == 'sky'
    assert len(ds.metainfo['classes']) == 19


def test_task_folders_can_be_left_out(synscapes_root):
    ds = SynscapesDataset(
        synscapes_root,
        split_ids=SPLIT_IDS,
        data_prefix=dict(img_path='img/rgb', depth_map_path='img/depth'))
    info = ds.get_data_info(0)
    assert 'seg_map_paths' not in info and 'intrinsics' not in info
    assert 'depth_map_paths' in info


def test_loaded_labels_and_depth_by_hand(synscapes_root):
    pipeline = LOAD + [
        dict(type='DepthTargetTransform', mode='inverse', sky_label=10),
        dict(type='PackMultiViewInputs')
    ]
    ds = SynscapesDataset(
        synscapes_root, split='train', split_ids=SPLIT_IDS, pipeline=pipeline)
    sample = ds[1]['data_samples']  # frame 2
    seg = sample.gt_sem_seg.data.numpy()
    assert seg.shape == (1, H, W)
    np.testing.assert_array_equal(seg[0], np.tile(TRAIN_IDS, (H, 1)))
    # frame 2: depth 4, 2000 (sky), 16, 0 (invalid), 1, 2000 (sky) metres
    expected = np.array([0.25, 0.0, 1 / 16, np.nan, 1.0, 0.0])
    np.testing.assert_allclose(
        sample.gt_depth_map.data.numpy()[0],
        np.tile(expected, (H, 1)),
        rtol=1e-6)
    assert sample.metainfo['frame_stem'] == '2'
    np.testing.assert_allclose(sample.metainfo['intrinsics'][0, 2], U0 + 2)


def test_png_depth(tmp_path):
    root = write_synscapes_tree(str(tmp_path / 's'), ids=(1, ), depth_png=True)
    ds = SynscapesDataset(
        root,
        split_ids=SPLIT_IDS,
        depth_map_suffix='.png',
        depth_format='png',
        depth_scale=10.0,
        pipeline=LOAD)
    depth = ds[0]['gt_depth_map']
    np.testing.assert_allclose(depth[0, 0], DEPTH, rtol=1e-6)


def test_errors_name_files(synscapes_root, tmp_path):
    os.remove(osp.join(synscapes_root, 'img/depth', '2.npy'))
    with pytest.raises(FileNotFoundError, match=r'img/depth/2\.npy'):
        SynscapesDataset(synscapes_root, split_ids=SPLIT_IDS)
    with open(osp.join(synscapes_root, 'meta', '4.json'), 'w') as f:
        json.dump(dict(camera=dict(intrinsic=dict(fx=1.0))), f)
    with pytest.raises(ValueError, match=r'meta/4\.json'):
        read_synscapes_intrinsics(osp.join(synscapes_root, 'meta', '4.json'))
    with pytest.raises(ValueError, match=r'meta/4\.json'):
        SynscapesDataset(synscapes_root, split='val', split_ids=SPLIT_IDS)
    cv2.imwrite(
        osp.join(synscapes_root, 'img/rgb', 'frame.png'),
        np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(ValueError, match='frame.png'):
        SynscapesDataset(synscapes_root, split_ids=SPLIT_IDS)
    with pytest.raises(FileNotFoundError, match='data root'):
        SynscapesDataset(str(tmp_path / 'missing'))


def test_argument_errors(synscapes_root):
    with pytest.raises(ValueError, match='split'):
        SynscapesDataset(synscapes_root, split='training')
    with pytest.raises(ValueError, match='split_ids'):
        SynscapesDataset(synscapes_root, split_ids=dict(train=(1, 3)))
    with pytest.raises(ValueError, match='first <= last'):
        SynscapesDataset(
            synscapes_root,
            split_ids=dict(train=(3, 1), val=(4, 4), test=(5, 5)))
    with pytest.raises(ValueError, match='depth_format'):
        SynscapesDataset(synscapes_root, depth_format='exr')
    with pytest.raises(FileNotFoundError, match='split'):
        SynscapesDataset(
            synscapes_root,
            split='test',
            split_ids=dict(train=(1, 5), val=(6, 6), test=(7, 9)))
