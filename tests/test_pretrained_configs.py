# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Paper configs start from the papers' ImageNet weights, pinned; configs on
generated data start from random weights; offline, the error says what to
do. Nothing here touches the network (``MMDEPTHSEG_OFFLINE``)."""
import argparse
import glob
import os.path as osp
import re

import pytest
from mmengine.config import Config, DictAction

from mmdepthseg.registry import MODELS
from mmdepthseg.utils.pretrained import (OFFLINE_ENV, PRETRAINED_CHECKPOINTS,
                                         PretrainedWeightsUnavailable,
                                         cache_path)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    p for p in glob.glob(
        osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p)

#: the checkpoint each config family starts its encoders from (the papers:
#: FSRE-Depth Sec. 4.1, Pseudo-MTL Sec. 3.1, SOSD-Net Sec. 4, SemiMTL
#: Sec. 4 "Implementation Details"; see docs/en/pretrained.md)
EXPECTED = {
    'fsre/fsre_r50': dict(backbone='resnet50', pose='resnet18'),
    'fsre/': dict(backbone='resnet18', pose='resnet18'),
    'pseudo_mtl/': dict(backbone='vgg16'),
    'sosd/': dict(backbone='xception65'),
    'semimtl/': dict(backbone='resnet101_v1c'),
    'baseline/baseline_r18-unet_4xb2': dict(backbone='resnet18'),
}


def _pretrained_entries(node, where='model'):
    """Every ``Pretrained`` init_cfg / ``pretrained=`` string, by key."""
    found = []
    if isinstance(node, dict):
        init = node.get('init_cfg')
        for i, c in enumerate(init if isinstance(init, list) else [init]):
            if isinstance(c, dict) and c.get('type') == 'Pretrained':
                found.append((f'{where}.init_cfg', c))
        if isinstance(node.get('pretrained'), str):
            found.append((f'{where}.pretrained', node['pretrained']))
        for key, value in node.items():
            if key != 'init_cfg':
                found += _pretrained_entries(value, f'{where}.{key}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            found += _pretrained_entries(value, f'{where}[{i}]')
    return found


def _family(rel):
    for prefix, expected in EXPECTED.items():
        if rel.startswith(prefix):
            return expected
    return None


def _mmseg_base(path: str, tmp_path) -> Config:
    """The ``mmseg::`` config that ``path`` (or the config it inherits
    first) extends."""
    text = open(path).read()
    found = re.search(r"'(mmseg::[^']+)'", text)
    if found is None:  # e.g. a variant of another extended config
        parent = re.search(r"_base_ = \[?\s*'([^']+)'", text).group(1)
        return _mmseg_base(osp.join(osp.dirname(path), parent), tmp_path)
    shim = tmp_path / 'mmseg_base.py'
    shim.write_text(f"_base_ = '{found.group(1)}'\n")
    return Config.fromfile(str(shim))


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, ROOT))
def test_each_config_pins_its_papers_checkpoint_or_none(path, tmp_path):
    rel = osp.relpath(path, osp.join(ROOT, 'configs'))
    cfg = Config.fromfile(path)
    entries = dict(_pretrained_entries(cfg.model.to_dict()))
    if rel.startswith('synthetic/') or 'synthetic' in rel:
        # generated data: random init, nothing to download
        assert entries == {}, entries
        if cfg.model.backbone.type == 'Xception65':
            # the CPU model as before: activations inside the separable
            # convs, BN's default eps (not the paper base's TF 1e-3)
            assert cfg.model.backbone.act_in_separable_conv is True
            assert cfg.model.backbone.norm_cfg.get('eps', 1e-5) == 1e-5
        return
    if cfg.get('load_from'):
        # Pseudo-MTL stage 2: every weight comes from the merged stage 1
        assert entries == {}, entries
        return
    if rel.startswith('mmseg_extensions/'):
        # an extended mmseg config starts from what its mmseg config starts
        # from (mmseg's own checkpoint names), nothing added by us
        base_entries = dict(
            _pretrained_entries(_mmseg_base(path, tmp_path).model.to_dict()))
        assert entries == base_entries and entries, (entries, base_entries)
        return
    expected = _family(rel)
    assert expected is not None, f'{rel}: no expected checkpoint listed'
    wanted = {'model.backbone.init_cfg': expected['backbone']}
    if 'pose' in expected:
        wanted['model.pose_net.encoder.init_cfg'] = expected['pose']
    assert set(entries) == set(wanted), entries
    for key, name in wanted.items():
        spec = PRETRAINED_CHECKPOINTS[name]
        init = entries[key]
        assert (init['checkpoint'], init['sha256'], init['layout']) == \
            (spec.url, spec.sha256, spec.layout), (key, init)
    if rel.startswith('sosd/'):
        # built as the checkpoint's network was trained (TF DeepLab)
        assert cfg.model.backbone.act_in_separable_conv is False
        assert cfg.model.backbone.norm_cfg.eps == 1e-3


def _cfg_options(*options):
    """``--cfg-options`` parsed as tools/train.py parses them."""
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(['--cfg-options', *options]).cfg_options


def test_offline_fsre_tells_where_to_put_the_weights_and_how_to_skip_them(
        tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    monkeypatch.setenv(OFFLINE_ENV, '1')
    url = PRETRAINED_CHECKPOINTS['resnet18'].url
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'fsre',
                                   'fsre_r18_kitti.py'))
    with pytest.raises(PretrainedWeightsUnavailable) as err:
        MODELS.build(cfg.model).init_weights()
    msg = str(err.value)
    assert url in msg
    assert cache_path(url) in msg
    assert cache_path(url).startswith(str(tmp_path))
    assert '--cfg-options model.backbone.init_cfg=None' in msg

    # the switch it names works; the pose encoder then names its own
    cfg.merge_from_dict(_cfg_options('model.backbone.init_cfg=None'))
    with pytest.raises(PretrainedWeightsUnavailable) as err:
        MODELS.build(cfg.model).init_weights()
    assert '--cfg-options model.pose_net.encoder.init_cfg=None' in str(
        err.value)
    cfg.merge_from_dict(_cfg_options('model.pose_net.encoder.init_cfg=None'))
    MODELS.build(cfg.model).init_weights()  # random init, offline


@pytest.mark.parametrize('config,name', [
    ('pseudo_mtl/pseudo_mtl_vgg16_kitti_stage1-depth.py', 'vgg16'),
    ('sosd/sosd_xception65_cityscapes.py', 'xception65'),
    ('semimtl/semimtl_r101_cityscapes_cross-city.py', 'resnet101_v1c'),
])
def test_offline_backbones_of_the_other_papers(tmp_path, monkeypatch, config,
                                               name):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    monkeypatch.setenv(OFFLINE_ENV, '1')
    cfg = Config.fromfile(osp.join(ROOT, 'configs', config))
    backbone = cfg.model.backbone
    if backbone.get('norm_cfg', {}).get('type') == 'SyncBN':
        backbone.norm_cfg.type = 'BN'  # no process group on a CPU test
    with pytest.raises(PretrainedWeightsUnavailable) as err:
        MODELS.build(backbone).init_weights()
    url = PRETRAINED_CHECKPOINTS[name].url
    assert url in str(err.value) and cache_path(url) in str(err.value)
    assert '--cfg-options model.backbone.init_cfg=None' in str(err.value)
