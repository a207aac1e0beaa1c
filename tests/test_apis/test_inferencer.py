# Copyright (c) mmdepthseg contributors. All rights reserved.
"""DepthSegInferencer on the real KITTI sample frame with randomly
initialised FSRE-Depth models: outputs at the input's size, pictures,
inputs of every kind, intrinsics, point clouds and crop windows."""
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
import torch.nn as nn
from _helpers import REPO_ROOT, SAMPLE_IMAGE
from mmengine.config import Config

from mmdepthseg.apis.inferencer import (DepthSegInferencer, depth_output_kind,
                                        find_metafile_model)
from mmdepthseg.apis.pointcloud import read_ply

FSRE_CFG = osp.join(REPO_ROOT, 'configs', 'fsre', 'fsre_r18_kitti.py')
SAMPLE = SAMPLE_IMAGE
SAMPLE_HW = (235, 638)
# a KITTI-like camera at the sample's size: fx, fy, cx, cy
INTRINSICS = (300.0, 310.0, 318.5, 117.0)


def _small_cfg(crop=None) -> Config:
    """fsre_r18_kitti with its test resize at 64x192 (fast on CPU);
    ``crop=(h, w, y0, x0)`` puts a fixed crop before the resize."""
    cfg = Config.fromfile(FSRE_CFG)
    pipeline = [dict(type='LoadMultiViewImages')]
    if crop is not None:
        pipeline.append(
            dict(
                type='MultiViewFixedCrop', crop_size=crop[:2],
                offset=crop[2:]))
    pipeline += [
        dict(type='MultiViewResize', scale=(192, 64), keep_ratio=False),
        dict(type='LoadDepthSegAnnotations'),
        dict(type='PackMultiViewInputs')
    ]
    cfg.test_pipeline = pipeline
    return cfg


@pytest.fixture(scope='module')
def small_inferencer():
    return DepthSegInferencer(
        _small_cfg(), intrinsics=INTRINSICS, batch_size=2)


def test_fsre_kitti_outputs_at_input_size_and_pictures(tmp_path):
    """A real KITTI frame through a random FSRE model at 192x640."""
    inferencer = DepthSegInferencer(FSRE_CFG)
    assert inferencer.depth_kind == 'relative'  # self-supervised
    out = inferencer(SAMPLE, out_dir=str(tmp_path))
    assert len(out['predictions']) == 1
    result = out['predictions'][0]
    height, width = SAMPLE_HW

    depth = result['depth']
    assert depth.dtype == np.float32 and depth.shape == (height, width)
    # disparity in (0, 1) -> depth within the model's 0.1..100 range
    assert np.all(np.isfinite(depth))
    assert depth.min() >= 0.1 - 1e-4 and depth.max() <= 100 + 1e-3
    assert result['depth_kind'] == 'relative'

    probs = result['seg_probs']
    assert probs.dtype == np.float32 and probs.shape == (19, height, width)
    np.testing.assert_allclose(probs.sum(0), 1.0, atol=1e-4)
    sem_seg = result['sem_seg']
    assert sem_seg.dtype == np.uint8 and sem_seg.shape == (height, width)
    # the label is the most probable class (up to float ties between two
    # classes of a random model: the label comes from the logits, the
    # probabilities round after the softmax)
    chosen = np.take_along_axis(probs, sem_seg[None].astype(np.int64), 0)[0]
    np.testing.assert_allclose(chosen, probs.max(0), rtol=0, atol=1e-6)
    assert (sem_seg == probs.argmax(0)).mean() > 0.999
    assert result['img_path'] == SAMPLE

    # the picture: input | depth | segmentation, with a footer
    vis = cv2.imread(str(tmp_path / 'vis' / f'{result["name"]}.png'))
    assert vis is not None
    assert vis.shape[1] == 3 * width and vis.shape[0] > height
    np.testing.assert_array_equal(vis[:height, :width], cv2.imread(SAMPLE))


def test_list_of_path_and_array_batched_gives_equal_results(
        small_inferencer, tmp_path):
    """A path and the same image as a BGR array, in one batch of 2, with
    point clouds: one point per valid strided pixel."""
    image = cv2.imread(SAMPLE)
    out = small_inferencer([SAMPLE, image],
                           return_vis=True,
                           out_dir=str(tmp_path),
                           save_ply=True,
                           ply_binary=False,
                           stride=3,
                           max_depth=20.0)
    by_path, by_array = out['predictions']
    assert by_path['img_path'] == SAMPLE and by_array['img_path'] is None
    assert by_array['name'].isdigit()  # arrays are numbered
    for key in ('depth', 'seg_probs'):
        assert by_array[key].shape[-2:] == SAMPLE_HW
        np.testing.assert_allclose(by_path[key], by_array[key], atol=1e-5)
    assert (by_path['sem_seg'] != by_array['sem_seg']).mean() < 1e-3
    assert len(out['visualization']) == 2
    assert out['visualization'][0].shape[1] == 3 * SAMPLE_HW[1]
    np.testing.assert_array_equal(by_path['intrinsics'],
                                  [[300, 0, 318.5], [0, 310, 117], [0, 0, 1]])

    for result in (by_path, by_array):
        depth = result['depth'][::3, ::3]
        expected = int(((depth > 0) & (depth <= 20.0)).sum())
        assert expected > 0
        points, colors = read_ply(
            str(tmp_path / 'ply' / f'{result["name"]}.ply'))
        assert len(points) == expected and colors.shape == (expected, 3)
        assert points[:, 2].max() <= 20.0


