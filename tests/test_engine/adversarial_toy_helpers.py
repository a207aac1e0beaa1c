# Copyright (c) mmdepthseg contributors. All rights reserved.
"""A toy generator + discriminators model, data and recorders for the tests
of the generator/discriminator optimizer constructor and step hook.

The model follows the SemiMTL contract (docs of ``SemiMTL``):
``train_step(data, optim_wrapper)`` does the generator step with the
discriminators frozen and caches ``discriminator_inputs``;
``discriminator_step(optim_wrapper_d)`` updates the discriminators on the
cache (ground truth -> class 0, prediction of domain k -> class k) and
returns ``loss_d_seg`` / ``loss_d_depth``.

Importable as ``adversarial_toy_helpers`` (``tests/test_engine`` on the
path, as in the distributed run) or ``test_engine.adversarial_toy_helpers``;
the classes register under names used only by these tests.
"""
import copy
import os.path as osp
from typing import Dict, Optional

import torch
import torch.nn.functional as F
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import BaseModel, is_model_wrapper
from mmengine.optim import OptimWrapper, OptimWrapperDict
from torch import nn
from torch.utils.data import Dataset

from mmdepthseg.registry import DATASETS, HOOKS, MODELS

NUM_CLASSES = 3
NUM_DOMAINS = 2
TASKS = ('seg', 'depth')


class ToyDiscriminators(nn.ModuleDict):
    """Per-task discriminators with one forward for all tasks.

    Under ``MMSeparateDistributedDataParallel`` this module is one DDP
    wrapper; with ``find_unused_parameters=True`` DDP allows one forward
    per backward when the step trains it, hence a single call taking every
    task's input.
    """

    def forward(self, inputs: Dict[str, torch.Tensor]) -> dict:
        """Task -> (N, K+1, H, W) logits for task -> (N, C_t, H, W)."""
        return {task: self[task](x) for task, x in inputs.items()}


