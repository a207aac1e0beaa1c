# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The learning tests' harness (importable as ``_learning``).

Shared by ``tests/test_models/test_segmentors/test_*_learns.py`` and
``tests/learning_spread.py``:

- the generated datasets of the learning tests (the session fixtures of
  ``tests/conftest.py`` call the same functions);
- one short training run per method (:data:`LEARNING_RUNS`), seeded;
- the **trivial predictors** a trained model must beat on the same held-out
  frames, evaluated by the config's own evaluator:

  - depth: one constant per domain, the median of the held-out ground truth
    over its valid pixels (an oracle constant: no trained constant can do
    better on these frames by much). Under per-image median scaling any
    constant becomes the per-image ground-truth median.
  - segmentation: the majority class of the held-out labels per domain.

A model that learnt nothing does much worse than these (its depth is off in
scale and shape, its labels are noise), so a test asserting a clear margin
over them fails when training is broken, whatever the CPU's rounding.
"""
import copy
import os.path as osp
import shutil
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import torch
from _helpers import (REPO_ROOT, tiny_baseline_cfg, tiny_fsre_cfg,
                      tiny_pseudo_mtl_cfg)
from mmengine.config import Config
from mmengine.runner import Runner

IGNORE_INDEX = 255

# ---------------------------------------------------------------------------
# generated data
# ---------------------------------------------------------------------------


def make_synthetic_cityscapes(root: str) -> str:
    """Cityscapes layout (128x256): train 2 cities x 12 frames, val 1 city
    x 12 frames."""
    from mmdepthseg.synthetic import write_cityscapes
    write_cityscapes(
        root,
        seed=0,
        cities={
            'train': ['aachen', 'bochum'],
            'val': ['frankfurt']
        },
        frames_per_city=12,
        height=128,
        width=256)
    return root


def make_synthetic_kitti(root: str) -> str:
    """KITTI raw tree (96x320): 2 drives x 16 frames with calibration,
    velodyne scans, semantic trees and split files."""
    from mmdepthseg.synthetic import write_kitti_raw
    write_kitti_raw(
        root, seed=0, num_drives=2, frames_per_drive=16, height=96, width=320)
    return root


def make_synthetic_kitti_pseudo(root: str, kitti_root: str) -> str:
    """A copy of :func:`make_synthetic_kitti`'s tree with SGBM pseudo depth
    + confidence for both cameras."""
    from mmdepthseg.stereo.pseudo_depth import generate_dataset_pseudo_depth
    shutil.copytree(kitti_root, root, dirs_exist_ok=True)
    generate_dataset_pseudo_depth(root, dataset='kitti', progress=False)
    return root


def make_synthetic_semimtl(root: str) -> str:
    """Cityscapes layout (128x256) for two-domain SemiMTL: ``train`` labels
    segmentation, ``train_extra`` depth; held-out ``val`` / ``val_extra``."""
    from mmdepthseg.synthetic import write_cityscapes
    write_cityscapes(
        root,
        seed=0,
        cities={
            'train': ['aachen', 'bochum'],
            'train_extra': ['erfurt', 'dresden'],
            'val': ['frankfurt'],
            'val_extra': ['lindau']
        },
        frames_per_city=6,
        height=128,
        width=256)
    return root


# ---------------------------------------------------------------------------
# evaluation against trivial predictors
# ---------------------------------------------------------------------------


def predict_held_out(runner: Runner) -> List[Tuple[dict, list]]:
    """``(data_batch, predicted samples)`` for every validation batch."""
    model = runner.model
    model.eval()
    batches = []
    with torch.no_grad():
        for data_batch in runner.val_dataloader:
            batches.append((data_batch, model.val_step(data_batch)))
    return batches


def _first_view(field) -> torch.Tensor:
    data = field.data
    return data[0] if data.dim() == 3 else data


def trivial_constants(samples: List) -> Dict[int, dict]:
    """Per domain (metainfo ``domain``, 0 without one): the median of the
    valid (finite, > 0) ground-truth depth and the majority label.

    Args:
        samples (list[SegDataSample]): Predicted samples with ground truth.

    Returns:
        dict[int, dict]: ``domain -> dict(depth=float | None,
        label=int | None)``.
    """
    depths: Dict[int, list] = {}
    counts: Dict[int, np.ndarray] = {}
    for sample in samples:
        domain = int(sample.metainfo.get('domain', 0))
        if sample.get('gt_depth_map') is not None:
            gt = _first_view(sample.gt_depth_map).double()
            depths.setdefault(domain, []).append(
                gt[torch.isfinite(gt) & (gt > 0)].numpy())
        if sample.get('gt_sem_seg') is not None:
            label = _first_view(sample.gt_sem_seg).long()
            label = label[label != IGNORE_INDEX].numpy()
            count = np.bincount(label, minlength=256)
            counts[domain] = counts.get(domain, 0) + count
    constants = {}
    for domain in set(depths) | set(counts):
        depth = np.concatenate(depths[domain]) if domain in depths else None
        constants[domain] = dict(
            depth=float(np.median(depth))
            if depth is not None and depth.size else None,
            label=int(np.argmax(counts[domain]))
            if domain in counts else None)
    return constants


def _image_median(sample) -> float:
    gt = _first_view(sample.gt_depth_map).double()
    return float(gt[torch.isfinite(gt) & (gt > 0)].median())


def trivial_samples(samples: List,
                    constants: Dict[int, dict],
                    per_image: bool = False) -> List:
    """Copies of ``samples`` whose predictions are the trivial ones: the
    constant depth (with ``per_image``, the median of the sample's own
    ground truth instead) and the majority label of the sample's domain."""
    out = []
    for sample in samples:
        sample = copy.deepcopy(sample)
        const = constants[int(sample.metainfo.get('domain', 0))]
        if sample.get('pred_depth_map') is not None and \
                const['depth'] is not None:
            depth = _image_median(sample) if per_image else const['depth']
            pred = sample.pred_depth_map.data
            sample.pred_depth_map.data = torch.full_like(pred, depth)
        if sample.get('pred_sem_seg') is not None and \
                const['label'] is not None:
            pred = sample.pred_sem_seg.data
            sample.pred_sem_seg.data = torch.full_like(pred, const['label'])
            if sample.get('seg_logits') is not None:
                logits = torch.zeros_like(sample.seg_logits.data)
                logits[const['label']] = 1
                sample.seg_logits.data = logits
        out.append(sample)
    return out


