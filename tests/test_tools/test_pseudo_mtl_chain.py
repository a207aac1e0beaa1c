# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Pseudo-MTL's ablations: each has its own stage-1 networks (the same
components off), run by tools/pseudo_mtl_chain.py."""
import glob
import importlib.util
import json
import os.path as osp

import pytest
import torch
from _helpers import REPO_ROOT, tiny_pseudo_mtl_cfg
from mmengine.config import Config

CHAIN = osp.join(REPO_ROOT, 'tools', 'pseudo_mtl_chain.py')
ABLATIONS = sorted(
    glob.glob(
        osp.join(REPO_ROOT, 'configs', 'pseudo_mtl', '*_ablation-*.py')))


def _chain():
    spec = importlib.util.spec_from_file_location('pseudo_mtl_chain', CHAIN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _switches(model):
    """(use_confidence, L_d,c on, L_s,c terms, warp_with, L_s,c conf)."""
    seg_cv = model.get('seg_cv_loss')
    return (model.use_confidence, bool(model.get('depth_cv_loss')),
            tuple(seg_cv.get('terms', ('lr', 'l', 'r'))) if seg_cv else (),
            seg_cv.get('warp_with') if seg_cv else None,
            seg_cv.get('use_confidence') if seg_cv else None)


# Tables 4 and 5, row by row: (use_confidence, L_d,c, L_s,c terms, b,
# confidence in L_s,c) -> config suffix ('' = the method)
TABLE_ROWS = {
    (False, False, (), None, None): 'ablation-baseline',
    (False, False, ('lr', ), 'pred', False): 'ablation-warp-pred-seg-lr',
    (False, False, ('l', 'r'), 'pred', False): 'ablation-warp-pred-seg-l-r',
    (False, False, ('lr', 'l', 'r'), 'pred', False): 'ablation-warp-pred',
    (False, False, ('lr', ), 'pseudo', False): 'ablation-no-conf-seg-lr',
    (False, False, ('l', 'r'), 'pseudo', False): 'ablation-no-conf-seg-l-r',
    (False, False, ('lr', 'l', 'r'), 'pseudo', False): 'ablation-no-conf',
    (True, False, (), None, None): 'ablation-conf-only',
    (True, False, ('lr', ), 'pseudo', True): 'ablation-seg-lr',
    (True, False, ('l', 'r'), 'pseudo', True): 'ablation-seg-l-r',
    (True, False, ('lr', 'l', 'r'), 'pseudo', True): 'ablation-no-depth-cv',
    (True, True, (), None, None): 'ablation-depth-cv-only',
    (True, True, ('lr', 'l', 'r'), 'pseudo', True): '',
}


@pytest.mark.parametrize('dataset', ['kitti', 'cityscapes'])
def test_every_row_of_tables_4_and_5_has_a_config(dataset):
    for switches, suffix in TABLE_ROWS.items():
        name = f'pseudo_mtl_vgg16_{dataset}' + (f'_{suffix}'
                                                if suffix else '')
        cfg = Config.fromfile(
            osp.join(REPO_ROOT, 'configs', 'pseudo_mtl', name + '.py'))
        assert _switches(cfg.model) == switches, name
        if suffix:  # its own stage-1 networks, merged by the chain
            assert cfg.load_from == f'work_dirs/{name}/stage1-merged.pth'


@pytest.mark.parametrize(
    'path', ABLATIONS, ids=lambda p: osp.basename(p)[:-3])
def test_stage1_networks_switch_off_what_the_ablation_does(path):
    chain = _chain()
    cfg = Config.fromfile(path)
    schedule = Config.fromfile(chain.STAGE1_SCHEDULE)
    depth = chain.derive_stage1(cfg, 'depth', schedule)
    seg = chain.derive_stage1(cfg, 'seg', schedule)
    assert depth.model.seg_head is None and seg.model.depth_head is None
    assert depth.load_from is None and seg.load_from is None
    # the depth network: the ablation's L_d (confidence or not) and L_d,c
    assert depth.model.use_confidence == cfg.model.use_confidence
    assert depth.model.depth_cv_loss == cfg.model.depth_cv_loss
    # the segmentation network: the ablation's L_s,c; b = d_i needs a
    # predicted depth, which a segmentation-only network lacks
    seg_cv = cfg.model.seg_cv_loss
    if seg_cv and seg_cv.warp_with == 'pred':
        assert seg.model.seg_cv_loss is None
    else:
        assert seg.model.seg_cv_loss == seg_cv
    # stage-1 schedule: 30 epochs, Adam 1e-4, no decay (Sec. 4.2)
    for sub in (depth, seg):
        assert sub.optim_wrapper.optimizer.lr == 1e-4
        assert sub.train_cfg.max_epochs == 30 and sub.param_scheduler == []
    assert cfg.optim_wrapper.optimizer.lr == 1e-5


@pytest.mark.slow
def test_chain_runs_stage1_merge_stage2_and_resumes(
        synthetic_kitti_pseudo, tmp_path):
    """b = d_i ablation on generated KITTI: stage-1 depth and segmentation
    networks (2 iterations each), merge, stage 2 from the merged weights;
    a second run reuses every step."""
    chain = _chain()
    work = str(tmp_path / 'abl')
    cfg = tiny_pseudo_mtl_cfg(synthetic_kitti_pseudo, work, max_iters=2)
    cfg.model.update(
        use_confidence=False,
        depth_cv_loss=None,
        seg_cv_loss=dict(
            type='CrossViewSegConsistencyLoss',
            warp_with='pred',
            use_confidence=False))
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.train_cfg.pop('val_interval')
    cfg.load_from = str(tmp_path / 'merged' / 'init.pth')
    cfg_path = str(tmp_path / 'ablation.py')
    cfg.dump(cfg_path)
    res = chain.main(
        [cfg_path, '--work-dir', work, '--stage1-schedule', 'none'])
    dumped = {
        k: Config.fromfile(osp.join(work, k, k + '.py'))
        for k in ('stage1-depth', 'stage1-seg')
    }
    assert dumped['stage1-depth'].model.seg_head is None
    assert dumped['stage1-depth'].model.use_confidence is False
    assert dumped['stage1-seg'].model.depth_head is None
    assert dumped['stage1-seg'].model.seg_cv_loss is None
    assert res['merge'] == cfg.load_from

    def state(path):
        return torch.load(path, map_location='cpu')['state_dict']

    merged = state(res['merge'])
    depth_net, seg_net = state(res['stage1-depth']), state(res['stage1-seg'])
    for key, value in merged.items():
        src = seg_net if key.startswith('seg_head.') else depth_net
        assert torch.equal(value, src[key]), key
    assert any(k.startswith('backbone.') for k in merged)
    # stage 2 started from the merged weights
    assert osp.exists(res['stage2']) and osp.dirname(res['stage2']) == work
    logs = glob.glob(osp.join(work, '*', '*.log'))
    assert any(f'Load checkpoint from {cfg.load_from}' in open(p).read()
               for p in logs)
    for step in ('stage1-depth', 'stage1-seg'):
        with open(osp.join(work, step, 'chain_done.json')) as f:
            assert json.load(f)['checkpoint'] == res[step]
    again = chain.main(
        [cfg_path, '--work-dir', work, '--stage1-schedule', 'none'])
    assert again == res
