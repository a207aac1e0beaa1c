# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Checkpoints load with ``weights_only=True`` on torch >= 2.6."""
import os
import os.path as osp
import pickletools
import zipfile

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.logging import MessageHub
from mmengine.model import BaseModel
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint
from torch.utils.data import Dataset

import mmdepthseg  # noqa: F401  (registers the allow-list)
from mmdepthseg.utils.checkpoint_safety import UnsafeCheckpointError


def _globals_in_checkpoint(path: str) -> set:
    """Every ``module.name`` that the checkpoint's pickle imports."""
    with zipfile.ZipFile(path) as zf:
        name = next(n for n in zf.namelist() if n.endswith('data.pkl'))
        data = zf.read(name)
    found = set()
    for op, arg, _ in pickletools.genops(data):
        if op.name == 'GLOBAL':
            found.add(arg.replace(' ', '.'))
    return found


def _torch_default_names() -> set:
    from torch._weights_only_unpickler import _get_allowed_globals
    return set(_get_allowed_globals())


def _allowed_names() -> set:
    names = set()
    for item in torch.serialization.get_safe_globals():
        if isinstance(item, tuple):
            names.add(item[1])
        else:
            names.add(f'{item.__module__}.{item.__qualname__}')
    return names


class _Evil:
    """A pickle payload that runs a shell command when unpickled."""

    def __init__(self, sentinel: str):
        self.sentinel = sentinel

    def __reduce__(self):
        return os.system, (f'touch {self.sentinel}', )


def test_message_hub_globals_are_exactly_allow_listed(tmp_path):
    hub = MessageHub.get_instance('test_ckpt_globals')
    for i in range(3):
        hub.update_scalar('train/loss', np.float64(0.5 - i * 0.1))
        hub.update_scalar('train/lr', 1e-3, count=2)
    hub.update_info('iter', np.int64(7))
    path = str(tmp_path / 'hub.pth')
    torch.save(dict(message_hub=hub.state_dict(), meta=dict(iter=7)), path)

    needed = _globals_in_checkpoint(path) - _torch_default_names()
    assert 'mmengine.logging.history_buffer.HistoryBuffer' in needed
    assert needed <= _allowed_names(), needed - _allowed_names()
    assert not torch.serialization.get_unsafe_globals_in_checkpoint(path)
    # the real ``getattr`` is not on the list, only a restricted stand-in
    assert getattr not in [
        g[0] if isinstance(g, tuple) else g
        for g in torch.serialization.get_safe_globals()
    ]

    ckpt = _load_checkpoint(path, map_location='cpu')
    buf = ckpt['message_hub']['log_scalars']['train/loss']
    np.testing.assert_allclose(buf.data[0], [0.5, 0.4, 0.3])
    assert ckpt['message_hub']['runtime_info']['iter'] == 7


def test_code_executing_checkpoint_is_refused(tmp_path):
    sentinel = tmp_path / 'pwned'
    path = str(tmp_path / 'evil.pth')
    torch.save(dict(state_dict={}, payload=_Evil(str(sentinel))), path)
    with pytest.raises(UnsafeCheckpointError) as err:
        _load_checkpoint(path, map_location='cpu')
    msg = str(err.value)
    assert path in msg and 'system' in msg
    assert not sentinel.exists()


def test_getattr_outside_history_buffer_is_refused(tmp_path):

    class _Sneaky:

        def __reduce__(self):
            # getattr(np.ndarray, 'tofile') resolved through the pickle
            return getattr, (np.ndarray, 'tofile')

    path = str(tmp_path / 'sneaky.pth')
    torch.save(dict(payload=_Sneaky()), path)
    with pytest.raises(UnsafeCheckpointError, match='sneaky.pth'):
        _load_checkpoint(path, map_location='cpu')


def test_missing_checkpoint_names_path(tmp_path):
    path = str(tmp_path / 'nope.pth')
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        _load_checkpoint(path, map_location='cpu')


class _ToyDataset(Dataset):
    METAINFO = dict()

    def __init__(self):
        gen = torch.Generator().manual_seed(0)
        self.x = torch.randn(32, 4, generator=gen)
        self.y = self.x @ torch.tensor([1.0, -2.0, 0.5, 3.0])

    def __len__(self):
        return len(self.x)

    def __getitem__(self, idx):
        return dict(inputs=self.x[idx], data_samples=self.y[idx])


class _ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        pred = self.linear(torch.stack(list(inputs))).squeeze(-1)
        if mode == 'loss':
            return dict(
                loss=((pred - torch.stack(list(data_samples)))**2).mean())
        return pred


def _toy_runner(work_dir: str, max_iters: int, resume: bool) -> Runner:
    return Runner(
        model=_ToyModel(),
        work_dir=work_dir,
        train_dataloader=dict(
            dataset=_ToyDataset(),
            sampler=dict(type='DefaultSampler', shuffle=True),
            batch_size=4,
            num_workers=0),
        optim_wrapper=dict(optimizer=dict(type='Adam', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=5, by_epoch=False),
            logger=dict(type='LoggerHook', interval=1)),
        resume=resume,
        randomness=dict(seed=0),
        default_scope='mmengine',
        experiment_name=f'toy_{max_iters}_{resume}_{id(work_dir)}')


def test_resume_continues_from_saved_iteration_with_optimizer_state(tmp_path):
    work_dir = str(tmp_path)
    first = _toy_runner(work_dir, max_iters=5, resume=False)
    first.train()
    ckpt_path = osp.join(work_dir, 'iter_5.pth')
    assert osp.isfile(ckpt_path)
    # the checkpoint really holds MMEngine's non-tensor globals, all allowed
    needed = _globals_in_checkpoint(ckpt_path) - _torch_default_names()
    assert 'mmengine.logging.history_buffer.HistoryBuffer' in needed
    assert needed <= _allowed_names(), needed - _allowed_names()
    saved = torch.load(ckpt_path, map_location='cpu')  # weights_only default
    saved_exp_avg = saved['optimizer']['state'][0]['exp_avg'].clone()

    second = _toy_runner(work_dir, max_iters=8, resume=True)
    second.load_or_resume()
    assert second.iter == 5
    state = second.optim_wrapper.optimizer.state_dict()['state'][0]
    torch.testing.assert_close(state['exp_avg'], saved_exp_avg)
    assert state['step'].item() == 5
    second.train()
    assert second.iter == 8
    assert osp.isfile(osp.join(work_dir, 'iter_8.pth')) or osp.isfile(
        osp.join(work_dir, 'last_checkpoint'))
