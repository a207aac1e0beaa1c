# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Public ImageNet checkpoints load into the backbones key for key.

Every checkpoint here is made in the public file's layout by
``tests/_public_checkpoints.py`` (names and shapes written down from the
published architectures, not from mmdepthseg's modules) and loaded through
the backbones' ``init_cfg=dict(type='Pretrained', ...)`` with its SHA-256,
as the paper configs do.
"""
import argparse
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from _helpers import REPO_ROOT
from _public_checkpoints import (make_state, save, timm_xception65_shapes,
                                 torchvision_resnet_shapes,
                                 torchvision_vgg16_shapes)
from mmengine.config import Config, DictAction

from mmdepthseg.models.backbones import ResNetEncoder, VGGEncoder, Xception65
from mmdepthseg.models.backbones.resnet_encoder import PretrainedResNet
from mmdepthseg.models.pose import PoseNet
from mmdepthseg.registry import MODELS
from mmdepthseg.utils.pretrained import compare_state_dicts, file_sha256


def _pretrained(path, layout, **kwargs):
    return dict(
        type='Pretrained',
        checkpoint=path,
        sha256=file_sha256(path),
        layout=layout,
        **kwargs)


def _assert_fits(module, state, dropped):
    """Zero missing / unexpected / mis-shaped keys, the classifier dropped."""
    converted = module.convert_pretrained(dict(state), None)
    report = compare_state_dicts(module.state_dict(), converted.state,
                                 converted.sources)
    assert report.missing == [] and report.unexpected == [] \
        and report.mismatched == [], report
    assert converted.dropped == sorted(dropped)


def _same(a, b):
    return torch.equal(a.detach().float(), b.detach().float())


@pytest.mark.parametrize('depth', [18, 50])
def test_torchvision_resnet_loads_key_for_key(tmp_path, depth):
    state = make_state(torchvision_resnet_shapes(depth))
    path = save(state, tmp_path / f'resnet{depth}-public.pth')
    encoder = ResNetEncoder(
        depth=depth, init_cfg=_pretrained(path, 'torchvision'))
    _assert_fits(encoder, state, ['fc.weight', 'fc.bias'])
    encoder.init_weights()
    own = encoder.state_dict()
    for key in ('conv1.weight', 'bn1.running_var', 'layer1.0.conv1.weight',
                'layer3.1.bn2.bias', 'layer4.0.downsample.0.weight',
                'layer4.0.downsample.1.running_mean'):
        assert _same(own[key], state[key]), key
    if depth == 50:
        assert _same(encoder.layer2[3].conv3.weight,
                     state['layer2.3.conv3.weight'])
    # every tensor, not just the spot checks
    for key, value in state.items():
        if not key.startswith('fc.'):
            assert _same(own[key], value), key


def test_pose_encoder_gets_duplicated_and_halved_first_conv(tmp_path):
    state = make_state(torchvision_resnet_shapes(18))
    path = save(state, tmp_path / 'resnet18-public.pth')
    net = PoseNet(
        encoder=dict(
            type='ResNetEncoder',
            depth=18,
            in_channels=6,
            init_cfg=_pretrained(path, 'torchvision')))
    net.init_weights()
    w = state['conv1.weight']
    conv1 = net.encoder.conv1.weight
    assert conv1.shape == (64, 6, 7, 7)
    assert _same(conv1[:, :3], w / 2) and _same(conv1[:, 3:], w / 2)
    assert _same(net.encoder.layer2[0].downsample[0].weight,
                 state['layer2.0.downsample.0.weight'])
    # two identical frames give the ImageNet response of one
    rgb = ResNetEncoder(depth=18, init_cfg=_pretrained(path, 'torchvision'))
    rgb.init_weights()
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(
            net.encoder.conv1(torch.cat([x, x], 1)),
            rgb.conv1(x),
            rtol=1e-4,
            atol=1e-4)


def test_pose_net_pretrained_shorthand_still_works(tmp_path):
    state = make_state(torchvision_resnet_shapes(18))
    path = save(state, tmp_path / 'r18.pth', wrap=('state_dict', ))
    net = PoseNet(pretrained=path)
    net.init_weights()
    w = state['conv1.weight']
    assert _same(net.encoder.conv1.weight, torch.cat([w, w], 1) / 2)


def test_torchvision_vgg16_loads_key_for_key(tmp_path):
    state = make_state(torchvision_vgg16_shapes())
    path = save(state, tmp_path / 'vgg16-public.pth')
    encoder = VGGEncoder(init_cfg=_pretrained(path, 'torchvision'))
    _assert_fits(encoder, state, [
        f'classifier.{i}.{p}' for i in (0, 3, 6) for p in ('weight', 'bias')
    ])
    encoder.init_weights()
    checks = {
        'features.0.weight': encoder.stages[0][0].conv.weight,
        'features.2.bias': encoder.stages[0][1].conv.bias,
        'features.5.weight': encoder.stages[1][0].conv.weight,
        'features.17.weight': encoder.stages[3][0].conv.weight,
        'features.28.bias': encoder.stages[4][2].conv.bias,
    }
    for key, param in checks.items():
        assert _same(param, state[key]), key


def test_timm_xception65_loads_key_for_key(tmp_path):
    state = make_state(timm_xception65_shapes())
    path = save(state, tmp_path / 'tf_xception_65-public.pth')
    model = Xception65(
        act_in_separable_conv=False, init_cfg=_pretrained(path, 'timm'))
    _assert_fits(model, state, ['head.fc.weight', 'head.fc.bias'])
    model.init_weights()
    own = model.state_dict()
    checks = {
        'stem.0.conv.weight': 'stem.0.conv.weight',
        'stem.1.bn.running_var': 'stem.1.bn.running_var',
        'blocks.0.shortcut.conv.weight': 'entry_block1.shortcut.conv.weight',
        'blocks.1.stack.conv2.bn_pw.bias':
        'entry_block2.convs.1.pointwise_conv.bn.bias',
        'blocks.2.stack.conv3.conv_dw.weight':
        'entry_block3.convs.2.depthwise_conv.conv.weight',
        'blocks.3.stack.conv1.bn_dw.running_mean':
        'middle_flow.0.convs.0.depthwise_conv.bn.running_mean',
        'blocks.18.stack.conv3.conv_pw.weight':
        'middle_flow.15.convs.2.pointwise_conv.conv.weight',
        'blocks.19.shortcut.bn.weight': 'exit_block1.shortcut.bn.weight',
        'blocks.19.stack.conv2.conv_pw.weight':
        'exit_block1.convs.1.pointwise_conv.conv.weight',
        'blocks.20.stack.conv3.bn_pw.running_var':
        'exit_block2.convs.2.pointwise_conv.bn.running_var',
    }
    for src, dst in checks.items():
        assert _same(own[dst], state[src]), (src, dst)


def test_openmmlab_resnet101_v1c_loads_key_for_key(tmp_path):
    state = make_state(
        torchvision_resnet_shapes(101, deep_stem=True, tracked=True))
    path = save(state, tmp_path / 'resnet101_v1c-public.pth',
                wrap=('state_dict', ))
    # SemiMTL's encoder: dilated to output stride 8
    backbone = PretrainedResNet(
        depth=101,
        deep_stem=True,
        strides=(1, 2, 1, 1),
        dilations=(1, 1, 2, 4),
        contract_dilation=True,
        init_cfg=_pretrained(path, 'openmmlab'))
    _assert_fits(backbone, state, ['fc.weight', 'fc.bias'])
    backbone.init_weights()
    own = backbone.state_dict()
    for key in ('stem.0.weight', 'stem.4.running_var', 'stem.6.weight',
                'layer1.0.downsample.0.weight', 'layer3.22.conv2.weight',
                'layer4.2.bn3.bias', 'layer3.5.bn1.num_batches_tracked'):
        assert _same(own[key], state[key]), key


def _timm_reference_forward(state, x, eps):
    """timm's / TF DeepLab's aligned Xception (output stride 32), written
    from xception_aligned.py: ReLU before each separable conv of a block
    that starts with ReLU, none inside; the last block has none before and
    BN + ReLU after its depthwise and its pointwise convs."""

    def bn(x, p, relu=False):
        x = F.batch_norm(x, state[f'{p}.running_mean'],
                         state[f'{p}.running_var'], state[f'{p}.weight'],
                         state[f'{p}.bias'], False, 0., eps)
        return F.relu(x) if relu else x

    for i, stride in enumerate((2, 1)):
        x = F.conv2d(x, state[f'stem.{i}.conv.weight'], None, stride, 1)
        x = bn(x, f'stem.{i}.bn', relu=True)
    num_blocks = 1 + max(
        int(k.split('.')[1]) for k in state if k.startswith('blocks.'))
    for b in range(num_blocks):
        p = f'blocks.{b}'
        last = b == num_blocks - 1
        entry_or_exit1 = b < 3 or b == num_blocks - 2
        skip = x
        for k in range(1, 4):
            q = f'{p}.stack.conv{k}'
            stride = 2 if (entry_or_exit1 and k == 3) else 1
            if not last:
                x = F.relu(x)
            w = state[f'{q}.conv_dw.weight']
            x = F.conv2d(x, w, None, stride, 1, groups=w.shape[0])
            x = bn(x, f'{q}.bn_dw', relu=last)
            x = F.conv2d(x, state[f'{q}.conv_pw.weight'])
            x = bn(x, f'{q}.bn_pw', relu=last)
        if f'{p}.shortcut.conv.weight' in state:
            skip = F.conv2d(skip, state[f'{p}.shortcut.conv.weight'], None,
                            2)
            x = x + bn(skip, f'{p}.shortcut.bn')
        elif not last:
            x = x + skip
    return x


def test_xception_built_like_tf_deeplab_computes_the_checkpoint_network(
        tmp_path):
    """With ``act_in_separable_conv=False`` and BN eps 1e-3 the mapped timm
    weights compute timm's network; the paper-text placement does not."""
    shapes = timm_xception65_shapes(width=0.125, num_middle=2)
    state = make_state(shapes, seed=3)
    for key, value in list(state.items()):  # weights of sane magnitude
        if key.endswith('conv.weight') or '.conv_' in key:
            state[key] = (value - 1.0) * 0.5
        elif key.endswith('running_var'):
            state[key] = value + 0.5
    path = save(state, tmp_path / 'tiny_timm.pth')
    x = torch.randn(1, 3, 40, 56)
    with torch.no_grad():
        expected = _timm_reference_forward(state, x, eps=1e-3)
    outs = {}
    for placement in (False, True):
        model = Xception65(
            width_mult=0.125,
            num_middle_blocks=2,
            output_stride=32,
            norm_cfg=dict(type='BN', eps=1e-3),
            act_in_separable_conv=placement,
            init_cfg=_pretrained(path, 'timm'))
        model.init_weights()
        model.eval()
        with torch.no_grad():
            outs[placement] = model(x)[1]
    torch.testing.assert_close(outs[False], expected, rtol=1e-4, atol=1e-4)
    assert not torch.allclose(outs[True], expected, rtol=1e-2, atol=1e-2)


def test_architecture_mismatch_names_the_keys(tmp_path, caplog):
    state = make_state(timm_xception65_shapes(width=0.125, num_middle=4))
    path = save(state, tmp_path / 'xc.pth')
    cfg = _pretrained(path, 'timm')
    # 4 middle blocks in the file, 2 in the module: blocks.5/.6 unexpected
    model = Xception65(width_mult=0.125, num_middle_blocks=2, init_cfg=cfg)
    with pytest.raises(KeyError) as err:
        model.init_weights()
    msg = str(err.value)
    assert 'middle_flow.2' in msg and 'blocks.5' in msg and 'xc.pth' in msg
    assert 'model.backbone.init_cfg=None' in msg
    # strict=False: what fits is loaded, the rest logged
    model = Xception65(
        width_mult=0.125,
        num_middle_blocks=2,
        init_cfg=dict(cfg, strict=False))
    model.init_weights()
    assert _same(model.stem[0].conv.weight, state['stem.0.conv.weight'])
    assert _same(model.exit_block2.convs[2].pointwise_conv.bn.bias,
                 state['blocks.8.stack.conv3.bn_pw.bias'])


def test_a_wrong_layout_is_refused(tmp_path):
    state = make_state(torchvision_resnet_shapes(18))
    path = save(state, tmp_path / 'r18.pth')
    encoder = ResNetEncoder(
        depth=50, init_cfg=_pretrained(path, 'torchvision'))
    with pytest.raises(KeyError, match='layer1.0.conv3.weight'):
        encoder.init_weights()
    with pytest.raises(ValueError, match="unknown checkpoint layout 'timm'"):
        ResNetEncoder(
            depth=18, init_cfg=_pretrained(path, 'timm')).init_weights()


def test_semimtl_switch_to_the_torchvision_resnet101(tmp_path):
    """docs/en/pretrained.md's switch to He et al.'s 7x7-stem ResNet-101
    (torchvision's file) for SemiMTL loads key for key."""
    state = make_state(torchvision_resnet_shapes(101))
    path = save(state, tmp_path / 'resnet101-public.pth')
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'semimtl',
                 'semimtl_r101_cityscapes_cross-city.py'))
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    cfg.merge_from_dict(
        parser.parse_args([
            '--cfg-options', 'model.backbone.deep_stem=False',
            f'model.backbone.init_cfg.checkpoint={path}',
            f'model.backbone.init_cfg.sha256={file_sha256(path)}',
            'model.backbone.init_cfg.layout=torchvision'
        ]).cfg_options)
    cfg.model.backbone.norm_cfg = dict(type='BN')  # no process group here
    backbone = MODELS.build(cfg.model.backbone)
    _assert_fits(backbone, state, ['fc.weight', 'fc.bias'])
    backbone.init_weights()
    for key in ('conv1.weight', 'bn1.running_var', 'layer3.22.conv3.weight',
                'layer4.0.downsample.1.bias'):
        assert _same(backbone.state_dict()[key], state[key]), key
