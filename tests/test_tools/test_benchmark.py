# Copyright (c) mmdepthseg contributors. All rights reserved.
"""tools/analysis_tools/benchmark.py and the mmdepthseg.benchmark package.

No test relies on how fast anything runs: times are only checked to be
positive and ordered, FLOPs against hand counts, utilisation against its
arithmetic.
"""
import copy
import importlib.util
import json
import os
import os.path as osp

import numpy as np
import pytest
import torch
from _helpers import BASELINE_CFG, REPO_ROOT
from mmengine.config import Config
from mmengine.optim import OptimWrapper, OptimWrapperDict
from torch import nn

from mmdepthseg import benchmark as bm
from mmdepthseg.registry import MODELS
from mmdepthseg.utils import register_all_modules

SEMIMTL_CPU_CFG = osp.join(REPO_ROOT, 'configs', 'synthetic',
                           'semimtl_r18_synthcityscapes.py')


@pytest.fixture(scope='module')
def baseline_cfg() -> Config:
    register_all_modules()
    return Config.fromfile(BASELINE_CFG)


@pytest.fixture(scope='module')
def tiny_cityscapes(tmp_path_factory) -> str:
    """Generated Cityscapes layout: 1 train city x 4 frames at 32x64."""
    from mmdepthseg.synthetic import write_cityscapes
    root = str(tmp_path_factory.mktemp('tiny_cityscapes'))
    write_cityscapes(
        root,
        seed=0,
        cities={'train': ['aachen']},
        frames_per_city=4,
        height=32,
        width=64)
    return root


def _cfg_with_dataset(**dataset) -> Config:
    return Config(dict(train_dataloader=dict(dataset=dataset)))


# -- views, layouts and synthetic batches --
def test_view_names_follow_the_training_dataset(baseline_cfg):
    assert bm.infer_view_names(baseline_cfg) == ('l', )
    kitti = _cfg_with_dataset(type='KittiRawDataset', frame_ids=[0, -1, 1])
    assert bm.infer_view_names(kitti) == ('t', 't-1', 't+1')
    assert bm.infer_view_names(_cfg_with_dataset(frame_ids=(0, 's'))) == ('l',
                                                                          'r')
    wrapped = _cfg_with_dataset(
        type='RepeatDataset', times=2, dataset=dict(frame_ids=(0, -1, 1, 's')))
    assert bm.infer_view_names(wrapped) == ('t', 't-1', 't+1', 's')
    sources = _cfg_with_dataset(
        type='MultiSourceDataset',
        sources=[dict(domain=1, dataset=dict(views=('l', 'r')))])
    assert bm.infer_view_names(sources) == ('l', 'r')
    # no views in the config: --views decides, and may not contradict it
    assert len(bm.infer_view_names(Config(dict()), num_views=3)) == 3
    with pytest.raises(ValueError, match='disagrees'):
        bm.infer_view_names(kitti, num_views=2)


def test_synthetic_batch_has_the_contract_fields():
    batch = bm.make_synthetic_batch(
        2, (48, 160), ('t', 't-1', 't+1'), num_classes=19)
    assert len(batch['inputs']) == 2
    img = batch['inputs'][0]
    assert img.dtype == torch.uint8 and img.shape == (9, 48, 160)
    sample = batch['data_samples'][0]
    labels = sample.gt_sem_seg.data
    assert labels.shape == (1, 48, 160) and labels.dtype == torch.int64
    assert 0 <= labels.min() and labels.max() <= 18
    depth = sample.gt_depth_map.data
    assert depth.shape == (1, 48, 160) and (depth > 0).all()
    assert torch.equal(sample.unaug_img.data, img)
    assert 'gt_pseudo_depth' not in sample and 'domain' not in sample
    meta = sample.metainfo
    # monodepth2's normalised KITTI intrinsics scaled to 160x48 by hand
    np.testing.assert_allclose(
        meta['intrinsics'], [[92.8, 0, 80.0], [0, 92.16, 24.0], [0, 0, 1]],
        rtol=1e-6)
    assert meta['stereo_T'][0, 3] == -meta['baseline'] < 0
    assert meta['img_shape'] == meta['ori_shape'] == meta['pad_shape'] == (48,
                                                                           160)
    assert meta['view_names'] == ('t', 't-1', 't+1')


