# Copyright (c) mmdepthseg contributors. All rights reserved.
import copy
import math

import pytest
import torch
import torch.distributed as dist
import torch.nn.functional as F
from mmengine.model import MMSeparateDistributedDataParallel, is_model_wrapper
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.registry import DefaultScope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from test_models.test_segmentors.batch import (packed_batch, random_depth,
                                               random_labels)

from mmdepthseg.models.segmentors.semi_mtl import SemiMTL
from mmdepthseg.registry import MODELS

NUM_CLASSES = 4
SIZE = 64
NAN = float('nan')
NORM = dict(type='BN', requires_grad=True)
# Domain 1 labels segmentation only, domain 2 depth only (Table 1 / 2).
SEG_ONLY, DEPTH_ONLY = (1, ('seg', )), (2, ('depth', ))
TWO_DOMAINS = (SEG_ONLY, SEG_ONLY, DEPTH_ONLY, DEPTH_ONLY)


def _cfg(**overrides):
    """A small SemiMTL: ResNetV1c-18 at 1/8 width, dilated to stride 8."""
    cfg = dict(
        type='SemiMTL',
        data_preprocessor=dict(
            type='MultiViewDataPreProcessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            depth_pad_val=NAN),
        backbone=dict(
            type='ResNetV1c',
            depth=18,
            stem_channels=8,
            base_channels=8,
            strides=(1, 2, 1, 1),
            dilations=(1, 1, 2, 4),
            out_indices=(0, 1, 2, 3),
            contract_dilation=True,
            norm_cfg=NORM),
        seg_head=dict(
            type='PSPHead',
            in_channels=64,
            in_index=3,
            channels=8,
            pool_scales=(1, 2, 3, 6),
            num_classes=NUM_CLASSES,
            norm_cfg=NORM,
            align_corners=False,
            loss_decode=dict(type='CrossEntropyLoss', avg_non_ignore=True)),
        depth_head=dict(
            type='ConvDepthHead',
            in_channels=64,
            channels=(8, 8, 8),
            norm_cfg=NORM),
        discriminator=dict(type='TaskDiscriminator', channels=(8, 8, 8, 8)),
        mode='semimtl',
        num_domains=2)
    cfg.update(overrides)
    return cfg


def _build(init=True, **overrides):
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmdepthseg'):
        model = MODELS.build(_cfg(**overrides))
    if init:
        model.init_weights()
    return model.train()


@pytest.fixture(scope='module')
def semimtl():
    """The SemiMTL (M2) model, built once; tests use a deep copy."""
    return _build()


def _batch(domains_tasks=TWO_DOMAINS, seed=0, size=SIZE, ori_shape=None):
    """Packed samples with ``domain`` / ``labelled_tasks`` metainfo and only
    the labelled tasks' ground truth (SemiMTL contract)."""
    shape = (1, size, size)

    def fields(i):
        tasks = domains_tasks[i][1]
        return dict(
            gt_sem_seg=random_labels(NUM_CLASSES, shape)
            if 'seg' in tasks else lambda gen: None,
            gt_depth_map=random_depth(0., 1., shape)
            if 'depth' in tasks else lambda gen: None)

    def metainfo(i):
        domain, tasks = domains_tasks[i]
        return dict(
            img_path=f'domain{domain}.png',
            domain=domain,
            labelled_tasks=tasks,
            ori_shape=ori_shape or (size, size),
            flip=False)

    batch = packed_batch(
        len(domains_tasks), (size, size),
        seed=seed,
        fields=fields,
        metainfo=metainfo)
    for sample in batch['data_samples']:
        if 'gt_sem_seg' in sample:
            sample.gt_sem_seg.data[:, :4] = 255
        if 'gt_depth_map' in sample:
            sample.gt_depth_map.data[:, -4:] = NAN
            # sky: inverse depth 0, a valid target
            sample.gt_depth_map.data[:, :2] = 0.0
    return batch


def _optim(model, g_lr=0.01, d_lr=1e-4):
    gen = [
        p for n, p in model.named_parameters()
        if not n.startswith('discriminators.')
    ]
    wrappers = dict(
        generator=OptimWrapper(
            torch.optim.SGD(gen, lr=g_lr, momentum=0.9, weight_decay=1e-4)))
    if model.with_discriminators:
        wrappers['discriminator'] = OptimWrapper(
            torch.optim.Adam(
                model.discriminators.parameters(), lr=d_lr, betas=(0.9, 0.99)))
    return OptimWrapperDict(**wrappers)


def _generator_state(model):
    return {
        k: v.clone()
        for k, v in model.state_dict().items()
        if not k.startswith('discriminators.')
    }


def _discriminator_state(model):
    return {k: v.clone() for k, v in model.discriminators.state_dict().items()}


def _same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _fix_discriminators(model, **biases):
    """Make every D_t output the constant logits ``biases[t]``."""
    for task, bias in biases.items():
        classifier = model.discriminators[task].classifier
        with torch.no_grad():
            classifier.weight.zero_()
            classifier.bias.copy_(torch.tensor(bias))


def _probs(logits):
    e = [math.exp(x) for x in logits]
    return [x / sum(e) for x in e]


def test_paper_configuration_builds_and_predicts_at_the_input_size():
    """ResNetV1c-101 dilated (stride 8), PSPHead, conv depth decoder."""
    model = _build(
        init=False,
        backbone=dict(
            type='ResNetV1c',
            depth=101,
            strides=(1, 2, 1, 1),
            dilations=(1, 1, 2, 4),
            out_indices=(0, 1, 2, 3),
            contract_dilation=True,
            norm_cfg=NORM),
        seg_head=dict(
            type='PSPHead',
            in_channels=2048,
            in_index=3,
            channels=512,
            pool_scales=(1, 2, 3, 6),
            dropout_ratio=0.1,
            num_classes=19,
            norm_cfg=NORM,
            align_corners=False),
        depth_head=dict(type='ConvDepthHead', in_channels=2048),
        discriminator=dict(type='TaskDiscriminator'))
    discs = model.discriminators
    assert discs['seg'].layers[0].conv.in_channels == 19
    assert discs['depth'].layers[0].conv.in_channels == 1
    assert discs['seg'].classifier.out_channels == 3
    model.eval()
    with torch.no_grad():
        preds = model.decode(torch.randn(1, 3, 40, 48), None)
    assert preds['seg'].shape == (1, 19, 40, 48)
    assert preds['depth'].shape == (1, 1, 40, 48)


def test_generator_step_leaves_the_discriminators_bit_identical(semimtl):
    model = copy.deepcopy(semimtl)
    optim = _optim(model)
    # A stale gradient on D must neither be stepped nor accumulated into.
    for p in model.discriminators.parameters():
        p.grad = torch.full_like(p, 0.5)
    d_before = _discriminator_state(model)
    g_before = _generator_state(model)
    log_vars = model.train_step(_batch(), optim)
    assert _same(d_before, _discriminator_state(model))
    assert all(
        torch.equal(p.grad, torch.full_like(p, 0.5))
        for p in model.discriminators.parameters())
    assert all(p.requires_grad for p in model.discriminators.parameters())
    assert model.discriminators.training
    g_after = _generator_state(model)
    changed = [k for k in g_before if not torch.equal(g_before[k], g_after[k])]
    assert any(k.startswith('backbone.') for k in changed)
    assert any(k.startswith('seg_head.') for k in changed)
    assert any(k.startswith('depth_head.') for k in changed)
    assert torch.isfinite(log_vars['loss'])


def test_discriminator_step_leaves_the_generator_bit_identical(semimtl):
    model = copy.deepcopy(semimtl)
    optim = _optim(model)
    model.train_step(_batch(), optim)
    g_before = _generator_state(model)
    d_before = _discriminator_state(model)
    log_vars = model.discriminator_step(optim['discriminator'])
    assert set(log_vars) == {'loss_d_seg', 'loss_d_depth'}
    assert all(
        torch.isfinite(v) and not v.requires_grad for v in log_vars.values())
    assert _same(g_before, _generator_state(model))
    d_after = _discriminator_state(model)
    for task in ('seg', 'depth'):
        key = f'{task}.classifier.weight'
        assert not torch.equal(d_before[key], d_after[key])
    # the cache is consumed
    assert model.discriminator_inputs is None
    with pytest.raises(RuntimeError, match='train_step first'):
        model.discriminator_step(optim['discriminator'])


def test_discriminator_step_accepts_the_optim_wrapper_dict(semimtl):
    model = copy.deepcopy(semimtl)
    optim = _optim(model)
    model.train_step(_batch(), optim)
    assert set(
        model.discriminator_step(optim)) == {'loss_d_seg', 'loss_d_depth'}


def test_loss_items_follow_the_labelled_tasks(semimtl):
    model = copy.deepcopy(semimtl)
    data = model.data_preprocessor(_batch(), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert set(losses) == {
        'loss_seg', 'acc_seg', 'loss_depth', 'loss_adv_intra_seg',
        'loss_adv_intra_depth', 'loss_adv_inter_seg', 'loss_adv_inter_depth'
    }
    # only the segmentation domain: no depth supervision, no intra term
    # for depth, no inter term for segmentation
    data = model.data_preprocessor(_batch((SEG_ONLY, SEG_ONLY)), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert set(losses) == {
        'loss_seg', 'acc_seg', 'loss_adv_intra_seg', 'loss_adv_inter_depth'
    }
    assert all(torch.isfinite(v) for v in losses.values())
    # a domain labelling both tasks: segmentation is labelled everywhere
    data = model.data_preprocessor(
        _batch((SEG_ONLY, SEG_ONLY, (2, ('seg', 'depth')),
                (2, ('depth', 'seg')))), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert 'loss_adv_inter_seg' not in losses
    assert 'loss_adv_inter_depth' in losses


def test_supervised_losses_use_only_the_samples_that_label_the_task(semimtl):
    model = copy.deepcopy(semimtl).eval()  # no dropout: same predictions
    # domains interleaved: seg labelled by samples 1, 3; depth by 0, 2
    data = model.data_preprocessor(
        _batch((DEPTH_ONLY, SEG_ONLY, DEPTH_ONLY, SEG_ONLY)), True)
    inputs, samples = data['inputs'], data['data_samples']
    with torch.no_grad():
        losses = model.loss(inputs, samples)
        preds = model.decode(inputs, None)
    labels = torch.stack([samples[i].gt_sem_seg.data[0] for i in (1, 3)])
    ce = F.cross_entropy(preds['seg'][[1, 3]], labels, ignore_index=255)
    assert losses['loss_seg'].item() == pytest.approx(ce.item(), rel=1e-5)

    gt = torch.stack([samples[i].gt_depth_map.data for i in (0, 2)])
    pred = preds['depth'][[0, 2]]
    valid = torch.isfinite(gt)
    residual = (pred - gt)[valid].abs()
    c = 0.2 * residual.max()
    berhu = torch.where(residual <= c, residual,
                        (residual**2 + c**2) / (2 * c)).mean()
    assert losses['loss_depth'].item() == pytest.approx(
        0.01 * berhu.item(), rel=1e-5)


def test_a_task_no_sample_labels_has_no_supervised_term_and_no_nan():
    model = _build(mode='jtl')
    optim = _optim(model)
    log_vars = model.train_step(_batch((SEG_ONLY, SEG_ONLY)), optim)
    assert 'loss_depth' not in log_vars and 'loss_seg' in log_vars
    assert all(torch.isfinite(v) for v in log_vars.values())
    for p in model.parameters():
        if p.grad is not None:
            assert torch.isfinite(p.grad).all()


def test_inter_loss_alone_trains_the_unlabelled_task_through_frozen_d(semimtl):
    # Only segmentation is labelled: depth learns from L_inter alone.
    model = copy.deepcopy(semimtl)
    data = model.data_preprocessor(_batch((SEG_ONLY, SEG_ONLY)), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    losses['loss_adv_inter_depth'].backward()
    grads = [p.grad for p in model.depth_head.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)
    assert all(p.grad is None for p in model.discriminators.parameters())


# Constant discriminator logits: 3 classes (K = 2) per task.
SEG_D, DEPTH_D = [0.4, -0.7, 1.1], [-0.2, 0.8, 0.3]


@pytest.mark.parametrize('inter_mode', ['m1', 'm2', 'm3'])
def test_adversarial_terms_by_hand_with_a_fixed_discriminator(
        semimtl, inter_mode):
    model = copy.deepcopy(semimtl)
    model.inter_mode = inter_mode
    _fix_discriminators(model, seg=SEG_D, depth=DEPTH_D)
    data = model.data_preprocessor(_batch(), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    ps, pd = _probs(SEG_D), _probs(DEPTH_D)
    # Eq. 3: labelled predictions (seg of domain 1, depth of domain 2) -> 0
    assert losses['loss_adv_intra_seg'].item() == pytest.approx(
        1e-3 * -math.log(ps[0]), rel=1e-5)
    assert losses['loss_adv_intra_depth'].item() == pytest.approx(
        1e-3 * -math.log(pd[0]), rel=1e-5)
    # unlabelled: seg predicted on domain 2, depth predicted on domain 1
    expected = {
        # Eq. 4: the labelled domain's class (seg: 1, depth: 2)
        'm1': (-math.log(ps[1]), -math.log(pd[2])),
        # Eq. 5: the ground truth class
        'm2': (-math.log(ps[0]), -math.log(pd[0])),
        # Eq. 6: -log(1 - p_k) of the own domain (seg: 2, depth: 1)
        'm3': (-math.log(1 - ps[2]), -math.log(1 - pd[1])),
    }[inter_mode]
    assert losses['loss_adv_inter_seg'].item() == pytest.approx(
        1e-4 * expected[0], rel=1e-5)
    assert losses['loss_adv_inter_depth'].item() == pytest.approx(
        1e-4 * expected[1], rel=1e-5)


@pytest.mark.parametrize('update', ['pooled', 'per_domain'])
def test_m3_uses_each_unlabelled_sample_own_domain(update):
    # K = 3: domain 1 labels seg; domains 2 and 3 do not.
    model = _build(num_domains=3, inter_mode='m3', generator_update=update)
    logits = [0.1, 0.6, -0.5, 0.9]
    _fix_discriminators(model, seg=logits, depth=[0.0] * 4)
    batch = _batch((SEG_ONLY, SEG_ONLY, (2, ('depth', )), (2, ('depth', )),
                    (3, ('depth', )), (3, ('depth', ))))
    data = model.data_preprocessor(batch, True)
    losses = model.loss(data['inputs'], data['data_samples'])
    p = _probs(logits)
    terms = (-math.log(1 - p[2]), -math.log(1 - p[3]))
    # one mean over the pooled samples, or one term per domain's update
    expected = sum(terms) / 2 if update == 'pooled' else sum(terms)
    assert losses['loss_adv_inter_seg'].item() == pytest.approx(
        1e-4 * expected, rel=1e-5)


def test_semisd_has_binary_discriminators_and_targets_the_ground_truth():
    model = _build(mode='semisd')
    for task in ('seg', 'depth'):
        assert model.discriminators[task].classifier.out_channels == 2
    _fix_discriminators(model, seg=[0.3, -0.4], depth=[-0.6, 0.2])
    optim = _optim(model)
    log_vars = model.train_step(_batch(), optim)
    ps, pd = _probs([0.3, -0.4]), _probs([-0.6, 0.2])
    assert log_vars['loss_adv_inter_seg'].item() == pytest.approx(
        1e-4 * -math.log(ps[0]), rel=1e-5)
    assert log_vars['loss_adv_intra_depth'].item() == pytest.approx(
        1e-3 * -math.log(pd[0]), rel=1e-5)
    # Eq. 9 without domains: GT -> 0, predictions of either domain -> 1
    d_vars = model.discriminator_step(optim['discriminator'])
    assert d_vars['loss_d_seg'].item() == pytest.approx(
        -math.log(ps[0]) - 2 * math.log(ps[1]), rel=1e-5)
    assert d_vars['loss_d_depth'].item() == pytest.approx(
        -math.log(pd[0]) - 2 * math.log(pd[1]), rel=1e-5)


def test_discriminator_loss_by_hand_labels_ground_truth_and_domains(semimtl):
    model = copy.deepcopy(semimtl)
    _fix_discriminators(model, seg=SEG_D, depth=DEPTH_D)
    optim = _optim(model)
    model.train_step(_batch(), optim)
    d_vars = model.discriminator_step(optim['discriminator'])
    # Eq. 9: GT (class 0) + predictions of domain 1 (class 1) + domain 2
    for task, logits in (('seg', SEG_D), ('depth', DEPTH_D)):
        p = _probs(logits)
        expected = -math.log(p[0]) - math.log(p[1]) - math.log(p[2])
        assert d_vars[f'loss_d_{task}'].item() == pytest.approx(
            expected, rel=1e-5)


class _PixelLogits(torch.nn.Module):
    """Stand-in discriminator: the same crafted ``(C, H, W)`` logits for
    every input (a parameter keeps the optimizer and the graph alive)."""

    def __init__(self, logits):
        super().__init__()
        self.register_buffer('logits', logits)
        self.offset = torch.nn.Parameter(torch.zeros(()))

    def forward(self, x):
        return (self.logits + self.offset)[None].expand(x.shape[0], -1, -1, -1)


def _uneven_batch(seed=0):
    """Domain 1 labels seg (64x56 images, padded on columns 56-63; labels
    ignored on rows 0-3 and 56-63); domain 2 labels depth (56x64 images,
    padded on rows 56-63; depth invalid on rows 52-55 and columns 56-63).
    So every segmentation pixel of rows 56-63 and every depth pixel of
    columns 56-63 is masked in every sample, labelled or not."""
    gen = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for domain, (h, w) in ((1, (64, 56)), (1, (64, 56)), (2, (56, 64)),
                           (2, (56, 64))):
        inputs.append(
            torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=gen))
        sample = SegDataSample(
            metainfo=dict(
                img_path=f'domain{domain}.png',
                domain=domain,
                labelled_tasks=('seg', ) if domain == 1 else ('depth', ),
                img_shape=(h, w),
                ori_shape=(h, w),
                flip=False))
        if domain == 1:
            labels = torch.randint(0, NUM_CLASSES, (1, h, w), generator=gen)
            labels[:, :4] = 255
            labels[:, 56:] = 255
            sample.gt_sem_seg = PixelData(data=labels)
        else:
            depth = torch.rand(1, h, w, generator=gen)
            depth[:, :2] = 0.0  # valid
            depth[:, 52:] = NAN
            depth[:, :, 56:] = NAN
            sample.gt_depth_map = PixelData(data=depth)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def _masked_run(model, seg_logits, depth_logits):
    """Generator items and L_D with stand-in discriminators."""
    model.discriminators['seg'] = _PixelLogits(seg_logits)
    model.discriminators['depth'] = _PixelLogits(depth_logits)
    optim = _optim(model, g_lr=0.0)
    log_vars = model.train_step(_uneven_batch(), optim)
    d_vars = model.discriminator_step(optim['discriminator'])
    return {**log_vars, **d_vars}


def test_ignored_and_invalid_pixels_are_masked_out_of_every_adversarial_loss(
        semimtl):
    """Masks: ignored / invalid ground truth out of L_D and L_intra (and
    the L_D term of the same samples' predictions), padding out of every
    term (L_inter included), as AdvSemiSeg; the values under the mask do
    not change any loss."""
    gen = torch.Generator().manual_seed(1)
    seg_logits = torch.randn(3, SIZE, SIZE, generator=gen)
    depth_logits = torch.randn(3, SIZE, SIZE, generator=gen)
    items = _masked_run(copy.deepcopy(semimtl), seg_logits, depth_logits)

    rows = torch.arange(SIZE)[:, None].expand(SIZE, SIZE)
    cols = torch.arange(SIZE)[None].expand(SIZE, SIZE)
    seg_d1 = (rows >= 4) & (rows < 56) & (cols < 56)  # labelled: GT valid
    seg_d2 = rows < 56  # unlabelled: inside the image
    depth_d2 = (rows < 52) & (cols < 56)
    depth_d1 = cols < 56

    def nll(logits, cls, where):
        return -torch.log_softmax(logits, 0)[cls][where].mean().item()

    expected = {
        'loss_adv_intra_seg': 1e-3 * nll(seg_logits, 0, seg_d1),
        'loss_adv_inter_seg': 1e-4 * nll(seg_logits, 0, seg_d2),
        'loss_adv_intra_depth': 1e-3 * nll(depth_logits, 0, depth_d2),
        'loss_adv_inter_depth': 1e-4 * nll(depth_logits, 0, depth_d1),
        # Eq. 9: GT -> 0, predictions of domain 1 -> 1, of domain 2 -> 2
        'loss_d_seg': nll(seg_logits, 0, seg_d1) +
        nll(seg_logits, 1, seg_d1) + nll(seg_logits, 2, seg_d2),
        'loss_d_depth': nll(depth_logits, 0, depth_d2) +
        nll(depth_logits, 1, depth_d1) + nll(depth_logits, 2, depth_d2),
    }
    for key, value in expected.items():
        assert items[key].item() == pytest.approx(value, rel=1e-5), key

    # Other values where every sample is masked: no loss changes ...
    seg_other, depth_other = seg_logits.clone(), depth_logits.clone()
    seg_other[:, 56:] = torch.tensor([9.0, -9.0, 3.0])[:, None, None]
    depth_other[:, :, 56:] = torch.tensor([-7.0, 8.0, 0.5])[:, None, None]
    other = _masked_run(copy.deepcopy(semimtl), seg_other, depth_other)
    for key in expected:
        assert other[key].item() == pytest.approx(items[key].item(),
                                                  rel=1e-6), key
    # ... while other values on a valid pixel do.
    seg_other[0, 10, 10] += 5.0
    other = _masked_run(copy.deepcopy(semimtl), seg_other, depth_other)
    assert other['loss_d_seg'].item() != pytest.approx(
        items['loss_d_seg'].item(), rel=1e-4)


def test_discriminator_inputs_of_the_generator_step(semimtl):
    model = copy.deepcopy(semimtl)
    batch = _batch()
    model.train_step(batch, _optim(model))
    cache = model.discriminator_inputs
    assert set(cache) == {'seg', 'depth'}
    seg, depth = cache['seg'], cache['depth']
    assert seg['pred_domains'].tolist() == [1, 1, 2, 2]
    # predictions: detached softmax probabilities of every sample
    assert seg['pred'].shape == (4, NUM_CLASSES, SIZE, SIZE)
    assert not seg['pred'].requires_grad
    assert torch.allclose(seg['pred'].sum(1), torch.ones(4, SIZE, SIZE))
    assert depth['pred'].shape == (4, 1, SIZE, SIZE)
    # ground truth of the labelling samples: one-hot, ignore -> all zero
    labels = batch['data_samples'][0].gt_sem_seg.data[0]
    gt0 = seg['gt'][0]
    assert seg['gt'].shape == (2, NUM_CLASSES, SIZE, SIZE)
    assert torch.equal(gt0.sum(0), (labels != 255).float())
    assert torch.equal(gt0.argmax(0)[labels != 255], labels[labels != 255])
    # depth target with NaN -> 0
    target = batch['data_samples'][2].gt_depth_map.data
    assert depth['gt'].shape == (2, 1, SIZE, SIZE)
    assert torch.equal(depth['gt'][0],
                       torch.where(torch.isfinite(target), target, 0.0))


def test_a_few_steps_teach_the_discriminators():
    # one sample per domain: a per-domain update would batch-normalise one
    # sample (the PSP head's 1x1 pooling branch cannot)
    model = _build(generator_update='pooled')
    optim = _optim(model, g_lr=1e-3, d_lr=5e-3)
    d_losses = []
    for step in range(8):
        model.train_step(_batch((SEG_ONLY, DEPTH_ONLY), seed=step % 2), optim)
        d_vars = model.discriminator_step(optim['discriminator'])
        d_losses.append(sum(v.item() for v in d_vars.values()))
    # chance level: 3 terms of ln 3 per task
    assert d_losses[0] == pytest.approx(6 * math.log(3), rel=0.1)
    assert d_losses[-1] < d_losses[0] - 1.0


class _CountingOptimWrapper(OptimWrapper):
    """An OptimWrapper that counts its optimizer steps."""

    steps = 0

    def step(self, **kwargs):
        self.steps += 1
        super().step(**kwargs)


def _spy_generator_passes(model):
    """Record the domains of the samples of every generator pass."""
    passes = []
    original = model._generator_losses

    def spy(inputs, data_samples, *args, **kwargs):
        passes.append([s.metainfo['domain'] for s in data_samples])
        assert inputs.shape[0] == len(data_samples)
        return original(inputs, data_samples, *args, **kwargs)

    model._generator_losses = spy
    return passes


@pytest.mark.parametrize('update,num_domains,steps', [('per_domain', 2, 2),
                                                      ('pooled', 2, 1),
                                                      ('per_domain', 3, 3),
                                                      ('pooled', 3, 1)])
def test_generator_updates_per_iteration_follow_algorithm_1(
        update, num_domains, steps):
    """Algorithm 1: K generator updates per iteration, the k-th on domain
    k's mini-batch alone; 'pooled': one update on the whole batch. The
    discriminators are updated once, on the predictions of all domains."""
    model = _build(generator_update=update, num_domains=num_domains)
    gen = [
        p for n, p in model.named_parameters()
        if not n.startswith('discriminators.')
    ]
    g_optim = _CountingOptimWrapper(torch.optim.SGD(gen, lr=0.01))
    d_optim = _CountingOptimWrapper(
        torch.optim.Adam(model.discriminators.parameters(), lr=1e-4))
    optim = OptimWrapperDict(generator=g_optim, discriminator=d_optim)
    passes = _spy_generator_passes(model)
    # domains interleaved in the batch
    third = (3, ('depth', ))
    order = (DEPTH_ONLY, SEG_ONLY, DEPTH_ONLY, SEG_ONLY) + (
        (third, third) if num_domains == 3 else ())
    batch = _batch(order)
    domains = [d for d, _ in order]
    log_vars = model.train_step(batch, optim)
    assert g_optim.steps == steps
    if update == 'per_domain':
        assert passes == [[k, k] for k in range(1, num_domains + 1)]
    else:
        assert passes == [domains]
    assert torch.isfinite(log_vars['loss'])
    cache = model.discriminator_inputs['seg']
    assert sorted(cache['pred_domains'].tolist()) == sorted(domains)
    model.discriminator_step(optim)
    assert d_optim.steps == 1 and g_optim.steps == steps


def test_per_domain_updates_refuse_gradient_accumulation(semimtl):
    model = copy.deepcopy(semimtl)
    optim = dict(
        generator=OptimWrapper(
            torch.optim.SGD(model.backbone.parameters(), lr=0.01),
            accumulative_counts=2))
    with pytest.raises(ValueError, match='accumulative_counts'):
        model.train_step(_batch(), optim)


def test_per_domain_updates_name_a_domain_too_small_for_batch_norm():
    # one sample per domain: the PSP head's 1x1 pooling branch cannot be
    # batch-normalised
    model = _build()
    with pytest.raises(ValueError, match='domain 1 has 1 sample'):
        model.train_step(_batch((SEG_ONLY, DEPTH_ONLY)), _optim(model))


def test_each_per_domain_update_sees_only_its_domain():
    """The predictions of domain 1 come from the untouched generator run on
    domain 1's samples alone (batch norm included); those of domain 2 from
    the generator after domain 1's update."""
    no_dropout = dict(_cfg()['seg_head'], dropout_ratio=0.0)
    batch = _batch((DEPTH_ONLY, SEG_ONLY, DEPTH_ONLY, SEG_ONLY))

    def alone(model, domain):
        data = model.data_preprocessor(copy.deepcopy(batch), True)
        index = [
            i for i, s in enumerate(data['data_samples'])
            if s.metainfo['domain'] == domain
        ]
        with torch.no_grad():
            return model.decode(data['inputs'][index], None)['depth']

    cached = {}
    for update in ('per_domain', 'pooled'):
        model = _build(seg_head=no_dropout, generator_update=update)
        before = copy.deepcopy(model)
        model.train_step(copy.deepcopy(batch), _optim(model))
        entry = model.discriminator_inputs['depth']
        cached[update] = {
            k: entry['pred'][entry['pred_domains'] == k]
            for k in (1, 2)
        }
        expected = {k: alone(before, k) for k in (1, 2)}
        if update == 'per_domain':
            assert torch.allclose(cached[update][1], expected[1], atol=1e-6)
            # domain 2 ran after domain 1's update
            assert not torch.allclose(
                cached[update][2], expected[2], atol=1e-4)
        else:
            # one forward on both domains: mixed batch statistics
            assert not torch.allclose(
                cached[update][1], expected[1], atol=1e-4)


@pytest.mark.parametrize('mode,heads', [('jtl', ('seg', 'depth')),
                                        ('stl', ('seg', )),
                                        ('stl', ('depth', ))])
def test_baselines_have_no_discriminators_and_take_a_plain_optim_wrapper(
        mode, heads):
    overrides = dict(mode=mode)
    if 'seg' not in heads:
        overrides['seg_head'] = None
    if 'depth' not in heads:
        overrides['depth_head'] = None
    model = _build(**overrides)
    assert not model.with_discriminators and model.discriminators is None
    assert not any('discriminators' in k for k in model.state_dict())
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    log_vars = model.train_step(_batch(), optim)
    assert {k
            for k in log_vars
            if k.startswith('loss_')} == {f'loss_{t}'
                                          for t in heads}
    assert model.discriminator_inputs is None
    assert model.discriminator_step(optim) == {}


def test_adversarial_modes_refuse_a_plain_optim_wrapper(semimtl):
    model = copy.deepcopy(semimtl)
    with pytest.raises(TypeError, match='OptimWrapperDict'):
        model.train_step(_batch(),
                         OptimWrapper(torch.optim.SGD(model.parameters(), 1)))
    with pytest.raises(KeyError, match="'generator'"):
        model.train_step(_batch(), dict(discriminator=None))


def test_predict_gives_maps_at_the_original_size(semimtl):
    model = copy.deepcopy(semimtl).eval()
    data = model.data_preprocessor(_batch(ori_shape=(90, 100)), training=False)
    with torch.no_grad():
        results = model(**data, mode='predict')
    assert len(results) == 4
    for result in results:
        assert result.seg_logits.data.shape == (NUM_CLASSES, 90, 100)
        assert result.pred_sem_seg.data.shape == (1, 90, 100)
        assert torch.equal(result.pred_sem_seg.data,
                           result.seg_logits.data.argmax(0, keepdim=True))
        assert result.pred_depth_map.data.shape == (1, 90, 100)


@pytest.mark.parametrize('task', ['seg', 'depth'])
def test_da_is_output_space_adaptation_of_a_single_task_model(task):
    """AdaptSegNet on one task: a binary discriminator, source (the samples
    that label the task) predictions -> 0, target predictions -> 1; the
    target's adversarial term pulls towards 0; no ground truth, no
    L_intra."""
    other = 'depth' if task == 'seg' else 'seg'
    model = _build(mode='da', **{f'{other}_head': None})
    assert set(model.discriminators) == {task}
    assert model.discriminators[task].classifier.out_channels == 2
    logits = [0.7, -0.4]
    _fix_discriminators(model, **{task: logits})
    optim = _optim(model)
    log_vars = model.train_step(_batch(), optim)
    assert {k for k in log_vars if k.startswith('loss_')} == {
        f'loss_{task}', f'loss_adv_inter_{task}'
    }
    p = _probs(logits)
    assert log_vars[f'loss_adv_inter_{task}'].item() == pytest.approx(
        1e-4 * -math.log(p[0]), rel=1e-5)
    entry = model.discriminator_inputs[task]
    assert entry['gt'] is None
    source = 1 if task == 'seg' else 2
    assert entry['pred_labels'].tolist() == [
        0 if d == source else 1 for d in entry['pred_domains'].tolist()
    ]
    d_vars = model.discriminator_step(optim)
    assert d_vars[f'loss_d_{task}'].item() == pytest.approx(
        -math.log(p[0]) - math.log(p[1]), rel=1e-5)


def test_semisd_with_one_head_adapts_a_single_task_model():
    """The paper's wording of DA (ground truth vs prediction): SemiSD's
    binary discriminator on a single-task model."""
    model = _build(mode='semisd', depth_head=None)
    _fix_discriminators(model, seg=[0.3, -0.4])
    optim = _optim(model)
    log_vars = model.train_step(_batch(), optim)
    p = _probs([0.3, -0.4])
    assert log_vars['loss_adv_intra_seg'].item() == pytest.approx(
        1e-3 * -math.log(p[0]), rel=1e-5)
    assert log_vars['loss_adv_inter_seg'].item() == pytest.approx(
        1e-4 * -math.log(p[0]), rel=1e-5)
    d_vars = model.discriminator_step(optim)
    assert d_vars['loss_d_seg'].item() == pytest.approx(
        -math.log(p[0]) - 2 * math.log(p[1]), rel=1e-5)


def test_da_ignores_the_ground_truth_holes_and_masks_padding():
    """DA has no ground truth input: a labelled (source) prediction counts
    on every pixel of its image, padding never."""
    model = _build(mode='da', depth_head=None)
    model.train_step(_uneven_batch(), _optim(model))
    entry = model.discriminator_inputs['seg']
    valid = entry['pred_valid']
    domains = entry['pred_domains'].tolist()
    for i, domain in enumerate(domains):
        expected = torch.ones(SIZE, SIZE, dtype=torch.bool)
        if domain == 1:
            expected[:, 56:] = False
        else:
            expected[56:] = False
        assert torch.equal(valid[i], expected)


@pytest.mark.parametrize(
    'overrides,match',
    [(dict(mode='gan'), 'mode must be one of'),
     (dict(mode='da', inter_mode='m3'), "only inter_mode='m2'"),
     (dict(generator_update='async'), 'generator_update must be one of'),
     (dict(inter_mode='m4'), 'inter_mode must be one of'),
     (dict(mode='semisd', inter_mode='m1'), "only inter_mode='m2'"),
     (dict(mode='stl'), 'exactly one'),
     (dict(mode='jtl', depth_head=None), 'needs both'),
     (dict(mode='semimtl', seg_head=None), 'needs both'),
     (dict(mode='da', seg_head=None, depth_head=None), 'got neither'),
     (dict(num_domains=0), 'num_domains'),
     (dict(task_weights=dict(normals=1.0)), 'unknown tasks'),
     (dict(discriminator=dict(type='TaskDiscriminator', in_channels=3)),
      'set by the model')])
def test_bad_configs_raise(overrides, match):
    with pytest.raises(ValueError, match=match):
        with DefaultScope.overwrite_default_scope('mmdepthseg'):
            MODELS.build(_cfg(**overrides))


def test_bad_samples_raise(semimtl):
    model = copy.deepcopy(semimtl)

    def loss(batch):
        data = model.data_preprocessor(batch, True)
        return model.loss(data['inputs'], data['data_samples'])

    batch = _batch()
    batch['data_samples'][1].set_metainfo(dict(domain=3))
    with pytest.raises(ValueError, match=r'domain must be an int in \[1, 2\]'):
        loss(batch)
    batch = _batch()
    batch['data_samples'][2].set_metainfo(dict(labelled_tasks=('seg', )))
    with pytest.raises(KeyError, match="labels 'seg' but has no"):
        loss(batch)
    samples = _batch()['data_samples']
    plain = SegDataSample(metainfo=dict(img_shape=(SIZE, SIZE)))
    plain.gt_sem_seg = samples[0].gt_sem_seg
    batch = _batch()
    batch['data_samples'][0] = plain
    with pytest.raises(KeyError, match="no 'domain' metainfo"):
        loss(batch)
    model.inter_mode = 'm1'
    with pytest.raises(ValueError, match="inter_mode='m1'"):
        loss(_batch((SEG_ONLY, SEG_ONLY)))


def test_registered_and_a_multi_task_segmentor(semimtl):
    from mmdepthseg.models.segmentors.multi_task_segmentor import \
        MultiTaskSegmentor
    assert isinstance(semimtl, SemiMTL)
    assert isinstance(semimtl, MultiTaskSegmentor)
    assert semimtl.task_weights == dict(seg=1.0, depth=0.01)
    assert (semimtl.lambda_intra, semimtl.lambda_inter) == (1e-3, 1e-4)
    assert semimtl.inter_mode == 'm2'
    assert semimtl.generator_update == 'per_domain'


def test_training_under_separate_ddp(tmp_path):
    """MMSeparateDistributedDataParallel wraps every child in its own DDP
    module: the generator step, the discriminator step and prediction must
    work through the wrappers (gloo, one CPU process; the wrapper code
    paths, one forward per backward and the unused-parameter search are the
    same as with more processes)."""
    if dist.is_initialized():
        pytest.skip('a process group is already initialised')
    dist.init_process_group(
        'gloo',
        init_method=f'file://{tmp_path / "dist_init"}',
        rank=0,
        world_size=1)
    try:
        model = _build()
        optim = _optim(model)
        wrapped = MMSeparateDistributedDataParallel(
            model, broadcast_buffers=False, find_unused_parameters=True)
        assert is_model_wrapper(model.discriminators)
        for step in range(2):
            d_before = _discriminator_state(model)
            log_vars = wrapped.train_step(_batch(seed=step), optim)
            assert _same(d_before, _discriminator_state(model))
            assert 'loss_adv_inter_depth' in log_vars
            g_before = _generator_state(model)
            d_vars = model.discriminator_step(optim['discriminator'])
            assert _same(g_before, _generator_state(model))
            assert set(d_vars) == {'loss_d_seg', 'loss_d_depth'}
        assert not _same(d_before, _discriminator_state(model))
        wrapped.eval()
        with torch.no_grad():
            results = wrapped.val_step(_batch(seed=0))
        assert results[0].pred_depth_map.data.shape == (1, SIZE, SIZE)
    finally:
        dist.destroy_process_group()
