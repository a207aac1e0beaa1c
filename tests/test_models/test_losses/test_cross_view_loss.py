# Copyright (c) mmdepthseg contributors. All rights reserved.
import numpy as np
import pytest
import torch

from mmdepthseg.models.losses.cross_view_loss import (
    CrossViewDepthConsistencyLoss, CrossViewSegConsistencyLoss,
    cross_view_warp)
from mmdepthseg.registry import MODELS
from mmdepthseg.synthetic import (StreetScene, kitti_intrinsics,
                                  stereo_right_pose)

H, W, BASELINE, NUM_CLASSES = 96, 320, 0.54, 19


@pytest.fixture(scope='module')
def stereo():
    """Exact left/right depth and labels of a rectified synthetic pair."""
    scene = StreetScene(seed=0, length=60)
    T_left = scene.camera_trajectory(1, start=10.0)[0]
    K = kitti_intrinsics(H, W)
    left = scene.render(T_left, K, H, W, antialias=False)
    right = scene.render(
        stereo_right_pose(T_left, BASELINE), K, H, W, antialias=False)

    def t(a, dtype):
        return torch.from_numpy(np.ascontiguousarray(a)).to(dtype)[None]

    return dict(
        focal=float(K[0, 0]),
        depth_l=t(left['depth'], torch.float32)[None],
        depth_r=t(right['depth'], torch.float32)[None],
        label_l=t(left['label'], torch.long),
        label_r=t(right['label'], torch.long))


def _visible_l(depth_l, focal, margin=0.5):
    """Left pixels not occluded in the right view, by the ordering
    constraint: u is hidden if a pixel u' > u lands at or left of (within
    ``margin`` px) its right-image position ``x = u - disp``. Independent
    of the warp under test."""
    disp = torch.where(depth_l > 0, focal * BASELINE / depth_l.clamp(min=1e-6),
                       torch.zeros_like(depth_l))
    x = torch.arange(W, dtype=disp.dtype) - disp
    suffix_min = torch.flip(torch.cummin(torch.flip(x, [-1]), -1).values, [-1])
    nxt = torch.cat(
        [suffix_min[..., 1:],
         torch.full_like(x[..., :1], float('inf'))], -1)
    return (x < nxt - margin) & (x >= 0) & (depth_l > 0)


def _visible_r(depth_r, focal, margin=0.5):
    """Mirror of :func:`_visible_l` for right pixels (``x = u + disp``)."""
    flipped = _visible_l(torch.flip(depth_r, [-1]), focal, margin)
    return torch.flip(flipped, [-1])


def _one_hot(label):
    return torch.nn.functional.one_hot(label, NUM_CLASSES).permute(0, 3, 1,
                                                                   2).float()


def _lr_confidence(stereo):
    """Confidence 1 where the left-right check passes for depth (0.1 %) and
    labels (the warped one-hot is the view's own one-hot), else 0 --
    the occlusion handling a stereo LR check gives the pseudo labels."""
    f = stereo['focal']
    d_l, d_r = stereo['depth_l'], stereo['depth_r']
    oh_l, oh_r = _one_hot(stereo['label_l']), _one_hot(stereo['label_r'])
    confs = []
    for src_d, src_oh, d, oh, direc in ((d_r, oh_r, d_l, oh_l, 'r2l'),
                                        (d_l, oh_l, d_r, oh_r, 'l2r')):
        both, mask = cross_view_warp(
            torch.cat([src_d, src_oh], 1),
            d,
            f,
            BASELINE,
            direc,
            return_mask=True)
        ok = mask & ((both[:, :1] - d).abs() < 1e-3 * d)
        ok &= ((both[:, 1:] - oh).abs().amax(1, keepdim=True) < 1e-4)
        confs.append(ok.float())
    return confs