def test_split_batch_keeps_the_sampler_split_or_splits_evenly():
    assert bm.split_batch(4, [2, 2]) == [2, 2]
    assert bm.split_batch(4, [3, 1]) == [3, 1]
    assert bm.split_batch(2, [2, 2]) == [1, 1]
    assert bm.split_batch(5, [2, 2]) == [3, 2]
    with pytest.raises(ValueError, match='one sample per source'):
        bm.split_batch(1, [2, 2])


def test_layout_of_a_multi_source_config_labels_by_source():
    cfg = Config(
        dict(
            train_dataloader=dict(
                sampler=dict(
                    type='MultiSourceSampler', batch_size_per_source=[2, 2]),
                dataset=dict(
                    type='MultiSourceDataset',
                    sources=[
                        dict(
                            domain=1,
                            tasks=('seg', ),
                            dataset=dict(pipeline=[
                                dict(
                                    type='DepthTargetTransform',
                                    mode='inverse')
                            ])),
                        dict(domain=2, tasks=('depth', ), dataset=dict())
                    ]))))
    layout = bm.batch_layout(cfg, nn.Identity(), batch_size=3)
    assert layout['sources'] == [(1, ('seg', )), (1, ('seg', )),
                                 (2, ('depth', ))]
    assert layout['inverse_depth'] and not layout['pseudo_depth']
    # inference batches carry no sources
    assert bm.batch_layout(
        cfg, nn.Identity(), 1, train=False)['sources'] is None
    batch = bm.make_synthetic_batch(3, (8, 16), seed=1, **layout)
    seg_only, depth_only = batch['data_samples'][0], batch['data_samples'][2]
    assert seg_only.domain == 1 and seg_only.labelled_tasks == ('seg', )
    assert 'gt_sem_seg' in seg_only and 'gt_depth_map' not in seg_only
    assert depth_only.domain == 2 and depth_only.labelled_tasks == ('depth', )
    assert 'gt_depth_map' in depth_only and 'gt_sem_seg' not in depth_only
    inv = depth_only.gt_depth_map.data  # 1 / [1, 80] m
    assert (inv >= 1 / 80 - 1e-6).all() and (inv <= 1).all()


def test_layout_of_a_stereo_pseudo_label_config_has_per_view_maps():
    cfg = _cfg_with_dataset(
        frame_ids=(0, 's'),
        pipeline=[
            dict(type='LoadMultiViewImages'),
            dict(type='LoadPseudoDepth')
        ])
    layout = bm.batch_layout(cfg, nn.Identity(), batch_size=2)
    assert layout['view_names'] == ('l', 'r')
    assert layout['map_views'] == 2 and layout['pseudo_depth']
    sample = bm.make_synthetic_batch(2, (8, 16), **layout)['data_samples'][0]
    for key in ('gt_sem_seg', 'gt_depth_map', 'gt_pseudo_depth',
                'gt_confidence'):
        assert sample.get(key).data.shape == (2, 8, 16), key
    conf = sample.gt_confidence.data
    assert (conf >= 0).all() and (conf <= 1).all()


# -- FLOPs and utilisation --
def test_flops_of_a_linear_layer_by_hand():
    torch.manual_seed(0)
    layer = nn.Linear(8, 16)
    x = torch.randn(5, 8, requires_grad=True)
    forward = 2 * 5 * 8 * 16  # one multiply-add per (row, in, out)
    counted = bm.count_flops(lambda: layer(x))
    assert counted['total'] == counted['forward'] == forward
    assert counted['backward'] == 0

    def step():
        layer(x).sum().backward()

    # backward: grad_W = dy^T x and grad_x = dy W, one forward's worth each
    counted = bm.count_flops(step)
    assert counted['total'] == 3 * forward
    assert counted['forward'] == forward
    assert counted['backward'] == 2 * forward


