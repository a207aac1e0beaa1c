# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Pseudo depth + confidence from stereo (Pseudo-MTL) on generated data
with exact depth."""
import importlib.util
import json
import os
import os.path as osp
import warnings

import cv2
import numpy as np
import pytest

from mmdepthseg.stereo import (LRConsistencyConfidence, SGBMMatcher,
                               decode_conf_png, decode_depth_png,
                               encode_conf_png, encode_depth_png,
                               generate_dataset_pseudo_depth,
                               lr_consistency_error, pseudo_depth,
                               soft_threshold)
from mmdepthseg.synthetic import (StreetScene, stereo_right_pose,
                                  write_cityscapes, write_kitti_raw)

H, W = 96, 320
# Largest exact disparity of the generated KITTI drive is ~35 px.
MATCHER = dict(type='SGBMMatcher', num_disparities=48, block_size=5)


def _load_tool():
    path = osp.join(
        osp.dirname(__file__), '..', '..', 'tools', 'generate_pseudo_depth.py')
    spec = importlib.util.spec_from_file_location('generate_pseudo_depth',
                                                  path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _read16(path):
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    assert img is not None and img.dtype == np.uint16 and img.shape == (H, W)
    return img


@pytest.fixture(scope='module')
def kitti_run(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('kitti_pseudo'))
    summary = write_kitti_raw(
        root, seed=0, num_drives=1, frames_per_drive=3, height=H, width=W)
    counts = _load_tool().main([
        root, '--dataset', 'kitti', '--num-disparities', '48', '--no-progress'
    ])
    return root, summary, counts


def _exact_disparity(summary):
    """Exact (left, right) disparity per frame, re-rendered from the
    generator's scene description."""
    (drive, args), = summary['scenes'].items()
    K = np.array(summary['K'])
    fxb = K[0, 0] * summary['baseline']
    scene = StreetScene(**args)
    poses = scene.camera_trajectory(summary['frames_per_drive'],
                                    summary['step'])
    out = []
    for pose in poses:
        views = []
        for p in (pose, stereo_right_pose(pose, summary['baseline'])):
            depth = scene.render(p, K, H, W)['depth']
            views.append(
                np.where(depth > 0, fxb / np.maximum(depth, 1e-6), 0.0))
        out.append((drive, views))
    return out, fxb


def test_kitti_pseudo_depth_matches_exact(kitti_run):
    root, summary, counts = kitti_run
    assert counts == dict(written=3, skipped=0, size_mismatch=0, pairs=3)
    exact, fxb = _exact_disparity(summary)
    errs, confs, n_pix = [], [], 0
    for i, (drive, views) in enumerate(exact):
        for cam, gt_disp in zip(('02', '03'), views):
            depth = decode_depth_png(
                _read16(
                    osp.join(root, drive, f'pseudo_depth_{cam}', 'data',
                             f'{i:010d}.png')))
            conf = decode_conf_png(
                _read16(
                    osp.join(root, drive, f'pseudo_conf_{cam}', 'data',
                             f'{i:010d}.png')))
            # invalid depth always has confidence 0
            assert np.all(conf[depth == 0] == 0)
            valid = (depth > 0) & (gt_disp > 0)
            disp = fxb / depth[valid]
            errs.append(np.abs(disp - gt_disp[valid]))
            confs.append(conf[valid])
            n_pix += H * W
    err, conf = np.concatenate(errs), np.concatenate(confs)
    within_1px = float((err < 1.0).mean())
    high, low = err[conf > 0.8], err[conf <= 0.8]
    print(f'\nvalid fraction {len(err) / n_pix:.3f}, within 1 px '
          f'{within_1px:.3f}, mean error conf>0.8 {high.mean():.3f} px '
          f'({len(high)} px), conf<=0.8 {low.mean():.3f} px ({len(low)} px)')
    # measured: valid 0.76, within 1 px 0.93, high 0.39 px, low 0.68 px
    assert len(err) / n_pix > 0.6
    assert within_1px > 0.85
    assert len(high) > 1000 and len(low) > 1000
    assert high.mean() < low.mean()


