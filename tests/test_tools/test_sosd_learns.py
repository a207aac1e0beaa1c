# Copyright (c) mmdepthseg contributors. All rights reserved.
"""ESOSD-Net (SOSD-Net + EM alternation) learns segmentation and disparity
on generated Cityscapes-layout scenes."""
import os.path as osp

from _helpers import REPO_ROOT, tiny_baseline_cfg
from mmengine.config import Config
from mmengine.runner import Runner

ESOSD_CFG = osp.join(REPO_ROOT, 'configs', 'synthetic',
                     'esosd_xception65_synthcityscapes.py')


def test_esosd_alternates_and_improves(synthetic_cityscapes, tmp_path):
    cfg = tiny_baseline_cfg(synthetic_cityscapes, str(tmp_path), max_iters=80)
    esosd = Config.fromfile(ESOSD_CFG)
    for key in ('model', 'custom_hooks', 'optim_wrapper'):
        cfg[key] = esosd[key]
    cfg.param_scheduler = []
    cfg.experiment_name = 'esosd_learns'
    runner = Runner.from_cfg(cfg)
    before = runner.val_loop.run()
    runner.train()
    after = runner.val_loop.run()
    print(f'before: {before}\nafter: {after}')
    history = runner.message_hub.get_scalar('train/em_phase').data[0]
    # one phase per iteration: depth (0) and semantic (1) alternate
    assert set(history[-10:].tolist()) == {0, 1}
    assert after['mIoU'] > before['mIoU'] + 10
    assert after['disp_err'] < 0.5 * before['disp_err']
    assert after['abs_rel'] < 0.5 * before['abs_rel']
