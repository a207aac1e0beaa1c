# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The preset heads (``UNetDepthHead``, ``UNetSegHead``,
``SymmetricDepthHead``, ``SymmetricSegHead``) keep their checkpoint layout
and their numerics.

The parameter names are the layout of the released checkpoints; the
forward passes are re-implemented here with ``torch.nn.functional`` from
the architectures' descriptions (Monodepth2's decoder: reflection-padded
3x3 convs + ELU, nearest x2 upsampling, skip concatenation, sigmoid
disparities; Pseudo-MTL's symmetric decoder: zero-padded 3x3 convs + ReLU,
nearest upsampling to the skip's size) and compared with the heads for the
same weights.
"""
import pytest
import torch
import torch.nn.functional as F

from mmdepthseg.registry import MODELS

UNET_IN = (4, 4, 8, 8, 16)
UNET_DEC = (8, 8, 4, 4, 4)
SYM_IN = (4, 8, 8, 8, 16, 16)
SYM_DEC = (16, 8, 8, 8, 4)
SYM_CONVS = (2, 1, 1, 2, 1)


def _unet_feats(seed=0, batch=2, height=64, width=96):
    gen = torch.Generator().manual_seed(seed)
    return tuple(
        torch.randn(
            batch, c, height // 2**(k + 1), width // 2**(k + 1), generator=gen)
        for k, c in enumerate(UNET_IN))


def _sym_feats(seed=0, batch=2, height=64, width=96):
    gen = torch.Generator().manual_seed(seed)
    return tuple(
        torch.randn(batch, c, height // 2**k, width // 2**k, generator=gen)
        for k, c in enumerate(SYM_IN))


def _unet_keys(prefix='decoder.'):
    keys = []
    for i in range(5):
        for conv in ('conv_in', 'conv_fuse'):
            keys += [f'{prefix}stages.{i}.{conv}.conv.{p}'
                     for p in ('weight', 'bias')]
    return keys


def _sym_keys():
    return [
        f'decoder.stages.{i}.{j}.conv.{p}' for i, n in enumerate(SYM_CONVS)
        for j in range(n) for p in ('weight', 'bias')
    ]


def _randomise(head, seed=1):
    """Weights away from their init, so that every parameter matters."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in head.parameters():
            param.copy_(0.3 * torch.randn(param.shape, generator=gen))
    return head.eval()


def _conv_reflect(x, sd, key, act):
    x = F.conv2d(F.pad(x, (1, 1, 1, 1), mode='reflect'), sd[key + '.weight'],
                 sd[key + '.bias'])
    return act(x)


def _reference_unet(sd, feats, prefix='decoder.'):
    """Monodepth2's decoder; returns the stage outputs by scale."""
    outs = {}
    x = feats[-1]
    for i in range(5):
        scale = 4 - i
        stage = f'{prefix}stages.{i}'
        x = _conv_reflect(x, sd, f'{stage}.conv_in.conv', F.elu)
        if scale > 0:
            skip = feats[scale - 1]
            x = torch.cat(
                [F.interpolate(x, size=skip.shape[2:], mode='nearest'), skip],
                1)
        else:
            x = F.interpolate(x, scale_factor=2, mode='nearest')
        x = _conv_reflect(x, sd, f'{stage}.conv_fuse.conv', F.elu)
        outs[scale] = x
    return outs


def _reference_symmetric(sd, feats):
    x = feats[-1]
    for i, (n, skip) in enumerate(zip(SYM_CONVS, feats[-2::-1])):
        x = torch.cat(
            [F.interpolate(x, size=skip.shape[2:], mode='nearest'), skip], 1)
        for j in range(n):
            key = f'decoder.stages.{i}.{j}.conv'
            x = F.relu(
                F.conv2d(
                    x, sd[key + '.weight'], sd[key + '.bias'], padding=1))
    return x


def _depth(sigma, min_depth, max_depth):
    return 1 / (1 / max_depth + (1 / min_depth - 1 / max_depth) * sigma)