class Scale(nn.Module):
    """Multiply by a learnt scalar."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale


def _discriminator(in_channels: int) -> nn.Module:
    return nn.Sequential(
        nn.utils.spectral_norm(nn.Conv2d(in_channels, 4, 1)),
        nn.LeakyReLU(0.2), nn.Conv2d(4, NUM_DOMAINS + 1, 1))


@MODELS.register_module(force=True)
class AdversarialToyModel(BaseModel):
    """Shared trunk, seg and depth heads, two discriminators.

    Args:
        with_discriminators (bool): False for the single-task / joint
            training baselines (``discriminators = None``).
        freeze_discriminators (bool): Keep the discriminators frozen in the
            generator step (the contract); False lets the adversarial
            gradients reach them (a bug the hook detects).
        model_level_param (bool): Hold the depth scale as a parameter of
            the model itself (True) or of a child module (False; needed
            under ``MMSeparateDistributedDataParallel``, which synchronises
            children only).
    """

    def __init__(self,
                 with_discriminators: bool = True,
                 freeze_discriminators: bool = True,
                 model_level_param: bool = True,
                 data_preprocessor: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor)
        self.backbone = nn.Conv2d(3, 4, 1)
        self.seg_head = nn.Conv2d(4, NUM_CLASSES, 1)
        self.depth_head = nn.Conv2d(4, 1, 1)
        if model_level_param:
            # a parameter of the model itself: belongs to the generator
            self.depth_scale = nn.Parameter(torch.ones(()))
        else:
            # called through its forward: under DDP wrappers, a module's
            # parameters are synchronised only when it is called
            self.depth_scaler = Scale()
        self.discriminators = ToyDiscriminators(
            dict(seg=_discriminator(NUM_CLASSES),
                 depth=_discriminator(1))) if with_discriminators else None
        self.freeze_discriminators = freeze_discriminators
        self.discriminator_inputs: Optional[dict] = None
        self.d_step_log = []

    def forward(self,
                inputs: torch.Tensor,
                seg: Optional[torch.Tensor] = None,
                depth: Optional[torch.Tensor] = None,
                domain: Optional[torch.Tensor] = None,
                mode: str = 'tensor'):
        feat = F.relu(self.backbone(inputs))
        seg_logits = self.seg_head(feat)
        depth_pred = self.depth_head(feat)
        if hasattr(self, 'depth_scale'):
            depth_pred = depth_pred * self.depth_scale
        else:
            depth_pred = self.depth_scaler(depth_pred)
        if mode != 'loss':
            return seg_logits, depth_pred
        losses = dict(
            loss_seg=F.cross_entropy(seg_logits, seg),
            loss_depth=(depth_pred - depth).abs().mean())
        if self.discriminators is not None:
            probs = seg_logits.softmax(dim=1)
            if self.freeze_discriminators:
                self.discriminators.requires_grad_(False)
            try:
                out = self.discriminators(dict(seg=probs, depth=depth_pred))
            finally:
                self.discriminators.requires_grad_(True)
            for task in TASKS:
                # fool the discriminator: predictions -> class 0 (GT)
                target = torch.zeros_like(out[task][:, 0], dtype=torch.long)
                losses[f'loss_adv_{task}'] = 0.1 * F.cross_entropy(
                    out[task], target)
            self.discriminator_inputs = dict(
                pred=dict(seg=probs.detach(), depth=depth_pred.detach()),
                gt=dict(
                    seg=F.one_hot(seg, NUM_CLASSES).permute(0, 3, 1,
                                                            2).float(),
                    depth=depth),
                domain=domain)
        return losses

    def train_step(self, data: dict,
                   optim_wrapper: OptimWrapper) -> Dict[str, torch.Tensor]:
        if isinstance(optim_wrapper, OptimWrapperDict):
            optim_wrapper = optim_wrapper['generator']
        with optim_wrapper.optim_context(self):
            data = self.data_preprocessor(data, True)
            losses = self(**data, mode='loss')
        loss, log_vars = self.parse_losses(losses)
        optim_wrapper.update_params(loss)
        return log_vars

    def discriminator_step(self, optim_wrapper_d: OptimWrapper) -> dict:
        cache = self.discriminator_inputs
        if cache is None:
            raise RuntimeError('discriminator_step before a train_step')
        with optim_wrapper_d.optim_context(self.discriminators):
            out = self.discriminators({
                task:
                torch.cat([cache['gt'][task], cache['pred'][task]])
                for task in TASKS
            })
            losses = {}
            for task in TASKS:
                # first half ground truth -> 0, second half predictions of
                # domain k -> k
                n, _, h, w = cache['pred'][task].shape
                domain = cache['domain'].long().view(n, 1, 1).expand(n, h, w)
                target = torch.cat([torch.zeros_like(domain), domain])
                losses[f'loss_d_{task}'] = F.cross_entropy(out[task], target)
        loss, log_vars = self.parse_losses(losses)
        optim_wrapper_d.update_params(loss)
        self.discriminator_inputs = None
        log_vars = {k: v for k, v in log_vars.items() if k != 'loss'}
        self.d_step_log.append(log_vars)
        return log_vars


@DATASETS.register_module(force=True)
class AdversarialToyDataset(Dataset):
    """``length`` random 3x4x4 images with labels; domains 1, 2, 1, 2..."""

    def __init__(self, length: int = 8, size: int = 4, seed: int = 0):
        gen = torch.Generator().manual_seed(seed)
        self.inputs = torch.randn(length, 3, size, size, generator=gen)
        self.depth = torch.rand(length, 1, size, size, generator=gen)
        self.seg = torch.randint(
            0, NUM_CLASSES, (length, size, size), generator=gen)
        self.metainfo = dict(classes=tuple(range(NUM_CLASSES)))

    def __len__(self) -> int:
        return len(self.inputs)

    def __getitem__(self, index: int) -> dict:
        return dict(
            inputs=self.inputs[index],
            seg=self.seg[index],
            depth=self.depth[index],
            domain=torch.tensor(index % NUM_DOMAINS + 1))


def unwrap(runner) -> nn.Module:
    model = runner.model
    return model.module if is_model_wrapper(model) else model


def snapshot_params(model: nn.Module) -> Dict[str, torch.Tensor]:
    """Copies of every parameter, by name."""
    return {n: p.detach().clone() for n, p in model.named_parameters()}


def snapshot_optim_state(optimizer: torch.optim.Optimizer) -> list:
    """Copies of the optimizer's per-parameter state, in group order."""
    states = []
    for group in optimizer.param_groups:
        for param in group['params']:
            states.append({
                k:
                v.clone() if torch.is_tensor(v) else copy.deepcopy(v)
                for k, v in optimizer.state.get(param, {}).items()
            })
    return states


@HOOKS.register_module(force=True)
class AdversarialRecorderHook(Hook):
    """Snapshot the parameters around the generator and discriminator steps.

    ``stage='g'`` (give it a priority above ``ABOVE_NORMAL``, e.g.
    ``'HIGH'``) records ``before`` (before the iteration) and ``after_g``
    (after ``train_step``, before the discriminator step); ``stage='d'``
    (priority below ``ABOVE_NORMAL``) records ``after_d`` and the logged
    ``train/loss_d_*`` values. With ``dump=True`` the records are saved to
    ``work_dir/adversarial_<stage>_rank<r>.pth`` after training.
    """

    def __init__(self, stage: str = 'g', dump: bool = False):
        assert stage in ('g', 'd')
        self.stage = stage
        self.dump = dump
        self.records = []

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if self.stage == 'g':
            self.records.append(
                dict(iter=runner.iter, before=snapshot_params(unwrap(runner))))

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        if self.stage == 'g':
            self.records[-1]['after_g'] = snapshot_params(unwrap(runner))
            return
        hub = runner.message_hub
        self.records.append(
            dict(
                iter=runner.iter,
                after_d=snapshot_params(unwrap(runner)),
                logged={
                    key: hub.get_scalar(key).current()
                    for key in hub.log_scalars if key.startswith('train/')
                }))

    def after_train(self, runner) -> None:
        if self.dump:
            torch.save(
                dict(
                    wrapper=type(runner.model).__name__, records=self.records),
                osp.join(runner.work_dir,
                         f'adversarial_{self.stage}_rank{get_rank()}.pth'))
