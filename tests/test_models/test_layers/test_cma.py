# Copyright (c) mmdepthseg contributors. All rights reserved.
import math

import pytest
import torch

from mmdepthseg.models.layers.cma import (BidirectionalCMA,
                                          CrossTaskMultiEmbeddingAttention)
from mmdepthseg.registry import MODELS

B, C, H, W = 2, 8, 6, 10


def _feats(seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(B, C, H, W,
                        generator=g), torch.randn(B, C, H, W, generator=g))


def _linear(conv_module, x):
    """Apply a 1x1 ConvModule's weight and bias by hand: (B, C, h, w) ->
    (B, C_out, h*w)."""
    weight = conv_module.conv.weight[:, :, 0, 0]
    bias = conv_module.conv.bias
    return torch.einsum('oc,bcn->bon', weight, x.flatten(2)) + bias[:, None]


def _hand_scores(cma, ref, target, num_emb, emb_ch):
    """Eq. 13 by hand: per pixel <phi_k(target), phi_q(ref)> / sqrt(C')."""
    q = _linear(cma.query_proj, ref).reshape(B, num_emb, emb_ch, H * W)
    k = _linear(cma.key_proj, target).reshape(B, num_emb, emb_ch, H * W)
    scores = torch.zeros(B, num_emb, H * W)
    for h in range(num_emb):  # explicit loop over embeddings, small case
        scores[:, h] = (q[:, h] * k[:, h]).sum(1) / math.sqrt(emb_ch)
    return scores


def test_registered_and_output_shapes():
    ref, target = _feats()
    cma = MODELS.build(
        dict(type='CrossTaskMultiEmbeddingAttention', channels=C))
    assert cma.embed_channels == 2 * C and cma.num_embeddings == 4
    assert cma.query_proj.conv.out_channels == 4 * 2 * C
    assert cma(ref, target).shape == (B, C, H, W)
    assert cma.attention_weights(ref, target).shape == (B, 4, H * W)
    bi = MODELS.build(dict(type='BidirectionalCMA', channels=C))
    d, s = bi(target, ref)
    assert d.shape == s.shape == (B, C, H, W)


def test_single_embedding_uses_raw_scaled_score_without_softmax():
    torch.manual_seed(0)
    ref, target = _feats(1)
    cma = CrossTaskMultiEmbeddingAttention(C, num_embeddings=1, embed_ratio=2)
    weights = cma.attention_weights(ref, target)
    expected = _hand_scores(cma, ref, target, 1, 2 * C)
    assert weights.shape == (B, 1, H * W)
    assert torch.allclose(weights, expected, atol=1e-5)
    # identity rho: raw scores take both signs and do not sum to one
    assert (weights < 0).any() and (weights > 0).any()
    assert not torch.allclose(weights.sum(1), torch.ones(B, H * W))


def test_multi_embedding_softmax_over_embeddings():
    torch.manual_seed(0)
    ref, target = _feats(2)
    cma = CrossTaskMultiEmbeddingAttention(C, num_embeddings=3, embed_ratio=2)
    weights = cma.attention_weights(ref, target)
    assert weights.shape == (B, 3, H * W)
    assert torch.allclose(weights.sum(1), torch.ones(B, H * W), atol=1e-6)
    expected = _hand_scores(cma, ref, target, 3, 2 * C).softmax(dim=1)
    assert torch.allclose(weights, expected, atol=1e-6)


def test_scores_are_scaled_by_sqrt_embed_channels():
    # identity-like projections: q = ref, k = target (C' = C with ratio 1),
    # so the score is <ref(i), target(i)> / sqrt(C) exactly.
    ref, target = _feats(3)
    cma = CrossTaskMultiEmbeddingAttention(C, num_embeddings=1, embed_ratio=1)
    with torch.no_grad():
        for proj in (cma.query_proj, cma.key_proj):
            proj.conv.weight.copy_(torch.eye(C)[:, :, None, None])
            proj.conv.bias.zero_()
    weights = cma.attention_weights(ref, target)
    expected = (ref * target).sum(1).flatten(1) / math.sqrt(C)
    assert torch.allclose(weights[:, 0], expected, atol=1e-5)
    # ratio 3 with the same query/key in the first C channels and zeros
    # elsewhere: same dot product, divided by sqrt(3C) instead
    cma3 = CrossTaskMultiEmbeddingAttention(C, num_embeddings=1, embed_ratio=3)
    with torch.no_grad():
        for proj in (cma3.query_proj, cma3.key_proj):
            w = torch.zeros(3 * C, C)
            w[:C] = torch.eye(C)
            proj.conv.weight.copy_(w[:, :, None, None])
            proj.conv.bias.zero_()
    weights3 = cma3.attention_weights(ref, target)
    assert torch.allclose(
        weights3[:, 0], (ref * target).sum(1).flatten(1) / math.sqrt(3 * C),
        atol=1e-5)


