# Copyright (c) mmdepthseg contributors. All rights reserved.
"""A hook used by the distributed test: every rank saves its weights."""
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmdepthseg.registry import HOOKS


@HOOKS.register_module()
class DumpRankWeightsHook(Hook):
    """Save ``rank<r>.pth`` with the weights before and after training.

    Weights are the parameters; plain BatchNorm's running statistics are
    buffers computed from each rank's own batches (SyncBN shares them).
    """

    def before_train(self, runner) -> None:
        self._initial = self._weights(runner)

    def after_train(self, runner) -> None:
        torch.save(
            dict(
                wrapper=type(runner.model).__name__,
                initial=self._initial,
                final=self._weights(runner)),
            osp.join(runner.work_dir, f'rank{get_rank()}.pth'))

    @staticmethod
    def _weights(runner) -> dict:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        return {
            name: param.detach().clone()
            for name, param in model.named_parameters()
        }