def test_warp_hand_computed():
    # focal * baseline = 2, depth 2 -> disparity exactly 1 px
    depth = torch.full((1, 1, 1, 5), 2.0)
    row = torch.arange(1., 6.).view(1, 1, 1, 5)
    out, mask = cross_view_warp(row, depth, 4.0, 0.5, 'r2l', return_mask=True)
    assert torch.allclose(out[..., 1:], row[..., :-1])  # x(u - 1)
    assert mask.view(-1).tolist() == [False, True, True, True, True]
    out, mask = cross_view_warp(row, depth, 4.0, 0.5, 'l2r', return_mask=True)
    assert torch.allclose(out[..., :-1], row[..., 1:])  # x(u + 1)
    assert mask.view(-1).tolist() == [True, True, True, True, False]
    # per-sample focal (B,) and invalid depth 0 -> masked
    depth2 = torch.cat([depth, torch.zeros_like(depth)])
    _, mask = cross_view_warp(
        torch.cat([row, row]),
        depth2,
        torch.tensor([4.0, 4.0]),
        0.5,
        return_mask=True)
    assert not mask[1].any()
    with pytest.raises(ValueError, match='direction'):
        cross_view_warp(row, depth, 4.0, 0.5, 'up')
    with pytest.raises(ValueError, match='focal'):
        cross_view_warp(row, depth, torch.ones(3), 0.5)


@pytest.mark.parametrize('direction', ['r2l', 'l2r'])
def test_warp_reproduces_other_view(stereo, direction):
    """MUST-SHOW: G(d_r; d_l) = d_l (and G(d_l; d_r) = d_r) on pixels seen
    in both views (non-sky, in view, not occluded)."""
    f = stereo['focal']
    if direction == 'r2l':
        src, tgt, vis = stereo['depth_r'], stereo['depth_l'], _visible_l(
            stereo['depth_l'], f)
    else:
        src, tgt, vis = stereo['depth_l'], stereo['depth_r'], _visible_r(
            stereo['depth_r'], f)
    warped, mask = cross_view_warp(src, tgt, f, BASELINE, direction, True)
    sel = mask & vis
    assert sel.float().mean() > 0.8  # most of the image is tested
    rel = ((warped - tgt).abs() / tgt)[sel]
    assert rel.median() < 1e-3
    assert rel.mean() < 0.02  # a few depth-edge pixels blend bilinearly
    assert (rel < 0.01).float().mean() > 0.93
    # the test can fail: warping with the wrong direction does not match
    wrong = cross_view_warp(src, tgt, f, BASELINE,
                            'l2r' if direction == 'r2l' else 'r2l')
    assert ((wrong - tgt).abs() / tgt)[sel].median() > 0.01


def test_perfect_prediction_zero_loss(stereo):
    """MUST-SHOW: every cross-view term is ~0 for exact depth and labels
    (pseudo = prediction = exact; confidence = LR check)."""
    f = stereo['focal']
    d_l, d_r = stereo['depth_l'], stereo['depth_r']
    conf_l, conf_r = _lr_confidence(stereo)
    assert conf_l.mean() > 0.7 and conf_r.mean() > 0.7
    # the network predicts a positive depth on sky too; pseudo stays 0 there
    pred_l, pred_r = d_l.clamp(min=1.0), d_r.clamp(min=1.0)
    depth_loss = CrossViewDepthConsistencyLoss()
    out = depth_loss(pred_l, pred_r, d_l, d_r, conf_l, conf_r, f, BASELINE)
    assert set(out) == {
        'loss_depth_cv_lr', 'loss_depth_cv_l', 'loss_depth_cv_r'
    }
    scale = d_l[d_l > 0].mean()
    for key, value in out.items():
        assert value < 1e-3 * scale, key
    bad = depth_loss(pred_l * 1.1, pred_r, d_l, d_r, conf_l, conf_r, f,
                     BASELINE)
    for key in ('loss_depth_cv_lr', 'loss_depth_cv_l'):
        assert bad[key] > 50 * out[key] + 0.1, key

    seg_loss = CrossViewSegConsistencyLoss(use_softmax=False)
    p_l, p_r = _one_hot(stereo['label_l']), _one_hot(stereo['label_r'])
    args = (stereo['label_l'], stereo['label_r'], d_l, d_r, conf_l, conf_r, f,
            BASELINE)
    out = seg_loss(p_l, p_r, *args)
    assert set(out) == {'loss_seg_cv_lr', 'loss_seg_cv_l', 'loss_seg_cv_r'}
    for key, value in out.items():
        assert 0 <= value < 1e-2, key
    # logits that put ~all mass on the true class also give ~0
    out_logits = CrossViewSegConsistencyLoss()(p_l * 30, p_r * 30, *args)
    for key, value in out_logits.items():
        assert value < 1e-2, key
    # the test can fail: wrong left labels cost a lot in 'lr' and 'l'
    wrong = _one_hot((stereo['label_l'] + 1) % NUM_CLASSES)
    bad = seg_loss(wrong, p_r, *args)
    assert bad['loss_seg_cv_lr'] > 1 and bad['loss_seg_cv_l'] > 1


