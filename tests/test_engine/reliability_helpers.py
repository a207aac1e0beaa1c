# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Hooks, tiny configs and comparisons for the reliability tests.

Importable as ``reliability_helpers`` (``tests/test_engine`` on the path,
as in subprocess and distributed runs). The hooks register under names
used only by these tests.
"""
import copy
import hashlib
import json
import os.path as osp
import time
from typing import Optional, Sequence

import torch
from mmengine.config import Config
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapperDict

from mmdepthseg.registry import HOOKS, RUNNERS

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
ESOSD_CFG = osp.join(REPO_ROOT, 'configs', 'synthetic',
                     'esosd_xception65_synthcityscapes.py')
SEMIMTL_CFG = osp.join(REPO_ROOT, 'configs', 'synthetic',
                       'semimtl_r18_synthcityscapes.py')


@HOOKS.register_module(force=True)
class PoisonBatchHook(Hook):
    """Put a NaN (or Inf) into the input image of one sample at given
    iterations.

    Args:
        iters (Sequence[int]): 1-based iterations to poison.
        sample (int): Index of the poisoned sample in the batch.
        rank (int, optional): Poison only this rank's batch.
        value (float): The poison. Defaults to NaN.
    """
    priority = 'VERY_HIGH'

    def __init__(self,
                 iters: Sequence[int],
                 sample: int = 0,
                 rank: Optional[int] = None,
                 value: float = float('nan')) -> None:
        self.iters = set(iters)
        self.sample = sample
        self.rank = rank
        self.value = value

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if runner.iter + 1 in self.iters and self.rank in (None, get_rank()):
            img = data_batch['inputs'][self.sample].float()
            img[0, 0, 0] = self.value
            data_batch['inputs'][self.sample] = img


@HOOKS.register_module(force=True)
class RecordBatchesHook(Hook):
    """Record what every iteration trained on: file names and a digest of
    the inputs and ground truth, in ``batches_rank<r>.json`` of the work
    dir (kept across resumed runs, written after every iteration)."""
    priority = 'VERY_HIGH'

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        digest = hashlib.sha1()
        for img in data_batch['inputs']:
            digest.update(img.contiguous().numpy().tobytes())
        for sample in data_batch['data_samples']:
            for name in ('gt_sem_seg', 'gt_depth_map'):
                if name in sample:
                    digest.update(
                        sample.get(name).data.contiguous().numpy().tobytes())
        self._record = dict(
            files=[
                osp.basename(str(s.metainfo.get('img_path')))
                for s in data_batch['data_samples']
            ],
            digest=digest.hexdigest())

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        path = osp.join(runner.work_dir, f'batches_rank{get_rank()}.json')
        records = {}
        if osp.exists(path):
            with open(path) as f:
                records = json.load(f)
        records[str(runner.iter + 1)] = self._record
        with open(path, 'w') as f:
            json.dump(records, f)


@HOOKS.register_module(force=True)
class StateSnapshotHook(Hook):
    """Copy the model's state (parameters and buffers) and every optimizer's
    state before and after one iteration (after all other hooks, i.e. after
    NonFiniteLossHook and DiscriminatorStepHook).

    Args:
        iteration (int): The 1-based iteration.
        dump (bool): Also save both states to ``snapshot_rank<r>.pth`` in
            the work dir (for subprocess runs). Defaults to False.
    """
    priority = 'LOWEST'

    def __init__(self, iteration: int, dump: bool = False) -> None:
        self.iteration = iteration
        self.dump = dump
        self.before = self.after = None

    @staticmethod
    def _state(runner) -> dict:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        wrappers = runner.optim_wrapper
        named = dict(wrappers.items()) if isinstance(
            wrappers, OptimWrapperDict) else dict(optim_wrapper=wrappers)
        return dict(
            model=copy.deepcopy(model.state_dict()),
            optimizer={
                name: copy.deepcopy(w.optimizer.state_dict()['state'])
                for name, w in named.items()
            })

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if runner.iter + 1 == self.iteration:
            self.before = self._state(runner)

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        if runner.iter + 1 == self.iteration:
            self.after = self._state(runner)
            if self.dump:
                torch.save(
                    dict(before=self.before, after=self.after),
                    osp.join(runner.work_dir,
                             f'snapshot_rank{get_rank()}.pth'))


def find_hook(runner, hook_type: type):
    return next(h for h in runner.hooks if isinstance(h, hook_type))


def log_text(runner) -> str:
    """The text of the runner's log file so far."""
    import logging
    for handler in runner.logger.handlers:
        if isinstance(handler, logging.FileHandler):
            handler.flush()
            with open(handler.baseFilename) as f:
                return f.read()
    raise AssertionError('the runner logs to no file')


class Interrupted(Exception):
    """Raised by :class:`InterruptAtHook`."""