def test_attention_is_pixel_wise():
    # changing the reference at one pixel changes the weights only there
    torch.manual_seed(0)
    ref, target = _feats(4)
    cma = CrossTaskMultiEmbeddingAttention(C, num_embeddings=2)
    before = cma.attention_weights(ref, target)
    ref2 = ref.clone()
    ref2[:, :, 2, 3] += 5.0
    after = cma.attention_weights(ref2, target)
    changed = (before - after).abs().amax(dim=(0, 1)) > 1e-6
    expected = torch.zeros(H * W, dtype=torch.bool)
    expected[2 * W + 3] = True
    assert torch.equal(changed, expected)


def test_forward_matches_hand_computation():
    torch.manual_seed(0)
    ref, target = _feats(5)
    cma = CrossTaskMultiEmbeddingAttention(C, num_embeddings=2).eval()
    with torch.no_grad():
        # non-trivial BN statistics so the eval-mode norm is exercised
        for m in cma.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
        weights = _hand_scores(cma, ref, target, 2, 2 * C).softmax(1)
        v = _linear(cma.value_proj, target).reshape(B, 2, 2 * C, H * W)
        refined = (v[:, 0] * weights[:, 0:1] + v[:, 1] * weights[:, 1:2])
        refined = refined.reshape(B, 2 * C, H, W)
        expected = cma.fusion(
            torch.cat([cma.out_proj(refined), target], dim=1))
        out = cma(ref, target)
    assert torch.allclose(out, expected, atol=1e-5)
    # phi_w is conv + BN without activation, fusion convs are 3x3 with
    # reflect padding, norm and activation
    assert not cma.out_proj.with_activation
    assert cma.out_proj.with_norm
    for conv in cma.fusion:
        assert conv.conv.kernel_size == (3, 3)
        assert conv.with_norm and conv.with_activation
        assert conv.with_explicit_padding  # reflection pad layer
        assert isinstance(conv.padding_layer, torch.nn.ReflectionPad2d)
    assert cma.fusion[0].conv.in_channels == 2 * C


def test_bidirectional_both_gradients_reach_both_features_and_params():
    torch.manual_seed(0)
    depth, seg = _feats(6)
    depth.requires_grad_(True)
    seg.requires_grad_(True)
    bi = BidirectionalCMA(C, direction='both')
    d_out, s_out = bi(depth, seg)
    g = torch.Generator().manual_seed(7)
    loss = (d_out * torch.randn(d_out.shape, generator=g)).sum() + \
        (s_out * torch.randn(s_out.shape, generator=g)).sum()
    loss.backward()
    assert depth.grad.abs().sum() > 0 and seg.grad.abs().sum() > 0
    for name, p in bi.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_cross_task_gradient_each_direction():
    # the refined depth depends on the segmentation feature (reference)
    torch.manual_seed(0)
    depth, seg = _feats(8)
    seg.requires_grad_(True)
    bi = BidirectionalCMA(C, direction='depth')
    d_out, _ = bi(depth, seg)
    (d_out * torch.randn_like(d_out)).sum().backward()
    assert seg.grad.abs().sum() > 0
    depth.requires_grad_(True)
    bi = BidirectionalCMA(C, direction='seg')
    _, s_out = bi(depth, seg.detach())
    (s_out * torch.randn_like(s_out)).sum().backward()
    assert depth.grad.abs().sum() > 0


@pytest.mark.parametrize('direction', ['depth', 'seg'])
def test_unidirectional_leaves_other_task_unchanged(direction):
    depth, seg = _feats(9)
    bi = BidirectionalCMA(C, direction=direction)
    d_out, s_out = bi(depth, seg)
    if direction == 'depth':
        assert bi.seg_cma is None and bi.depth_cma is not None
        assert s_out is seg
        assert not torch.allclose(d_out, depth)
    else:
        assert bi.depth_cma is None and bi.seg_cma is not None
        assert d_out is depth
        assert not torch.allclose(s_out, seg)


