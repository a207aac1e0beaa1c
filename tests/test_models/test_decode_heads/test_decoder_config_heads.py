# Copyright (c) mmdepthseg contributors. All rights reserved.
"""``DisparityDepthHead`` and ``DecoderSegHead`` take their decoder as
config and build the same modules as the preset heads they replace."""
import pytest
import torch

from mmdepthseg.models.decode_heads import (DecoderSegHead, DisparityDepthHead,
                                            SymmetricDepthHead, UNetDepthHead)
from mmdepthseg.registry import MODELS

UNET_IN = (4, 4, 8, 8, 16)
UNET_DEC = (8, 8, 4, 4, 4)
SYM_IN = (4, 8, 8, 8, 16, 16)
SYM_DEC = (16, 8, 8, 8, 4)
SYM_CONVS = (2, 1, 1, 2, 1)


def _feats(channels, strides, seed=0, height=64, width=96):
    gen = torch.Generator().manual_seed(seed)
    return tuple(
        torch.randn(2, c, height // s, width // s, generator=gen)
        for c, s in zip(channels, strides))


def _unet_feats():
    return _feats(UNET_IN, (2, 4, 8, 16, 32))


def _sym_feats():
    return _feats(SYM_IN, (1, 2, 4, 8, 16, 32))


def _seeded(cfg):
    torch.manual_seed(0)
    head = MODELS.build(cfg)
    head.init_weights()
    return head.eval()


def _assert_same_module(old, new, old_to_new=lambda key: key):
    """Same parameter names (up to ``old_to_new``), shapes and values."""
    old_sd, new_sd = old.state_dict(), new.state_dict()
    assert [old_to_new(k) for k in old_sd] == list(new_sd)
    for key, value in old_sd.items():
        assert torch.equal(value, new_sd[old_to_new(key)]), key


UNET_DEPTH_KW = dict(num_output_scales=3, min_depth=0.5, max_depth=80.)


@pytest.mark.parametrize('in_channels_at', ['head', 'decoder'])
def test_disparity_head_on_unet_decoder_is_unet_depth_head(in_channels_at):
    decoder = dict(type='UNetDecoder', channels=UNET_DEC)
    head_kw = dict(UNET_DEPTH_KW)
    if in_channels_at == 'head':
        head_kw['in_channels'] = UNET_IN
    else:
        decoder['in_channels'] = UNET_IN
    old = _seeded(
        dict(
            type='UNetDepthHead',
            in_channels=UNET_IN,
            channels=UNET_DEC,
            **UNET_DEPTH_KW))
    new = _seeded(dict(type='DisparityDepthHead', decoder=decoder, **head_kw))
    assert type(new) is DisparityDepthHead and isinstance(old, type(new))
    _assert_same_module(old, new)
    feats = _unet_feats()
    with torch.no_grad():
        for a, b in zip(old(feats), new(feats), strict=True):
            assert torch.equal(a, b)
    # a checkpoint of one loads into the other
    new.load_state_dict(old.state_dict(), strict=True)


def test_disparity_head_on_symmetric_decoder_is_symmetric_depth_head():
    old = _seeded(
        dict(
            type='SymmetricDepthHead',
            in_channels=SYM_IN,
            channels=SYM_DEC,
            num_convs=SYM_CONVS,
            max_depth=80.))
    new = MODELS.build(
        dict(
            type='DisparityDepthHead',
            in_channels=SYM_IN,
            decoder=dict(
                type='SymmetricDecoder',
                channels=SYM_DEC,
                num_convs=SYM_CONVS),
            padding_mode='zeros',
            max_depth=80.)).eval()
    # the preset keeps its own name of the disparity conv (``disp_conv``)
    rename = {'disp_conv.weight': 'disp_convs.0.conv.weight',
              'disp_conv.bias': 'disp_convs.0.conv.bias'}
    new.load_state_dict({rename.get(k, k): v
                         for k, v in old.state_dict().items()})
    _assert_same_module(old, new, lambda key: rename.get(key, key))
    feats = _sym_feats()
    with torch.no_grad():
        torch.testing.assert_close(new(feats), old(feats), rtol=0, atol=0)


@pytest.mark.parametrize('preset', ['UNetSegHead', 'SymmetricSegHead'])
def test_decoder_seg_head_is_the_preset_seg_head(preset):
    if preset == 'UNetSegHead':
        in_channels, feats = UNET_IN, _unet_feats()
        decoder = dict(type='UNetDecoder', channels=UNET_DEC)
        extra = dict()
    else:
        in_channels, feats = SYM_IN, _sym_feats()
        decoder = dict(
            type='SymmetricDecoder', channels=SYM_DEC, num_convs=SYM_CONVS)
        extra = dict(num_convs=SYM_CONVS)
    common = dict(in_channels=in_channels, channels=4, num_classes=3)
    old = _seeded(
        dict(type=preset, decoder_channels=decoder['channels'], **extra,
             **common))
    new = _seeded(dict(type='DecoderSegHead', decoder=decoder, **common))
    assert type(new) is DecoderSegHead and isinstance(old, DecoderSegHead)
    assert new.in_index == list(range(len(in_channels)))
    _assert_same_module(old, new)
    with torch.no_grad():
        assert torch.equal(old(feats), new(feats))


def test_python_names_and_registry_names_agree():
    for name in ('UNetDepthHead', 'SymmetricDepthHead', 'UNetSegHead',
                 'SymmetricSegHead', 'DisparityDepthHead', 'DecoderSegHead',
                 'UNetDecoder', 'SymmetricDecoder'):
        assert MODELS.get(name).__name__ == name
    assert issubclass(UNetDepthHead, DisparityDepthHead)
    assert issubclass(SymmetricDepthHead, DisparityDepthHead)


def test_bad_decoder_configs_raise():
    with pytest.raises(ValueError, match=r'decoder in_channels .* differ'):
        DisparityDepthHead(
            decoder=dict(type='UNetDecoder', in_channels=UNET_IN),
            in_channels=(4, 4, 8, 8, 32))
    with pytest.raises(ValueError, match=r'num_output_scales .*\[1, 1\]'):
        DisparityDepthHead(
            decoder=dict(type='SymmetricDecoder', channels=SYM_DEC),
            in_channels=SYM_IN,
            num_output_scales=2)
    with pytest.raises(TypeError, match='not a BaseDecoder'):
        DisparityDepthHead(decoder=dict(type='DepthL1Loss'))
    with pytest.raises(TypeError, match="'type'"):
        DisparityDepthHead(decoder='UNetDecoder')
    with pytest.raises(ValueError, match=r'channels \(8\) must equal .*\(4\)'):
        DecoderSegHead(
            UNET_IN, 8, decoder=dict(type='UNetDecoder', channels=UNET_DEC))
