# Copyright (c) mmdepthseg contributors. All rights reserved.
import pytest
import torch
import torch.nn as nn

from mmdepthseg.models.decode_heads.sosd_head import SOSDHead, safe_sqrt
from mmdepthseg.registry import MODELS

NUM_CLASSES = 3
LOW, GLOBAL = 6, 8
H, W = 8, 16  # stride 4


def _head(**kwargs):
    cfg = dict(
        type='SOSDHead',
        in_channels=(LOW, GLOBAL),
        num_classes=NUM_CLASSES,
        refine_channels=4,
        common_channels=8,
        seg_channels=8,
        depth_channels=(8, 6),
        inv_depth_channels=(6, 4),
        cue_channels=4)
    cfg.update(kwargs)
    torch.manual_seed(0)
    head = MODELS.build(cfg)
    head.init_weights()
    return head


def _feats(batch=2):
    gen = torch.Generator().manual_seed(1)
    return (torch.randn(batch, LOW, H, W, generator=gen),
            torch.randn(batch, GLOBAL, H // 4, W // 4, generator=gen))


def _top_level(head):
    return {name for name, _ in head.named_children()}


class _Const(nn.Module):
    """Stands in for a sub-branch: a constant map with the input's size."""

    def __init__(self, value, channels=1):
        super().__init__()
        self.value, self.channels = value, channels

    def forward(self, x, *args):
        return x.new_full((x.shape[0], self.channels, *x.shape[2:]),
                          self.value)


def test_outputs_are_at_the_low_level_stride():
    head = _head()
    assert isinstance(head, SOSDHead)
    out = head(_feats())
    assert out['depth'].shape == (2, 1, H, W)
    assert out['seg'].shape == (2, NUM_CLASSES, H, W)
    assert torch.isfinite(out['depth']).all()


def test_full_model_builds_every_unit_with_the_figure_widths():
    head = _head(
        refine_channels=48,
        common_channels=256,
        seg_channels=256,
        depth_channels=(256, 64),
        inv_depth_channels=(64, 32),
        cue_channels=32)
    assert _top_level(head) == {
        'decoder', 'seg_branch', 'depth_branch', 'obj_3d', 'obj_2d',
        'obj_inv_depth'
    }
    # Fig. 5: 48-channel 1x1 refinements, 256 common, 256 semantic, 256+64
    # depth; Fig. 6: 2 then 1 channels, 1-channel 5x5 depth conv; Fig. 7:
    # 64 then 32 channels, 1x1 32-channel cue, 3x3 classifier
    assert set(head.decoder.refine) == {'depth', 'seg'}
    assert head.decoder.refine['seg'].conv.out_channels == 48
    assert head.decoder.common.conv.out_channels == 256
    assert head.seg_branch['feature'].conv.out_channels == 256
    assert [m.conv.out_channels
            for m in head.depth_branch['feature']] == [256, 64]
    for latent in (head.obj_3d, head.obj_2d):
        assert [m.conv.out_channels for m in latent.convs] == [2, 1]
        assert all(m.with_norm for m in latent.convs)
    assert head.depth_branch['conv_depth'].in_channels == 64 + 1
    assert head.depth_branch['conv_depth'].kernel_size == (5, 5)
    cue = head.obj_inv_depth
    for stack in (cue.depth_convs, cue.common_convs):
        assert [m.conv.out_channels for m in stack] == [64, 32]
    assert cue.fuse.conv.kernel_size == (1, 1)
    assert cue.fuse.conv.out_channels == 32
    assert head.seg_branch['conv_seg'].in_channels == 256 + 32
    assert head.seg_branch['conv_seg'].kernel_size == (3, 3)


def test_mtl_baseline_has_no_objectness_units():
    head = _head(semantic_to_depth=False, depth_to_semantic=False)
    assert _top_level(head) == {'decoder', 'seg_branch', 'depth_branch'}
    assert head.decoder.common is None
    assert head.depth_branch['conv_depth'].in_channels == 6
    assert head.seg_branch['conv_seg'].in_channels == 8
    out = head(_feats())
    assert out['depth'].shape == (2, 1, H, W)
    assert out['seg'].shape == (2, NUM_CLASSES, H, W)


@pytest.mark.parametrize('s2d,d2s,units', [
    (True, False, {'obj_3d', 'obj_2d'}),
    (False, True, {'obj_inv_depth'}),
])
def test_each_cross_task_unit_can_be_switched_alone(s2d, d2s, units):
    head = _head(semantic_to_depth=s2d, depth_to_semantic=d2s)
    assert _top_level(head) == {'decoder', 'seg_branch', 'depth_branch'
                                } | units
    out = head(_feats())
    assert out['depth'].shape == (2, 1, H, W)
    assert out['seg'].shape == (2, NUM_CLASSES, H, W)


@pytest.mark.parametrize('task,other,branch',
                         [('seg', 'depth', 'seg_branch'),
                          ('depth', 'seg', 'depth_branch')])
def test_single_task_heads_build_only_what_they_need(task, other, branch):
    head = _head(
        tasks=(task, ), semantic_to_depth=False, depth_to_semantic=False)
    assert head.tasks == (task, )
    assert _top_level(head) == {'decoder', branch}
    assert set(head.decoder.refine) == {task}
    assert head.decoder.common is None
    assert not any(other in name for name, _ in head.named_parameters())
    out = head(_feats())
    assert out[other] is None
    assert out[task].shape[-2:] == (H, W)
    with pytest.raises(ValueError, match='cannot compute'):
        head(_feats(), tasks=(other, ))


def test_bad_configs_and_inputs_raise():
    with pytest.raises(ValueError, match='needs both False'):
        _head(tasks=('seg', ))
    with pytest.raises(ValueError, match='distinct entries'):
        _head(tasks=('seg', 'normals'))
    with pytest.raises(ValueError, match='distinct entries'):
        _head(tasks=())
    head = _head()
    low, glob = _feats()
    with pytest.raises(ValueError, match=r'channels \(6, 7\)'):
        head((low, glob[:, :7]))
    with pytest.raises(ValueError, match='low_level, global_feature'):
        head(low)


def test_safe_sqrt_is_finite_with_finite_gradient_at_zero():
    eps = 1e-6
    x = torch.tensor([0., -1., 4.], requires_grad=True)
    y = safe_sqrt(x, eps)
    y.sum().backward()
    torch.testing.assert_close(
        y.detach(), torch.tensor([eps**0.5, eps**0.5, (4 + eps)**0.5]))
    # d/dx sqrt(x + eps) = 1 / (2 sqrt(x + eps)); clamped inputs get 0
    torch.testing.assert_close(
        x.grad, torch.tensor([0.5 / eps**0.5, 0., 0.5 / (4 + eps)**0.5]))
    # the plain root this replaces has an infinite gradient at 0
    z = torch.zeros(1, requires_grad=True)
    torch.sqrt(z).sum().backward()
    assert torch.isinf(z.grad).all()


def test_semantic_to_depth_path_has_finite_gradients_when_a_latent_is_0():
    """Drive the 3D latent to exactly 0 (softplus of -1e4 underflows): the
    product under the root is 0 everywhere, yet depth and every gradient
    stay finite."""
    head = _head()
    with torch.no_grad():
        head.obj_3d.convs[1].bn.bias.fill_(-1e4)
    low, glob = _feats()
    low.requires_grad_(True)
    common = head.decoder(low, glob, ['common'])['common']
    sem = head.seg_branch['feature'](head.decoder(low, glob, ['seg'])['seg'])
    assert (head.obj_3d(common) == 0).all()
    cue = head.semantic_to_depth_cue(common, sem)
    torch.testing.assert_close(cue, torch.full_like(cue, 1e-3))
    out = head((low, glob))
    out['depth'].sum().backward()
    assert torch.isfinite(out['depth']).all()
    assert torch.isfinite(low.grad).all()
    for name, param in head.named_parameters():
        if param.grad is not None:
            assert torch.isfinite(param.grad).all(), name


def test_depth_combines_the_pixel_sqrt_with_the_depth_feature_by_hand():
    """Latents 4 (3D) and 9 (2D): the Pixel Sqrt is sqrt(36) = 6; a 5x5
    conv that keeps only the centre tap of the cue channel returns 6."""
    head = _head().eval()
    head.obj_3d, head.obj_2d = _Const(4.), _Const(9.)
    conv = head.depth_branch['conv_depth']
    with torch.no_grad():
        conv.weight.zero_()
        conv.bias.zero_()
        conv.weight[0, -1, 2, 2] = 1.
        depth = head(_feats())['depth']
    torch.testing.assert_close(
        depth, torch.full_like(depth, 36.**0.5), atol=1e-6, rtol=1e-6)
    # the other input channels are the depth feature
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[0, 0, 2, 2] = 1.
        depth = head(_feats())['depth']
        low, glob = _feats()
        dep = head.depth_branch['feature'](
            head.decoder(low, glob, ['depth'])['depth'])
    torch.testing.assert_close(depth, dep[:, :1])


def test_semantic_logits_combine_the_cue_with_the_semantic_feature():
    """A constant cue 0.5 on 4 channels, classifier weights 1 on the cue
    centre taps of class 1 only: logits (0, 4 x 0.5, 0)."""
    head = _head().eval()
    head.obj_inv_depth = _Const(0.5, channels=4)
    conv = head.seg_branch['conv_seg']
    with torch.no_grad():
        conv.weight.zero_()
        conv.bias.zero_()
        conv.weight[1, -4:, 1, 1] = 1.
        seg = head(_feats())['seg']
    expected = torch.zeros_like(seg)
    expected[:, 1] = 2.
    torch.testing.assert_close(seg, expected)


def test_inverse_depth_cue_is_a_pixel_product_of_its_two_stacks():
    head = _head().eval()
    cue = head.obj_inv_depth
    cue.depth_convs, cue.common_convs = _Const(2., 4), _Const(3., 4)
    with torch.no_grad():
        cue.fuse.conv.weight.copy_(torch.eye(4).view(4, 4, 1, 1))
        out = cue(torch.randn(1, 6, H, W), torch.randn(1, 8, H, W))
    # BN in eval with fresh running stats is the identity (up to its eps)
    torch.testing.assert_close(
        out, torch.full_like(out, 6.), rtol=1e-4, atol=1e-4)


def _grads(head, task):
    out = head(_feats())
    out[task].float().pow(2).mean().backward()
    return {n: p.grad for n, p in head.named_parameters()}


def _prefixed(grads, prefix):
    items = {n: g for n, g in grads.items() if n.startswith(prefix)}
    assert items, prefix
    return items


def test_depth_loss_never_reaches_classifier_nor_inverse_depth_unit():
    grads = _grads(_head(), 'depth')
    for prefix in ('seg_branch.conv_seg', 'obj_inv_depth'):
        assert all(g is None for g in _prefixed(grads, prefix).values())
    for prefix in ('depth_branch', 'obj_3d', 'obj_2d', 'decoder.common',
                   'decoder.refine'):
        assert all(g is not None for g in _prefixed(grads, prefix).values())
    # Fig. 6 feeds the semantic feature into the 2D latent: its conv gets a
    # depth gradient, which the EM hook must hold fixed in the depth phase
    assert all(
        g is not None for g in _prefixed(grads, 'seg_branch.feature').values())


def test_seg_loss_never_reaches_depth_conv_nor_objectness_latents():
    grads = _grads(_head(), 'seg')
    for prefix in ('depth_branch.conv_depth', 'obj_2d', 'obj_3d'):
        assert all(g is None for g in _prefixed(grads, prefix).values())
    for prefix in ('seg_branch', 'obj_inv_depth', 'decoder.common'):
        assert all(g is not None for g in _prefixed(grads, prefix).values())
    # Fig. 7 feeds the depth feature into the d^-2 cue
    assert all(
        g is not None
        for g in _prefixed(grads, 'depth_branch.feature').values())


def test_without_cross_task_units_each_loss_stays_in_its_branch():
    head = _head(semantic_to_depth=False, depth_to_semantic=False)
    grads = _grads(head, 'depth')
    assert all(g is None for g in _prefixed(grads, 'seg_branch').values())
    assert all(
        g is None for g in _prefixed(grads, 'decoder.refine.seg').values())
    head = _head(semantic_to_depth=False, depth_to_semantic=False)
    grads = _grads(head, 'seg')
    assert all(g is None for g in _prefixed(grads, 'depth_branch').values())


def test_computing_one_task_runs_only_its_layers():
    head = _head()
    out = head(_feats(), tasks=('depth', ))
    assert out['seg'] is None and out['depth'].shape == (2, 1, H, W)
    out['depth'].sum().backward()
    classifier = head.seg_branch['conv_seg']
    assert all(p.grad is None for p in classifier.parameters())
    assert all(p.grad is None for p in head.obj_inv_depth.parameters())
