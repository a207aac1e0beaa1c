# Copyright (c) mmdepthseg contributors. All rights reserved.
"""tools/dataset_converters/nyu.py (mmdepthseg.converters.nyu) on
a tiny nyu_depth_v2_labeled.mat written in the official HDF5 layout."""
import json
import os
import os.path as osp
import runpy
import sys

import cv2
import numpy as np
import pytest

from mmdepthseg.converters import nyu as converter
from mmdepthseg.converters.nyu40_mapping import NYU894_TO_40
from mmdepthseg.datasets import NYUDepthSegDataset

h5py = pytest.importorskip('h5py')
scipy_io = pytest.importorskip('scipy.io')

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
N, H, W = 5, 6, 8  # not square: a missing transpose changes the shape
TRAIN, TEST = (1, 3, 4), (2, 5)  # one-based, as in splits.mat
# raw class -> 40-class id, by hand from Gupta et al.'s table:
# 21 wall -> 1, 11 floor -> 2, 4 ceiling -> 22, 3 cabinet -> 3,
# 1 book -> 40 (otherprop), 894 -> 40, 0 unlabelled -> 0
RAW_TO_40 = {0: 0, 21: 1, 11: 2, 4: 22, 3: 3, 1: 40, 894: 40}


def _frames(seed=0):
    """Per frame (one-based k): RGB (H, W, 3), depth (H, W) in metres with
    a hole, raw labels (H, W); frame k's first pixel is k (easy to trace
    through a split mix-up)."""
    rng = np.random.default_rng(seed)
    raw_ids = np.array(sorted(RAW_TO_40))
    frames = {}
    for k in range(1, N + 1):
        rgb = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
        rgb[0, 0] = k
        depth = rng.uniform(0.5, 9.9, (H, W)).astype(np.float32)
        depth[-1, -1] = 0.0
        depth[0, 0] = k  # metres
        raw = raw_ids[rng.integers(0, len(raw_ids), (H, W))].astype(np.uint16)
        frames[k] = (rgb, depth, raw)
    return frames


def _write_labeled_mat(path, frames):
    """MATLAB v7.3 layout as h5py sees it: axes reversed."""
    with h5py.File(path, 'w') as f:
        f['images'] = np.stack(
            [frames[k][0].transpose(2, 1, 0) for k in range(1, N + 1)])
        f['depths'] = np.stack([frames[k][1].T for k in range(1, N + 1)])
        f['labels'] = np.stack([frames[k][2].T for k in range(1, N + 1)])
    with h5py.File(path, 'r') as f:
        assert f['images'].shape == (N, 3, W, H)
        assert f['labels'].shape == (N, W, H)


@pytest.fixture
def nyu_raw(tmp_path):
    frames = _frames()
    labeled = str(tmp_path / 'nyu_depth_v2_labeled.mat')
    _write_labeled_mat(labeled, frames)
    splits = str(tmp_path / 'splits.mat')
    # column vectors of doubles, as in the official file
    scipy_io.savemat(
        splits,
        dict(
            trainNdxs=np.array(TRAIN, float)[:, None],
            testNdxs=np.array(TEST, float)[:, None]))
    return labeled, splits, frames


def test_shipped_mapping_has_the_published_structure():
    table = np.array(NYU894_TO_40)
    assert table.shape == (894, )
    assert table.min() == 1 and table.max() == 40
    counts = np.bincount(table, minlength=41)[1:]
    # classes 1..37 each name one raw class; 38-40 collect the others
    assert (counts[:37] == 1).all()
    assert counts[37:].tolist() == [68, 82, 707]
    for raw, cls in RAW_TO_40.items():
        if raw:
            assert table[raw - 1] == cls, raw


