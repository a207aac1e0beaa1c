# Copyright (c) mmdepthseg contributors. All rights reserved.
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.structures import PixelData
from test_models.test_segmentors.batch import packed_batch, random_labels

from mmdepthseg.registry import MODELS

CFG = 'configs/_base_/models/fsre_r18.py'
H, W = 64, 128


def _model(**overrides):
    cfg = Config.fromfile(CFG).model
    cfg.merge_from_dict(overrides) if hasattr(cfg, 'merge_from_dict') \
        else cfg.update(overrides)
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def _batch(model, views=('t', 't-1', 't+1'), batch=2, training=True):
    K = np.array([[0.58 * W, 0, W / 2], [0, 1.92 * H, H / 2], [0, 0, 1]],
                 dtype=np.float32)
    data = packed_batch(
        batch, (H, W),
        views=len(views),
        fields=dict(gt_sem_seg=random_labels(3, (1, H, W))),
        metainfo=dict(
            view_names=views, intrinsics=K, ori_shape=(2 * H, 2 * W)))
    for img, sample in zip(data['inputs'], data['data_samples']):
        sample.unaug_img = PixelData(data=img.clone())
    return model.data_preprocessor(data, training)


def test_four_loss_terms_and_gradients_reach_every_part():
    model = _model()
    losses = model(**_batch(model), mode='loss')
    assert set(losses) == {'loss_photo', 'loss_smooth', 'loss_ce', 'loss_sgt'}
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    for part in ('backbone.conv1', 'pose_net.encoder.conv1',
                 'decoder.depth_decoder.stages.0.conv_in',
                 'decoder.seg_decoder.stages.4.conv_fuse',
                 'decoder.cma.0.depth_cma.query_proj'):
        module = model.get_submodule(part)
        conv = getattr(module, 'conv', module)
        assert conv.weight.grad is not None and conv.weight.grad.abs().sum(
        ) > 0, part


def test_identity_reprojection_is_computed_once_per_step(monkeypatch):
    model = _model()
    calls = []
    original = model.photometric_loss.identity_error

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(model.photometric_loss, 'identity_error', counting)
    model(**_batch(model), mode='loss')
    assert len(calls) == 1  # not once per scale (4 scales)


@pytest.mark.parametrize('overrides,keys', [
    (dict(seg_loss=None, sgt_loss=None), {'loss_photo', 'loss_smooth'}),
    (dict(sgt_loss=None), {'loss_photo', 'loss_smooth', 'loss_ce'}),
])
def test_ablations_drop_their_terms(overrides, keys):
    model = _model(**overrides)
    losses = model(**_batch(model, batch=1), mode='loss')
    assert set(losses) == keys


def test_predict_returns_depth_and_classes_at_original_size():
    model = _model().eval()
    with torch.no_grad():
        out = model(
            **_batch(model, views=('l', ), training=False), mode='predict')
    assert out[0].pred_depth_map.data.shape == (1, 2 * H, 2 * W)
    assert out[0].pred_sem_seg.data.shape == (1, 2 * H, 2 * W)
    depth = out[0].pred_depth_map.data
    assert (depth >= 0.1 - 1e-4).all() and (depth <= 100 + 1e-3).all()


def test_views_must_be_temporal_or_stereo():
    model = _model()
    with pytest.raises(ValueError, match='view_names'):
        model(**_batch(model, views=('l', 'r'), batch=1), mode='loss')


def test_stereo_partner_is_warped_with_the_rig_transform(monkeypatch):
    model = _model(seg_loss=None, sgt_loss=None)
    data = _batch(model, views=('t', 't-1', 't+1', 's'), batch=1)
    stereo_T = np.eye(4, dtype=np.float32)
    stereo_T[0, 3] = -0.1
    for ds in data['data_samples']:
        ds.set_metainfo(dict(stereo_T=stereo_T))
    poses = model._source_poses(data['inputs'], data['data_samples'])
    assert len(poses) == 3
    torch.testing.assert_close(poses[2][0], torch.from_numpy(stereo_T))
    losses = model(**data, mode='loss')
    assert torch.isfinite(losses['loss_photo'])