def test_flops_of_a_convolution_by_hand():
    conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
    x = torch.randn(2, 3, 10, 12)
    # output 5x6; each output value is 3 * 3 * 3 multiply-adds
    expected = 2 * (2 * 8 * 5 * 6) * (3 * 3 * 3)
    assert bm.count_flops(lambda: conv(x))['total'] == expected


class _TwoHeads(nn.Module):
    """Encoder + a head called through a method, as segmentors do."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Linear(4, 6)
        self.head = nn.Sequential(nn.Linear(6, 3))
        self.aux = nn.Linear(6, 2)

    def loss(self, x):
        feats = self.encoder(x)
        # ``head.forward`` without ``__call__``: the head is never entered
        return self.head.forward(feats).sum() + self.aux(feats).sum()


def test_flops_are_attributed_to_modules_by_their_forward():
    torch.manual_seed(0)
    model = _TwoHeads()
    x = torch.randn(7, 4)
    enc, head, aux = 2 * 7 * 4 * 6, 2 * 7 * 6 * 3, 2 * 7 * 6 * 2

    def step():
        model.loss(x).backward()

    counted = bm.count_flops(step, model=model)
    assert counted['forward'] == enc + head + aux
    # x needs no gradient: the encoder's backward is its weight gradient
    # only; the heads need both gradients
    assert counted['backward'] == enc + 2 * head + 2 * aux
    assert counted['total'] == counted['forward'] + counted['backward']
    by_module = counted['by_module']
    assert by_module['encoder'] == enc and by_module['aux'] == aux
    # the head's total comes from its called child
    assert by_module['head'] == by_module['head.0'] == head
    assert list(by_module)[0] == 'encoder'  # largest first
    first_level = bm.top_modules(by_module, counted['forward'], top=5, depth=1)
    assert [m['name'] for m in first_level] == ['encoder', 'head', 'aux']
    assert sum(m['flops'] for m in first_level) == counted['forward']
    assert first_level[0]['share'] == pytest.approx(enc / (enc + head + aux))
    only_level_one = bm.count_flops(step, model=model, module_depth=1)
    assert set(only_level_one['by_module']) == {'encoder', 'head', 'aux'}


def test_utilisation_is_flops_over_time_over_peak():
    # 6 GFLOP in 0.5 s = 12 GFLOP/s, half of a 24 GFLOP/s peak
    assert bm.utilisation(6e9, 0.5, 24e9) == pytest.approx(0.5)
    assert bm.utilisation(356e9, 3.9, 140e9) == pytest.approx(356 / 3.9 / 140)
    with pytest.raises(ValueError):
        bm.utilisation(1e9, 0.0, 1e9)
    with pytest.raises(ValueError):
        bm.utilisation(1e9, 1.0, 0.0)


@pytest.mark.parametrize('via', ['mm', 'conv1x1'])
def test_matmul_peak_counts_two_flops_per_multiply_add(via):
    peak = bm.measure_matmul_peak('cpu', size=64, repeat=2, via=via)
    assert peak['flops'] == 2 * 64**3 and peak['dtype'] == 'float32'
    assert peak['via'] == via and len(peak['time_s']['runs']) == 2
    assert peak['flops_per_s'] == pytest.approx(peak['flops'] /
                                                peak['time_s']['min'])


def test_flops_of_grouped_convolution_gradients_by_hand():
    # depthwise 3x3 over 16 channels: 9 multiply-adds per output value;
    # the input and the weight gradient take as many each
    conv = nn.Conv2d(16, 16, 3, padding=1, groups=16)
    x = torch.randn(2, 16, 8, 8, requires_grad=True)
    forward = 2 * (2 * 16 * 8 * 8) * 9
    counted = bm.count_flops(lambda: conv(x).sum().backward())
    assert counted['forward'] == forward
    assert counted['backward'] == 2 * forward


# -- measurement helpers --
def test_time_step_times_only_the_step():
    calls = dict(step=0, make=0)

    def make_input():
        calls['make'] += 1
        return calls['make']

    def step(x):
        calls['step'] += 1

    times = bm.time_step(step, make_input, warmup=2, repeat=3)
    assert len(times) == 3 and all(t >= 0 for t in times)
    assert calls == dict(step=5, make=5)
    with pytest.raises(ValueError):
        bm.time_step(step, make_input, warmup=0, repeat=0)


def test_peak_memory_meter_reports_growth_over_the_baseline():
    size = 64 * 1024**2
    keep = np.ones(size // 2, dtype=np.uint8)  # resident before: baseline
    with bm.PeakMemoryMeter('cpu') as meter:
        block = np.ones(size, dtype=np.uint8)  # touched: resident
        del block
    del keep
    result = meter.result
    assert result['growth_mib'] >= 60
    assert result['peak_mib'] >= result['baseline_mib'] + 60
    # relative to the RSS before the block (which holds ``keep`` and the
    # whole interpreter), not to zero
    assert result['growth_mib'] < 90
    assert result['growth_mib'] == pytest.approx(result['peak_mib'] -
                                                 result['baseline_mib'])


def test_amp_wrapper_runs_the_forward_under_cpu_autocast():
    model = nn.Linear(3, 2)
    cfg = Config(
        dict(
            optim_wrapper=dict(
                type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1))))
    plain = bm.build_optim_wrapper_or_adam(model, cfg)
    assert type(plain) is OptimWrapper
    wrapper = bm.build_optim_wrapper_or_adam(model, cfg, amp=True)
    assert isinstance(wrapper, bm.AutocastOptimWrapper)
    assert type(wrapper.optimizer).__name__ == 'SGD'
    with wrapper.optim_context(model):
        out = model(torch.randn(4, 3))
    assert out.dtype == torch.bfloat16
    assert model(torch.randn(4, 3)).dtype == torch.float32


def test_amp_applies_to_every_wrapper_of_a_constructor():
    register_all_modules()
    cfg = Config.fromfile(SEMIMTL_CPU_CFG)
    model = MODELS.build(copy.deepcopy(cfg.model))
    wrappers = bm.build_optim_wrapper_or_adam(model, cfg, amp=True)
    assert isinstance(wrappers, OptimWrapperDict)
    assert set(wrappers.keys()) == {'generator', 'discriminator'}
    assert all(
        isinstance(w, bm.AutocastOptimWrapper) for w in wrappers.values())


# -- the benchmark --
def test_run_benchmark_trains_and_infers_for_real(baseline_cfg,
                                                  tiny_cityscapes, tmp_path):
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(baseline_cfg.model))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = bm.run_benchmark(
        baseline_cfg,
        shape=(64, 64),
        batch_size=1,
        device='cpu',
        warmup=0,
        repeat=2,
        model=model,
        settings=('channels_last', ),
        top=3,
        peak_size=64,
        peak_repeat=1,
        data_root=tiny_cityscapes,
        loader_workers=0,
        loader_batches=1,
        eval_frames=3,
        eval_gt_shape=(32, 64))
    for mode in ('train', 'infer'):
        t = result[mode]['time_s']
        assert len(t['runs']) == 2 and min(t['runs']) > 0
        assert t['min'] <= t['median'] <= t['max']
        assert result[mode]['batch_size'] == 1
        mem = result[mode]['memory']
        assert mem['peak_mib'] > 0 and mem['growth_mib'] >= 0
    # 5 optimizer steps (2 timed + 1 counted, 2 channels-last) moved the
    # weights
    assert result['train']['params_changed']
    assert result['train']['optimizer'] == 'Adam'
    assert not result['train']['discriminator_step']
    after = model.state_dict()
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert 'seg_head.conv_seg.weight' in changed
    assert 'backbone.conv1.weight' in changed
    # the channels-last setting gave the weights back contiguous
    assert model.backbone.conv1.weight.is_contiguous()
    assert result['input']['shape'] == [64, 64]
    assert result['input']['view_names'] == ['l']
    assert result['setting'] == dict(
        amp=False, amp_dtype=None, channels_last=False)

    train, infer = result['train'], result['infer']
    # same network, same image: the training forward is the inference
    # forward (the input gradient of the first conv is not needed, so the
    # backward is a little under 2x the forward)
    assert train['flops_forward'] == infer['flops_forward'] > 0
    assert infer['flops_backward'] == 0 and infer['flops'] == \
        infer['flops_forward']
    assert infer['flops_forward'] < train['flops_backward'] \
        <= 2 * train['flops_forward']
    assert train['flops'] == train['flops_forward'] + train['flops_backward']
    assert set(train['flops_by_module']) >= {'backbone', 'seg_head'}
    peak = result['peak']['float32']
    assert peak['size'] == 64 and peak['flops'] == 2 * 64**3
    assert peak['via'] == 'mm' and peak['conv1x1']['via'] == 'conv1x1'
    # measured before and after the model (1 run each), the faster kept
    assert len(peak['time_s']['runs']) == 2
    assert peak['flops_per_s'] == pytest.approx(peak['flops'] /
                                                min(peak['time_s']['runs']))
    for res in (train, infer):
        assert res['utilisation'] == pytest.approx(
            res['flops'] / res['time_s']['median'] / peak['flops_per_s'])
        assert res['utilisation_best'] == pytest.approx(
            res['flops'] / res['time_s']['min'] / peak['flops_per_s'])
        assert res['flops_per_s'] == pytest.approx(res['flops'] /
                                                   res['time_s']['median'])
        assert res['utilisation_conv1x1'] == pytest.approx(
            res['flops'] / res['time_s']['median'] /
            peak['conv1x1']['flops_per_s'])
        names = [m['name'] for m in res['top_modules']]
        assert len(names) == 3 and all(n.count('.') == 1 for n in names)
    # same work in another memory format: the FLOPs carry over
    cl = result['settings']['channels_last']
    assert cl['setting']['channels_last'] and not cl['setting']['amp']
    assert cl['train']['flops'] == train['flops']
    assert cl['infer']['utilisation'] == pytest.approx(
        infer['flops'] / cl['infer']['time_s']['median'] / peak['flops_per_s'])
    loader = result['loader']
    assert loader['available'] and loader['num_workers'] == 0
    assert loader['train_consumption_per_s'] == pytest.approx(
        train['samples_per_s'])
    assert loader['ratio'] == pytest.approx(loader['samples_per_s'] /
                                            loader['train_consumption_per_s'])
    # everything is JSON
    path = str(tmp_path / 'result.json')
    bm.dump_json_atomic(result, path)
    assert json.load(open(path))['train']['flops'] == train['flops']
    # the depth half of the config's DepthSegMetric, on predictions of
    # the input size
    evaluation = result['evaluation']
    assert evaluation['available'] and evaluation['num_frames'] == 3
    assert evaluation['gt_shape'] == (32, 64)
    assert evaluation['pred_shape'] == (64, 64)
    assert evaluation['metric_types'] == ['DepthMetric']
    table = bm.format_table(result)
    for text in ('util %', 'channels_last', 'loader:', 'top modules (train',
                 'evaluation: 3 frames of 32x64 GT'):
        assert text in table, text


def test_amp_support_follows_onednn_bfloat16(monkeypatch):
    """Native bfloat16 on the CPU is oneDNN's call (it is off, e.g., under
    ``ONEDNN_MAX_CPU_ISA=AVX2`` on a CPU that has it); both answers are
    forced here, so that each branch is checked on every machine."""
    for native in (True, False):
        monkeypatch.setattr(torch.ops.mkldnn, '_is_mkldnn_bf16_supported',
                            lambda native=native: native)
        supported, reason = bm.amp_support('cpu')
        assert supported is native
        if native:
            assert reason == ''
        else:
            assert 'bfloat16' in reason
    assert bm.amp_support('cuda') == (True, '')
    supported, reason = bm.amp_support('meta')
    assert not supported and 'meta' in reason


@pytest.mark.parametrize('native', [True, False])
def test_amp_setting_is_measured_or_skipped_with_a_reason(
        baseline_cfg, monkeypatch, native):
    monkeypatch.setattr(torch.ops.mkldnn, '_is_mkldnn_bf16_supported',
                        lambda: native)
    result = bm.run_benchmark(
        baseline_cfg, (64, 64),
        1,
        warmup=0,
        repeat=1,
        modes=('infer', ),
        settings=('amp', ),
        count=False,
        peak_size=64,
        peak_repeat=1,
        loader=False,
        evaluation=False)
    assert 'evaluation' not in result
    amp = result['settings']['amp']
    if native:
        assert amp['setting'] == dict(
            amp=True, amp_dtype='bfloat16', channels_last=False)
        assert 'bfloat16' in result['peak']
        assert amp['infer']['time_s']['median'] > 0
    else:
        assert amp == dict(skipped=bm.amp_support('cpu')[1])
        assert 'bfloat16' not in result['peak']


def test_benchmark_runs_semimtl_with_its_discriminator_step():
    register_all_modules()
    cfg = Config.fromfile(SEMIMTL_CPU_CFG)
    # 2 samples per domain: each domain's generator update batch-normalises
    # its own mini-batch (Algorithm 1)
    result = bm.benchmark(
        cfg,
        shape=(32, 32),
        batch_size=4,
        warmup=0,
        repeat=1,
        modes=('train', ))
    train = result['train']
    assert train['discriminator_step'] and train['params_changed']
    assert train['optimizer'] == dict(generator='SGD', discriminator='Adam')
    assert result['input']['layout']['sources'] == [[1, ['seg']],
                                                    [1, ['seg']],
                                                    [2, ['depth']],
                                                    [2, ['depth']]]


def test_benchmark_rejects_unknown_modes(baseline_cfg):
    with pytest.raises(ValueError, match='modes'):
        bm.benchmark(baseline_cfg, (32, 64), 1, modes=('forward', ))


# -- data loading --
def test_train_loader_cfg_points_every_source_at_the_data_root():
    register_all_modules()
    cfg = Config.fromfile(SEMIMTL_CPU_CFG)
    loader = bm.train_loader_cfg(
        cfg, batch_size=2, data_root='/gen', num_workers=0)
    roots = [s['dataset']['data_root'] for s in loader['dataset']['sources']]
    assert roots == ['/gen', '/gen']
    assert loader['batch_size'] == 2
    assert loader['sampler']['batch_size_per_source'] == [1, 1]
    assert loader['num_workers'] == 0 and not loader['persistent_workers']
    kitti = _cfg_with_dataset(data_root='a', split_file='b.txt')
    loader = bm.train_loader_cfg(kitti, data_root='/k', split_file='s.txt')
    assert loader['dataset']['data_root'] == '/k'
    assert loader['dataset']['split_file'] == 's.txt'
    # the config itself is untouched
    assert cfg.train_dataloader.dataset.sources[0].dataset.data_root != '/gen'


def test_loader_throughput_on_generated_data(baseline_cfg, tiny_cityscapes):
    result = bm.measure_loader(
        baseline_cfg,
        batch_size=2,
        data_root=tiny_cityscapes,
        num_workers=0,
        batches=3,
        warmup=1)
    assert result['available'], result.get('reason')
    # 4 frames, batch 2: the 4 batches (1 + 3) run into a second epoch
    assert result['samples'] == 6 and result['batch_size'] == 2
    assert result['num_workers'] == 0 and result['batches'] == 3
    assert result['samples_per_s'] == pytest.approx(6 / result['time_s'])


def test_loader_reports_absent_data(baseline_cfg, tmp_path):
    result = bm.measure_loader(
        baseline_cfg, data_root=str(tmp_path / 'missing'), num_workers=0)
    assert not result['available']
    assert result['reason']


# -- reporting --
def _fake_result() -> dict:
    mode = dict(
        batch_size=2,
        time_s=dict(median=2.0, min=1.5, max=3.0, mean=2.1, runs=[]),
        samples_per_s=1.0,
        memory=dict(peak_mib=2048.0, growth_mib=1024.0),
        flops=300e9,
        utilisation=0.75,
        utilisation_conv1x1=0.4)
    return dict(
        config='configs/fsre/fsre_r18_kitti.py',
        input=dict(shape=[192, 640]),
        train=mode,
        infer=dict(
            mode,
            batch_size=1,
            flops=100e9,
            utilisation=0.5,
            utilisation_conv1x1=None),
        settings=dict(amp=dict(train=dict(time_s=dict(median=1.25)))),
        loader=dict(
            available=True,
            samples_per_s=10.0,
            num_workers=2,
            train_consumption_per_s=1.0,
            ratio=10.0),
        evaluation=dict(available=True, time_s=3.274, num_frames=697))


def test_markdown_table_has_one_row_per_result():
    table = bm.format_markdown([_fake_result()]).splitlines()
    assert len(table) == 3
    header = [c.strip() for c in table[0].strip('|').split('|')]
    row = [c.strip() for c in table[2].strip('|').split('|')]
    assert len(row) == len(header) and header[-1] == 'train ms amp'
    cells = dict(zip(header, row))
    assert cells['config'] == '`fsre_r18_kitti`'
    assert cells['input'] == '192x640'
    assert cells['train ms (min-max)'] == '2000 (1500-3000)'
    assert cells['train GFLOP'] == '300.0'
    assert cells['train util % (1x1)'] == '75 (40)'
    assert cells['infer ms (batch)'] == '2000 (1)'
    assert cells['infer util % (1x1)'] == '50'
    assert cells['train peak / growth MiB'] == '2048 / 1024'
    assert cells['loader samples/s (workers) / step needs'] == \
        '10.0 (2) / 1.00 = 10x'
    assert cells['eval s (frames)'] == '3.27 (697)'
    assert cells['train ms amp'] == '1250'


def test_dump_json_atomic_leaves_only_the_file(tmp_path):
    path = str(tmp_path / 'sub' / 'out.json')
    bm.dump_json_atomic(dict(a=[1, 2.5], b=(3, ), c=np.float32(0.5)), path)
    assert json.load(open(path)) == dict(a=[1, 2.5], b=[3], c=0.5)
    assert os.listdir(osp.dirname(path)) == ['out.json']


def _load_tool():
    """tools/analysis_tools/benchmark.py as a module (tools is no package)."""
    path = osp.join(REPO_ROOT, 'tools', 'analysis_tools', 'benchmark.py')
    spec = importlib.util.spec_from_file_location('benchmark_tool', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_prints_a_table_and_writes_json(tmp_path, capsys):
    # in-process (tools is no package), inference only: run_benchmark's
    # test above covers the rest
    out = str(tmp_path / 'bench.json')
    _load_tool().main([
        BASELINE_CFG, '--shape', '64', '64', '--device', 'cpu', '--mode',
        'infer', '--warmup', '0', '--repeat', '1', '--peak-size', '64',
        '--peak-repeat', '1', '--top', '2', '--module-depth', '1',
        '--no-loader', '--eval-frames', '2', '--eval-gt-shape', '16', '32',
        '--json', out
    ])
    stdout = capsys.readouterr().out
    for text in ('median ms', 'util %', 'peak: float32 matmul 64^3',
                 'top modules (infer', 'evaluation: 2 frames of 16x32 GT',
                 f'wrote {out}'):
        assert text in stdout, text
    result = json.load(open(out))
    assert result['device'] == 'cpu'
    assert result['input']['shape'] == [64, 64]
    assert result['hardware']['num_threads'] >= 1
    assert result['hardware']['torch'] == torch.__version__
    assert result['peak']['float32']['size'] == 64
    assert 'train' not in result and 'loader' not in result
    infer = result['infer']
    assert infer['batch_size'] == 1
    assert set(infer) >= {
        'time_s', 'samples_per_s', 'memory', 'flops', 'flops_per_s',
        'utilisation', 'utilisation_best', 'top_modules', 'flops_by_module'
    }
    assert set(infer['time_s']) >= {'median', 'min', 'max'}
    assert set(infer['memory']) >= {'peak_mib', 'growth_mib'}
    assert [m['name'] for m in infer['top_modules']
            ] == list(infer['flops_by_module'])[:2]
