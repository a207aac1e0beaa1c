# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The decoder interface heads rely on: outputs by scale, finest first."""
import pytest
import torch

from mmdepthseg.models.decoders import (BaseDecoder, SymmetricDecoder,
                                        UNetDecoder, build_decoder)


def _feats(channels, strides, height=64, width=96):
    gen = torch.Generator().manual_seed(0)
    return [
        torch.randn(1, c, height // s, width // s, generator=gen)
        for c, s in zip(channels, strides)
    ]


def test_unet_decoder_outputs_by_scale():
    decoder = UNetDecoder((4, 4, 8, 8, 16), channels=(8, 8, 4, 4, 2))
    feats = _feats((4, 4, 8, 8, 16), (2, 4, 8, 16, 32))
    outs = decoder.forward_scales(feats)
    assert decoder.num_scales == 5
    assert [o.shape[1] for o in outs] == [
        decoder.out_channels_at(s) for s in range(5)
    ] == [2, 4, 4, 8, 8]
    assert [o.shape[2] for o in outs] == [64, 32, 16, 8, 4]
    for a, b in zip(outs, decoder(feats), strict=True):
        assert torch.equal(a, b)


def test_symmetric_decoder_has_one_output_scale():
    decoder = SymmetricDecoder((4, 8, 8), channels=(8, 4), num_convs=(1, 1))
    feats = _feats((4, 8, 8), (1, 2, 4))
    outs = decoder.forward_scales(feats)
    assert decoder.num_scales == 1 and len(outs) == 1
    assert torch.equal(outs[0], decoder(feats))
    assert outs[0].shape == (1, decoder.out_channels_at(0), 64, 96)
    with pytest.raises(ValueError, match='one output scale'):
        decoder.out_channels_at(1)


def test_build_decoder_fills_in_channels_without_touching_the_config():
    cfg = dict(type='UNetDecoder', channels=(8, 8, 4, 4, 2))
    decoder = build_decoder(cfg, (4, 4, 8, 8, 16), 'Owner')
    assert isinstance(decoder, BaseDecoder)
    assert decoder.in_channels == (4, 4, 8, 8, 16)
    assert 'in_channels' not in cfg
    with pytest.raises(ValueError, match=r'Owner: decoder in_channels'):
        build_decoder(
            dict(cfg, in_channels=(4, 4, 8, 8, 8)), (4, 4, 8, 8, 16), 'Owner')


def test_old_import_paths_name_the_same_classes():
    from mmdepthseg.models import UNetDecoder as from_models
    from mmdepthseg.models.decode_heads import SymmetricDecoder as old_sym
    from mmdepthseg.models.decode_heads import UNetDecoder as old_unet
    from mmdepthseg.models.decode_heads.unet_decoder import UNetDecoderStage
    from mmdepthseg.models.decode_heads.vgg_decoder import \
        SymmetricDecoder as older_sym
    from mmdepthseg.models.decoders import UNetDecoderStage as stage
    assert old_unet is from_models is UNetDecoder
    assert old_sym is older_sym is SymmetricDecoder
    assert UNetDecoderStage is stage
