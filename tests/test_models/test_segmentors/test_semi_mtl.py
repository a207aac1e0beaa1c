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
    gen = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for domain, tasks in domains_tasks:
        inputs.append(
            torch.randint(
                0, 256, (3, size, size), dtype=torch.uint8, generator=gen))
        sample = SegDataSample(
            metainfo=dict(
                img_path=f'domain{domain}.png',
                domain=domain,
                labelled_tasks=tasks,
                img_shape=(size, size),
                ori_shape=ori_shape or (size, size),
                flip=False))
        if 'seg' in tasks:
            labels = torch.randint(
                0, NUM_CLASSES, (1, size, size), generator=gen)
            labels[:, :4] = 255
            sample.gt_sem_seg = PixelData(data=labels)
        if 'depth' in tasks:
            depth = torch.rand(1, size, size, generator=gen)
            depth[:, -4:] = NAN
            depth[:, :2] = 0.0  # sky: inverse depth 0, a valid target
            sample.gt_depth_map = PixelData(data=depth)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


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
        preds = model._generate(torch.randn(1, 3, 40, 48))
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
        preds = model._generate(inputs)
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


def test_m3_uses_each_unlabelled_sample_own_domain():
    # K = 3: domain 1 labels seg; domains 2 and 3 do not.
    model = _build(num_domains=3, inter_mode='m3')
    logits = [0.1, 0.6, -0.5, 0.9]
    _fix_discriminators(model, seg=logits, depth=[0.0] * 4)
    batch = _batch((SEG_ONLY, (2, ('depth', )), (3, ('depth', ))))
    data = model.data_preprocessor(batch, True)
    losses = model.loss(data['inputs'], data['data_samples'])
    p = _probs(logits)
    expected = (-math.log(1 - p[2]) - math.log(1 - p[3])) / 2
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
    model = _build()
    optim = _optim(model, g_lr=1e-3, d_lr=5e-3)
    d_losses = []
    for step in range(8):
        model.train_step(_batch((SEG_ONLY, DEPTH_ONLY), seed=step % 2), optim)
        d_vars = model.discriminator_step(optim['discriminator'])
        d_losses.append(sum(v.item() for v in d_vars.values()))
    # chance level: 3 terms of ln 3 per task
    assert d_losses[0] == pytest.approx(6 * math.log(3), rel=0.1)
    assert d_losses[-1] < d_losses[0] - 1.0


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


@pytest.mark.parametrize(
    'overrides,match',
    [(dict(mode='gan'), 'mode must be one of'),
     (dict(inter_mode='m4'), 'inter_mode must be one of'),
     (dict(mode='semisd', inter_mode='m1'), "only inter_mode='m2'"),
     (dict(mode='stl'), 'exactly one'),
     (dict(mode='jtl', depth_head=None), 'needs both'),
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
