# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Learned stereo confidence (CCNN + the learned soft threshold), its
ground-truth loaders and its evaluation."""
import importlib.util
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from _helpers import REPO_ROOT

from mmdepthseg.stereo import (CCNN, LearnedConfidence, ThresholdNet,
                               list_stereo_gt, load_stereo_gt,
                               save_confidence_checkpoint)
from mmdepthseg.stereo.confidence_eval import (confidence_metrics,
                                               sparsification_curve)
from mmdepthseg.stereo.learned_confidence import sample_patches


def _load_tool(rel):
    path = osp.join(REPO_ROOT, rel)
    spec = importlib.util.spec_from_file_location(
        osp.splitext(osp.basename(path))[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write(path, img):
    import os
    os.makedirs(osp.dirname(path), exist_ok=True)
    assert cv2.imwrite(path, img)


def test_kitti_2015_and_cityscapes_disparity_formats(tmp_path):
    """KITTI: d = p / 256 (0 invalid); Cityscapes: d = (p - 1) / 256
    (0 invalid, 1 = zero disparity, unusable)."""
    root = str(tmp_path / 'kitti15')
    img = np.zeros((2, 3, 3), np.uint8)
    p = np.array([[0, 256, 300], [65535, 512, 1]], np.uint16)
    for folder in ('image_2', 'image_3'):
        _write(osp.join(root, 'training', folder, '000000_10.png'), img)
    _write(osp.join(root, 'training', 'disp_occ_0', '000000_10.png'), p)
    item, = list_stereo_gt(root, 'kitti2015')
    _, _, disp = load_stereo_gt(item)
    np.testing.assert_allclose(
        disp, [[0, 1, 300 / 256], [65535 / 256, 2, 1 / 256]], rtol=1e-6)

    city = str(tmp_path / 'city')
    stem = 'train/aachen/aachen_000000_000019'
    _write(osp.join(city, 'leftImg8bit', stem + '_leftImg8bit.png'), img)
    _write(osp.join(city, 'rightImg8bit', stem + '_rightImg8bit.png'), img)
    _write(osp.join(city, 'disparity', stem + '_disparity.png'), p)
    item, = list_stereo_gt(city, 'cityscapes')
    _, _, disp = load_stereo_gt(item)
    np.testing.assert_allclose(
        disp, [[0, 255 / 256, 299 / 256], [65534 / 256, 511 / 256, 0]],
        rtol=1e-6)

    # an 8-bit disparity file is refused with its path in the message
    bad = osp.join(root, 'training', 'disp_occ_0', '000000_10.png')
    _write(bad, np.zeros((2, 3), np.uint8))
    with pytest.raises(ValueError, match='000000_10.png.*uint16'):
        load_stereo_gt(list_stereo_gt(root, 'kitti2015')[0])
    with pytest.raises(FileNotFoundError, match='disp_occ'):
        list_stereo_gt(str(tmp_path / 'nothing'), 'kitti2015')


def test_ccnn_sees_a_9x9_patch_and_the_full_map_equals_the_patches():
    """Fully convolutional inference on a padded map gives, at every pixel,
    the output of the 9x9 patch around it (training and inference agree);
    the input is divided by max_disparity."""
    torch.manual_seed(0)
    model = CCNN(max_disparity=32.).eval()
    assert model.patch_size == 9
    disp = torch.rand(1, 1, 12, 15) * 32
    with torch.no_grad():
        full = model(disp)[0, 0]
        padded = torch.nn.functional.pad(disp, (4, 4, 4, 4),
                                         mode='replicate')[0]
        ys, xs = torch.meshgrid(
            torch.arange(12), torch.arange(15), indexing='ij')
        index = torch.stack([torch.zeros_like(ys), ys, xs], -1).view(-1, 3)
        patches = sample_patches(padded, index, 9)
        assert torch.equal(patches[16, 0], padded[0, 1:10, 1:10])
        per_patch = model(patches, pad=False).view(12, 15)
        torch.testing.assert_close(full, per_patch, rtol=1e-5, atol=1e-6)
        # a pixel depends on its 9x9 neighbourhood only
        changed = disp.clone()
        changed[0, 0, 0, 10] += 5
        diff = (model(changed)[0, 0] - full).abs() > 0
        ys, xs = torch.nonzero(diff, as_tuple=True)
        assert ys.max() <= 4 and xs.min() >= 6 and xs.max() <= 14
        scaled = CCNN(max_disparity=64.).eval()
        scaled.load_state_dict(
            {**model.state_dict(), 'max_disparity': torch.tensor(64.)})
        torch.testing.assert_close(scaled(disp * 2)[0, 0], full)


def test_soft_threshold_is_sigmoid_of_temperature_times_margin():
    """``sigmoid(k (c - t))`` with the image's threshold t = sigmoid(fc):
    with zero fc weights t = sigmoid(bias); k = 10 by default."""
    net = ThresholdNet().eval()
    with torch.no_grad():
        net.fc.weight.zero_()
        net.fc.bias.fill_(float(np.log(0.3 / 0.7)))  # t = 0.3
        conf = torch.tensor([[[[0.1, 0.3, 0.5, 0.9]]]])
        out = net(conf)[0, 0, 0]
    expected = 1 / (1 + np.exp(-10 * (np.array([0.1, 0.3, 0.5, 0.9]) - 0.3)))
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5)
    assert not any(n == 'log_temperature' for n, _ in net.named_parameters())
    learnable = ThresholdNet(learn_temperature=True)
    assert 'log_temperature' in dict(learnable.named_parameters())


def test_sparsification_metrics_by_hand():
    """Pixels in confidence order good, bad, good, bad (bad: error > 2):
    bad rate 0, 1/2, 1/3, 1/2 at densities 1/4 ... 1; the oracle order
    good, good, bad, bad gives 0, 0, 1/3, 1/2."""
    conf = np.array([0.9, 0.8, 0.7, 0.6])
    err = np.array([0., 3., 1., 2.5])
    dens = [0.25, 0.5, 0.75, 1.0]
    np.testing.assert_allclose(
        sparsification_curve(conf, err, 2., dens), [0, 0.5, 1 / 3, 0.5])
    disp = np.array([[10., 10., 10., 10., 0.]])
    gt = disp - np.array([[0., 3., 1., 2.5, 0.]])
    gt[0, 4] = 7.  # no estimate there: not evaluated
    m = confidence_metrics(
        np.append(conf, 1.)[None], disp, gt, densities=dens)
    assert m['bad@50'] == 0.5 and m['pixels'] == 4 and m['bad_all'] == 0.5
    # trapezoids of width 1/4 over the curve above / the oracle's
    assert m['auc'] == pytest.approx(0.25 * (0.25 + 5 / 12 + 5 / 12))
    assert m['auc_optimal'] == pytest.approx(0.25 * (1 / 6 + 5 / 12))


def _tiny_checkpoint(path, seed=0):
    torch.manual_seed(seed)
    ccnn = CCNN(max_disparity=48., channels=4, fc_channels=4)
    thr = ThresholdNet(channels=4)
    save_confidence_checkpoint(path, ccnn, thr, dict(dataset='none'))
    return path


def test_learned_confidence_flips_the_right_view(tmp_path):
    """The right map is mirrored before CCNN (and back): a mirrored pair
    swaps the two outputs; invalid disparity gets 0; with the soft
    threshold the output is the threshold network's map."""
    conf = LearnedConfidence(_tiny_checkpoint(str(tmp_path / 'c.pth')))
    assert conf.soft_threshold
    rng = np.random.default_rng(0)
    dl = rng.uniform(1, 40, (20, 30)).astype(np.float32)
    dr = rng.uniform(1, 40, (20, 30)).astype(np.float32)
    dl[3, 4] = 0
    cl, cr = conf.raw(dl, dr)
    mirrored_r, mirrored_l = conf.raw(dr[:, ::-1].copy(), dl[:, ::-1].copy())
    np.testing.assert_allclose(cl, mirrored_l[:, ::-1], atol=1e-6)
    np.testing.assert_allclose(cr, mirrored_r[:, ::-1], atol=1e-6)
    assert cl[3, 4] == 0
    soft_l, _ = conf(dl, dr)
    with torch.no_grad():
        expected = conf.threshold_net(torch.from_numpy(cl)[None, None])
    np.testing.assert_allclose(
        soft_l, np.where(dl > 0, expected[0, 0].numpy(), 0), atol=1e-6)
    assert LearnedConfidence(conf.checkpoint, soft_threshold=False)(
        dl, dr)[0].tolist() == cl.tolist()
    with pytest.raises(FileNotFoundError, match='train_confidence'):
        LearnedConfidence(str(tmp_path / 'missing.pth'))