def test_both_uses_original_features_as_references():
    torch.manual_seed(0)
    depth, seg = _feats(10)
    bi = BidirectionalCMA(C, direction='both').eval()
    with torch.no_grad():
        d_out, s_out = bi(depth, seg)
        assert torch.allclose(d_out, bi.depth_cma(seg, depth))
        assert torch.allclose(s_out, bi.seg_cma(depth, seg))


def test_invalid_arguments_raise():
    with pytest.raises(ValueError, match='diagonal'):
        BidirectionalCMA(C, direction='diagonal')
    with pytest.raises(ValueError, match='num_embeddings'):
        CrossTaskMultiEmbeddingAttention(C, num_embeddings=0)
    cma = CrossTaskMultiEmbeddingAttention(C)
    with pytest.raises(ValueError, match='same|one shape'):
        cma(torch.randn(B, C, H, W), torch.randn(B, C, H, W + 1))
    with pytest.raises(ValueError, match=f'{C}'):
        cma(torch.randn(B, C + 1, H, W), torch.randn(B, C + 1, H, W))


class _ExplicitCMA(CrossTaskMultiEmbeddingAttention):
    """The same module with the embeddings materialised (q, k, v and
    ``phi_w`` applied to the refined C'-channel map)."""

    factorised = False


@pytest.mark.parametrize('num_embeddings,norm', [(4, True), (2, False),
                                                 (1, True)])
def test_factorised_equals_explicit_forward_and_gradients(
        num_embeddings, norm):
    torch.manual_seed(0)
    kwargs = dict(num_embeddings=num_embeddings, embed_ratio=2)
    if not norm:  # phi_w then has a bias, added after the weighted sum
        kwargs['norm_cfg'] = None
    fact = CrossTaskMultiEmbeddingAttention(C, **kwargs).double().train()
    explicit = _ExplicitCMA(C, **kwargs).double().train()
    explicit.load_state_dict(fact.state_dict())
    with torch.no_grad():  # non-zero biases everywhere
        for p in fact.parameters():
            p.add_(torch.randn_like(p) * 0.3)
        explicit.load_state_dict(fact.state_dict())
    assert fact.factorised and not explicit.factorised
    assert (fact.out_proj.conv.bias is None) == norm

    outs, grads = [], []
    for module in (fact, explicit):
        ref, target = (t.double().requires_grad_(True) for t in _feats(11))
        out = module(ref, target)
        weights = module.attention_weights(ref, target)
        g = torch.Generator().manual_seed(3)
        (out * torch.randn(out.shape, generator=g,
                           dtype=out.dtype)).sum().backward()
        outs.append((out.detach(), weights.detach()))
        grads.append([ref.grad, target.grad] +
                     [p.grad for p in module.parameters()])
    torch.testing.assert_close(outs[0], outs[1], rtol=1e-9, atol=1e-9)
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9)


class _CustomConv(torch.nn.Conv2d):
    """A conv type the factorisation knows nothing about."""


def test_custom_projection_conv_uses_explicit_form():
    cma = CrossTaskMultiEmbeddingAttention(
        C, conv_cfg=dict(type=_CustomConv)).eval()
    assert isinstance(cma.query_proj.conv, _CustomConv)
    assert not cma.factorised
    plain = CrossTaskMultiEmbeddingAttention(C).eval()
    plain.load_state_dict(cma.state_dict())
    assert plain.factorised
    ref, target = _feats(12)
    with torch.no_grad():
        torch.testing.assert_close(cma(ref, target), plain(ref, target))


def _saved_bytes(module, ref, target):
    """Bytes of the distinct activations autograd keeps for backward
    (parameters and the inputs themselves excluded)."""
    storages = {}
    params = {p.untyped_storage().data_ptr() for p in module.parameters()}
    inputs = {t.untyped_storage().data_ptr() for t in (ref, target)}

    def pack(t):
        ptr = t.untyped_storage().data_ptr()
        if ptr not in params and ptr not in inputs:
            storages[ptr] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        module(ref, target)
    return sum(storages.values())


