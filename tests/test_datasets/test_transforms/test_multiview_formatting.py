# Copyright (c) mmdepthseg contributors. All rights reserved.
"""PackMultiViewInputs follows the data contract."""
import numpy as np
import torch
from mmseg.structures import SegDataSample

from mmdepthseg.datasets.transforms import PackMultiViewInputs


def _results():
    rng = np.random.RandomState(0)
    img = rng.randint(0, 256, (4, 5, 6), dtype=np.uint8)
    return dict(
        img=img,
        unaug_img=img.copy(),
        img_path='l.png',
        img_paths=['l.png', 'r.png'],
        view_names=('l', 'r'),
        intrinsics=np.eye(3, dtype=np.float32),
        baseline=0.2,
        stereo_T=np.eye(4, dtype=np.float32),
        ori_shape=(8, 10),
        img_shape=(4, 5),
        scale_factor=(0.5, 0.5),
        flip=False,
        flip_direction=None,
        folder='drive',
        frame_index=3,
        side='l',
        private_key='not packed',
        gt_seg_map=np.full((1, 4, 5), 7, np.uint8),
        gt_depth_map=np.full((2, 4, 5), 1.5, np.float32),
        gt_pseudo_depth=np.full((2, 4, 5), 2.5, np.float32),
        seg_fields=['gt_seg_map'],
        depth_fields=['gt_depth_map', 'gt_pseudo_depth'])


def test_pack_inputs_and_fields():
    results = _results()
    packed = PackMultiViewInputs()(results)
    inputs = packed['inputs']
    assert inputs.dtype == torch.uint8 and inputs.shape == (6, 4, 5)
    # channel c of view v is img[..., 3v + c]
    assert torch.equal(inputs[4], torch.from_numpy(results['img'][..., 4]))
    sample = packed['data_samples']
    assert isinstance(sample, SegDataSample)
    assert sample.gt_sem_seg.data.dtype == torch.int64
    assert sample.gt_sem_seg.data.shape == (1, 4, 5)
    assert (sample.gt_sem_seg.data == 7).all()
    assert sample.gt_depth_map.data.dtype == torch.float32
    assert sample.gt_depth_map.data.shape == (2, 4, 5)
    assert (sample.gt_pseudo_depth.data == 2.5).all()
    assert sample.unaug_img.data.dtype == torch.uint8
    assert torch.equal(sample.unaug_img.data, inputs)


def test_pack_metainfo():
    sample = PackMultiViewInputs()(_results())['data_samples']
    meta = sample.metainfo
    for key in ('img_path', 'img_paths', 'view_names', 'intrinsics',
                'baseline', 'stereo_T', 'ori_shape', 'img_shape',
                'scale_factor', 'flip', 'flip_direction', 'folder',
                'frame_index', 'side'):
        assert key in meta, key
    assert meta['view_names'] == ('l', 'r')
    assert meta['reduce_zero_label'] is False
    assert 'private_key' not in meta


def test_pack_without_labels_or_unaug():
    results = dict(img=np.zeros((4, 5, 3), np.uint8), img_path='a.png')
    sample = PackMultiViewInputs()(results)['data_samples']
    assert 'gt_sem_seg' not in sample and 'unaug_img' not in sample