def _random_inputs(seed=0, h=6, w=12):
    g = torch.Generator().manual_seed(seed)
    pred_l = 2 + 8 * torch.rand(2, 1, h, w, generator=g)
    pred_r = 2 + 8 * torch.rand(2, 1, h, w, generator=g)
    pseudo_l = 2 + 8 * torch.rand(2, 1, h, w, generator=g)
    pseudo_r = 2 + 8 * torch.rand(2, 1, h, w, generator=g)
    pseudo_l[0, 0, 0, :3] = 0  # invalid pseudo depth
    conf_l = torch.rand(2, 1, h, w, generator=g)
    conf_r = torch.rand(2, 1, h, w, generator=g)
    seg_l = torch.randn(2, 4, h, w, generator=g)
    seg_r = torch.randn(2, 4, h, w, generator=g)
    label_l = torch.randint(0, 4, (2, h, w), generator=g)
    label_r = torch.randint(0, 4, (2, h, w), generator=g)
    label_r[1, 2:4, 3:6] = 255
    return dict(
        pred_l=pred_l,
        pred_r=pred_r,
        pseudo_l=pseudo_l,
        pseudo_r=pseudo_r,
        conf_l=conf_l,
        conf_r=conf_r,
        seg_l=seg_l,
        seg_r=seg_r,
        label_l=label_l,
        label_r=label_r,
        focal=torch.tensor([4.0, 6.0]),
        baseline=1.0)


def _depth(loss, x, **over):
    x = {**x, **over}
    return loss(x['pred_l'], x['pred_r'], x['pseudo_l'], x['pseudo_r'],
                x['conf_l'], x['conf_r'], x['focal'], x['baseline'])


def _seg(loss, x, **over):
    x = {**x, **over}
    return loss(x['seg_l'], x['seg_r'], x['label_l'], x['label_r'],
                x['pseudo_l'], x['pseudo_r'], x['conf_l'], x['conf_r'],
                x['focal'], x['baseline'], x['pred_l'], x['pred_r'])


def test_depth_lr_hand_computed():
    # focal * baseline = 2, depth 2 everywhere -> 1 px disparity
    b = torch.full((1, 1, 1, 5), 2.0)
    pred_l = torch.tensor([[[[9., 1., 2., 4., 4.]]]])
    pred_r = torch.tensor([[[[1., 2., 3., 4., 5.]]]])
    conf = torch.tensor([[[[1., 1., 1., 1., .5]]]])
    loss = CrossViewDepthConsistencyLoss(terms=('lr', ), loss_weight=2.0)
    out = loss(pred_l, pred_r, b, b, conf, conf, 4.0, 0.5)
    # left: G(d_r) = [-, 1, 2, 3, 4] vs [1, 2, 4, 4] -> conf .5 on the last
    #   pixel: (0 + 0 + 1 + .5 * 0) / 3.5
    # right: G(d_l) = [1, 2, 4, 4, -] vs d_r [1, 2, 3, 4]: 1 / 4
    expected = 2.0 * 0.5 * (1 / 3.5 + 1 / 4)
    assert out['loss_depth_cv_lr'].item() == pytest.approx(expected)


