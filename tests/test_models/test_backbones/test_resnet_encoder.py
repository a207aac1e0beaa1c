# Copyright (c) mmdepthseg contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F

from mmdepthseg.models.backbones import ResNetEncoder
from mmdepthseg.registry import MODELS


def _shapes(feats):
    return [tuple(f.shape) for f in feats]


def test_resnet18_returns_stem_and_four_stages():
    encoder = MODELS.build(dict(type='ResNetEncoder', depth=18))
    assert isinstance(encoder, ResNetEncoder)
    assert encoder.out_channels == (64, 64, 128, 256, 512)
    feats = encoder(torch.randn(2, 3, 64, 128))
    assert _shapes(feats) == [(2, 64, 32, 64), (2, 64, 16, 32),
                              (2, 128, 8, 16), (2, 256, 4, 8), (2, 512, 2, 4)]


def test_resnet50_channels_and_strides():
    encoder = ResNetEncoder(depth=50)
    assert encoder.out_channels == (64, 256, 512, 1024, 2048)
    with torch.no_grad():
        feats = encoder(torch.randn(1, 3, 64, 128))
    assert _shapes(feats) == [(1, 64, 32, 64), (1, 256, 16, 32),
                              (1, 512, 8, 16), (1, 1024, 4, 8),
                              (1, 2048, 2, 4)]


def test_stem_feature_is_taken_after_relu_before_maxpool():
    encoder = ResNetEncoder(depth=18).eval()
    x = torch.randn(1, 3, 64, 128)
    with torch.no_grad():
        feats = encoder(x)
        expected_stem = F.relu(encoder.bn1(encoder.conv1(x)))
        expected_layer1 = encoder.layer1(
            F.max_pool2d(expected_stem, kernel_size=3, stride=2, padding=1))
    assert torch.allclose(feats[0], expected_stem)
    assert torch.allclose(feats[1], expected_layer1)
    assert feats[0].min() >= 0


def test_deep_stem_and_six_channel_input():
    encoder = ResNetEncoder(depth=18, in_channels=6, deep_stem=True)
    feats = encoder(torch.randn(2, 6, 64, 64))
    assert _shapes(feats)[0] == (2, 64, 32, 32)
    assert _shapes(feats)[-1] == (2, 512, 2, 2)


def test_wrong_input_channels_raise_a_clear_error():
    encoder = ResNetEncoder(depth=18, in_channels=6)
    with pytest.raises(ValueError, match=r'\(B, 6, H, W\)'):
        encoder(torch.randn(1, 3, 32, 32))


def test_pretrained_weights_load_from_a_local_file(tmp_path):
    source = ResNetEncoder(depth=18)
    source.init_weights()
    with torch.no_grad():
        source.conv1.weight.uniform_(-1, 1)
    ckpt = tmp_path / 'resnet18.pth'
    torch.save(source.state_dict(), ckpt)

    target = ResNetEncoder(
        depth=18, init_cfg=dict(type='Pretrained', checkpoint=str(ckpt)))
    assert not torch.equal(target.conv1.weight, source.conv1.weight)
    target.init_weights()
    for name, value in source.state_dict().items():
        assert torch.equal(target.state_dict()[name], value), name