def _loop_photo_smooth(model, inputs, data_samples):
    """The straightforward formulation of L_photo and L_smooth: a loop over
    scales and sources with one view synthesis and one loss call each
    (the model's former code), scale s weighted as the losses' configured
    ``scale_weighting`` says."""
    from mmseg.models.utils import resize

    from mmdepthseg.models.layers.geometry import view_synthesis
    from mmdepthseg.models.losses.scale_weighting import scale_weights
    from mmdepthseg.models.utils import stack_pixel_field
    poses = model._source_poses(inputs, data_samples)
    out = model.decoder(model.extract_feat(inputs))
    K = torch.stack([
        torch.as_tensor(ds.intrinsics, dtype=torch.float32)
        for ds in data_samples
    ]).to(inputs)
    unaug = stack_pixel_field(data_samples, 'unaug_img').to(inputs)
    target = unaug[:, :3]
    sources = [unaug[:, 3 * j:3 * j + 3] for j in range(1, len(poses) + 1)]
    identity = model.photometric_loss.identity_error(sources, target)
    photo, smooth = 0., 0.
    n = len(out['disps'])
    w_photo = scale_weights(model.photometric_loss.scale_weighting, range(n))
    w_smooth = scale_weights(model.smoothness_loss.scale_weighting, range(n))
    for scale, disp in enumerate(out['disps']):
        depth = model._depth(
            resize(
                disp,
                size=target.shape[-2:],
                mode='bilinear',
                align_corners=False))
        warped = [
            view_synthesis(src, depth, K, T)[0]
            for src, T in zip(sources, poses)
        ]
        photo = photo + w_photo[scale] * model.photometric_loss(
            warped, target, identity=identity)
        img = target if scale == 0 else resize(
            target, size=disp.shape[-2:], mode='area')
        smooth = smooth + w_smooth[scale] * model.smoothness_loss(disp, img)
    return dict(loss_photo=photo, loss_smooth=smooth)


@pytest.mark.parametrize('weighting', ['released', 'monodepth2'])
def test_batched_losses_equal_the_loop_over_scales_and_sources(
        monkeypatch, weighting):
    # the networks' outputs (disparities, poses) as float64 leaves, so that
    # the two formulations are compared exactly, gradients included
    model = _model(seg_loss=None, sgt_loss=None)
    if weighting == 'monodepth2':
        model.photometric_loss.scale_weighting = 'mean'
        model.smoothness_loss.scale_weighting = 'halved_mean'
    data = _batch(model)
    with torch.no_grad():
        out = model.decoder(model.extract_feat(data['inputs']))
        poses = model._source_poses(data['inputs'], data['data_samples'])
    results = []
    for fn in (model.loss, lambda i, d: _loop_photo_smooth(model, i, d)):
        disps = [d.double().requires_grad_() for d in out['disps']]
        leaves = [p.double().requires_grad_() for p in poses]
        monkeypatch.setattr(model, 'extract_feat', lambda inputs: None)
        monkeypatch.setattr(
            model.decoder,
            'forward',
            lambda feats, disps=disps: dict(disps=disps))
        monkeypatch.setattr(
            model,
            '_source_poses',
            lambda inputs, samples, leaves=leaves: leaves)
        torch.manual_seed(1)  # the same identity noise
        losses = fn(data['inputs'].double(), data['data_samples'])
        sum(losses.values()).backward()
        results.append((losses, [x.grad for x in disps + leaves]))
    (batched, batched_grads), (looped, looped_grads) = results
    assert set(batched) == set(looped) == {'loss_photo', 'loss_smooth'}
    for key in batched:
        torch.testing.assert_close(
            batched[key], looped[key], rtol=1e-12, atol=0)
    for grad, expected in zip(batched_grads, looped_grads):
        assert expected.abs().sum() > 0
        torch.testing.assert_close(grad, expected, rtol=1e-9, atol=1e-15)