def evaluate(runner: Runner,
             batches: List[Tuple[dict, list]],
             evaluator_cfg: Optional[dict] = None) -> dict:
    """The config's validation evaluator (a fresh one; or
    ``evaluator_cfg``) on given samples."""
    evaluator = runner.build_evaluator(
        copy.deepcopy(evaluator_cfg or runner.cfg.val_evaluator))
    dataset = runner.val_dataloader.dataset
    evaluator.dataset_meta = dataset.metainfo
    for data_batch, samples in batches:
        evaluator.process(data_samples=samples, data_batch=data_batch)
    return evaluator.evaluate(len(dataset))


def _median_scaled_cfg(evaluator_cfg: dict) -> Optional[dict]:
    """``evaluator_cfg`` with per-image median scaling, for a
    ``DepthSegMetric`` evaluated without it (else None)."""
    if evaluator_cfg.get('type') != 'DepthSegMetric':
        return None
    depth_cfg = dict(evaluator_cfg.get('depth_cfg') or {})
    if depth_cfg.get('median_scaling', False):
        return None
    depth_cfg['median_scaling'] = True
    return dict(copy.deepcopy(evaluator_cfg), depth_cfg=depth_cfg)


def evaluate_against_trivial(runner: Runner) -> dict:
    """Metrics of the model and of the trivial predictors on the held-out
    frames.

    Returns:
        dict: Metric name -> value (the evaluator's keys) of ``model``, of
        ``trivial`` (one constant depth per domain, the majority label)
        and of ``image_median`` (each image's own ground-truth median as
        its depth: what a predictor that knows only the scale of every
        image achieves; the same as ``trivial`` under median scaling), and
        the ``constants`` (see :func:`trivial_constants`). For a metric
        depth evaluation (``DepthSegMetric`` without median scaling) also
        ``model_ms`` and ``trivial_ms``: the same with per-image median
        scaling (the depth's shape, whatever its scale; the trivial
        predictor becomes the per-image median).
    """
    batches = predict_held_out(runner)
    constants = trivial_constants([s for _, b in batches for s in b])
    result = dict(model=evaluate(runner, batches), constants=constants)
    trivial = {
        key: [(data, trivial_samples(samples, constants, per_image))
              for data, samples in batches]
        for key, per_image in (('trivial', False), ('image_median', True))
    }
    for key, samples in trivial.items():
        result[key] = evaluate(runner, samples)
    ms_cfg = _median_scaled_cfg(runner.cfg.val_evaluator)
    if ms_cfg is not None:
        result['model_ms'] = evaluate(runner, batches, ms_cfg)
        result['trivial_ms'] = evaluate(runner, trivial['trivial'], ms_cfg)
    return result


