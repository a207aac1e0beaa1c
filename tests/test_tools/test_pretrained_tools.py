# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The Xception-65 converter and the pretrained fetcher, offline."""
import hashlib
import importlib.util
import os.path as osp

import pytest
import torch
from _helpers import REPO_ROOT
from _public_checkpoints import make_state, save, timm_xception65_shapes

from mmdepthseg.models.backbones import Xception65
from mmdepthseg.utils import pretrained as pt


def _tool(rel):
    path = osp.join(REPO_ROOT, 'tools', rel)
    spec = importlib.util.spec_from_file_location(
        osp.splitext(osp.basename(path))[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_converter_maps_every_key_and_the_result_loads(tmp_path, capsys):
    state = make_state(timm_xception65_shapes(width=0.125, num_middle=2))
    src = save(state, tmp_path / 'tf_xception_65-tiny.pth')
    dst = str(tmp_path / 'out' / 'xception65_own.pth')
    tool = _tool('model_converters/xception65_timm2mmdepthseg.py')
    rc = tool.main([
        src, dst, '--width-mult', '0.125', '--num-middle-blocks', '2',
        '--sha256',
        hashlib.sha256(open(src, 'rb').read()).hexdigest()
    ])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert 'missing keys: 0' in out and 'unexpected keys: 0' in out
    assert "['head.fc.bias', 'head.fc.weight']" in out
    digest = pt.file_sha256(dst)
    assert digest in out
    model = Xception65(
        width_mult=0.125,
        num_middle_blocks=2,
        init_cfg=dict(
            type='Pretrained', checkpoint=dst, sha256=digest, layout='own'))
    model.init_weights()
    assert torch.equal(model.middle_flow[1].convs[0].depthwise_conv.bn.bias,
                       state['blocks.4.stack.conv1.bn_dw.bias'])
    assert torch.equal(model.exit_block1.shortcut.conv.weight,
                       state['blocks.5.shortcut.conv.weight'])


def test_converter_reports_misfits_and_writes_nothing(tmp_path, capsys):
    state = make_state(timm_xception65_shapes(width=0.125, num_middle=2))
    src = save(state, tmp_path / 'xc.pth')
    dst = tmp_path / 'out.pth'
    tool = _tool('model_converters/xception65_timm2mmdepthseg.py')
    rc = tool.main(
        [src, str(dst), '--width-mult', '0.125', '--num-middle-blocks', '3'])
    captured = capsys.readouterr()
    assert rc == 1
    # middle_flow.2: 3 x (dw conv, 4 dw BN, pw conv, 4 pw BN tensors)
    assert 'missing keys: 30' in captured.out
    assert 'middle_flow.2.convs.0.depthwise_conv.conv.weight' in captured.out
    assert 'nothing written' in captured.err
    assert not dst.exists()


def test_fetcher_lists_and_reports_offline(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    monkeypatch.setenv(pt.OFFLINE_ENV, '1')
    tool = _tool('misc/fetch_pretrained.py')
    assert tool.main(['--list']) == 0
    out = capsys.readouterr().out
    for spec in pt.PRETRAINED_CHECKPOINTS.values():
        assert spec.url in out and spec.sha256 in out
        assert pt.cache_path(spec.url) in out
    cfg = osp.join(REPO_ROOT, 'configs', 'fsre', 'fsre_r50_kitti.py')
    assert tool.main([cfg]) == 1
    err = capsys.readouterr().err
    assert pt.PRETRAINED_CHECKPOINTS['resnet50'].url in err
    assert pt.PRETRAINED_CHECKPOINTS['resnet18'].url in err  # pose encoder
    assert pt.PRETRAINED_CHECKPOINTS['vgg16'].url not in err
    with pytest.raises(SystemExit):
        tool.main(['--no-such-option'])
    assert tool.main(['no_such_checkpoint']) == 2