# --------------------------------------------------------------------------
# An independent reference of L_photo and L_smooth, written from
# Monodepth2's equations (its layers.py and trainer.py, which FSRE-Depth
# trains with), with plain torch operations only:
# - SSIM: 3x3 average pooling of reflection-padded images, C1 = 0.01^2,
#   C2 = 0.03^2, clamp((1 - SSIM) / 2, 0, 1);
# - pe = 0.85 * SSIM-term + 0.15 * L1, both averaged over the channels;
# - per pixel, the minimum over [identity errors of the unwarped sources,
#   errors of the warped sources] (auto-masking; identity first), then the
#   mean over all pixels;
# - every scale's sigmoid disparity upsampled (bilinear, align_corners
#   False) to the input size, depth = 1 / (1/100 + (1/0.1 - 1/100) disp);
#   BackprojectDepth / Project3D: X = depth K^-1 (u, v, 1), P = K T,
#   (u', v') = P X [:2] / (P X [2] + 1e-7), normalised by (W-1, H-1) to
#   [-1, 1], grid_sample(border, align_corners=True);
# - smoothness of disp / mean(disp) against the target image at the
#   scale's size (here 2^s x 2^s average pooling; Monodepth2's loader
#   resizes with PIL's antialias filter), divided by 2^s;
# - Monodepth2 averages the scales (loss = sum_s (photo_s + 1e-3 smooth_s /
#   2^s) / num_scales); FSRE-Depth's released code sums them with the
#   photometric term of scale s halved s times too (loss = sum_s (photo_s +
#   1e-3 smooth_s) / 2^s).
# Our projection divides by max(z, 1e-7) where Monodepth2 divides by
# z + 1e-7 (``exact_z``): the values are compared with Monodepth2's
# division, the values and gradients exactly with ours. The identity noise
# is off (identity_noise=0) here.
# --------------------------------------------------------------------------
def _md2_ssim(x, y):
    x, y = F.pad(x, (1, 1, 1, 1), mode='reflect'), F.pad(
        y, (1, 1, 1, 1), mode='reflect')
    mu_x, mu_y = F.avg_pool2d(x, 3, 1), F.avg_pool2d(y, 3, 1)
    sigma_x = F.avg_pool2d(x**2, 3, 1) - mu_x**2
    sigma_y = F.avg_pool2d(y**2, 3, 1) - mu_y**2
    sigma_xy = F.avg_pool2d(x * y, 3, 1) - mu_x * mu_y
    c1, c2 = 0.01**2, 0.03**2
    n = (2 * mu_x * mu_y + c1) * (2 * sigma_xy + c2)
    d = (mu_x**2 + mu_y**2 + c1) * (sigma_x + sigma_y + c2)
    return torch.clamp((1 - n / d) / 2, 0, 1)


def _md2_reprojection(pred, target):
    l1 = (target - pred).abs().mean(1, True)
    return 0.85 * _md2_ssim(pred, target).mean(1, True) + 0.15 * l1


def _md2_warp(src, depth, K, T, exact_z=False):
    b, _, h, w = depth.shape
    ys, xs = torch.meshgrid(
        torch.arange(h, dtype=depth.dtype),
        torch.arange(w, dtype=depth.dtype),
        indexing='ij')
    pix = torch.stack([xs, ys, torch.ones_like(xs)]).view(1, 3, -1)
    cam = torch.linalg.inv(K) @ pix * depth.view(b, 1, -1)
    cam = torch.cat([cam, torch.ones_like(cam[:, :1])], 1)
    K4 = torch.zeros(b, 4, 4, dtype=K.dtype)
    K4[:, :3, :3] = K
    K4[:, 3, 3] = 1
    p = (K4 @ T)[:, :3] @ cam
    z = p[:, 2:3].clamp(min=1e-7) if exact_z else p[:, 2:3] + 1e-7
    xy = p[:, :2] / z
    xy = xy.view(b, 2, h, w).permute(0, 2, 3, 1)
    xy = torch.stack([xy[..., 0] / (w - 1), xy[..., 1] / (h - 1)], -1)
    return F.grid_sample(
        src, (xy - 0.5) * 2, padding_mode='border', align_corners=True)