# ---------------------------------------------------------------------------
# the training runs
# ---------------------------------------------------------------------------


def _finish_cfg(cfg: Config, max_iters: int, seed: int, name: str) -> Config:
    """No validation or checkpoint during the run (the harness evaluates
    once at the end), the given seed."""
    cfg.train_cfg.max_iters = max_iters
    cfg.train_cfg.val_interval = max_iters + 1
    cfg.default_hooks.checkpoint.interval = max_iters + 1
    cfg.default_hooks.checkpoint.save_last = False
    cfg.randomness = dict(seed=seed)
    cfg.experiment_name = f'{name}_seed{seed}_{id(cfg)}'
    return cfg


def _train(cfg: Config) -> Tuple[Runner, dict]:
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner, evaluate_against_trivial(runner)


#: Iterations of each run: enough for the gains to dwarf the spread over
#: seeds and CPU numerics (``tests/learning_spread.py``), in under ~60 s on
#: 2 cores each.
ITERS = dict(baseline=200, fsre=150, pseudo_mtl=80, esosd=80, semimtl=100)


def run_baseline(data_root: str, work_dir: str, seed: int = 0):
    """The supervised baseline on generated Cityscapes-layout streets."""
    cfg = tiny_baseline_cfg(data_root, work_dir, ITERS['baseline'])
    return _train(_finish_cfg(cfg, ITERS['baseline'], seed, 'baseline'))


def run_fsre(data_root: str, work_dir: str, seed: int = 0):
    """FSRE-Depth on generated monocular KITTI video."""
    cfg = tiny_fsre_cfg(data_root, work_dir, ITERS['fsre'])
    return _train(_finish_cfg(cfg, ITERS['fsre'], seed, 'fsre'))


def run_pseudo_mtl(data_root: str, work_dir: str, seed: int = 0):
    """Pseudo-MTL on generated KITTI stereo with SGBM pseudo labels."""
    cfg = tiny_pseudo_mtl_cfg(data_root, work_dir, ITERS['pseudo_mtl'])
    return _train(_finish_cfg(cfg, ITERS['pseudo_mtl'], seed, 'pseudo_mtl'))


ESOSD_CFG = osp.join(REPO_ROOT, 'configs', 'synthetic',
                     'esosd_xception65_synthcityscapes.py')


def run_esosd(data_root: str, work_dir: str, seed: int = 0):
    """ESOSD-Net (EM alternation) on generated Cityscapes-layout streets."""
    cfg = tiny_baseline_cfg(data_root, work_dir, ITERS['esosd'])
    esosd = Config.fromfile(ESOSD_CFG)
    for key in ('model', 'custom_hooks', 'optim_wrapper'):
        cfg[key] = esosd[key]
    cfg.param_scheduler = []
    return _train(_finish_cfg(cfg, ITERS['esosd'], seed, 'esosd'))


SEMIMTL_CFG = osp.join(REPO_ROOT, 'configs', 'synthetic',
                       'semimtl_r18_synthcityscapes.py')


def run_semimtl(data_root: str, work_dir: str, seed: int = 0):
    """SemiMTL on two generated domains (seg-only / depth-only labels)."""
    cfg = Config.fromfile(SEMIMTL_CFG)
    cfg.work_dir = work_dir
    for loader in ('train_dataloader', 'val_dataloader'):
        for source in cfg[loader].dataset.sources:
            source.dataset.data_root = data_root
        cfg[loader].num_workers = 0
        cfg[loader].persistent_workers = False
    cfg.test_dataloader = cfg.val_dataloader
    iters = ITERS['semimtl']
    cfg.param_scheduler.generator[0].end = iters + 1
    return _train(_finish_cfg(cfg, iters, seed, 'semimtl'))


#: name -> (run function, dataset maker names it needs, in order).
LEARNING_RUNS: Dict[str, Tuple[Callable, str]] = dict(
    baseline=(run_baseline, 'synthetic_cityscapes'),
    fsre=(run_fsre, 'synthetic_kitti'),
    pseudo_mtl=(run_pseudo_mtl, 'synthetic_kitti_pseudo'),
    esosd=(run_esosd, 'synthetic_cityscapes'),
    semimtl=(run_semimtl, 'synthetic_semimtl'))