@HOOKS.register_module(force=True)
class InterruptAtHook(Hook):
    """End training with :class:`Interrupted` right after iteration
    ``iteration`` (after its checkpoint), as a kill at that moment would."""
    priority = 'LOWEST'

    def __init__(self, iteration: int) -> None:
        self.iteration = iteration

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        if runner.iter + 1 == self.iteration:
            raise Interrupted(self.iteration)


def read_batches(work_dir: str, rank: int = 0) -> dict:
    with open(osp.join(work_dir, f'batches_rank{rank}.json')) as f:
        return {int(k): v for k, v in json.load(f).items()}


def no_validation(cfg: Config) -> Config:
    """Drop the validation loop (not part of what is compared)."""
    cfg.val_cfg = None
    cfg.val_dataloader = None
    cfg.val_evaluator = None
    return cfg


def tiny_esosd_cfg(data_root: str, work_dir: str, max_iters: int) -> Config:
    """ESOSD-Net (SOSD-Net + EM alternation, one phase per iteration) on
    generated Cityscapes-layout scenes at 64x128, batch 2."""
    from _helpers import tiny_baseline_cfg
    cfg = tiny_baseline_cfg(data_root, work_dir, max_iters, batch_size=2)
    esosd = Config.fromfile(ESOSD_CFG)
    for key in ('model', 'custom_hooks', 'optim_wrapper'):
        cfg[key] = esosd[key]
    return cfg


def tiny_semimtl_cfg(data_root: str, work_dir: str, max_iters: int) -> Config:
    """SemiMTL (both optimizers, DiscriminatorStepHook) on two generated
    domains, 64x128 crops, two samples per domain (each domain's batch
    goes through batch norm alone: ``generator_update='per_domain'``)."""
    cfg = Config.fromfile(SEMIMTL_CFG)
    cfg.work_dir = work_dir
    for loader in ('train_dataloader', 'val_dataloader'):
        for source in cfg[loader].dataset.sources:
            source.dataset.data_root = data_root
            if loader == 'train_dataloader':
                for step in source.dataset.pipeline:
                    if step.type == 'MultiViewRandomResize':
                        step.scale = (128, 64)
                    elif step.type == 'MultiViewRandomCrop':
                        step.crop_size = (64, 128)
        cfg[loader].num_workers = 0
        cfg[loader].persistent_workers = False
    cfg.test_dataloader = cfg.val_dataloader
    cfg.train_dataloader.batch_size = 4
    cfg.train_dataloader.sampler.batch_size_per_source = [2, 2]
    cfg.train_cfg.max_iters = cfg.train_cfg.val_interval = max_iters
    cfg.param_scheduler.generator[0].end = 1000
    cfg.default_hooks.checkpoint.interval = max_iters
    cfg.default_hooks.logger.interval = 10
    cfg.randomness = dict(seed=0)
    return cfg


def train(cfg: Config,
          max_iters: Optional[int],
          resume: bool = False,
          extra_hooks: Sequence[dict] = ()):
    """Build a runner the way tools/train.py does (``runner_type``) and
    train to ``max_iters`` (None: as configured); returns the runner."""
    cfg = cfg.copy()
    if max_iters is not None:
        cfg.train_cfg.max_iters = max_iters
    cfg.resume = resume
    cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + list(extra_hooks)
    cfg.experiment_name = f'reliability_{time.time_ns()}'
    runner = RUNNERS.build(cfg)
    runner.train()
    return runner


def load(path: str) -> dict:
    return torch.load(path, map_location='cpu')


def assert_identical(a, b, where: str = '') -> None:
    """Bit-identical nested checkpoint content (tensors with torch.equal)."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor), where
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert torch.equal(a, b), f'{where} differs'
    elif isinstance(a, dict):
        assert set(a) == set(b), f'{where}: keys {set(a) ^ set(b)}'
        for key in a:
            assert_identical(a[key], b[key], f'{where}.{key}')
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_identical(x, y, f'{where}[{i}]')
    else:
        assert a == b or (a != a and b != b), f'{where}: {a!r} != {b!r}'


def assert_same_training_state(
        a: dict,
        b: dict,
        meta_keys: Sequence[str] = ('iter', 'epoch'),
        extra_meta: Optional[Sequence[str]] = None) -> None:
    """Parameters, buffers, optimizer and scheduler states and the named
    meta entries of two checkpoints are bit-identical."""
    assert_identical(a['state_dict'], b['state_dict'], 'state_dict')
    assert_identical(a['optimizer'], b['optimizer'], 'optimizer')
    assert_identical(
        a.get('param_schedulers'), b.get('param_schedulers'),
        'param_schedulers')
    for key in list(meta_keys) + list(extra_meta or []):
        assert_identical(a['meta'].get(key), b['meta'].get(key), key)
