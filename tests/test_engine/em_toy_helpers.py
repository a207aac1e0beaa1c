# Copyright (c) mmdepthseg contributors. All rights reserved.
"""A toy two-task model, data and a recorder for the EM hook tests.

Importable as ``em_toy_helpers`` (``tests/test_engine`` on the path, as in
the distributed run) or ``test_engine.em_toy_helpers``; the classes register
under names used only by these tests.
"""
import copy
import os.path as osp
from typing import Optional

import torch
import torch.nn.functional as F
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import BaseModel, is_model_wrapper
from torch import nn
from torch.utils.data import Dataset

from mmdepthseg.registry import DATASETS, HOOKS, MODELS

NUM_CLASSES = 3

#: Parameter prefixes of the toy model as the SOSD-Net hook config names
#: them (Sec. 3.3): common, decoder, task-specific and objectness branches.
DEPTH_TRAINABLE = ('backbone', 'neck', 'decode_head.decoder',
                   'decode_head.depth_branch', 'decode_head.obj_3d',
                   'decode_head.obj_2d')
SEG_TRAINABLE = ('backbone', 'neck', 'decode_head.decoder',
                 'decode_head.seg_branch', 'decode_head.obj_3d',
                 'decode_head.obj_inv_depth')
#: Parameters that only one phase trains.
DEPTH_ONLY = ('decode_head.depth_branch', 'decode_head.obj_2d')
SEG_ONLY = ('decode_head.seg_branch', 'decode_head.obj_inv_depth')


def em_phases() -> list:
    """The two phases of Algorithm 1 for the toy model."""
    return [
        dict(name='depth', tasks=('depth', ), trainable=DEPTH_TRAINABLE),
        dict(name='semantic', tasks=('seg', ), trainable=SEG_TRAINABLE)
    ]


class EMToyHead(nn.Module):
    """Decoder + depth/semantic branches + three objectness branches."""

    def __init__(self, channels: int = 4, num_classes: int = NUM_CLASSES):
        super().__init__()
        self.decoder = nn.Conv2d(channels, channels, 1)
        self.depth_branch = nn.Conv2d(channels, 1, 1)
        self.seg_branch = nn.Conv2d(channels, num_classes, 1)
        self.obj_3d = nn.Conv2d(channels, 1, 1)
        self.obj_2d = nn.Conv2d(channels, 1, 1)
        self.obj_inv_depth = nn.Conv2d(1, num_classes, 1)


@MODELS.register_module(force=True)
class EMToySegmentor(BaseModel):
    """A segmentor-shaped toy: shared trunk, two tasks, objectness.

    Depth = depth_branch + obj_2d * obj_3d; segmentation logits =
    seg_branch + obj_inv_depth(depth_branch) * obj_3d, so the semantic phase
    runs the (frozen) depth branch as a hidden variable, as SOSD-Net's
    depth-to-semantic module does. ``loss()`` computes only the losses of
    ``active_tasks`` and appends them to ``task_history``.
    """

    def __init__(self, channels: int = 4, data_preprocessor=None):
        super().__init__(data_preprocessor=data_preprocessor)
        self.backbone = nn.Conv2d(3, channels, 1)
        self.neck = nn.Conv2d(channels, channels, 1)
        self.decode_head = EMToyHead(channels)
        self.active_tasks = ('depth', 'seg')
        self.task_history = []

    def forward(self,
                inputs: torch.Tensor,
                depth: Optional[torch.Tensor] = None,
                seg: Optional[torch.Tensor] = None,
                mode: str = 'tensor'):
        head = self.decode_head
        feat = head.decoder(F.relu(self.neck(F.relu(self.backbone(inputs)))))
        obj_3d = head.obj_3d(feat)
        if mode != 'loss':
            return head.depth_branch(feat) + head.obj_2d(feat) * obj_3d
        self.task_history.append(tuple(self.active_tasks))
        losses = {}
        if 'depth' in self.active_tasks:
            pred = head.depth_branch(feat) + head.obj_2d(feat) * obj_3d
            losses['loss_depth'] = (pred - depth).abs().mean()
        if 'seg' in self.active_tasks:
            logits = head.seg_branch(feat) + head.obj_inv_depth(
                head.depth_branch(feat)) * obj_3d
            losses['loss_seg'] = F.cross_entropy(logits, seg)
        return losses


@DATASETS.register_module(force=True)
class EMToyDataset(Dataset):
    """``length`` random 3x4x4 images with depth and 3-class labels."""

    def __init__(self, length: int = 8, size: int = 4, seed: int = 0):
        gen = torch.Generator().manual_seed(seed)
        self.inputs = torch.randn(length, 3, size, size, generator=gen)
        self.depth = torch.rand(length, 1, size, size, generator=gen) * 10
        self.seg = torch.randint(
            0, NUM_CLASSES, (length, size, size), generator=gen)
        self.metainfo = dict(classes=tuple(range(NUM_CLASSES)))

    def __len__(self) -> int:
        return len(self.inputs)

    def __getitem__(self, index: int) -> dict:
        return dict(
            inputs=self.inputs[index],
            depth=self.depth[index],
            seg=self.seg[index])


def snapshot(model: nn.Module, optimizer: torch.optim.Optimizer) -> dict:
    """Copies of every parameter and of its optimizer state, by name."""
    params = {n: p.detach().clone() for n, p in model.named_parameters()}
    state = {}
    for name, param in model.named_parameters():
        if param in optimizer.state:
            state[name] = {
                k: v.clone() if torch.is_tensor(v) else copy.deepcopy(v)
                for k, v in optimizer.state[param].items()
            }
    return dict(params=params, state=state)


@HOOKS.register_module(force=True)
class EMRecorderHook(Hook):
    """Record, per training iteration, the tasks, the ``requires_grad``
    flags and snapshots before and after the step; dump them per rank.

    Runs after the EM hook in ``before_train_iter`` (priority LOW).
    """
    priority = 'LOW'

    def __init__(self, dump: bool = False):
        self.dump = dump
        self.records = []

    @staticmethod
    def _unwrap(runner) -> nn.Module:
        return runner.model.module if is_model_wrapper(
            runner.model) else runner.model

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        model = self._unwrap(runner)
        self.records.append(
            dict(
                iter=runner.iter,
                tasks=tuple(model.active_tasks),
                trainable=sorted(n for n, p in model.named_parameters()
                                 if p.requires_grad),
                before=snapshot(model, runner.optim_wrapper.optimizer)))

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        self.records[-1]['after'] = snapshot(
            self._unwrap(runner), runner.optim_wrapper.optimizer)

    def after_train(self, runner) -> None:
        if self.dump:
            torch.save(
                dict(
                    wrapper=type(runner.model).__name__, records=self.records),
                osp.join(runner.work_dir, f'em_rank{get_rank()}.pth'))
