# Copyright (c) mmdepthseg contributors. All rights reserved.
"""NYUDepthSegDataset on hand-written and generated NYUv2-layout trees."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData

from mmdepthseg.datasets.nyu_depth import NYUDepthSegDataset
from mmdepthseg.evaluation.metrics.depth_metric import DepthMetric
from mmdepthseg.synthetic.indoor_scene import IndoorScene
from mmdepthseg.synthetic.writers import write_nyu

LOAD = [dict(type='LoadMultiViewImages'), dict(type='LoadDepthSegAnnotations')]
STEMS = ('bedroom_0001_00000', 'kitchen_0028a_00045')
# The Kinect's colour camera at 640x480: fx, fy, cx, cy.
FX, FY, CX, CY = 518.857901, 519.469611, 325.582449, 253.736166


def write_tree(root, split='train', labels='nyu40'):
    """Two 480x640 samples in MMSegmentation's NYU layout + ``labels40``.

    Row 0 of every depth PNG holds 0, 1000, 2500, 65535 (mm) in columns
    0..3, the rest 1234; row 0 of the label maps holds 0, 1, 40, 41, 22
    (NYUv2-40 ids) in columns 0..4, the rest 2 (floor); with
    ``labels='trainIds'`` the maps hold the mapped values.
    """
    dirs = {
        k: osp.join(root, k, split)
        for k in ('images', 'annotations', 'labels40')
    }
    for d in dirs.values():
        os.makedirs(d, exist_ok=True)
    for i, stem in enumerate(STEMS):
        img = np.full((480, 640, 3), 40 * i, dtype=np.uint8)
        cv2.imwrite(osp.join(dirs['images'], stem + '.jpg'), img)
        depth = np.full((480, 640), 1234, dtype=np.uint16)
        depth[0, :4] = (0, 1000, 2500, 65535)
        cv2.imwrite(osp.join(dirs['annotations'], stem + '.png'), depth)
        label = np.full((480, 640), 2, dtype=np.uint8)
        label[0, :5] = (0, 1, 40, 41, 22)
        if labels == 'trainIds':
            label = np.full((480, 640), 1, dtype=np.uint8)
            label[0, :5] = (255, 0, 39, 255, 21)
        cv2.imwrite(osp.join(dirs['labels40'], stem + '.png'), label)
    return root


@pytest.fixture
def nyu_root(tmp_path):
    return write_tree(str(tmp_path / 'nyu'))


def test_data_list_and_metainfo(nyu_root):
    ds = NYUDepthSegDataset(data_root=nyu_root)
    assert len(ds) == 2
    info = ds.get_data_info(1)
    assert info['img_path'] == osp.join(nyu_root, 'images', 'train',
                                        STEMS[1] + '.jpg')
    assert info['img_paths'] == [info['img_path']]
    assert info['view_names'] == ('l', )
    assert info['frame_stem'] == STEMS[1]
    assert info['depth_map_paths'] == [
        osp.join(nyu_root, 'annotations', 'train', STEMS[1] + '.png')
    ]
    assert info['depth_format'] == 'png' and info['depth_scale'] == 1000
    assert info['seg_map_paths'] == [
        osp.join(nyu_root, 'labels40', 'train', STEMS[1] + '.png')
    ]
    assert info['label_id_format'] == 'nyu40_labelIds'
    assert info['intrinsics_normalised'] is True
    classes = ds.metainfo['classes']
    assert len(classes) == 40 and len(ds.metainfo['palette']) == 40
    assert (classes[0], classes[1], classes[21],
            classes[39]) == ('wall', 'floor', 'ceiling', 'otherprop')
    assert len({tuple(c) for c in ds.metainfo['palette']}) == 40


def test_loaded_depth_in_metres_labels_and_intrinsics(nyu_root):
    # the stored 41 is no NYUv2-40 id: ignored with a warning here (the
    # default invalid_label='error' refuses the file)
    load = [
        dict(type='LoadMultiViewImages'),
        dict(type='LoadDepthSegAnnotations', invalid_label='ignore')
    ]
    results = NYUDepthSegDataset(data_root=nyu_root, pipeline=load)[0]
    depth, seg = results['gt_depth_map'], results['gt_seg_map']
    assert depth.shape == seg.shape == (1, 480, 640)
    assert depth.dtype == np.float32 and seg.dtype == np.uint8
    np.testing.assert_allclose(depth[0, 0, :5], [0, 1, 2.5, 65.535, 1.234])
    # unlabelled 0 -> 255; 1..40 -> 0..39; beyond 40 (a defect) -> 255
    np.testing.assert_array_equal(seg[0, 0, :6], [255, 0, 39, 255, 21, 1])
    np.testing.assert_allclose(
        results['intrinsics'], [[FX, 0, CX], [0, FY, CY], [0, 0, 1]],
        rtol=1e-6)
    assert results['img'].shape == (480, 640, 3)


def test_train_id_labels_and_single_task_sources(tmp_path):
    root = write_tree(str(tmp_path / 'nyu'), labels='trainIds')
    results = NYUDepthSegDataset(
        data_root=root, label_id_format='trainIds', pipeline=LOAD)[0]
    np.testing.assert_array_equal(results['gt_seg_map'][0, 0, :6],
                                  [255, 0, 39, 255, 21, 1])
    depth_only = NYUDepthSegDataset(
        data_root=root,
        data_prefix=dict(
            img_path='images/train', depth_map_path='annotations/train'),
        pipeline=LOAD)[0]
    assert 'gt_seg_map' not in depth_only and 'gt_depth_map' in depth_only
    seg_only = NYUDepthSegDataset(
        data_root=root,
        data_prefix=dict(
            img_path='images/train', seg_map_path='labels40/train'),
        label_id_format='trainIds',
        pipeline=LOAD)[0]
    assert 'gt_depth_map' not in seg_only and 'gt_seg_map' in seg_only


def test_missing_files_are_named(nyu_root, tmp_path):
    missing = osp.join(nyu_root, 'annotations', 'train', STEMS[1] + '.png')
    os.remove(missing)
    with pytest.raises(FileNotFoundError, match='depth map') as err:
        NYUDepthSegDataset(data_root=nyu_root)
    assert missing in str(err.value)
    assert 'Dataset preparation' in str(err.value)
    os.remove(osp.join(nyu_root, 'labels40', 'train', STEMS[0] + '.png'))
    with pytest.raises(FileNotFoundError, match=STEMS[0]):
        NYUDepthSegDataset(
            data_root=nyu_root,
            data_prefix=dict(
                img_path='images/train', seg_map_path='labels40/train'))
    with pytest.raises(FileNotFoundError, match='NYUv2 data root'):
        NYUDepthSegDataset(data_root=str(tmp_path / 'nowhere'))
    with pytest.raises(FileNotFoundError, match='images/test'):
        NYUDepthSegDataset(
            data_root=nyu_root, data_prefix=dict(img_path='images/test'))
    with pytest.raises(FileNotFoundError, match='label folder'):
        NYUDepthSegDataset(
            data_root=nyu_root,
            data_prefix=dict(
                img_path='images/train', seg_map_path='labels/train'))
    os.makedirs(osp.join(nyu_root, 'images', 'empty'))
    with pytest.raises(FileNotFoundError, match=r'no \*\.jpg image'):
        NYUDepthSegDataset(
            data_root=nyu_root, data_prefix=dict(img_path='images/empty'))


def test_bad_arguments(nyu_root):
    with pytest.raises(KeyError, match='img_path'):
        NYUDepthSegDataset(
            data_root=nyu_root, data_prefix=dict(depth_map_path='x'))
    with pytest.raises(ValueError, match='label_id_format'):
        NYUDepthSegDataset(data_root=nyu_root, label_id_format='nyu13')
    with pytest.raises(ValueError, match='3x3'):
        NYUDepthSegDataset(data_root=nyu_root, intrinsics=np.eye(4))


# ---------------------------------------------------------------------------
# Generated tree -> dataset -> pipelines
# ---------------------------------------------------------------------------
@pytest.fixture(scope='module')
def synthetic_nyu(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synthetic_nyu'))
    summary = write_nyu(
        root,
        seed=1,
        rooms={
            'train': 1,
            'test': 1
        },
        views_per_room=2,
        height=60,
        width=80)
    return root, summary


def _prefix(split):
    return dict(
        img_path=f'images/{split}',
        depth_map_path=f'annotations/{split}',
        seg_map_path=f'labels40/{split}')


def test_generated_tree_loads_rendered_depth_and_labels(synthetic_nyu):
    root, summary = synthetic_nyu
    ds = NYUDepthSegDataset(
        data_root=root, data_prefix=_prefix('test'), pipeline=LOAD)
    assert len(ds) == 2
    results = ds[1]
    stem = results['frame_stem']
    room = IndoorScene(**summary['scenes'][stem[:-6]])
    pose = room.camera_poses(2)[int(stem[-5:])]
    truth = room.render(pose, np.array(summary['K']), 60, 80)
    np.testing.assert_allclose(results['intrinsics'], summary['K'], rtol=1e-6)
    # millimetre PNG: within half a millimetre of the exact depth
    np.testing.assert_allclose(
        results['gt_depth_map'][0], truth['depth'], atol=5e-4 + 1e-6)
    np.testing.assert_array_equal(results['gt_seg_map'][0], truth['label'] - 1)


def test_training_pipeline_shapes_and_units(synthetic_nyu):
    root, summary = synthetic_nyu
    pipeline = LOAD + [
        dict(type='MultiViewRandomResize', ratios=(1.0, 1.2, 1.5)),
        dict(type='MultiViewRandomCrop', crop_size=(48, 64)),
        dict(type='MultiViewRandomFlip', prob=1.0),
        dict(type='MultiViewColorJitter', prob=1.0),
        dict(type='PackMultiViewInputs')
    ]
    ds = NYUDepthSegDataset(
        data_root=root, data_prefix=_prefix('train'), pipeline=pipeline)
    np.random.seed(0)
    fx = summary['K'][0][0]
    ratios = set()
    for i in range(len(ds)):
        for _ in range(3):
            packed = ds[i]
            sample = packed['data_samples']
            assert packed['inputs'].shape == (3, 48, 64)
            assert packed['inputs'].dtype == torch.uint8
            seg, depth = sample.gt_sem_seg.data, sample.gt_depth_map.data
            assert seg.shape == depth.shape == (1, 48, 64)
            assert seg.dtype == torch.int64 and depth.dtype == torch.float32
            assert set(seg.unique().tolist()) <= set(range(40))
            assert 0.3 < depth.min() and depth.max() < 12  # metres
            assert sample.flip and sample.view_names == ('l', )
            sx = sample.scale_factor[0]
            ratios.add(round(sx, 1))
            assert sample.intrinsics[0, 0] == pytest.approx(fx * sx)
            assert sample.img_shape == (48, 64)
    assert len(ratios) > 1


def test_depth_metric_with_the_nyu_crop(synthetic_nyu):
    """The evaluation config for NYUv2: Eigen's crop, 1e-3..10 m."""
    root, _ = synthetic_nyu
    ds = NYUDepthSegDataset(
        data_root=root,
        data_prefix=_prefix('test'),
        test_mode=True,
        pipeline=LOAD + [dict(type='PackMultiViewInputs')])
    metric = DepthMetric(
        min_depth=1e-3,
        max_depth=10.0,
        crop='nyu',
        metrics=('abs_rel', 'rmse', 'log10', 'a1', 'a2', 'a3'))
    samples = []
    for i in range(len(ds)):
        sample = ds[i]['data_samples']
        gt = sample.gt_depth_map.data
        sample.pred_depth_map = PixelData(data=gt[:1] * 1.1)
        samples.append(sample.to_dict())
    metric.process({}, samples)
    result = metric.compute_metrics(metric.results)
    assert result['abs_rel'] == pytest.approx(0.1, rel=1e-5)
    assert result['log10'] == pytest.approx(np.log10(1.1), rel=1e-5)
    assert result['a1'] == 1.0