def test_folder_input_images_of_two_sizes(small_inferencer, tmp_path):
    folder = tmp_path / 'frames'
    folder.mkdir()
    shutil.copy(SAMPLE, folder / 'b_frame.jpg')
    half = cv2.resize(cv2.imread(SAMPLE), (319, 117))
    cv2.imwrite(str(folder / 'a_frame.png'), half)
    (folder / 'notes.txt').write_text('not an image')

    out = small_inferencer(
        str(folder), out_dir=str(tmp_path / 'out'), return_seg_probs=False)
    names = [r['name'] for r in out['predictions']]
    assert names == ['a_frame', 'b_frame']  # sorted, the .txt skipped
    assert out['predictions'][0]['depth'].shape == (117, 319)
    assert out['predictions'][1]['sem_seg'].shape == SAMPLE_HW
    assert 'seg_probs' not in out['predictions'][0]
    for name in names:
        assert osp.isfile(tmp_path / 'out' / 'vis' / f'{name}.png')


def test_intrinsics_are_scaled_to_the_network_input(small_inferencer):
    """The test pipeline alone (no forward pass): K given at the image's
    size arrives in the data sample at the network's 64x192."""
    packed = small_inferencer.pipeline(
        dict(img_path=SAMPLE, intrinsics=INTRINSICS))
    assert packed['inputs'].shape == (3, 64, 192)
    meta = packed['data_samples'].metainfo
    assert meta['ori_shape'] == SAMPLE_HW  # predictions come back at it
    # sx = 192 / 638, sy = 64 / 235; integer pixel centres:
    # c -> (c + 0.5) s - 0.5 (data contract)
    fx, fy, cx, cy = INTRINSICS
    sx, sy = 192 / 638, 64 / 235
    np.testing.assert_allclose(
        meta['intrinsics'],
        [[fx * sx, 0,
          (cx + 0.5) * sx - 0.5], [0, fy * sy,
                                   (cy + 0.5) * sy - 0.5], [0, 0, 1]],
        rtol=1e-5)


def test_fixed_crop_is_pasted_back_into_the_frame():
    """Pseudo-MTL-style window: predictions inside, invalid outside."""
    inferencer = DepthSegInferencer(_small_cfg(crop=(160, 600, 20, 30)))
    result = inferencer(SAMPLE)['predictions'][0]
    depth, sem_seg = result['depth'], result['sem_seg']
    assert depth.shape == SAMPLE_HW and sem_seg.shape == SAMPLE_HW
    inside = np.zeros(SAMPLE_HW, bool)
    inside[20:180, 30:630] = True
    assert np.all(depth[inside] > 0) and np.all(depth[~inside] == 0)
    assert np.all(sem_seg[inside] < 19) and np.all(sem_seg[~inside] == 255)
    assert np.all(result['seg_probs'][:, ~inside] == 0)


def test_errors_name_the_missing_file(small_inferencer, tmp_path):
    missing = str(tmp_path / 'nope.jpg')
    with pytest.raises(FileNotFoundError, match='nope.jpg'):
        small_inferencer(missing)
    with pytest.raises(FileNotFoundError, match='no image'):
        small_inferencer(str(tmp_path))
    with pytest.raises(FileNotFoundError, match='missing_cfg.py'):
        DepthSegInferencer(str(tmp_path / 'missing_cfg.py'))
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        DepthSegInferencer(FSRE_CFG, str(tmp_path / 'missing.pth'))
    with pytest.raises(ValueError, match='out_dir'):
        small_inferencer(np.zeros((8, 8, 3), np.uint8), save_ply=True)
    with pytest.raises(ValueError, match='uint8'):
        small_inferencer(np.zeros((8, 8, 3), np.float32))


def test_metafile_model_names_resolve_to_configs():
    config, weights = find_metafile_model('FSRE_R18_KITTI')
    assert osp.samefile(config, FSRE_CFG)
    assert weights is None  # no released weights in the metafile
    with pytest.raises(FileNotFoundError, match='fsre_r18_kitti'):
        find_metafile_model('no_such_model')


@pytest.mark.parametrize(
    'config, expected',
    [('baseline/baseline_r18-unet_4xb2-40k_cityscapes-256x512.py',
      ('metric', None)),
     # the target is the disparity at 1024 px: scale = fx * baseline
     ('semimtl/semimtl_r101_cityscapes_cross-city.py',
      ('metric', 2262.52 / 2 * 0.209313)),
     ('semimtl/semimtl_r101_isprs_cross-dataset.py', ('height', None)),
     ('fsre/fsre_r18_kitti.py', ('relative', None))])
def test_depth_kind_from_the_config(config, expected):
    """Supervised: metres; SemiMTL's inverse-depth target: converted to
    metres; ISPRS heights; median-scaled evaluation: relative."""
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', config))
    assert depth_output_kind(nn.Identity(), cfg) == expected


def test_metafile_name_without_weights_needs_random_said_explicitly():
    with pytest.raises(ValueError, match="weights='random'"):
        DepthSegInferencer('fsre_r18_kitti')
    inferencer = DepthSegInferencer('fsre_r18_kitti', weights='random')
    assert inferencer.random_weights
    assert type(inferencer.model).__name__ == 'FSREDepth'
