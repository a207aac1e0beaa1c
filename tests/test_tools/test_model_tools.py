# Copyright (c) mmdepthseg contributors. All rights reserved.
"""publish_model.py, print_config.py and get_flops.py."""
import glob
import hashlib
import importlib.util
import os.path as osp

import torch
from _helpers import BASELINE_CFG, REPO_ROOT
from mmengine.config import Config


def _load_tool(*parts):
    path = osp.join(REPO_ROOT, 'tools', *parts)
    spec = importlib.util.spec_from_file_location(
        f'tool_{parts[-1][:-3]}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_publish_model_strips_training_state_and_names_the_file_by_hash(
        tmp_path):
    checkpoint = dict(
        meta=dict(dataset_meta=dict(classes=['a', 'b']), iter=2),
        state_dict={'w': torch.arange(4.)},
        optimizer=dict(state={0: dict(step=torch.tensor(2.))},
                       param_groups=[dict(lr=0.1, params=[0])]),
        param_schedulers=[dict(last_step=2)])
    in_file = str(tmp_path / 'iter_2.pth')
    torch.save(checkpoint, in_file)
    tool = _load_tool('model_converters', 'publish_model.py')
    final = tool.main([in_file, str(tmp_path / 'baseline.pth')])
    with open(final, 'rb') as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    assert final == str(tmp_path / f'baseline-{sha[:8]}.pth')
    published = torch.load(final, map_location='cpu')
    assert set(published) == {'meta', 'state_dict'}
    assert torch.equal(published['state_dict']['w'], torch.arange(4.))
    assert published['meta']['dataset_meta']['classes'] == ['a', 'b']
    # nothing half-written left behind
    assert sorted(glob.glob(str(tmp_path / '*'))) == sorted([final, in_file])


def test_print_config_moves_the_data_and_dumps(tmp_path, capsys):
    tool = _load_tool('misc', 'print_config.py')
    dump = str(tmp_path / 'cfg.py')
    cfg = tool.main([
        BASELINE_CFG, '--data-root', '/data/gen', '--cfg-options',
        'train_cfg.max_iters=7', '--dump', dump
    ])
    assert cfg.train_dataloader.dataset.data_root == '/data/gen'
    assert 'Config:' in capsys.readouterr().out
    dumped = Config.fromfile(dump)
    assert dumped.test_dataloader.dataset.data_root == '/data/gen'
    assert dumped.train_cfg.max_iters == 7


def test_get_flops_grows_with_the_pixels_and_counts_parameters():
    tool = _load_tool('analysis_tools', 'get_flops.py')
    cfg = Config.fromfile(BASELINE_CFG)
    small = tool.get_flops(cfg, (64, 64))
    large = tool.get_flops(cfg, (64, 128))
    # a fully convolutional network: every feature map doubles in width
    assert large['flops'] == 2 * small['flops']
    assert small['params'] == large['params'] > 10_000_000
    assert set(small['modules']) >= {'backbone', 'seg_head', 'depth_head'}
    assert tool.input_shape([32], cfg) == (32, 32)
    assert tool.input_shape(None, cfg) == tuple(cfg.crop_size)