def test_unet_depth_head_layout_and_numerics():
    head = MODELS.build(
        dict(
            type='UNetDepthHead',
            in_channels=UNET_IN,
            channels=UNET_DEC,
            num_output_scales=3,
            min_depth=0.5,
            max_depth=80.))
    assert list(head.state_dict()) == _unet_keys() + [
        f'disp_convs.{s}.conv.{p}' for s in range(3)
        for p in ('weight', 'bias')
    ]
    sd = _randomise(head).state_dict()
    feats = _unet_feats()
    with torch.no_grad():
        depths = head(feats)
    dec = _reference_unet(sd, feats)
    for s in range(3):
        sigma = _conv_reflect(dec[s], sd, f'disp_convs.{s}.conv',
                              torch.sigmoid)
        torch.testing.assert_close(
            depths[s], _depth(sigma, 0.5, 80.), rtol=1e-5, atol=1e-5)


def test_unet_seg_head_layout_and_numerics():
    head = MODELS.build(
        dict(
            type='UNetSegHead',
            in_channels=UNET_IN,
            channels=4,
            decoder_channels=UNET_DEC,
            num_classes=3))
    assert list(head.state_dict()) == [
        'conv_seg.weight', 'conv_seg.bias'
    ] + _unet_keys()
    sd = _randomise(head).state_dict()
    feats = _unet_feats()
    with torch.no_grad():
        logits = head(feats)
    expected = F.conv2d(
        _reference_unet(sd, feats)[0], sd['conv_seg.weight'],
        sd['conv_seg.bias'])
    torch.testing.assert_close(logits, expected, rtol=1e-5, atol=1e-5)


def test_symmetric_depth_head_layout_and_numerics():
    head = MODELS.build(
        dict(
            type='SymmetricDepthHead',
            in_channels=SYM_IN,
            channels=SYM_DEC,
            num_convs=SYM_CONVS,
            max_depth=80.))
    assert list(head.state_dict()) == _sym_keys() + [
        'disp_conv.weight', 'disp_conv.bias'
    ]
    sd = _randomise(head).state_dict()
    feats = _sym_feats()
    with torch.no_grad():
        depths = head(feats)
    sigma = torch.sigmoid(
        F.conv2d(
            _reference_symmetric(sd, feats),
            sd['disp_conv.weight'],
            sd['disp_conv.bias'],
            padding=1))
    assert len(depths) == 1
    torch.testing.assert_close(
        depths[0], _depth(sigma, 0.1, 80.), rtol=1e-5, atol=1e-5)


def test_symmetric_seg_head_layout_and_numerics():
    head = MODELS.build(
        dict(
            type='SymmetricSegHead',
            in_channels=SYM_IN,
            channels=4,
            decoder_channels=SYM_DEC,
            num_convs=SYM_CONVS,
            num_classes=3))
    assert list(head.state_dict()) == ['conv_seg.weight', 'conv_seg.bias'
                                       ] + _sym_keys()
    sd = _randomise(head).state_dict()
    feats = _sym_feats()
    with torch.no_grad():
        logits = head(feats)
    expected = F.conv2d(
        _reference_symmetric(sd, feats), sd['conv_seg.weight'],
        sd['conv_seg.bias'])
    torch.testing.assert_close(logits, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('head_type,override', [('UNetDepthHead',
                                                 'disp_convs'),
                                                ('SymmetricDepthHead',
                                                 'disp_conv')])
def test_default_init_targets_the_disparity_convs(head_type, override):
    """The ``init_cfg`` override names in configs keep finding a module."""
    cfg = dict(type=head_type, max_depth=80.)
    if head_type == 'UNetDepthHead':
        cfg.update(in_channels=UNET_IN, channels=UNET_DEC)
    else:
        cfg.update(
            in_channels=SYM_IN, channels=SYM_DEC, num_convs=SYM_CONVS)
    cfg['init_cfg'] = dict(
        type='Constant', val=0.25, bias=-4.7, override=dict(name=override))
    head = MODELS.build(cfg)
    head.init_weights()
    disp = getattr(head, override)
    weights = [m.weight for m in disp.modules() if hasattr(m, 'weight')]
    assert weights and all(torch.all(w == 0.25) for w in weights)
