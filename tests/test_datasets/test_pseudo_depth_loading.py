# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Stereo pseudo depth labels through the datasets and the pipeline, and
the 7 Cityscapes categories (Pseudo-MTL)."""
import glob
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmcv.transforms import Compose

# registers LoadPseudoDepth / MapSegLabels (until transforms/__init__ does)
from mmdepthseg.datasets import CityscapesDepthSegDataset, KittiRawDataset
from mmdepthseg.datasets.transforms.label_mapping import MapSegLabels
from mmdepthseg.datasets.transforms.pseudo_loading import LoadPseudoDepth
from mmdepthseg.datasets.utils import (CITYSCAPES_CATEGORIES, LABEL_LUTS,
                                       map_label_ids)
from mmdepthseg.stereo.pseudo_depth import (decode_conf_png, decode_depth_png,
                                            encode_conf_png, encode_depth_png,
                                            generate_dataset_pseudo_depth)

H, W = 64, 160


def _read(path):
    return cv2.imread(path, cv2.IMREAD_UNCHANGED)


@pytest.fixture(scope='module')
def kitti_pseudo_root(tmp_path_factory):
    from mmdepthseg.synthetic import write_kitti_raw
    root = str(tmp_path_factory.mktemp('kitti_pseudo'))
    write_kitti_raw(
        root, seed=0, num_drives=1, frames_per_drive=3, height=H, width=W)
    counts = generate_dataset_pseudo_depth(
        root,
        dataset='kitti',
        matcher=dict(type='SGBMMatcher', num_disparities=32),
        progress=False)
    assert counts['written'] == 3
    return root


def _kitti(root, **kwargs):
    split = sorted(glob.glob(osp.join(root, 'splits', '*', 'train_files.txt')))
    return KittiRawDataset(
        split_file=split[0],
        data_root=root,
        frame_ids=(0, 's'),
        pseudo_depth_dir='pseudo_depth_{cam:02d}',
        pseudo_conf_dir='pseudo_conf_{cam:02d}',
        **kwargs)


def test_kitti_pseudo_paths_follow_each_views_camera(kitti_pseudo_root):
    ds = _kitti(kitti_pseudo_root)
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        cams = ('02', '03') if info['side'] == 'l' else ('03', '02')
        frame = f'{info["frame_index"]:010d}.png'
        drive = osp.join(kitti_pseudo_root, info['folder'])
        assert info['pseudo_depth_paths'] == [
            osp.join(drive, f'pseudo_depth_{c}', 'data', frame) for c in cams
        ]
        assert info['pseudo_conf_paths'] == [
            osp.join(drive, f'pseudo_conf_{c}', 'data', frame) for c in cams
        ]
        # each image's own camera
        for img, dep in zip(info['img_paths'], info['pseudo_depth_paths']):
            assert img.split(osp.sep)[-3][-2:] == dep.split(osp.sep)[-3][-2:]
    with pytest.raises(ValueError, match='together'):
        KittiRawDataset(
            split_file='x',
            data_root=kitti_pseudo_root,
            pseudo_depth_dir='pseudo_depth_{cam:02d}')


def test_kitti_temporal_sample_gets_reference_pseudo_map_only(
        kitti_pseudo_root):
    split = sorted(
        glob.glob(
            osp.join(kitti_pseudo_root, 'splits', '*', 'train_files.txt')))[0]
    ds = KittiRawDataset(
        split_file=split,
        data_root=kitti_pseudo_root,
        frame_ids=(0, -1, 1, 's'),
        pseudo_depth_dir='pseudo_depth_{cam:02d}',
        pseudo_conf_dir='pseudo_conf_{cam:02d}')
    info = ds.get_data_info(0)
    assert len(info['pseudo_depth_paths']) == 1
    assert len(info['pseudo_conf_paths']) == 1


def test_kitti_pipeline_loads_resizes_flips_and_packs(kitti_pseudo_root):
    load = [dict(type='LoadMultiViewImages'), dict(type='LoadPseudoDepth')]
    ds = _kitti(kitti_pseudo_root, pipeline=load)
    info = ds.get_data_info(0)
    raw_depth = np.stack(
        [decode_depth_png(_read(p)) for p in info['pseudo_depth_paths']])
    raw_conf = np.stack(
        [decode_conf_png(_read(p)) for p in info['pseudo_conf_paths']])
    assert (raw_depth > 0).any() and (raw_conf > 0).any()

    loaded = ds[0]
    assert loaded['gt_pseudo_depth'].dtype == np.float32
    assert loaded['gt_confidence'].dtype == np.float32
    np.testing.assert_array_equal(loaded['gt_pseudo_depth'], raw_depth)
    np.testing.assert_array_equal(loaded['gt_confidence'], raw_conf)
    assert {'gt_pseudo_depth', 'gt_confidence'} <= set(loaded['depth_fields'])
    assert loaded['gt_confidence'].min() >= 0
    assert loaded['gt_confidence'].max() <= 1

    # 2x nearest-neighbour upsampling: every target pixel (2i, 2j) and
    # (2i+1, 2j+1) copies source pixel (i, j); then a flip mirrors each
    # map and swaps the left and right views.
    ds = _kitti(
        kitti_pseudo_root,
        pipeline=load + [
            dict(type='MultiViewResize', scale=(2 * W, 2 * H)),
            dict(type='MultiViewRandomFlip', prob=1.0),
            dict(type='PackMultiViewInputs')
        ])
    packed = ds[0]['data_samples']
    assert packed.flip
    for key, raw in (('gt_pseudo_depth', raw_depth), ('gt_confidence',
                                                      raw_conf)):
        data = packed.get(key).data
        assert isinstance(data, torch.Tensor) and data.dtype == torch.float32
        assert tuple(data.shape) == (2, 2 * H, 2 * W)
        expected = raw[::-1, :, ::-1].repeat(2, axis=1).repeat(2, axis=2)
        np.testing.assert_array_equal(data.numpy(), expected)


def test_missing_pseudo_file_names_the_path(tmp_path):
    missing = str(tmp_path / 'nope' / '0000000000.png')
    results = dict(
        img_path='x.png',
        img_paths=['x.png'],
        pseudo_depth_paths=[missing],
        pseudo_conf_paths=[missing])
    with pytest.raises(FileNotFoundError, match='0000000000.png'):
        LoadPseudoDepth()(results)
    # a sample without pseudo labels passes through
    assert 'gt_pseudo_depth' not in LoadPseudoDepth()(dict(img_paths=['x']))


def test_wrong_size_or_dtype_is_rejected(tmp_path):
    depth8 = str(tmp_path / 'd8.png')
    cv2.imwrite(depth8, np.zeros((4, 5), np.uint8))
    depth16 = str(tmp_path / 'd16.png')
    cv2.imwrite(depth16, np.zeros((4, 5), np.uint16))
    base = dict(img_path='x.png', img_paths=['x.png'])
    with pytest.raises(ValueError, match='uint16'):
        LoadPseudoDepth()(
            dict(
                base, pseudo_depth_paths=[depth8],
                pseudo_conf_paths=[depth16]))
    with pytest.raises(ValueError, match='differs from the image size'):
        LoadPseudoDepth()(
            dict(
                base,
                ori_shape=(4, 6),
                pseudo_depth_paths=[depth16],
                pseudo_conf_paths=[depth16]))


def test_cityscapes_pseudo_paths_and_values(cityscapes_root):
    stems = sorted(p[:-len('_leftImg8bit.png')] for p in glob.glob(
        osp.join(cityscapes_root, 'leftImg8bit', 'train', '*', '*.png')))
    h, w = _read(stems[0] + '_leftImg8bit.png').shape[:2]
    # hand-made labels: left depth 2 m / conf 0.5, right 4 m / conf 1
    values = dict(left=(2.0, 0.5), right=(4.0, 1.0))
    for stem in stems:
        rel = osp.relpath(stem, osp.join(cityscapes_root, 'leftImg8bit'))
        for side, (d, c) in values.items():
            for tree, suffix, png in (('pseudoDepth', 'PseudoDepth',
                                       encode_depth_png(np.full((h, w), d))),
                                      ('pseudoConf', 'PseudoConf',
                                       encode_conf_png(np.full((h, w), c)))):
                path = osp.join(cityscapes_root, tree,
                                f'{rel}_{side}{suffix}.png')
                os.makedirs(osp.dirname(path), exist_ok=True)
                cv2.imwrite(path, png)
    ds = CityscapesDepthSegDataset(
        data_root=cityscapes_root,
        data_prefix=dict(
            img_path='leftImg8bit/train',
            right_img_path='rightImg8bit/train',
            pseudo_depth_path='pseudoDepth/train',
            pseudo_conf_path='pseudoConf/train'),
        views=('l', 'r'),
        pipeline=[
            dict(type='LoadMultiViewImages'),
            dict(type='LoadPseudoDepth')
        ])
    info = ds.get_data_info(0)
    rel = osp.relpath(stems[0], osp.join(cityscapes_root, 'leftImg8bit'))
    assert info['pseudo_depth_paths'] == [
        osp.join(cityscapes_root, 'pseudoDepth', f'{rel}_leftPseudoDepth.png'),
        osp.join(cityscapes_root, 'pseudoDepth', f'{rel}_rightPseudoDepth.png')
    ]
    assert info['pseudo_conf_paths'][1] == osp.join(
        cityscapes_root, 'pseudoConf', f'{rel}_rightPseudoConf.png')
    res = ds[0]
    np.testing.assert_array_equal(res['gt_pseudo_depth'][:, 0, 0], [2, 4])
    np.testing.assert_allclose(
        res['gt_confidence'][:, 0, 0], [0.5, 1.0], atol=1e-5)
    with pytest.raises(KeyError, match='pseudo_conf_path'):
        CityscapesDepthSegDataset(
            data_root=cityscapes_root,
            data_prefix=dict(
                img_path='leftImg8bit/train',
                pseudo_depth_path='pseudoDepth/train'))


def test_cityscapes_right_pseudo_labels_with_their_own_format(cityscapes_root):
    """Left ground truth (labelIds) and right pseudo labels (trainIds) both
    become the 7 categories, each through its own mapping."""
    stems = sorted(p[:-len('_leftImg8bit.png')] for p in glob.glob(
        osp.join(cityscapes_root, 'leftImg8bit', 'train', '*', '*.png')))
    h, w = _read(stems[0] + '_leftImg8bit.png').shape[:2]
    for stem in stems:
        rel = osp.relpath(stem, osp.join(cityscapes_root, 'leftImg8bit'))
        path = osp.join(cityscapes_root, 'pseudoSeg',
                        f'{rel}_rightImg8bit.png')
        os.makedirs(osp.dirname(path), exist_ok=True)
        right = np.full((h, w), 13, np.uint8)  # car
        right[0] = 8  # vegetation
        cv2.imwrite(path, right)
    prefix = dict(
        img_path='leftImg8bit/train',
        right_img_path='rightImg8bit/train',
        seg_map_path='gtFine/train',
        right_seg_map_path='pseudoSeg/train')
    ds = CityscapesDepthSegDataset(
        data_root=cityscapes_root,
        data_prefix=prefix,
        views=('l', 'r'),
        seg_map_suffix='_gtFine_labelIds.png',
        label_id_format='cityscapes_labelIds_to_categories',
        right_label_id_format='cityscapes_trainIds_to_categories',
        pipeline=[
            dict(type='LoadMultiViewImages'),
            dict(type='LoadDepthSegAnnotations')
        ])
    res = ds[0]
    assert res['gt_seg_map'].shape == (2, h, w)
    label_ids = _read(stems[0].replace('leftImg8bit', 'gtFine') +
                      '_gtFine_labelIds.png')
    np.testing.assert_array_equal(
        res['gt_seg_map'][0],
        LABEL_LUTS['cityscapes_labelIds_to_categories'][label_ids])
    assert (res['gt_seg_map'][1, 0] == 3).all()  # nature
    assert (res['gt_seg_map'][1, 1:] == 6).all()  # vehicle
    with pytest.raises(KeyError, match='right_seg_map_path'):
        CityscapesDepthSegDataset(
            data_root=cityscapes_root, data_prefix=prefix, views=('l', ))


# Cityscapes labelIds and trainIds of hand-picked classes -> category.
CATEGORY_CASES = [
    # name, labelId, trainId, category
    ('road', 7, 0, 0),  # flat
    ('building', 11, 2, 1),  # construction
    ('pole', 17, 5, 2),  # object
    ('vegetation', 21, 8, 3),  # nature
    ('sky', 23, 10, 4),
    ('person', 24, 11, 5),  # human
    ('car', 26, 13, 6),  # vehicle
    ('unlabeled', 0, 255, 255),
]


def test_seven_categories_from_label_ids_and_train_ids():
    label_ids = np.array([[c[1] for c in CATEGORY_CASES]], np.uint8)
    train_ids = np.array([[c[2] for c in CATEGORY_CASES]], np.uint8)
    expected = [c[3] for c in CATEGORY_CASES]
    np.testing.assert_array_equal(
        map_label_ids(label_ids, 'cityscapes_labelIds_to_categories')[0],
        expected)
    np.testing.assert_array_equal(
        map_label_ids(train_ids, 'cityscapes_trainIds_to_categories')[0],
        expected)
    # every trainId has a category; nothing maps beyond the 7 classes
    lut_out = map_label_ids(
        np.arange(256, dtype=np.uint8), 'cityscapes_trainIds_to_categories')
    assert set(lut_out[:19]) == set(range(7))
    assert (lut_out[19:] == 255).all()
    assert len(CITYSCAPES_CATEGORIES['classes']) == 7
    assert len(CITYSCAPES_CATEGORIES['palette']) == 7
    assert CITYSCAPES_CATEGORIES['classes'][5] == 'human'


# Every Cityscapes labelId (cityscapesScripts' labels.py) -> MTAN's 7
# categories, written out from the label table: name, labelId, category.
LABEL_ID_CATEGORY_TABLE = [
    ('unlabeled', 0, 255), ('ego vehicle', 1, 255),
    ('rectification border', 2, 255), ('out of roi', 3, 255),
    ('static', 4, 255), ('dynamic', 5, 255), ('ground', 6, 255),
    ('road', 7, 0), ('sidewalk', 8, 0), ('parking', 9, 0),
    ('rail track', 10, 0), ('building', 11, 1), ('wall', 12, 1),
    ('fence', 13, 1), ('guard rail', 14, 1), ('bridge', 15, 1),
    ('tunnel', 16, 1), ('pole', 17, 2), ('polegroup', 18, 2),
    ('traffic light', 19, 2), ('traffic sign', 20, 2),
    ('vegetation', 21, 3), ('terrain', 22, 3), ('sky', 23, 4),
    ('person', 24, 5), ('rider', 25, 5), ('car', 26, 6), ('truck', 27, 6),
    ('bus', 28, 6), ('caravan', 29, 6), ('trailer', 30, 6),
    ('train', 31, 6), ('motorcycle', 32, 6), ('bicycle', 33, 6)
]
# the 8 non-void labels without a trainId
NO_TRAIN_ID = {9: 0, 10: 0, 14: 1, 15: 1, 16: 1, 18: 2, 29: 6, 30: 6}


def test_every_label_id_maps_to_its_mtan_category():
    """labelIds follow labels.py's categories (MTAN's 7 classes): the 8
    labels without a trainId (parking ... trailer) get their category, not
    255; the eval19 table keeps only the 19 evaluated classes."""
    ids = np.array([[row[1] for row in LABEL_ID_CATEGORY_TABLE]], np.uint8)
    expected = [row[2] for row in LABEL_ID_CATEGORY_TABLE]
    got = map_label_ids(ids, 'cityscapes_labelIds_to_categories')[0]
    np.testing.assert_array_equal(got, expected)
    assert (map_label_ids(
        np.arange(34, 256, dtype=np.uint8)[None],
        'cityscapes_labelIds_to_categories') == 255).all()
    eval19 = map_label_ids(ids, 'cityscapes_labelIds_to_categories_eval19')[0]
    for label_id, category in enumerate(expected):
        want = 255 if label_id in NO_TRAIN_ID else category
        assert eval19[label_id] == want, label_id
    assert all(got[i] == c for i, c in NO_TRAIN_ID.items())


def test_map_seg_labels_transform_maps_every_seg_field():
    seg = np.array([[[0, 5, 13, 255]], [[10, 11, 8, 2]]], np.uint8)
    pipeline = Compose([dict(type='MapSegLabels')])
    out = pipeline(dict(gt_seg_map=seg.copy(), seg_fields=['gt_seg_map']))
    np.testing.assert_array_equal(out['gt_seg_map'],
                                  [[[0, 2, 6, 255]], [[4, 5, 3, 1]]])
    with pytest.raises(KeyError, match='unknown label lookup table'):
        MapSegLabels(lut='nope')
