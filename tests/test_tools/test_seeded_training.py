# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Every config is seeded (configs/_base_/default_runtime.py): two identical
training runs on one machine give identical weights and losses."""
import glob
import json
import os.path as osp
import uuid

import torch
from _helpers import BASELINE_CFG, tiny_baseline_cfg
from mmengine.config import Config

from mmdepthseg.utils.console import build_runner


def _train(data_root, work_dir):
    cfg = tiny_baseline_cfg(data_root, work_dir, max_iters=3, batch_size=2)
    # the config's own randomness (the helper seeds on its own)
    cfg.randomness = Config.fromfile(BASELINE_CFG).randomness
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = 3
    cfg.experiment_name = f'seeded_{uuid.uuid4().hex}'
    cfg.visualizer.name = f'seeded_{uuid.uuid4().hex}'
    build_runner(cfg).train()
    state = torch.load(osp.join(work_dir, 'iter_3.pth'),
                       map_location='cpu')['state_dict']
    scalars = glob.glob(
        osp.join(work_dir, '*', 'vis_data', 'scalars.json'))[0]
    with open(scalars) as f:
        losses = [json.loads(line).get('loss') for line in f]
    return state, losses


def test_two_identical_runs_give_identical_numbers(synthetic_cityscapes,
                                                   tmp_path):
    assert Config.fromfile(BASELINE_CFG).randomness.seed is not None
    state_a, losses_a = _train(synthetic_cityscapes, str(tmp_path / 'a'))
    state_b, losses_b = _train(synthetic_cityscapes, str(tmp_path / 'b'))
    assert len(losses_a) == 3 and losses_a == losses_b
    assert state_a.keys() == state_b.keys()
    for key in state_a:
        assert torch.equal(state_a[key], state_b[key]), key
