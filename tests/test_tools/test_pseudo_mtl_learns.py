# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Pseudo-MTL learns metric depth and segmentation from stereo pseudo
labels alone (SGBM depth + confidence, generated label trees)."""
from _helpers import tiny_pseudo_mtl_cfg
from mmengine.runner import Runner


def test_pseudo_mtl_improves_depth_and_miou(synthetic_kitti_pseudo, tmp_path):
    cfg = tiny_pseudo_mtl_cfg(
        synthetic_kitti_pseudo, str(tmp_path), max_iters=80)
    cfg.experiment_name = 'pseudo_mtl_learns'
    runner = Runner.from_cfg(cfg)
    before = runner.val_loop.run()
    runner.train()
    after = runner.val_loop.run()
    print(f'before: {before}\nafter: {after}')
    # every term of Eq. 11 is logged
    logged = set(runner.message_hub.log_scalars)
    terms = ['loss_depth_conf', 'loss_ce'] + [
        f'loss_{task}_cv_{t}' for task in ('depth', 'seg')
        for t in ('lr', 'l', 'r')
    ]
    for term in terms:
        assert f'train/{term}' in logged, term
    # metric depth against the exact velodyne-style ground truth (no median
    # scaling: stereo pseudo depth carries the scale) and true labels
    assert after['abs_rel'] < 0.7 * before['abs_rel']
    assert after['a1'] > before['a1'] + 0.1
    assert after['mIoU'] > before['mIoU'] + 10
