# Copyright (c) mmdepthseg contributors. All rights reserved.
import pytest
import torch
import torch.nn as nn

from mmdepthseg.models.decoders import UNetDecoder

ENC_CHANNELS = (64, 64, 128, 256, 512)


def _encoder_feats(batch=2, height=64, width=128, channels=ENC_CHANNELS):
    """Random features at strides 2..32, as a ResNet encoder returns."""
    return [
        torch.randn(batch, c, height // 2**(k + 1), width // 2**(k + 1))
        for k, c in enumerate(channels)
    ]


def test_outputs_are_indexed_by_scale():
    decoder = UNetDecoder(ENC_CHANNELS)
    outs = decoder(_encoder_feats())
    assert [tuple(o.shape) for o in outs] == [(2, 16, 64, 128),
                                              (2, 32, 32, 64), (2, 64, 16, 32),
                                              (2, 128, 8, 16), (2, 256, 4, 8)]
    assert [decoder.out_channels_at(s) for s in range(5)] == \
        [16, 32, 64, 128, 256]


def test_stages_run_coarse_to_fine_with_monodepth2_skips():
    decoder = UNetDecoder(ENC_CHANNELS)
    assert [stage.scale for stage in decoder.stages] == [4, 3, 2, 1, 0]
    # scale s concatenates encoder feature s-1; scale 0 has no skip
    assert [stage.skip_channels for stage in decoder.stages] == \
        [256, 128, 64, 64, 0]
    fuse_in = [stage.conv_fuse.conv.in_channels for stage in decoder.stages]
    assert fuse_in == [256 + 256, 128 + 128, 64 + 64, 32 + 64, 16]
    first = decoder.stages[0]
    assert first.conv_in.conv.in_channels == 512
    # 3x3 convs with reflection padding and ELU by default
    assert isinstance(first.conv_in.padding_layer, nn.ReflectionPad2d)
    assert first.conv_in.conv.kernel_size == (3, 3)
    assert isinstance(first.conv_in.activate, nn.ELU)


def test_stage_upsamples_by_nearest_neighbour():
    decoder = UNetDecoder(ENC_CHANNELS).eval()
    stage = decoder.stages[-1]  # scale 0: no skip, pure x2 upsampling
    x = torch.randn(1, 32, 4, 6)
    with torch.no_grad():
        y = stage.conv_in(x)
        expected = stage.conv_fuse(
            y.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3))
        assert torch.allclose(stage(x), expected)


def test_custom_channels_and_norm():
    decoder = UNetDecoder((8, 8, 16),
                          channels=(32, 16, 4),
                          norm_cfg=dict(type='BN'))
    outs = decoder(_encoder_feats(1, 32, 32, (8, 8, 16)))
    assert [tuple(o.shape) for o in outs] == [(1, 4, 32, 32), (1, 16, 16, 16),
                                              (1, 32, 8, 8)]


def test_bad_configuration_and_inputs_raise():
    with pytest.raises(ValueError, match='same length'):
        UNetDecoder(ENC_CHANNELS, channels=(256, 128))
    decoder = UNetDecoder(ENC_CHANNELS)
    with pytest.raises(ValueError, match='expects 5 encoder features'):
        decoder(_encoder_feats()[:4])
    with pytest.raises(ValueError, match='skip'):
        decoder.stages[0](torch.randn(1, 512, 2, 2))