def _md2_smooth(disp, img):
    disp = disp / (disp.mean(2, True).mean(3, True) + 1e-7)
    gdx = (disp[:, :, :, :-1] - disp[:, :, :, 1:]).abs()
    gdy = (disp[:, :, :-1, :] - disp[:, :, 1:, :]).abs()
    gix = (img[:, :, :, :-1] - img[:, :, :, 1:]).abs().mean(1, True)
    giy = (img[:, :, :-1, :] - img[:, :, 1:, :]).abs().mean(1, True)
    return (gdx * torch.exp(-gix)).mean() + (gdy * torch.exp(-giy)).mean()


def _md2_photo_smooth(disps, unaug, K, poses, exact_z=False, released=False):
    """``loss_photo`` and ``loss_smooth`` (with its 1e-3) of Monodepth2,
    or with FSRE-Depth's released scale weighting."""
    target = unaug[:, :3]
    sources = [unaug[:, 3 * j:3 * j + 3] for j in range(1, len(poses) + 1)]
    identity = torch.cat([_md2_reprojection(s, target) for s in sources], 1)
    photo, smooth = 0., 0.
    for scale, disp in enumerate(disps):
        up = F.interpolate(
            disp, target.shape[-2:], mode='bilinear', align_corners=False)
        depth = 1 / (1 / 100 + (1 / 0.1 - 1 / 100) * up)
        reprojection = torch.cat([
            _md2_reprojection(_md2_warp(s, depth, K, T, exact_z), target)
            for s, T in zip(sources, poses)
        ], 1)
        photo_s = torch.cat([identity, reprojection], 1).min(1)[0].mean()
        photo = photo + (photo_s / 2**scale if released else photo_s)
        color = F.avg_pool2d(target, 2**scale) if scale else target
        smooth = smooth + 1e-3 * _md2_smooth(disp, color) / 2**scale
    n = 1 if released else len(disps)
    return dict(loss_photo=photo / n, loss_smooth=smooth / n)


def _leaves_and_reference(monkeypatch,
                          model,
                          data,
                          num_scales=4,
                          released=False):
    """The networks' outputs (disparities, poses) as float64 leaves fed to
    the model's loss; returns, for the model and for the reference with
    Monodepth2's and with our division by z, the losses and the gradients
    w.r.t. the leaves."""
    with torch.no_grad():
        out = model.decoder(model.extract_feat(data['inputs']))
        poses = model._source_poses(data['inputs'], data['data_samples'])
    K = torch.stack([
        torch.as_tensor(ds.intrinsics, dtype=torch.float64)
        for ds in data['data_samples']
    ])
    unaug = torch.stack(
        [ds.unaug_img.data for ds in data['data_samples']]).double()
    results = []
    for reference in (None, False, True):
        disps = [
            d.double().requires_grad_() for d in out['disps'][:num_scales]
        ]
        leaves = [p.double().requires_grad_() for p in poses]
        if reference is not None:
            losses = _md2_photo_smooth(
                disps, unaug, K, leaves, exact_z=reference, released=released)
        else:
            monkeypatch.setattr(model, 'extract_feat', lambda inputs: None)
            monkeypatch.setattr(
                model.decoder,
                'forward',
                lambda feats, disps=disps: dict(disps=disps))
            monkeypatch.setattr(
                model,
                '_source_poses',
                lambda inputs, samples, leaves=leaves: leaves)
            losses = model.loss(data['inputs'].double(), data['data_samples'])
        sum(losses.values()).backward()
        results.append((losses, [x.grad for x in disps + leaves]))
    return results


@pytest.mark.parametrize('weighting', ['released', 'monodepth2'])
@pytest.mark.parametrize('num_scales', [4, 1])
def test_photometric_and_smoothness_losses_equal_monodepth2(
        monkeypatch, num_scales, weighting):
    model = _model(seg_loss=None, sgt_loss=None)
    model.photometric_loss.identity_noise = 0.
    if weighting == 'monodepth2':
        model.photometric_loss.scale_weighting = 'mean'
        model.smoothness_loss.scale_weighting = 'halved_mean'
    data = _batch(model)
    (ours, our_grads), (md2, _), (exact, exact_grads) = \
        _leaves_and_reference(monkeypatch, model, data, num_scales,
                              released=weighting == 'released')
    assert set(ours) == set(md2) == {'loss_photo', 'loss_smooth'}
    for key in ours:
        # Monodepth2's z + 1e-7 moves the photometric term by 1.6e-7
        # relative (the untrained depths are ~0.2 m); float64
        torch.testing.assert_close(ours[key], md2[key], rtol=1e-6, atol=0)
        torch.testing.assert_close(ours[key], exact[key], rtol=1e-12, atol=0)
    for grad, expected in zip(our_grads, exact_grads):
        assert expected.abs().sum() > 0
        torch.testing.assert_close(grad, expected, rtol=1e-6, atol=1e-12)