def test_depth_switches():
    x = _random_inputs()
    full = _depth(CrossViewDepthConsistencyLoss(), x)
    # terms subset: only those keys, same values
    sub = _depth(CrossViewDepthConsistencyLoss(terms=('l', )), x)
    assert set(sub) == {'loss_depth_cv_l'}
    assert torch.allclose(sub['loss_depth_cv_l'], full['loss_depth_cv_l'])
    # alphas and loss_weight scale the items
    scaled = _depth(
        CrossViewDepthConsistencyLoss(alpha_lr=1.0, loss_weight=3.0), x)
    assert torch.allclose(scaled['loss_depth_cv_lr'],
                          6 * full['loss_depth_cv_lr'])
    assert torch.allclose(scaled['loss_depth_cv_r'],
                          3 * full['loss_depth_cv_r'])
    # use_confidence=False ignores conf (== confidence 1)
    nc = CrossViewDepthConsistencyLoss(use_confidence=False)
    a = _depth(nc, x)
    b = _depth(nc, x, conf_l=None, conf_r=None)
    ones = _depth(
        CrossViewDepthConsistencyLoss(),
        x,
        conf_l=torch.ones_like(x['conf_l']),
        conf_r=torch.ones_like(x['conf_r']))
    for k in a:
        assert torch.allclose(a[k], b[k]) and torch.allclose(a[k], ones[k])
        assert not torch.allclose(a[k], full[k])
    # warp_with='pred': b = d_i, i.e. the pseudo depth in the warp role is
    # replaced by the prediction (lr term: identical to passing pred as
    # pseudo), and the pseudo depth no longer matters for 'lr'
    pred_lr = CrossViewDepthConsistencyLoss(warp_with='pred', terms='lr')
    lr = CrossViewDepthConsistencyLoss(terms='lr')
    v1 = _depth(pred_lr, x)['loss_depth_cv_lr']
    v2 = _depth(lr, x, pseudo_l=x['pred_l'], pseudo_r=x['pred_r'])
    assert torch.allclose(v1, v2['loss_depth_cv_lr'])
    assert not torch.allclose(v1, full['loss_depth_cv_lr'])
    v3 = _depth(pred_lr, x, pseudo_l=None, pseudo_r=None)
    assert torch.allclose(v1, v3['loss_depth_cv_lr'])
    # gradients reach the depth through the warp with 'pred' only
    pl = x['pred_l'].clone().requires_grad_(True)
    _depth(
        pred_lr, x, pred_l=pl, pred_r=x['pred_r'] * 0 +
        5)['loss_depth_cv_lr'].backward()  # d_r constant: grad via G only
    assert pl.grad.abs().sum() > 0 and torch.isfinite(pl.grad).all()


def test_seg_switches_and_gradients():
    x = _random_inputs()
    full = _seg(CrossViewSegConsistencyLoss(), x)
    assert set(full) == {'loss_seg_cv_lr', 'loss_seg_cv_l', 'loss_seg_cv_r'}
    assert all(torch.isfinite(v) and v > 0 for v in full.values())
    sub = _seg(CrossViewSegConsistencyLoss(terms=('lr', 'r')), x)
    assert set(sub) == {'loss_seg_cv_lr', 'loss_seg_cv_r'}
    assert torch.allclose(sub['loss_seg_cv_r'], full['loss_seg_cv_r'])
    nc = CrossViewSegConsistencyLoss(use_confidence=False)
    a = _seg(nc, x, conf_l=None, conf_r=None)
    ones = _seg(
        CrossViewSegConsistencyLoss(),
        x,
        conf_l=torch.ones_like(x['conf_l']),
        conf_r=torch.ones_like(x['conf_r']))
    for k in a:
        assert torch.allclose(a[k], ones[k])
        assert not torch.allclose(a[k], full[k])
    # warp_with='pred' warps with the predicted depth
    pred = _seg(CrossViewSegConsistencyLoss(warp_with='pred'), x)
    swapped = _seg(
        CrossViewSegConsistencyLoss(),
        x,
        pseudo_l=x['pred_l'],
        pseudo_r=x['pred_r'])
    for k in pred:
        assert torch.allclose(pred[k], swapped[k])
        assert not torch.allclose(pred[k], full[k])
    # softmax switch: probabilities in == logits in
    probs = _seg(
        CrossViewSegConsistencyLoss(use_softmax=False),
        x,
        seg_l=x['seg_l'].softmax(1),
        seg_r=x['seg_r'].softmax(1))
    for k in probs:
        assert torch.allclose(probs[k], full[k], atol=1e-5)
    # gradients flow into both logits and (with 'pred') into the depth
    sl = x['seg_l'].clone().requires_grad_(True)
    dl = x['pred_l'].clone().requires_grad_(True)
    out = _seg(
        CrossViewSegConsistencyLoss(warp_with='pred'), x, seg_l=sl, pred_l=dl)
    sum(out.values()).backward()
    assert sl.grad.abs().sum() > 0 and dl.grad.abs().sum() > 0
    assert torch.isfinite(sl.grad).all() and torch.isfinite(dl.grad).all()