def test_factorised_form_keeps_less_for_backward():
    # explicit: q, k, v (3 H C' channels) and the refined map are kept;
    # factorised: the (H*C)-channel products and values, about half
    torch.manual_seed(0)
    c, size = 16, (2, 16, 24, 32)
    fact = CrossTaskMultiEmbeddingAttention(c).train()
    explicit = _ExplicitCMA(c).train()
    explicit.load_state_dict(fact.state_dict())
    ref = torch.randn(size, requires_grad=True)
    target = torch.randn(size, requires_grad=True)
    kept_fact = _saved_bytes(fact, ref, target)
    kept_explicit = _saved_bytes(explicit, ref, target)
    assert kept_fact < 0.6 * kept_explicit, (kept_fact, kept_explicit)


@pytest.mark.parametrize('explicit', [False, True])
def test_released_score_scaling_divides_by_sqrt_h_times_embed_channels(
        explicit):
    # H = 2 embeddings, C' = C (ratio 1); embedding 0 is the identity and
    # embedding 1 twice the identity on query and key, zero biases:
    #   A_0 = <ref, target> / s,  A_1 = 4 <ref, target> / s
    # with s = sqrt(C') (Eq. 13) or sqrt(H * C') = sqrt(2 C) (released code)
    ref, target = _feats(13)
    dot = (ref * target).sum(1).flatten(1)
    cls = _ExplicitCMA if explicit else CrossTaskMultiEmbeddingAttention
    for scaling, divisor in (('embed_channels', math.sqrt(C)),
                             ('total_channels', math.sqrt(2 * C))):
        cma = cls(C, num_embeddings=2, embed_ratio=1, score_scaling=scaling)
        assert cma.factorised != explicit
        with torch.no_grad():
            for proj in (cma.query_proj, cma.key_proj):
                eye = torch.eye(C)
                proj.conv.weight.copy_(
                    torch.cat([eye, 2 * eye])[:, :, None, None])
                proj.conv.bias.zero_()
            weights = cma.attention_weights(ref, target)
        expected = torch.stack([dot, 4 * dot], 1) / divisor
        torch.testing.assert_close(
            weights, expected.softmax(1), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match='score_scaling'):
        CrossTaskMultiEmbeddingAttention(C, score_scaling='sqrt')


def test_released_fusion_is_3x3_conv_elu_then_1x1_conv():
    torch.manual_seed(0)
    ref, target = _feats(14)
    cma = CrossTaskMultiEmbeddingAttention(
        C, num_embeddings=2, fusion='conv_act_conv1x1').eval()
    first, second = cma.fusion
    assert first.conv.kernel_size == (3, 3) and second.conv.kernel_size == (1,
                                                                            1)
    assert not first.with_norm and first.with_activation
    assert isinstance(first.padding_layer, torch.nn.ReflectionPad2d)
    assert not second.with_norm and not second.with_activation
    assert first.conv.bias is not None and second.conv.bias is not None
    with torch.no_grad():
        weights = _hand_scores(cma, ref, target, 2, 2 * C).softmax(1)
        v = _linear(cma.value_proj, target).reshape(B, 2, 2 * C, H * W)
        refined = (v[:, 0] * weights[:, 0:1] + v[:, 1] * weights[:, 1:2])
        x = torch.cat([cma.out_proj(refined.reshape(B, 2 * C, H, W)), target],
                      1)
        # by hand: reflect pad, 3x3 conv, ELU, 1x1 conv
        x = torch.nn.functional.pad(x, (1, 1, 1, 1), mode='reflect')
        x = torch.nn.functional.elu(
            torch.nn.functional.conv2d(x, first.conv.weight, first.conv.bias))
        expected = torch.nn.functional.conv2d(x, second.conv.weight,
                                              second.conv.bias)
        torch.testing.assert_close(cma(ref, target), expected)
    # passed through by the bidirectional pair
    bi = BidirectionalCMA(
        C, fusion='conv_act_conv1x1', score_scaling='total_channels')
    assert bi.depth_cma.fusion_type == bi.seg_cma.fusion_type == \
        'conv_act_conv1x1'
    assert bi.seg_cma.scale == pytest.approx(1 / math.sqrt(4 * 2 * C))
    with pytest.raises(ValueError, match='fusion'):
        CrossTaskMultiEmbeddingAttention(C, fusion='sum')