def test_predict_is_the_finest_disparity_as_depth_and_the_argmax_class():
    """Without resize or padding, ``pred_depth_map`` is Monodepth2's
    depth of the finest sigmoid disparity (0.1-100 m) and ``pred_sem_seg``
    the arg-max of the segmentation logits; with padding, the same maps
    cropped to ``img_shape``."""
    model = _model().eval()
    data = _batch(model, views=('l', ), training=False)
    for ds in data['data_samples']:
        ds.set_metainfo(dict(ori_shape=(H, W)))
    with torch.no_grad():
        out = model.decoder(model.extract_feat(data['inputs']))
        preds = model(**data, mode='predict')
    depth = 1 / (1 / 100 + (1 / 0.1 - 1 / 100) * out['disps'][0])
    labels = out['seg_logits'].argmax(1, keepdim=True)
    assert out['seg_logits'].shape[-2:] == (H, W)
    for i, pred in enumerate(preds):
        torch.testing.assert_close(pred.pred_depth_map.data, depth[i])
        assert torch.equal(pred.pred_sem_seg.data, labels[i])
        torch.testing.assert_close(pred.seg_logits.data, out['seg_logits'][i])
    # a 60x120 image padded to 64x128 (size_divisor 32): the predictions
    # are the padded input's maps cropped to the image
    for ds in data['data_samples']:
        ds.set_metainfo(dict(img_shape=(60, 120), ori_shape=(60, 120)))
    with torch.no_grad():
        preds = model(**data, mode='predict')
    for i, pred in enumerate(preds):
        torch.testing.assert_close(pred.pred_depth_map.data,
                                   depth[i, :, :60, :120])
        assert torch.equal(pred.pred_sem_seg.data, labels[i, :, :60, :120])


def test_warp_all_scales_equals_view_synthesis_per_scale_and_source():
    from mmseg.models.utils import resize

    from mmdepthseg.models.layers.geometry import view_synthesis
    model = _model()
    gen = torch.Generator().manual_seed(3)
    disps = [
        0.05 + 0.2 * torch.rand(2, 1, H >> s, W >> s, generator=gen)
        for s in range(3)
    ]
    sources = [torch.rand(2, 3, H, W, generator=gen) for _ in range(2)]
    K = torch.tensor([[0.58 * W, 0, W / 2], [0, 1.92 * H, H / 2],
                      [0, 0, 1]]).expand(2, 3, 3)
    poses = []
    for tx in (0.1, -0.2):
        T = torch.eye(4).repeat(2, 1, 1)
        T[:, 0, 3] = tx
        T[1, 2, 3] = 0.05
        poses.append(T)
    warped = model._warp_all_scales(disps, sources, K, poses)
    assert warped.shape == (3, 2, 2, 3, H, W)
    for n, disp in enumerate(disps):
        depth = model._depth(
            resize(disp, size=(H, W), mode='bilinear', align_corners=False))
        for s, (src, T) in enumerate(zip(sources, poses)):
            # the factorised projection rounds differently: ~1e-5 px
            torch.testing.assert_close(
                warped[n, s],
                view_synthesis(src, depth, K, T)[0],
                rtol=0,
                atol=1e-4)


def _record_sgt(model, monkeypatch):
    """Replace the SGT loss's forward by one that records its input and
    returns the feature width (a known value per layer)."""
    seen = []

    def fake(feats, label):
        seen.append(feats)
        return feats.new_tensor(float(feats.shape[-1]))

    monkeypatch.setattr(model.sgt_loss, 'forward', fake)
    return seen


