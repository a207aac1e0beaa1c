# Copyright (c) mmdepthseg contributors. All rights reserved.
"""SemiMTL's paper configs on generated data: the DA_Seg / DA_Depth
baselines of Table 2 (output-space adaptation of a single-task model,
Potsdam -> Vaihingen) and the STL baselines train and validate; the
street-view depth target is the disparity at the network's 1024-px
width."""
import glob
import importlib.util
import os.path as osp

import mmcv
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from mmdepthseg.registry import DATASETS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
CONFIGS = osp.join(ROOT, 'configs', 'semimtl')
CPU_MODEL = osp.join(ROOT, 'configs', '_base_', 'models',
                     'semimtl_r18_cpu.py')


@pytest.fixture(scope='module')
def aerial_tiles(tmp_path_factory):
    """Generated Potsdam / Vaihingen patches (64x64) in the converter's
    layout."""
    spec = importlib.util.spec_from_file_location(
        'make_synthetic_dataset',
        osp.join(ROOT, 'tools', 'misc', 'make_synthetic_dataset.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = str(tmp_path_factory.mktemp('isprs'))
    tool.main([
        '--layout', 'isprs', '--out', out, '--tile-size', '8.64',
        '--isprs-train-tiles', '1', '--isprs-val-tiles', '1', '--patch-size',
        '64'
    ])
    return out


def _cpu_config(name, root, work_dir):
    """The paper config with the CPU-size model, the generated tiles and a
    two-iteration schedule."""
    cfg = Config.fromfile(osp.join(CONFIGS, name))
    small = Config.fromfile(CPU_MODEL).model
    for key in ('backbone', 'seg_head', 'depth_head', 'discriminator'):
        if cfg.model.get(key) is not None:
            cfg.model[key] = small[key]
    if cfg.model.get('seg_head') is not None:
        cfg.model.seg_head.num_classes = 6
    for loader in ('train_dataloader', 'val_dataloader'):
        for source in cfg[loader].dataset.sources:
            city = source.dataset.city
            source.dataset.data_root = osp.join(root, city)
            if loader == 'train_dataloader':
                for step in source.dataset.pipeline:
                    if step.type == 'MultiViewRandomCrop':
                        step.crop_size = (48, 48)
        cfg[loader].num_workers = 0
        cfg[loader].persistent_workers = False
    num_sources = len(cfg.train_dataloader.dataset.sources)
    cfg.train_dataloader.sampler.batch_size_per_source = [2] * num_sources
    cfg.train_dataloader.batch_size = 2 * num_sources
    cfg.test_dataloader = cfg.val_dataloader
    cfg.train_cfg.max_iters = cfg.train_cfg.val_interval = 2
    cfg.param_scheduler.generator[0].end = 3
    cfg.default_hooks.checkpoint.interval = 2
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.visualization = dict(type='DepthSegVisualizationHook')
    cfg.env_cfg = dict(dist_cfg=dict(backend='gloo'))
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=0)
    return cfg


@pytest.mark.slow
@pytest.mark.parametrize('task,source,target', [('seg', 1, 2),
                                                ('depth', 2, 1)])
def test_da_baseline_trains_on_generated_aerial_tiles(aerial_tiles, tmp_path,
                                                      task, source, target):
    name = f'da-{task}_r101_isprs_cross-dataset.py'
    raw = Config.fromfile(osp.join(CONFIGS, name))
    # the paper's recipe: single-task model + output-space discriminator
    assert raw.model.mode == 'da'
    other = 'depth' if task == 'seg' else 'seg'
    assert raw.model[f'{other}_head'] is None
    assert raw.model.backbone.depth == 101
    sources = {s.domain: s for s in raw.train_dataloader.dataset.sources}
    assert sources[source].tasks == (task, )
    assert sources[target].tasks == ()  # target images only

    runner = Runner.from_cfg(_cpu_config(name, aerial_tiles, str(tmp_path)))
    model = runner.model
    assert set(model.discriminators) == {task}
    d_before = {
        k: v.clone()
        for k, v in model.discriminators.state_dict().items()
    }
    runner.train()
    logged = runner.message_hub.log_scalars
    for key in (f'train/loss_{task}', f'train/loss_adv_inter_{task}',
                f'train/loss_d_{task}'):
        assert key in logged, key
        assert torch.isfinite(torch.tensor(logged[key].current()))
    assert f'train/loss_adv_intra_{task}' not in logged
    d_after = model.discriminators.state_dict()
    assert any(not torch.equal(d_before[k], d_after[k]) for k in d_before)
    # both domains evaluated on the one task the model predicts
    metrics = runner.val_loop.run()
    key = 'mIoU' if task == 'seg' else 'rmse'
    assert {f'd1/{key}', f'd2/{key}'} <= set(metrics)


@pytest.mark.slow
@pytest.mark.parametrize('update,steps', [('per_domain', 2), ('pooled', 1)])
def test_semimtl_config_updates_the_generator_per_domain(
        aerial_tiles, tmp_path, update, steps):
    """Runner + DiscriminatorStepHook: Algorithm 1 gives K = 2 generator
    updates and one discriminator update per iteration."""
    cfg = _cpu_config('semimtl_r101_isprs_cross-dataset.py', aerial_tiles,
                      str(tmp_path))
    assert cfg.model.generator_update == 'per_domain'  # the paper config's
    cfg.model.generator_update = update
    runner = Runner.from_cfg(cfg)
    runner.train()
    counts = {
        name: wrapper._inner_count
        for name, wrapper in runner.optim_wrapper.items()
    }
    assert counts == dict(generator=2 * steps, discriminator=2)
    assert 'train/loss_adv_inter_seg' in runner.message_hub.log_scalars


@pytest.mark.slow
def test_single_task_baseline_validates_its_task_on_both_domains(
        aerial_tiles, tmp_path):
    """The STL configs evaluate the one task their model predicts (the
    validation sources label both tasks)."""
    runner = Runner.from_cfg(
        _cpu_config('stl-seg_r101_isprs_cross-dataset.py', aerial_tiles,
                    str(tmp_path)))
    runner.train()
    metrics = runner.val_loop.run()
    assert {'d1/mIoU', 'd2/mIoU'} <= set(metrics)
    assert not any('rmse' in key for key in metrics)


@pytest.mark.parametrize('setting', ['cityscapes_cross-city',
                                     'cityscapes-synscapes_cross-domain'])
def test_street_view_depth_target_is_disparity_at_1024_px(
        synthetic_semimtl, setting):
    """Cityscapes' validation frames, resized to 1024x512 by the paper
    config's test pipeline: the target equals the stored disparity (the
    generated frames are 256 px wide, Cityscapes' rig scaled) times
    1024 / 256, i.e. the disparity at the network's width."""
    cfg = Config.fromfile(
        osp.join(CONFIGS, f'semimtl_r101_{setting}.py'))
    source = cfg.val_dataloader.dataset.sources[0]
    dataset_cfg = dict(source.dataset, data_root=synthetic_semimtl)
    with DefaultScope.overwrite_default_scope('mmdepthseg'):
        dataset = DATASETS.build(dataset_cfg)
    sample = dataset[0]['data_samples']
    target = sample.gt_depth_map.data[0].numpy()
    assert target.shape == (512, 1024)
    stem = osp.basename(sample.img_path).replace('_leftImg8bit.png', '')
    disp_path, = glob.glob(
        osp.join(synthetic_semimtl, 'disparity', 'val', '*',
                 f'{stem}_disparity.png'))
    png = mmcv.imread(disp_path, flag='unchanged').astype(np.float64)
    assert png.shape == (128, 256)
    disparity = np.where(png > 1, (png - 1) / 256, np.nan)
    expected = np.repeat(np.repeat(disparity, 4, axis=0), 4, axis=1) * 4
    valid = np.isfinite(expected)
    assert valid.mean() > 0.5
    np.testing.assert_array_equal(np.isfinite(target), valid)
    np.testing.assert_allclose(target[valid], expected[valid], rtol=1e-4)