@pytest.mark.slow
def test_trained_ccnn_beats_lrc_on_held_out_generated_pairs(tmp_path):
    """Train CCNN + threshold with the tool on generated scenes (seed 1),
    score on scenes it never saw (seed 2): the learned confidence ranks the
    SGBM errors better than left-right consistency, by both numbers, and
    the checkpoint drives ``generate_pseudo_depth.py --confidence ccnn``."""
    make = _load_tool('tools/misc/make_synthetic_stereo.py')
    common = ['--num-scenes', '3', '--height', '64', '--width', '192']
    make.main(['--out', str(tmp_path / 'train'), '--seed', '1'] + common)
    make.main([
        '--out',
        str(tmp_path / 'val'), '--seed', '2', '--frames-per-scene', '2'
    ] + common)
    out = str(tmp_path / 'ccnn.pth')
    result = _load_tool('tools/train_confidence.py').main([
        str(tmp_path / 'train'), '--num-disparities', '48', '--out', out,
        '--iters', '400', '--batch-size', '128', '--threshold-iters', '50',
        '--val-root',
        str(tmp_path / 'val'), '--no-progress'
    ])
    scores = result['val']['scores']
    lrc, ccnn = scores['lrc'], scores['ccnn']
    print(json.dumps(scores, indent=1))
    # measured over --seed 0-2 and ONEDNN_MAX_CPU_ISA=AVX2 (README): lrc
    # bad@50 0.0129, auc 0.0166; ccnn bad@50 0.0039-0.0044 (ratio
    # 0.31-0.34), auc 0.0059-0.0068 (ratio 0.36-0.41)
    assert ccnn['bad@50'] < 0.7 * lrc['bad@50']
    assert ccnn['auc'] < 0.8 * lrc['auc']
    # per-image ranking is unchanged by the soft threshold (monotone)
    assert scores['ccnn+soft_threshold']['auc'] == pytest.approx(ccnn['auc'])
    with open(osp.splitext(out)[0] + '.json') as f:
        assert json.load(f)['val']['scores']['lrc'] == lrc