@pytest.mark.parametrize(
    'weighting,expected',
    [
        # layers 1, 2, 3 at W = 128: widths 16, 32, 64 at scales 3, 2, 1
        ('halved_sum', 16 / 8 + 32 / 4 + 64 / 2),  # released code: 42
        ('sum', 16 + 32 + 64),  # text: 112
    ])
def test_sgt_layers_weighted_by_their_scale(monkeypatch, weighting, expected):
    model = _model()
    model.sgt_loss.scale_weighting = weighting
    _record_sgt(model, monkeypatch)
    losses = model(**_batch(model, batch=1), mode='loss')
    assert losses['loss_sgt'].item() == pytest.approx(expected)


@pytest.mark.parametrize('after', [True, False])
def test_sgt_sees_the_cma_output_features_as_released(monkeypatch, after):
    # default (released code): the SGT loss of layers 1, 2 reads the CMA
    # output; the paper-text reading: the CMA input
    model = _model(decoder=dict(features_after_cma=after))
    seen = _record_sgt(model, monkeypatch)
    cma_io = {}

    def hook(layer):

        def record(module, args, out):  # returns None: output unchanged
            cma_io[layer] = (args[0], out[0])

        return record

    for layer in (1, 2):
        model.decoder.cma[str(layer)].register_forward_hook(hook(layer))
    model(**_batch(model, batch=1), mode='loss')
    assert len(seen) == 3
    for layer, feats in zip((1, 2), seen):
        cma_in, cma_out = cma_io[layer]
        assert feats is (cma_out if after else cma_in)


def test_pose_network_reads_frames_at_pose_input_size(monkeypatch):
    import torch.nn.functional as F
    model = _model(pose_input_size=(32, 64), seg_loss=None, sgt_loss=None)
    data = _batch(model, batch=1)
    calls = []
    original = model.pose_net.forward

    def recording(target, source, before):
        calls.append((target, source))
        return original(target, source, before)

    monkeypatch.setattr(model.pose_net, 'forward', recording)
    model._source_poses(data['inputs'], data['data_samples'])
    small = F.interpolate(
        data['inputs'], size=(32, 64), mode='bilinear', align_corners=False)
    assert len(calls) == 2
    for j, (target, source) in enumerate(calls, start=1):
        torch.testing.assert_close(target, small[:, :3])
        torch.testing.assert_close(source, small[:, 3 * j:3 * j + 3])
    # the default: the input size
    calls.clear()
    model.pose_input_size = None
    model._source_poses(data['inputs'], data['data_samples'])
    assert calls[0][0].shape[-2:] == (H, W)


def test_released_conventions_by_default_and_paper_text_variant():
    released = MODELS.build(
        Config.fromfile('configs/fsre/fsre_r18_kitti.py').model)
    text = MODELS.build(
        Config.fromfile('configs/fsre/fsre_r18_kitti_paper-text.py').model)

    def conventions(m):
        sgt, cma = m.sgt_loss, m.decoder.cma['0'].depth_cma
        return (m.photometric_loss.scale_weighting,
                m.smoothness_loss.scale_weighting, sgt.scale_weighting,
                sgt.inclusive_threshold, sgt.count_anchor,
                sgt.padding_as_negative, sgt.min_sq_distance,
                m.decoder.features_after_cma, cma.score_scaling,
                cma.fusion_type, m.decoder.init_mode)

    assert conventions(released) == ('halved_sum', 'halved_sum', 'halved_sum',
                                     True, True, True, 1e-9, True,
                                     'total_channels', 'conv_act_conv1x1',
                                     'pytorch')
    # the text changes every convention it states; the fusion convs and
    # the init, on which it is silent, stay the released code's
    assert conventions(text) == ('mean', 'halved_mean', 'sum', False, False,
                                 False, None, False, 'embed_channels',
                                 'conv_act_conv1x1', 'pytorch')
    # the FSREDepth defaults are the released code's too
    default = MODELS.build(
        dict(
            type='FSREDepth',
            backbone=dict(type='ResNetEncoder', depth=18),
            decoder=Config.fromfile(
                'configs/fsre/fsre_r18_kitti.py').model.decoder))
    assert conventions(default) == conventions(released)