def test_resumable_second_run_writes_nothing(kitti_run):
    root, summary, _ = kitti_run
    files = [
        osp.join(dp, f) for dp, _, fs in os.walk(root) for f in fs
        if osp.basename(osp.dirname(dp)).startswith('pseudo_')
    ]
    assert len(files) == 3 * 4
    mtimes = {f: os.stat(f).st_mtime_ns for f in files}
    counts = generate_dataset_pseudo_depth(
        root, 'kitti', matcher=MATCHER, progress=False)
    assert counts == dict(written=0, skipped=3, size_mismatch=0, pairs=3)
    assert {f: os.stat(f).st_mtime_ns for f in files} == mtimes
    # no temporary files left behind
    assert not [f for f in files if f.endswith('.tmp')]


def test_size_mismatch_is_reported_and_skipped(tmp_path):
    root = str(tmp_path)
    write_kitti_raw(
        root, seed=1, num_drives=1, frames_per_drive=3, height=32, width=96)
    drive = osp.join(root, '2011_09_26', '2011_09_26_drive_0001_sync')
    bad = osp.join(drive, 'image_03', 'data', '0000000001.png')
    cv2.imwrite(bad, np.zeros((30, 96, 3), np.uint8))
    with pytest.warns(UserWarning) as record:
        counts = generate_dataset_pseudo_depth(
            root,
            'kitti',
            matcher=dict(type='SGBMMatcher', num_disparities=16),
            progress=False)
    assert counts == dict(written=2, skipped=0, size_mismatch=1, pairs=3)
    msgs = [str(r.message) for r in record if 'differ' in str(r.message)]
    assert len(msgs) == 1
    assert bad in msgs[0] and bad.replace('image_03', 'image_02') in msgs[0]
    assert not osp.exists(
        osp.join(drive, 'pseudo_depth_02', 'data', '0000000001.png'))
    assert osp.exists(
        osp.join(drive, 'pseudo_depth_02', 'data', '0000000002.png'))


def test_png_round_trip_scale():
    depth = np.array([[0.0, 1.0, 12.34567], [80.0, 255.99, 300.0]], np.float32)
    png = encode_depth_png(depth)
    # stated scale: p = round(256 * depth); too far -> 0 (invalid)
    # 12.34567 * 256 = 3160.49
    assert png.tolist() == [[0, 256, 3160], [20480, 65533, 0]]
    ok, buf = cv2.imencode('.png', png)
    back = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    assert back.dtype == np.uint16
    np.testing.assert_allclose(
        decode_depth_png(back)[:, :2], [[0, 1], [80, 255.98828125]])
    assert abs(decode_depth_png(back)[0, 2] - 12.34567) <= 0.5 / 256
    conf = np.array([0.0, 0.5, 1.0, 1.5, np.nan], np.float32)
    assert encode_conf_png(conf).tolist() == [0, 32768, 65535, 65535, 0]
    np.testing.assert_allclose(
        decode_conf_png(encode_conf_png(conf)), [0, 32768 / 65535, 1, 1, 0])


def test_lr_consistency_hand_built():
    # fronto-parallel plane at disparity 4 with a box at 8 in the middle:
    # build the right view by forward-warping the left exactly.
    Hh, Ww = 4, 20
    d_l = np.full((Hh, Ww), 4.0, np.float32)
    d_l[:, 10:14] = 8.0
    d_r = np.zeros_like(d_l)
    # right pixel u sees left pixel u + d; occlusion keeps the larger d
    for u_l in np.argsort(d_l[0]):  # smaller d first, larger overwrite
        u_r = u_l - int(d_l[0, u_l])
        if u_r >= 0:
            d_r[:, u_r] = d_l[0, u_l]
    # reference errors
    err_l, err_r = lr_consistency_error(d_l, d_r)
    # left pixels whose match is inside the right image: u - d >= 0
    visible_l = (np.arange(Ww) - d_l[0]) >= 0
    occluded = np.zeros(Ww, bool)
    occluded[6:10] = True  # background just left of the box is hidden
    consistent = visible_l & ~occluded
    assert np.all(err_l[:, consistent] == 0)
    assert np.all(err_l[:, occluded & visible_l] >= 3.0)
    assert np.all(np.isinf(err_l[:, ~visible_l]))
    conf_l, conf_r = LRConsistencyConfidence()(d_l, d_r)
    assert np.all(conf_l[:, consistent] == 1.0)
    assert np.all(conf_l[:, occluded & visible_l] < 0.05)
    assert np.all(conf_l[:, ~visible_l] == 0)
    # right view: every valid right pixel maps back consistently
    assert np.all(conf_r[d_r > 0] == 1.0) and np.all(conf_r[d_r == 0] == 0)
    # a perturbation drops the confidence there and only there
    d_l2 = d_l.copy()
    d_l2[1, 18] += 2.0  # points at right pixel 12 (d_r = 4)
    conf2, _ = LRConsistencyConfidence(tau=1.0)(d_l2, d_r)
    np.testing.assert_allclose(conf2[1, 18], np.exp(-2.0), rtol=1e-5)
    assert conf2[0, 18] == 1.0 and conf2[1, 17] == 1.0
    # sub-pixel: linear sampling of the right map between two neighbours
    d_l3 = np.full((1, 8), 2.5, np.float32)
    d_r3 = np.tile(np.array([2, 3, 2, 3, 2, 3, 2, 3], np.float32), (1, 1))
    e3, _ = lr_consistency_error(d_l3, d_r3)
    np.testing.assert_allclose(e3[0, 3:], 0.0)  # sample halfway = 2.5