def test_converts_frames_into_the_layout_the_loader_reads(nyu_raw, tmp_path):
    labeled, splits, frames = nyu_raw
    out = str(tmp_path / 'nyu')
    summary = converter.convert_nyu(
        labeled, splits, out, img_ext='.png', progress=False)
    assert summary['written'] == N and summary['skipped'] == 0
    assert summary['num_frames'] == dict(train=3, test=2)
    for split, indices in (('train', TRAIN), ('test', TEST)):
        names = sorted(os.listdir(osp.join(out, 'images', split)))
        assert names == [f'{k:04d}.png' for k in indices]
        for k in indices:
            rgb, depth, raw = frames[k]
            img = cv2.imread(osp.join(out, 'images', split, f'{k:04d}.png'))
            np.testing.assert_array_equal(img[..., ::-1], rgb)
            mm = cv2.imread(
                osp.join(out, 'annotations', split, f'{k:04d}.png'),
                cv2.IMREAD_UNCHANGED)
            assert mm.dtype == np.uint16 and mm.shape == (H, W)
            np.testing.assert_array_equal(
                mm, np.round(depth.astype(np.float64) * 1000))
            assert mm[0, 0] == 1000 * k and mm[-1, -1] == 0
            lab = cv2.imread(
                osp.join(out, 'labels40', split, f'{k:04d}.png'),
                cv2.IMREAD_UNCHANGED)
            expected = np.vectorize(RAW_TO_40.get)(raw)
            np.testing.assert_array_equal(lab, expected)

    # NYUDepthSegDataset reads it: classes 0..39, 255 unlabelled, metres
    dataset = NYUDepthSegDataset(
        data_root=out,
        data_prefix=dict(
            img_path='images/test',
            depth_map_path='annotations/test',
            seg_map_path='labels40/test'),
        img_suffix='.png',
        pipeline=[
            dict(type='LoadMultiViewImages'),
            dict(type='LoadDepthSegAnnotations')
        ])
    assert len(dataset) == 2
    results = dataset[1]  # frame 5
    rgb, depth, raw = frames[5]
    np.testing.assert_array_equal(results['img'][..., ::-1], rgb)
    gt = results['gt_depth_map'][0]
    assert gt[0, 0] == pytest.approx(5.0)
    np.testing.assert_allclose(gt, np.round(depth * 1000) / 1000, atol=1e-6)
    seg = results['gt_seg_map'][0]
    expected = np.vectorize(RAW_TO_40.get)(raw).astype(np.int64) - 1
    expected[expected < 0] = 255
    np.testing.assert_array_equal(seg, expected)


def test_resumes_and_rewrites_missing_frames(nyu_raw, tmp_path):
    labeled, splits, _ = nyu_raw
    out = str(tmp_path / 'nyu')
    converter.convert_nyu(labeled, splits, out, progress=False)
    label = osp.join(out, 'labels40', 'train', '0003.png')
    kept = osp.join(out, 'images', 'test', '0002.jpg')
    mtime = os.stat(kept).st_mtime_ns
    os.remove(label)
    summary = converter.convert_nyu(labeled, splits, out, progress=False)
    assert summary['written'] == 1 and summary['skipped'] == N - 1
    assert osp.isfile(label)
    assert os.stat(kept).st_mtime_ns == mtime
    summary = converter.convert_nyu(
        labeled, splits, out, overwrite=True, progress=False)
    assert summary['written'] == N
    # atomic writes leave no temporary files behind
    leftovers = [
        name for _, _, names in os.walk(out) for name in names
        if name.endswith('.tmp')
    ]
    assert leftovers == []


def test_mapping_file_argument_and_cli(nyu_raw, tmp_path, monkeypatch):
    labeled, splits, frames = nyu_raw
    # an official-style classMapping40.mat whose table sends everything to 7
    mapping = str(tmp_path / 'classMapping40.mat')
    scipy_io.savemat(mapping, dict(mapClass=np.full((1, 894), 7.0)))
    out = str(tmp_path / 'nyu_cli')
    tool = osp.join(REPO_ROOT, 'tools', 'dataset_converters', 'nyu.py')
    monkeypatch.setattr(sys, 'argv', [
        tool, labeled, splits, '-o', out, '--class-mapping', mapping,
        '--img-ext', '.png'
    ])
    runpy.run_path(tool, run_name='__main__')
    lab = cv2.imread(
        osp.join(out, 'labels40', 'test', '0002.png'), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(lab, np.where(frames[2][2] > 0, 7, 0))
    with open(osp.join(out, 'nyu_conversion.json')) as f:
        assert json.load(f)['class_mapping'] == osp.abspath(mapping)


def test_bad_inputs_are_named(nyu_raw, tmp_path):
    labeled, splits, _ = nyu_raw
    bad_splits = str(tmp_path / 'bad_splits.mat')
    scipy_io.savemat(
        bad_splits,
        dict(trainNdxs=np.array([[1.0], [9.0]]), testNdxs=np.array([[2.0]])))
    with pytest.raises(ValueError, match='beyond the 5 frames'):
        converter.convert_nyu(
            labeled, bad_splits, str(tmp_path / 'o1'), progress=False)
    scipy_io.savemat(bad_splits, dict(train=np.array([[1.0]])))
    with pytest.raises(KeyError, match='trainNdxs'):
        converter.load_nyu_splits(bad_splits)
    scipy_io.savemat(
        bad_splits,
        dict(trainNdxs=np.array([[1.0], [2.0]]), testNdxs=np.array([[2.0]])))
    with pytest.raises(ValueError, match='both'):
        converter.load_nyu_splits(bad_splits)
    bad_map = str(tmp_path / 'map.txt')
    with open(bad_map, 'w') as f:
        f.write(' '.join(['41'] * 894))
    with pytest.raises(ValueError, match='1..40'):
        converter.load_class_mapping(bad_map)
    wrong = str(tmp_path / 'wrong.mat')
    with h5py.File(wrong, 'w') as f:
        f['images'] = np.zeros((1, 3, W, H), np.uint8)
    with pytest.raises(KeyError, match='depths'):
        converter.convert_nyu(
            wrong, splits, str(tmp_path / 'o2'), progress=False)
