# Copyright (c) mmdepthseg contributors. All rights reserved.
"""FSRE-Depth learns depth from generated monocular video alone."""
from _helpers import tiny_fsre_cfg
from mmengine.runner import Runner


def test_fsre_lowers_median_scaled_abs_rel(synthetic_kitti, tmp_path):
    cfg = tiny_fsre_cfg(synthetic_kitti, str(tmp_path), max_iters=150)
    cfg.experiment_name = 'fsre_learns'
    runner = Runner.from_cfg(cfg)
    before = runner.val_loop.run()
    runner.train()
    after = runner.val_loop.run()
    print(f'before: {before}\nafter: {after}')
    logged = set(runner.message_hub.log_scalars)
    for term in ('loss_photo', 'loss_smooth', 'loss_ce', 'loss_sgt'):
        assert f'train/{term}' in logged
    # Eigen protocol with per-image median scaling (Garg crop, 1e-3..80 m);
    # the segmentation decoder learns from the pseudo labels too
    assert after['mIoU'] > before['mIoU'] + 10
    assert after['abs_rel'] < 0.6 * before['abs_rel']
    assert after['a1'] > before['a1'] + 0.1
