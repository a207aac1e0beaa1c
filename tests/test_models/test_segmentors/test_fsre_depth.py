# Copyright (c) mmdepthseg contributors. All rights reserved.
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

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
    rng = np.random.default_rng(0)
    inputs, samples = [], []
    K = np.array([[0.58 * W, 0, W / 2], [0, 1.92 * H, H / 2], [0, 0, 1]],
                 dtype=np.float32)
    for _ in range(batch):
        img = torch.from_numpy(
            rng.integers(0, 255, (3 * len(views), H, W), dtype=np.uint8))
        s = SegDataSample()
        s.set_metainfo(
            dict(
                view_names=views,
                intrinsics=K,
                img_shape=(H, W),
                ori_shape=(2 * H, 2 * W)))
        s.unaug_img = PixelData(data=img.clone())
        s.gt_sem_seg = PixelData(
            data=torch.from_numpy(rng.integers(0, 3, (1, H, W))))
        inputs.append(img)
        samples.append(s)
    return model.data_preprocessor(
        dict(inputs=inputs, data_samples=samples), training)


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