def test_soft_threshold_modes():
    err = np.array([0.0, 1.0, 3.0, np.inf])
    np.testing.assert_allclose(
        soft_threshold(err, 'exp', tau=2.0),
        [1, np.exp(-0.5), np.exp(-1.5), 0],
        rtol=1e-6)
    sig = soft_threshold(err, 'sigmoid', tau=0.25, threshold=1.0)
    assert sig[0] == pytest.approx(1.0)
    assert sig[1] == pytest.approx(0.5 / (1 / (1 + np.exp(-4.0))), rel=1e-5)
    assert sig[2] < 1e-3 and sig[3] == 0
    np.testing.assert_array_equal(
        soft_threshold(err, 'hard', threshold=1.0), [1, 1, 0, 0])
    with pytest.raises(ValueError, match='mode'):
        soft_threshold(err, 'linear')


def test_sgbm_matcher_validates_and_flips():
    with pytest.raises(ValueError, match='multiple of 16'):
        SGBMMatcher(num_disparities=20)
    with pytest.raises(ValueError, match='odd'):
        SGBMMatcher(block_size=4)
    rng = np.random.default_rng(0)
    tex = (rng.random((40, 140)) * 255).astype(np.uint8)
    tex = cv2.GaussianBlur(tex, (3, 3), 0)
    left = np.ascontiguousarray(tex[:, 10:130])
    right = np.ascontiguousarray(tex[:, 16:136])  # constant disparity 6
    d_l, d_r = SGBMMatcher(num_disparities=16, block_size=5)(left, right)
    assert d_l.dtype == np.float32 and d_l.shape == left.shape
    np.testing.assert_allclose(np.median(d_l[d_l > 0]), 6.0, atol=0.1)
    np.testing.assert_allclose(np.median(d_r[d_r > 0]), 6.0, atol=0.1)
    assert np.all(d_l[:, :6] == 0)  # no match left of the right image
    with pytest.raises(ValueError, match='same shape'):
        SGBMMatcher()(left, right[:, :-1])


def test_cityscapes_layout_smoke(tmp_path):
    root = str(tmp_path)
    write_cityscapes(
        root,
        frames_per_city=1,
        height=64,
        width=128,
        cities={
            'train': ['aachen'],
            'val': ['frankfurt']
        })
    counts = generate_dataset_pseudo_depth(
        root,
        'cityscapes',
        matcher=dict(type='SGBMMatcher', num_disparities=32),
        progress=False)
    assert counts == dict(written=2, skipped=0, size_mismatch=0, pairs=2)
    for split, city in (('train', 'aachen'), ('val', 'frankfurt')):
        stem = osp.join(split, city, f'{city}_000000_000019')
        for side in ('left', 'right'):
            d = cv2.imread(
                osp.join(root, 'pseudoDepth', f'{stem}_{side}PseudoDepth.png'),
                cv2.IMREAD_UNCHANGED)
            c = cv2.imread(
                osp.join(root, 'pseudoConf', f'{stem}_{side}PseudoConf.png'),
                cv2.IMREAD_UNCHANGED)
            assert d.dtype == np.uint16 and d.shape == (64, 128)
            assert c.dtype == np.uint16 and c.shape == (64, 128)
            assert (d > 0).mean() > 0.3 and np.all(c[d == 0] == 0)
    # compare the left pseudo depth with Cityscapes' own (exact) disparity
    stem = osp.join('train', 'aachen', 'aachen_000000_000019')
    gt = cv2.imread(
        osp.join(root, 'disparity', stem + '_disparity.png'),
        cv2.IMREAD_UNCHANGED).astype(np.float64)
    depth = decode_depth_png(
        cv2.imread(
            osp.join(root, 'pseudoDepth', stem + '_leftPseudoDepth.png'),
            cv2.IMREAD_UNCHANGED))
    with open(osp.join(root, 'camera', stem + '_camera.json')) as f:
        cam = json.load(f)
    fxb = cam['intrinsic']['fx'] * cam['extrinsic']['baseline']
    valid = (gt > 1) & (depth > 0)
    err = np.abs(fxb / depth[valid] - (gt[valid] - 1) / 256)
    assert np.median(err) < 1.0
    # resumable here too
    again = generate_dataset_pseudo_depth(
        root,
        'cityscapes',
        matcher=dict(type='SGBMMatcher', num_disparities=32),
        progress=False)
    assert again['written'] == 0 and again['skipped'] == 2


