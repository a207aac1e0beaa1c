# Copyright (c) mmdepthseg contributors. All rights reserved.
"""SemiMTL on two generated domains, one labelling segmentation only and
the other depth only: each domain's unlabelled task improves."""
import os.path as osp

from _helpers import REPO_ROOT
from mmengine.config import Config
from mmengine.runner import Runner

CFG = osp.join(REPO_ROOT, 'configs', 'synthetic',
               'semimtl_r18_synthcityscapes.py')


def test_semimtl_improves_the_unlabelled_task_of_each_domain(
        synthetic_semimtl, tmp_path):
    cfg = Config.fromfile(CFG)
    cfg.work_dir = str(tmp_path)
    cfg.experiment_name = 'semimtl_learns'
    for loader in ('train_dataloader', 'val_dataloader'):
        for source in cfg[loader].dataset.sources:
            source.dataset.data_root = synthetic_semimtl
        cfg[loader].num_workers = 0
        cfg[loader].persistent_workers = False
    cfg.test_dataloader = cfg.val_dataloader
    iters = 100
    cfg.train_cfg.max_iters = cfg.train_cfg.val_interval = iters
    cfg.param_scheduler.generator[0].end = iters + 1
    cfg.default_hooks.checkpoint.interval = iters
    cfg.randomness = dict(seed=0)
    runner = Runner.from_cfg(cfg)
    before = runner.val_loop.run()
    runner.train()
    after = runner.val_loop.run()
    print(f'before: {before}\nafter: {after}')
    logged = set(runner.message_hub.log_scalars)
    for term in ('loss_seg', 'loss_depth', 'loss_d_seg', 'loss_d_depth',
                 'loss_adv_intra_seg', 'loss_adv_intra_depth',
                 'loss_adv_inter_seg', 'loss_adv_inter_depth'):
        assert f'train/{term}' in logged, term
    # domain 1 never sees depth labels, domain 2 never sees segmentation
    assert after['d1/RMSE'] < 0.8 * before['d1/RMSE']
    assert after['d1/a1'] > before['d1/a1'] + 0.05
    assert after['d2/mIoU'] > before['d2/mIoU'] + 15
