# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Every FSRE-Depth / Pseudo-MTL config on KITTI raw runs on own footage by
changing its dataset: the method's pipelines get what they need."""
import glob
import os.path as osp

import pytest
from _helpers import REPO_ROOT
from mmengine.config import Config

from mmdepthseg.registry import DATASETS

CONFIGS = sorted(
    glob.glob(osp.join(REPO_ROOT, 'configs', 'fsre', '*.py')) +
    glob.glob(osp.join(REPO_ROOT, 'configs', 'pseudo_mtl', '*.py')))
#: KittiRawDataset arguments the own-video dataset shares.
SHARED_KEYS = ('frame_ids', 'seg_dir', 'pseudo_depth_dir', 'pseudo_conf_dir',
               'baseline', 'pipeline')


@pytest.fixture(scope='module')
def own_stereo_root(tmp_path_factory):
    """A stereo sequence in the own-video layout with labels, depth and
    SGBM pseudo depth for both cameras."""
    from mmdepthseg.stereo.pseudo_depth import generate_dataset_pseudo_depth
    from mmdepthseg.synthetic.video import write_street_video
    root = str(tmp_path_factory.mktemp('own_stereo'))
    write_street_video(
        root,
        name='seq',
        num_frames=5,
        still=(),
        height=48,
        width=160,
        stereo=True,
        layout='dataset',
        write_video=False)
    generate_dataset_pseudo_depth(
        root,
        dataset='own_video',
        matcher=dict(type='SGBMMatcher', num_disparities=32),
        img_suffix=None,
        progress=False)
    with open(osp.join(root, 'split.txt'), 'w') as f:
        f.write('seq 2 l\nseq 3 r\n')
    with open(osp.join(root, 'test_split.txt'), 'w') as f:
        f.write('seq 2 l\n')  # depth of the left camera only
    return root


def _swap(dataset: dict, root: str, test: bool) -> dict:
    own = dict(
        type='OwnVideoDataset',
        data_root=root,
        split_file='test_split.txt' if test else 'split.txt',
        test_mode=test)
    own.update({k: dataset[k] for k in SHARED_KEYS if k in dataset})
    if dataset.get('load_depth_from_velodyne'):
        own['depth_dir'] = 'depth_{cam:02d}'
    return own


def test_every_kitti_config_runs_on_own_footage(own_stereo_root):
    """Each distinct (train, test) dataset setup of the KITTI raw configs,
    swapped for OwnVideoDataset, feeds its pipeline what the method
    needs."""
    groups = {}
    for path in CONFIGS:
        cfg = Config.fromfile(path)
        if cfg.train_dataloader.dataset.type != 'KittiRawDataset':
            continue
        test = cfg.test_dataloader.dataset if cfg.get(
            'test_dataloader') else None
        key = repr((cfg.train_dataloader.dataset, test))
        groups.setdefault(key,
                          (cfg, []))[1].append(osp.relpath(path, REPO_ROOT))
    assert sum(len(paths) for _, paths in groups.values()) >= 25
    for cfg, paths in groups.values():
        dataset = cfg.train_dataloader.dataset
        train = DATASETS.build(_swap(dataset, own_stereo_root, False))
        frame_ids = dataset.get('frame_ids', (0, ))
        sample = train[1]  # side r
        assert sample['inputs'].shape[0] == 3 * len(frame_ids), paths
        data = sample['data_samples']
        assert data.metainfo['intrinsics'].shape == (3, 3), paths
        if 's' in frame_ids:
            assert data.metainfo['baseline'] == pytest.approx(0.54), paths
        if dataset.get('seg_dir'):
            assert 'gt_sem_seg' in data, paths
        if dataset.get('pseudo_depth_dir'):
            assert data.gt_pseudo_depth.data.shape[0] == 2, paths
        if cfg.get('test_dataloader'):
            test = cfg.test_dataloader.dataset
            data = DATASETS.build(_swap(test, own_stereo_root,
                                        True))[0]['data_samples']
            if test.get('load_depth_from_velodyne'):
                assert data.gt_depth_map.data.shape == (1, 48, 160), paths


def test_own_video_configs_are_the_kitti_methods():
    """fsre_r18_own-video / pseudo_mtl_vgg16_own-video differ from the KITTI
    configs in the dataset only (and FSRE's schedule-free validation)."""
    pairs = (('fsre/fsre_r18_kitti.py', 'fsre/fsre_r18_own-video.py'),
             ('pseudo_mtl/pseudo_mtl_vgg16_kitti_stage1-depth.py',
              'pseudo_mtl/pseudo_mtl_vgg16_own-video.py'))
    for kitti, own in pairs:
        a = Config.fromfile(osp.join(REPO_ROOT, 'configs', kitti))
        b = Config.fromfile(osp.join(REPO_ROOT, 'configs', own))
        if 'stage1-depth' in kitti:
            a.model.seg_head = b.model.seg_head
        assert a.model == b.model, own
        assert a.optim_wrapper == b.optim_wrapper, own
        assert a.train_cfg == b.train_cfg, own
        assert b.train_dataloader.dataset.type == 'OwnVideoDataset'
        assert b.train_dataloader.dataset.frame_ids == \
            a.train_dataloader.dataset.frame_ids