def test_bad_arguments(tmp_path):
    with pytest.raises(FileNotFoundError, match='dataset root'):
        generate_dataset_pseudo_depth(str(tmp_path / 'nope'), 'kitti')
    with pytest.raises(FileNotFoundError, match='no kitti stereo pairs'):
        generate_dataset_pseudo_depth(str(tmp_path), 'kitti')
    with pytest.raises(ValueError, match="'kitti' or 'cityscapes'"):
        generate_dataset_pseudo_depth(str(tmp_path), 'nyu')
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert soft_threshold(np.zeros(2)).tolist() == [1.0, 1.0]


def _tree_bytes(root):
    out = {}
    for dp, _, fs in os.walk(root):
        if osp.basename(osp.dirname(dp)).startswith('pseudo_'):
            for f in fs:
                with open(osp.join(dp, f), 'rb') as fh:
                    out[osp.relpath(osp.join(dp, f), root)] = fh.read()
    return out


def test_nproc_writes_the_bytes_of_one_process_and_resumes(
        tmp_path, monkeypatch):
    """``--nproc 2`` (LRC, and the learned confidence) writes exactly the
    files of ``--nproc 1``, shows the same progress bar, and resumes."""
    import shutil

    import torch

    from mmdepthseg.stereo import (CCNN, ThresholdNet,
                                   save_confidence_checkpoint)
    src = str(tmp_path / 'src')
    write_kitti_raw(
        src, seed=3, num_drives=1, frames_per_drive=4, height=64, width=192)
    torch.manual_seed(0)
    ckpt = str(tmp_path / 'ccnn.pth')
    save_confidence_checkpoint(ckpt, CCNN(32., channels=4, fc_channels=4),
                               ThresholdNet(channels=4))
    tool = _load_tool()
    bars = []

    class Bar:  # records what the progress bar is told

        def __init__(self, task_num):
            bars.append([task_num, 0])

        def update(self):
            bars[-1][1] += 1

    monkeypatch.setattr(pseudo_depth, 'ProgressBar', Bar)
    runs = {}
    for conf in ('lrc', 'ccnn'):
        for nproc in (1, 2):
            root = str(tmp_path / f'{conf}{nproc}')
            shutil.copytree(src, root)
            args = [
                root, '--num-disparities', '32', '--nproc',
                str(nproc), '--confidence', conf
            ]
            if conf == 'ccnn':
                args += ['--confidence-checkpoint', ckpt]
            counts = tool.main(args)
            assert counts['written'] == 4
            assert bars[-1] == [4, 4]  # the same progress bar
            runs[conf, nproc] = _tree_bytes(root)
    for conf in ('lrc', 'ccnn'):
        assert len(runs[conf, 1]) == 16
        assert runs[conf, 2] == runs[conf, 1], conf
    assert runs['lrc', 1] != runs['ccnn', 1]
    # interrupted run: a missing output makes its pair run again, alone
    root = str(tmp_path / 'lrc2')
    name = next(k for k in runs['lrc', 2] if 'pseudo_conf_03' in k)
    os.remove(osp.join(root, name))
    counts = tool.main([
        root, '--num-disparities', '32', '--nproc', '2', '--no-progress'
    ])
    assert (counts['written'], counts['skipped']) == (1, 3)
    assert _tree_bytes(root) == runs['lrc', 1]
    assert not [
        f for _, _, fs in os.walk(root) for f in fs if f.endswith('.tmp')
    ]
