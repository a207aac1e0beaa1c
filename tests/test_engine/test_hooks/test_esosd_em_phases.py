# Copyright (c) mmdepthseg contributors. All rights reserved.
"""ESOSD-Net's EM phases (SOSD-Net Algorithm 1) on the real model: in a
phase the other task's whole branch, parameters and BatchNorm buffers, is
fixed."""
import glob
import os.path as osp
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmdepthseg.registry import HOOKS, MODELS

ROOT = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
ESOSD_CFG = osp.join(ROOT, 'configs', 'synthetic',
                     'esosd_xception65_synthcityscapes.py')
H, W = 32, 64

# The partition of Algorithm 1, written from the paper (Sec. 3.3): θ^com
# (backbone, trained in both phases with the merged gradient of Eq. 5) and
# what is shared by both tasks' units; the depth phase's θ^dep, θ^3d, θ^2d
# (Fig. 6: depth refinement + depth feature + depth conv, the ΔXΔY latent
# on the common representation, the (ΔuΔv)^-1 latent on the semantic
# feature); the semantic phase's θ^sem, θ^3d, θ^{d^-2} (Fig. 7: semantic
# refinement + semantic feature + classifier, the 64-32 latents on the
# common representation and on the depth feature, their 1x1 fusion).
SHARED = ('backbone', 'neck', 'decode_head.decoder.common')
DEPTH = ('decode_head.decoder.refine.depth', 'decode_head.depth_branch',
         'decode_head.obj_3d', 'decode_head.obj_2d')
SEG = ('decode_head.decoder.refine.seg', 'decode_head.seg_branch',
       'decode_head.obj_inv_depth')
GROUPS = dict(shared=SHARED, depth=DEPTH, seg=SEG)


def _group(name: str) -> str:
    found = [
        group for group, prefixes in GROUPS.items()
        if any(name == p or name.startswith(p + '.') for p in prefixes)
    ]
    assert len(found) == 1, (name, found)
    return found[0]


def _model_and_hook():
    cfg = Config.fromfile(ESOSD_CFG)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    hook_cfgs = [h for h in cfg.custom_hooks if h.type == 'EMAlternatingHook']
    assert len(hook_cfgs) == 1
    return model, HOOKS.build(hook_cfgs[0])


def _batch(num_classes: int, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    inputs = torch.randn(2, 3, H, W, generator=gen)
    samples = []
    for _ in range(2):
        s = SegDataSample(
            metainfo=dict(
                img_shape=(H, W),
                ori_shape=(H, W),
                intrinsics=np.array([[50., 0, W / 2], [0, 50., H /
                                                       2], [0, 0, 1]],
                                    dtype=np.float32),
                baseline=0.5))
        s.gt_depth_map = PixelData(data=2. +
                                   8. * torch.rand(1, H, W, generator=gen))
        s.gt_sem_seg = PixelData(
            data=torch.randint(0, num_classes, (1, H, W), generator=gen))
        samples.append(s)
    return inputs, samples


def _state(model):
    params = {n: p.detach().clone() for n, p in model.named_parameters()}
    buffers = {n: b.detach().clone() for n, b in model.named_buffers()}
    return params, buffers


def test_every_parameter_belongs_to_exactly_one_phase_group():
    model, hook = _model_and_hook()
    names = [n for n, _ in model.named_parameters()]
    groups = {n: _group(n) for n in names}
    for group in GROUPS:
        assert group in groups.values(), group
    # the refine convs, the crux of "the whole branch"
    assert groups['decode_head.decoder.refine.seg.conv.weight'] == 'seg'
    assert groups['decode_head.decoder.refine.depth.conv.weight'] == 'depth'
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    runner = _fake_runner(model, optimizer)
    hook.before_train(runner)
    expected = dict(depth={'shared', 'depth'}, semantic={'shared', 'seg'})
    for phase in hook.phases:
        hook.before_train_iter(runner, 0)
        trainable = {n for n, p in model.named_parameters() if p.requires_grad}
        want = {n for n in names if groups[n] in expected[phase.name]}
        assert trainable == want, phase.name
        hook.after_train_iter(runner, 0)
    hook.after_train(runner)


def test_every_esosd_config_uses_the_same_phases():
    reference = Config.fromfile(ESOSD_CFG).custom_hooks
    paths = glob.glob(osp.join(ROOT, 'configs', 'sosd', 'esosd_*.py'))
    assert len(paths) == 2
    for path in paths:
        assert Config.fromfile(path).custom_hooks == reference, path


def _fake_runner(model, optimizer):
    return SimpleNamespace(
        model=model,
        optim_wrapper=OptimWrapper(optimizer),
        hooks=[],
        train_loop=None,
        iter=0,
        epoch=0,
        message_hub=MessageHub.get_instance('esosd_phase_test'))


@pytest.mark.parametrize('freeze_norm_stats', [True, False])
def test_a_phase_leaves_the_other_branch_bit_identical(freeze_norm_stats):
    """Three real Adam steps (depth, semantic, depth): every
    parameter and buffer of the other task's branch is bit-identical; the
    phase's own parameters train and its BatchNorm statistics move."""
    model, hook = _model_and_hook()
    hook.freeze_norm_stats = freeze_norm_stats
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    runner = _fake_runner(model, optimizer)
    inputs, samples = _batch(model.decode_head.num_classes)
    buffer_owner = {n: n.rsplit('.', 1)[0] for n, _ in model.named_buffers()}
    hook.before_train(runner)
    for step, phase in enumerate(['depth', 'seg', 'depth']):
        model.train()  # as the train loop does before every iteration
        hook.before_train_iter(runner, step)
        assert model.active_tasks == (phase, )
        frozen = 'seg' if phase == 'depth' else 'depth'
        params, buffers = _state(model)
        losses = model.loss(inputs, samples)
        loss = sum(v for k, v in losses.items() if k.startswith('loss'))
        optimizer.zero_grad()
        loss.backward()
        grads = {
            n: p.grad is not None and bool(p.grad.abs().sum() > 0)
            for n, p in model.named_parameters()
        }
        optimizer.step()
        hook.after_train_iter(runner, step)
        after_params, after_buffers = _state(model)

        for name, before in params.items():
            group = _group(name)
            if group == frozen:
                assert torch.equal(before, after_params[name]), (phase, name)
            elif grads[name]:
                assert not torch.equal(before, after_params[name]), name
        # the refine conv of the phase's own task is trained by its loss
        assert grads[f'decode_head.decoder.refine.{phase}.conv.weight']

        changed = {
            _group(buffer_owner[n] + '.weight')
            for n, b in buffers.items()
            if not torch.equal(b, after_buffers[n])
        }
        if freeze_norm_stats:
            assert frozen not in changed, (phase, changed)
        else:  # the documented difference: the frozen branch's statistics
            assert frozen in changed, (phase, changed)
        assert {'shared', phase} <= changed, (phase, changed)
    hook.after_train(runner)
    # every module back in training mode after training
    assert all(m.training for m in model.modules())