def test_seg_ignore_and_errors():
    x = _random_inputs()
    loss = CrossViewSegConsistencyLoss(terms=('l', ))
    base = _seg(loss, x)['loss_seg_cv_l']
    # ignoring every right label removes the G(s_r^gt) half of Eq. 9
    no_r = _seg(loss, x, label_r=torch.full_like(x['label_r'], 255))
    assert torch.isfinite(no_r['loss_seg_cv_l'])
    assert not torch.allclose(no_r['loss_seg_cv_l'], base)
    with pytest.raises(ValueError, match='label_l'):
        _seg(loss, x, label_l=torch.full_like(x['label_l'], 7))
    with pytest.raises(ValueError, match='label_r'):
        _seg(loss, x, label_r=None)
    with pytest.raises(ValueError, match='conf_l'):
        _seg(CrossViewSegConsistencyLoss(), x, conf_l=None)
    with pytest.raises(ValueError, match='warp_with'):
        CrossViewSegConsistencyLoss(warp_with='gt')
    with pytest.raises(ValueError, match='terms'):
        CrossViewDepthConsistencyLoss(terms=('lr', 'x'))
    with pytest.raises(ValueError, match='pseudo_l'):
        _depth(
            CrossViewDepthConsistencyLoss(warp_with='pred'), x, pseudo_l=None)


def test_registry_defaults():
    d = MODELS.build(dict(type='CrossViewDepthConsistencyLoss'))
    s = MODELS.build(dict(type='CrossViewSegConsistencyLoss'))
    assert d.alphas == dict(lr=0.5, l=1.0, r=1.0)
    assert s.alphas == dict(lr=0.5, l=1.5, r=1.5)
    assert d.loss_name == 'loss_depth_cv' and s.loss_name == 'loss_seg_cv'


def test_depth_terms_compare_values_in_the_chosen_unit():
    """Constant maps d_l = 10 m, d_r = 20 m warped with pseudo depth 40 m
    (fx 80 px, baseline 0.5 m: disparity 1 px on an 8 px wide image): the
    columns whose source lies inside the image all compare 10 with 20, so
    L_d,lr = 2 * |u(10) - u(20)| (two directions), times alpha_lr = 0.5:
    metre 10, inverse depth 0.05, disparity / width (fx B / (d W) = 5 / d)
    0.25, metre / 80 0.125."""
    d_l = torch.full((1, 1, 3, 8), 10.)
    d_r = torch.full((1, 1, 3, 8), 20.)
    pseudo = torch.full((1, 1, 3, 8), 40.)
    conf = torch.ones_like(pseudo)
    for unit, scale, expected in (('metre', 1., 10.),
                                  ('inverse_depth', 1., 0.05),
                                  ('disparity_width', 1., 0.25),
                                  ('metre', 1 / 80, 0.125)):
        loss = MODELS.build(
            dict(
                type='CrossViewDepthConsistencyLoss',
                terms=('lr', ),
                unit=unit,
                unit_scale=scale))
        out = loss(d_l, d_r, pseudo, pseudo, conf, conf, 80., 0.5)
        assert out['loss_depth_cv_lr'].item() == pytest.approx(
            expected, rel=1e-5), unit
    with pytest.raises(ValueError, match='unit'):
        MODELS.build(dict(type='CrossViewDepthConsistencyLoss', unit='km'))
