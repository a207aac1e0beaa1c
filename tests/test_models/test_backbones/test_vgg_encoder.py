# Copyright (c) mmdepthseg contributors. All rights reserved.
import pytest
import torch
import torch.nn as nn

from mmdepthseg.models.backbones.vgg_encoder import VGGEncoder
from mmdepthseg.registry import MODELS

SMALL = dict(channels=(4, 8, 8, 16, 16))  # VGG-16 layout, few channels


def _torchvision_features(channels, num_convs=(2, 2, 3, 3, 3), bn=False):
    """torchvision's ``vgg16(_bn)().features`` layout, written out here."""
    layers, prev = [], 3
    for n, ch in zip(num_convs, channels):
        for _ in range(n):
            layers.append(nn.Conv2d(prev, ch, 3, padding=1))
            if bn:
                layers.append(nn.BatchNorm2d(ch))
            layers.append(nn.ReLU(inplace=True))
            prev = ch
        layers.append(nn.MaxPool2d(2, 2))
    return nn.Sequential(*layers)


def _save_torchvision_ckpt(path, features, with_classifier=True):
    state = {f'features.{k}': v for k, v in features.state_dict().items()}
    if with_classifier:  # ignored by the encoder
        state['classifier.0.weight'] = torch.zeros(2, 3)
    torch.save(state, path)
    return str(path)


def test_registered_and_default_vgg16_shapes():
    encoder = MODELS.build(dict(type='VGGEncoder'))
    assert isinstance(encoder, VGGEncoder)
    assert encoder.out_channels == (64, 128, 256, 512, 512, 512)
    # 13 conv layers of VGG-16, no norm
    convs = [m for m in encoder.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 13
    assert not any(isinstance(m, nn.BatchNorm2d) for m in encoder.modules())
    with torch.no_grad():
        outs = encoder(torch.randn(1, 3, 64, 128))
    assert [tuple(o.shape)
            for o in outs] == [(1, 64, 64, 128), (1, 128, 32, 64),
                               (1, 256, 16, 32), (1, 512, 8, 16),
                               (1, 512, 4, 8), (1, 512, 2, 4)]


def test_odd_sizes_are_floored_like_max_pooling():
    encoder = VGGEncoder(**SMALL)
    with torch.no_grad():
        outs = encoder(torch.randn(1, 3, 50, 70))
    assert [tuple(o.shape[2:]) for o in outs] == [(50, 70), (25, 35), (12, 17),
                                                  (6, 8), (3, 4), (1, 2)]


def test_norm_cfg_adds_bn_and_bad_input_raises():
    encoder = VGGEncoder(norm_cfg=dict(type='BN'), **SMALL)
    bns = [m for m in encoder.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(bns) == 13
    with pytest.raises(ValueError, match=r'\(B, 3, H, W\)'):
        encoder(torch.randn(1, 4, 32, 32))
    with pytest.raises(ValueError, match='equal length'):
        VGGEncoder(num_convs=(2, 2), channels=(4, 8, 8))


def test_torchvision_key_map_of_vgg16_and_vgg16_bn():
    # conv indices of torchvision's vgg16 / vgg16_bn ``features``
    plain = VGGEncoder().torchvision_key_map()
    assert list(plain) == [
        f'features.{i}'
        for i in (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)
    ]
    assert plain['features.0'] == 'stages.0.0.conv'
    assert plain['features.28'] == 'stages.4.2.conv'
    bn = VGGEncoder(norm_cfg=dict(type='BN')).torchvision_key_map()
    assert [k for k, v in bn.items() if v.endswith('.conv')] == [
        f'features.{i}'
        for i in (0, 3, 7, 10, 14, 17, 20, 24, 27, 30, 34, 37, 40)
    ]
    assert bn['features.41'] == 'stages.4.2.bn'


def test_pretrained_torchvision_weights_reproduce_features(tmp_path):
    torch.manual_seed(0)
    features = _torchvision_features(SMALL['channels']).eval()
    ckpt = _save_torchvision_ckpt(tmp_path / 'vgg16.pth', features)
    encoder = VGGEncoder(
        init_cfg=dict(type='Pretrained', checkpoint=ckpt), **SMALL)
    encoder.init_weights()
    assert torch.equal(encoder.stages[4][2].conv.weight, features[28].weight)
    x = torch.randn(2, 3, 32, 64)
    with torch.no_grad():
        outs = encoder(x)
        # block outputs = torchvision output just before each max-pool
        expected, y = [], x
        for layer in features:
            if isinstance(layer, nn.MaxPool2d):
                expected.append(y)
            y = layer(y)
        expected.append(y)
    assert len(outs) == len(expected) == 6
    for out, exp in zip(outs, expected):
        assert torch.allclose(out, exp, atol=1e-6)


def test_pretrained_vgg16_bn_weights_include_running_stats(tmp_path):
    torch.manual_seed(0)
    features = _torchvision_features(SMALL['channels'], bn=True)
    for m in features.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
            m.weight.data.uniform_(0.5, 1.5)
    features.eval()
    ckpt = _save_torchvision_ckpt(tmp_path / 'vgg16_bn.pth', features)
    encoder = VGGEncoder(
        norm_cfg=dict(type='BN'),
        init_cfg=dict(type='Pretrained', checkpoint=ckpt),
        **SMALL)
    encoder.init_weights()
    encoder.eval()
    assert torch.equal(encoder.stages[0][1].bn.running_var,
                       features[4].running_var)
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(encoder(x)[-1], features(x), atol=1e-5)


def test_mismatched_torchvision_weights_raise(tmp_path):
    features = _torchvision_features(SMALL['channels'])
    ckpt = _save_torchvision_ckpt(tmp_path / 'vgg16.pth', features)
    # plain vgg16 weights for a BN encoder: the BN keys are missing
    encoder = VGGEncoder(
        norm_cfg=dict(type='BN'),
        init_cfg=dict(type='Pretrained', checkpoint=ckpt),
        **SMALL)
    with pytest.raises(KeyError, match='vgg16.pth'):
        encoder.init_weights()
    # wrong channels: shape mismatch names the key
    encoder = VGGEncoder(
        channels=(4, 8, 8, 16, 32),
        init_cfg=dict(type='Pretrained', checkpoint=ckpt))
    with pytest.raises(ValueError, match='features.24.weight'):
        encoder.init_weights()


def test_own_format_checkpoint_loads_through_mmengine(tmp_path):
    torch.manual_seed(0)
    source = VGGEncoder(**SMALL)
    path = tmp_path / 'own.pth'
    torch.save(dict(state_dict=source.state_dict()), path)
    encoder = VGGEncoder(
        init_cfg=dict(type='Pretrained', checkpoint=str(path)), **SMALL)
    encoder.init_weights()
    for key, value in source.state_dict().items():
        assert torch.equal(encoder.state_dict()[key], value)
