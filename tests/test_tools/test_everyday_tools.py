# Copyright (c) mmdepthseg contributors. All rights reserved.
"""tools/train.py and tools/test.py flags an MMSegmentation user expects
(--amp on a CPU, --data-root, --out, --tta, early config errors, a short
console) and analyze_logs.py on a real log, on one tiny trained model."""
import glob
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
from _helpers import REPO_ROOT, tiny_baseline_cfg
from mmengine.config import Config

from mmdepthseg.engine.optimizers import cpu_supports_bfloat16
from mmdepthseg.registry import DATASETS

#: The config's own roots point nowhere: every run moves them.
NOWHERE = 'data/not_here_i18'
#: Test images of the --out / --tta runs.
NUM_TEST = 10
#: Cityscapes trainId -> labelId (the benchmark's table, written out).
TRAIN_TO_LABEL_ID = [
    7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 31, 32, 33
]


def _run(args, expect_ok=True):
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [REPO_ROOT, env.get('PYTHONPATH', '')])
    proc = subprocess.run([sys.executable] + args,
                          cwd=REPO_ROOT,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=900)
    out = proc.stdout + proc.stderr
    if expect_ok:
        assert proc.returncode == 0, out[-6000:]
    return proc, out


def _load_tool(*parts):
    path = osp.join(REPO_ROOT, 'tools', *parts)
    spec = importlib.util.spec_from_file_location(
        f'tool_{parts[-1][:-3]}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def tiny_cfg(synthetic_cityscapes, tmp_path_factory):
    """The tiny baseline config, its datasets at NOWHERE, with a TTA
    pipeline at its 64x128 test scale (3 scales, flips)."""
    work_dir = str(tmp_path_factory.mktemp('everyday_tools'))
    cfg = tiny_baseline_cfg(
        synthetic_cityscapes, osp.join(work_dir, 'train'), max_iters=2,
        batch_size=2)
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = 2
    cfg.val_dataloader.dataset.indices = 4
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = NOWHERE
    cfg.tta_pipeline = [
        dict(type='LoadMultiViewImages'),
        dict(
            type='TestTimeAug',
            transforms=[[
                dict(
                    type='MultiViewResize',
                    scale=(int(128 * r), int(64 * r)),
                    keep_ratio=True) for r in (1.0, 0.75, 1.25)
            ],
                        [
                            dict(type='MultiViewRandomFlip', prob=0.),
                            dict(type='MultiViewRandomFlip', prob=1.)
                        ], [dict(type='LoadDepthSegAnnotations')],
                        [dict(type='PackMultiViewInputs')]])
    ]
    path = osp.join(work_dir, 'tiny_cfg.py')
    cfg.dump(path)
    return dict(path=path, work_dir=work_dir, data=synthetic_cityscapes)


@pytest.fixture(scope='module')
def trained(tiny_cfg):
    """2 iterations with --amp (bfloat16 autocast) where the CPU has it,
    the datasets moved by --data-root."""
    args = [
        'tools/train.py', tiny_cfg['path'], '--data-root', tiny_cfg['data']
    ]
    amp = cpu_supports_bfloat16()
    if amp:
        args.append('--amp')
    _, out = _run(args)
    work_dir = osp.join(tiny_cfg['work_dir'], 'train')
    return dict(out=out, amp=amp, work_dir=work_dir)


def test_amp_trains_two_iterations_on_cpu(trained):
    if not trained['amp']:
        pytest.skip('this CPU has no native bfloat16')
    out, work_dir = trained['out'], trained['work_dir']
    assert 'Iter(train) [2/2]' in out
    dumped = Config.fromfile(osp.join(work_dir, 'tiny_cfg.py'))
    assert dumped.optim_wrapper.type == 'CPUAmpOptimWrapper'
    assert dumped.optim_wrapper.dtype == 'bfloat16'
    assert osp.isfile(osp.join(work_dir, 'iter_2.pth'))
    scalars = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    with open(scalars[0]) as f:
        losses = [json.loads(line)['loss'] for line in f if 'loss' in line]
    assert len(losses) == 2 and np.all(np.isfinite(losses))


def test_amp_without_bfloat16_is_refused_before_building(
        tiny_cfg, tmp_path, monkeypatch):
    train = _load_tool('train.py')
    import mmdepthseg.engine.optimizers as optimizers
    monkeypatch.setattr(optimizers, 'cpu_supports_bfloat16', lambda: False)
    monkeypatch.setattr(train.torch.cuda, 'is_available', lambda: False)
    work_dir = str(tmp_path / 'amp')
    with pytest.raises(SystemExit, match='bfloat16'):
        train.main([
            tiny_cfg['path'], '--amp', '--work-dir', work_dir, '--data-root',
            tiny_cfg['data']
        ])
    assert not osp.exists(work_dir)


def test_data_root_moved_the_training_datasets(trained):
    dumped = Config.fromfile(osp.join(trained['work_dir'], 'tiny_cfg.py'))
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert dumped[loader].dataset.data_root != NOWHERE
        assert osp.isdir(dumped[loader].dataset.data_root)


def test_analyze_logs_plots_the_real_log(trained, tmp_path):
    scalars = glob.glob(
        osp.join(trained['work_dir'], '*', 'vis_data', 'scalars.json'))
    out = str(tmp_path / 'curves.png')
    _, text = _run([
        'tools/analysis_tools/analyze_logs.py', scalars[0], '--keys', 'loss',
        'seg.loss_ce', 'mIoU', '--legend', 'loss', 'ce', 'miou', '--out', out
    ])
    picture = cv2.imread(out)
    assert picture is not None and picture.shape[0] > 100
    assert out in text
    analyze = _load_tool('analysis_tools', 'analyze_logs.py')
    curves = analyze.load_json_log(scalars[0])
    assert [step for step, _ in curves['loss']] == [1, 2]
    assert [step for step, _ in curves['mIoU']] == [2]  # validation
    with pytest.raises(SystemExit, match='mIoUU'):
        analyze.main([scalars[0], '--keys', 'mIoUU', '--out', out])


def _test_run(tiny_cfg, trained, name, *extra):
    out_dir = osp.join(tiny_cfg['work_dir'], name)
    _, console = _run([
        'tools/test.py', tiny_cfg['path'],
        osp.join(trained['work_dir'], 'iter_2.pth'), '--work-dir',
        osp.join(tiny_cfg['work_dir'], f'{name}_work'), '--data-root',
        tiny_cfg['data'], '--out', out_dir, '--cfg-options',
        f'test_dataloader.dataset.indices={NUM_TEST}', *extra
    ])
    with open(osp.join(out_dir, 'metrics.json')) as f:
        metrics = json.load(f)
    return dict(out_dir=out_dir, console=console, metrics=metrics)


@pytest.fixture(scope='module')
def tested(tiny_cfg, trained):
    return _test_run(tiny_cfg, trained, 'pred')


@pytest.fixture(scope='module')
def tested_tta(tiny_cfg, trained):
    return _test_run(tiny_cfg, trained, 'pred_tta', '--tta')


def _test_dataset(tiny_cfg):
    cfg = Config.fromfile(tiny_cfg['path'])
    dataset = cfg.test_dataloader.dataset
    dataset.data_root = tiny_cfg['data']
    dataset.indices = NUM_TEST
    return DATASETS.build(dataset)


def test_out_files_decode_to_the_evaluated_predictions(tiny_cfg, tested):
    out_dir, metrics = tested['out_dir'], tested['metrics']
    dataset = _test_dataset(tiny_cfg)
    assert len(dataset) == NUM_TEST
    num_classes = 19
    confusion = np.zeros((num_classes, num_classes), np.int64)
    abs_rel = []
    for i in range(NUM_TEST):
        sample = dataset[i]['data_samples']
        rel = osp.relpath(
            osp.splitext(sample.img_path)[0], tiny_cfg['data'])
        seg = cv2.imread(
            osp.join(out_dir, 'seg', rel + '.png'), cv2.IMREAD_UNCHANGED)
        label_ids = cv2.imread(
            osp.join(out_dir, 'seg_labelIds', rel + '.png'),
            cv2.IMREAD_UNCHANGED)
        depth = np.load(osp.join(out_dir, 'depth', rel + '.npy'))
        depth_png = cv2.imread(
            osp.join(out_dir, 'depth', rel + '.png'), cv2.IMREAD_UNCHANGED)
        gt_seg = sample.gt_sem_seg.data[0].numpy()
        gt_depth = sample.gt_depth_map.data[0].numpy()
        assert seg.dtype == np.uint8 and seg.shape == gt_seg.shape
        assert depth.dtype == np.float32 and depth.shape == gt_depth.shape
        # KITTI encoding: uint16 = round(depth * 256)
        assert depth_png.dtype == np.uint16
        np.testing.assert_allclose(
            depth_png / 256., depth, atol=0.5 / 256 + 1e-6)
        np.testing.assert_array_equal(
            label_ids, np.asarray(TRAIN_TO_LABEL_ID)[seg])
        # the metrics, recomputed from the files (IoUMetric; DepthMetric
        # with 1e-3 < gt < 80 m, prediction clipped, mean over images)
        valid = gt_seg < num_classes
        confusion += np.bincount(
            num_classes * gt_seg[valid] + seg[valid],
            minlength=num_classes**2).reshape(num_classes, num_classes)
        mask = (gt_depth > 1e-3) & (gt_depth < 80.)
        pred = np.clip(depth[mask].astype(np.float64), 1e-3, 80.)
        gt = gt_depth[mask].astype(np.float64)
        abs_rel.append(np.mean(np.abs(pred - gt) / gt))
    inter = np.diag(confusion)
    union = confusion.sum(0) + confusion.sum(1) - inter
    with np.errstate(invalid='ignore', divide='ignore'):
        miou = np.nanmean(np.where(union > 0, inter / union, np.nan)) * 100
    assert round(miou, 2) == pytest.approx(metrics['mIoU'], abs=1e-4)
    assert np.mean(abs_rel) == pytest.approx(metrics['abs_rel'], rel=1e-5)


def test_test_console_fits_on_one_screen_with_the_metrics(tested):
    console = tested['console']
    lines = console.rstrip('\n').split('\n')
    assert len(lines) < 60, console
    table = [line for line in lines if 'mIoU' in line and 'abs_rel' in line]
    assert table, console  # the summary table's header
    assert 'Config:' not in console and 'Hooks will be executed' not in \
        console
    assert 'The prefix is not set' not in console
    assert f'{NUM_TEST}/{NUM_TEST}' in console  # the progress bar


def test_tta_changes_the_numbers(tested, tested_tta):
    plain, tta = tested['metrics'], tested_tta['metrics']
    assert set(plain) == set(tta)
    assert plain['abs_rel'] != tta['abs_rel']
    assert plain['mIoU'] != tta['mIoU'] or plain['aAcc'] != tta['aAcc']


def test_confusion_matrix_of_the_saved_predictions(tiny_cfg, tested,
                                                   tmp_path):
    tool = _load_tool('analysis_tools', 'confusion_matrix.py')
    matrix = tool.main([
        tiny_cfg['path'], tested['out_dir'],
        str(tmp_path), '--data-root', tiny_cfg['data'], '--cfg-options',
        f'test_dataloader.dataset.indices={NUM_TEST}'
    ])
    inter = np.diag(matrix)
    union = matrix.sum(0) + matrix.sum(1) - inter
    with np.errstate(invalid='ignore', divide='ignore'):
        miou = np.nanmean(np.where(union > 0, inter / union, np.nan)) * 100
    assert round(miou, 2) == pytest.approx(
        tested['metrics']['mIoU'], abs=1e-4)
    assert cv2.imread(str(tmp_path / 'confusion_matrix.png')) is not None


def test_config_errors_stop_before_the_work_dir_exists(tiny_cfg, tmp_path):
    train = _load_tool('train.py')
    work_dir = str(tmp_path / 'never')
    with pytest.raises(SystemExit) as err:
        train.main([
            tiny_cfg['path'], '--work-dir', work_dir, '--data-root',
            tiny_cfg['data'], '--cfg-options',
            'default_hooks.checkpoint.intervl=1'
        ])
    message = str(err.value)
    assert "CheckpointHook has no argument 'intervl'" in message
    assert "did you mean 'interval'?" in message
    assert not osp.exists(work_dir)
    # the config's own (absent) data root
    with pytest.raises(SystemExit, match=f'{NOWHERE}.*--data-root'):
        train.main([tiny_cfg['path'], '--work-dir', work_dir])
    assert not osp.exists(work_dir)
    # a data_root variable no dataset reads any more
    with pytest.raises(SystemExit, match='Use --data-root'):
        train.main([
            tiny_cfg['path'], '--work-dir', work_dir, '--cfg-options',
            f"data_root={tiny_cfg['data']}"
        ])
    test = _load_tool('test.py')
    with pytest.raises(SystemExit, match='missing.pth'):
        test.main([
            tiny_cfg['path'],
            str(tmp_path / 'missing.pth'), '--work-dir', work_dir,
            '--data-root', tiny_cfg['data']
        ])
    assert not osp.exists(work_dir)


def test_derived_flip_tta_pipeline_runs_on_the_test_set(tiny_cfg):
    """Configs without a tta_pipeline: the test pipeline, flipped after its
    last resize, before the ground truth kept at the original size."""
    test = _load_tool('test.py')
    cfg = Config.fromfile(tiny_cfg['path'])
    pipeline = test.flip_tta_pipeline(cfg.test_dataloader.dataset.pipeline)
    dataset = cfg.test_dataloader.dataset
    dataset.update(data_root=tiny_cfg['data'], indices=1, pipeline=pipeline)
    item = DATASETS.build(dataset)[0]
    plain, flipped = item['data_samples']
    assert (plain.flip, flipped.flip) == (False, True)
    assert tuple(plain.gt_sem_seg.shape) == (128, 256)  # original size
    assert tuple(item['inputs'][0].shape) == (3, 64, 128)
    # the flipped branch's input is the mirror image of the plain one
    assert (item['inputs'][1] == item['inputs'][0].flip(-1)).all()
