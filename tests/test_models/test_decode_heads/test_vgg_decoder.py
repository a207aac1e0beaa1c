# Copyright (c) mmdepthseg contributors. All rights reserved.
import pytest
import torch
from mmengine.registry import DefaultScope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

import mmdepthseg.models.backbones.vgg_encoder  # noqa: F401 (registers)
from mmdepthseg.models.decode_heads.vgg_decoder import (SymmetricDecoder,
                                                        SymmetricDepthHead,
                                                        SymmetricSegHead)
from mmdepthseg.models.layers.geometry import disp_to_depth
from mmdepthseg.registry import MODELS

ENC = (64, 128, 256, 512, 512, 512)  # VGGEncoder.out_channels
SMALL_ENC = (4, 8, 8, 16, 16, 16)
SMALL_DEC = (16, 16, 8, 8, 4)


def _feats(channels, height, width, batch=1):
    """Encoder-like maps at strides 1..32 (floored as max-pooling does)."""
    feats, h, w = [], height, width
    for i, ch in enumerate(channels):
        feats.append(torch.randn(batch, ch, h, w))
        h, w = h // 2, w // 2
    return tuple(feats)


def test_decoder_mirrors_the_encoder():
    decoder = MODELS.build(dict(type='SymmetricDecoder', in_channels=ENC))
    assert isinstance(decoder, SymmetricDecoder)
    assert decoder.out_channels == 64
    convs = [s for stage in decoder.stages for s in stage]
    assert len(convs) == 13  # as many convs as VGG-16
    # first conv of each stage takes upsampled input + skip
    assert [stage[0].conv.in_channels for stage in decoder.stages
            ] == [512 + 512, 512 + 512, 512 + 256, 256 + 128, 128 + 64]
    assert [stage[-1].conv.out_channels
            for stage in decoder.stages] == [512, 512, 256, 128, 64]


@pytest.mark.parametrize('mode', ['nearest', 'bilinear'])
@pytest.mark.parametrize('size', [(64, 128), (50, 70)])
def test_decoder_returns_input_resolution(mode, size):
    decoder = SymmetricDecoder(SMALL_ENC, SMALL_DEC, upsample_mode=mode).eval()
    with torch.no_grad():
        out = decoder(_feats(SMALL_ENC, *size, batch=2))
    assert out.shape == (2, 4, *size)


def test_decoder_rejects_bad_configs_and_inputs():
    with pytest.raises(ValueError, match='len\\(channels\\) \\+ 1'):
        SymmetricDecoder(SMALL_ENC[:-1], SMALL_DEC)
    with pytest.raises(ValueError, match='num_convs'):
        SymmetricDecoder(SMALL_ENC, SMALL_DEC, num_convs=(1, 1))
    with pytest.raises(ValueError, match='upsample_mode'):
        SymmetricDecoder(SMALL_ENC, SMALL_DEC, upsample_mode='bicubic')
    decoder = SymmetricDecoder(SMALL_ENC, SMALL_DEC)
    with pytest.raises(ValueError, match='expected 6 encoder maps'):
        decoder(_feats(SMALL_ENC, 32, 32)[1:])


def test_depth_head_outputs_bounded_metric_depth():
    torch.manual_seed(0)
    head = SymmetricDepthHead(
        SMALL_ENC, SMALL_DEC, min_depth=0.5, max_depth=80.0)
    head.init_weights()
    with torch.no_grad():
        depths = head(_feats(SMALL_ENC, 32, 64, batch=2))
        disp = head.forward_disp(_feats(SMALL_ENC, 32, 64, batch=2))[0]
    assert len(depths) == 1 and depths[0].shape == (2, 1, 32, 64)
    assert depths[0].min() >= 0.5 - 1e-5 and depths[0].max() <= 80.0 + 1e-3
    # std-0.01 init of disp_conv: the sigmoid starts near 0.5
    assert (disp - 0.5).abs().max() < 0.1
    # depth is Monodepth2's conversion of the sigmoid output
    feats = _feats(SMALL_ENC, 32, 64)
    with torch.no_grad():
        expected = disp_to_depth(head.forward_disp(feats)[0], 0.5, 80.0)[1]
        assert torch.allclose(head(feats)[0], expected)


def test_seg_head_logits_and_channel_check():
    head = SymmetricSegHead(
        SMALL_ENC, channels=4, num_classes=7, decoder_channels=SMALL_DEC)
    with torch.no_grad():
        logits = head(_feats(SMALL_ENC, 32, 64, batch=2))
    assert logits.shape == (2, 7, 32, 64)
    with pytest.raises(ValueError, match='channels'):
        SymmetricSegHead(SMALL_ENC, channels=8, decoder_channels=SMALL_DEC)
    with pytest.raises(ValueError, match='multiple_select'):
        SymmetricSegHead(
            SMALL_ENC,
            channels=4,
            decoder_channels=SMALL_DEC,
            input_transform='resize_concat')


def _raw_batch(num=1, views=2, height=64, width=64, num_classes=7):
    gen = torch.Generator().manual_seed(0)
    inputs, samples = [], []
    for _ in range(num):
        inputs.append(
            torch.randint(
                0,
                256, (3 * views, height, width),
                dtype=torch.uint8,
                generator=gen))
        depth = 2.0 + 28.0 * torch.rand(views, height, width, generator=gen)
        depth[:, :5] = 0
        labels = torch.randint(
            0, num_classes, (views, height, width), generator=gen)
        sample = SegDataSample(
            metainfo=dict(
                img_path='fake.png',
                view_names=('l', 'r')[:views],
                img_shape=(height, width),
                ori_shape=(height, width),
                pad_shape=(height, width),
                scale_factor=(1.0, 1.0),
                flip=False,
                flip_direction=None,
                reduce_zero_label=False))
        sample.gt_sem_seg = PixelData(data=labels)
        sample.gt_depth_map = PixelData(data=depth)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def test_multi_task_segmentor_with_vgg_encoder_and_both_heads():
    torch.manual_seed(0)
    cfg = dict(
        type='MultiTaskSegmentor',
        data_preprocessor=dict(
            type='MultiViewDataPreProcessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            bgr_to_rgb=True,
            size_divisor=32,
            seg_pad_val=255),
        backbone=dict(type='VGGEncoder'),
        depth_head=dict(type='SymmetricDepthHead', in_channels=ENC),
        seg_head=dict(
            type='SymmetricSegHead',
            in_channels=ENC,
            channels=64,
            num_classes=7),
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))
    with DefaultScope.overwrite_default_scope('mmdepthseg'):
        model = MODELS.build(cfg)
    model.init_weights()
    data = model.data_preprocessor(_raw_batch(), True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'depth.loss_depth', 'seg.loss_ce', 'seg.acc_seg'}
    for value in losses.values():
        assert torch.isfinite(value).all()
    losses['depth.loss_depth'].backward()
    assert model.backbone.stages[0][0].conv.weight.grad.abs().sum() > 0
    model.eval()
    data = model.data_preprocessor(_raw_batch(), False)
    with torch.no_grad():
        results = model(**data, mode='predict')
    assert len(results) == 1
    assert results[0].seg_logits.data.shape == (7, 64, 64)
    assert results[0].pred_sem_seg.data.shape == (1, 64, 64)
    depth = results[0].pred_depth_map.data
    assert depth.shape == (1, 64, 64)
    assert depth.min() >= 0.1 - 1e-5 and depth.max() <= 100.0 + 1e-3
