# Copyright (c) mmdepthseg contributors. All rights reserved.
"""CPU-only distributed set-up (the 2-process run is in test_tools)."""
import pytest
import torch
import torch.distributed as dist
from mmengine.config import Config

from mmdepthseg.utils import dist_utils, setup_cpu_distributed


def test_no_launcher_changes_nothing():
    cfg = Config(dict(model=dict(type='X')))
    assert setup_cpu_distributed(cfg, 'none') is False
    assert 'model_wrapper_cfg' not in cfg


def test_cuda_machines_keep_mmengine_set_up(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    cfg = Config(dict(model=dict(type='X')))
    assert setup_cpu_distributed(cfg, 'pytorch') is False
    assert 'model_wrapper_cfg' not in cfg


def test_unsupported_launcher_is_named():
    with pytest.raises(ValueError, match="'mpi'|\"mpi\""):
        setup_cpu_distributed(Config(dict()), 'mpi')


def test_pytorch_launcher_starts_gloo_and_wraps_without_device_ids(
        monkeypatch):
    for key, value in dict(
            MASTER_ADDR='127.0.0.1',
            MASTER_PORT='29531',
            RANK='0',
            WORLD_SIZE='1',
            LOCAL_RANK='0').items():
        monkeypatch.setenv(key, value)
    cfg = Config(dict(find_unused_parameters=True))
    try:
        assert setup_cpu_distributed(cfg, 'pytorch') is True
        assert dist.is_initialized() and dist.get_backend() == 'gloo'
        assert cfg.model_wrapper_cfg == dict(
            type='MMDistributedDataParallel',
            device_ids=None,
            broadcast_buffers=False,
            find_unused_parameters=True)
        # a wrapper named by the config is kept
        cfg2 = Config(dict(model_wrapper_cfg=dict(type='Mine')))
        setup_cpu_distributed(cfg2, 'pytorch')
        assert cfg2.model_wrapper_cfg == dict(type='Mine')
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def test_slurm_variables_become_torch_env(monkeypatch):
    for key in ('MASTER_ADDR', 'MASTER_PORT', 'RANK', 'WORLD_SIZE',
                'LOCAL_RANK'):
        # set first so that monkeypatch restores (removes) what the code
        # under test writes: a leaked MASTER_ADDR=node4 would send a later
        # tools/dist_test.sh in this process to an unknown host
        monkeypatch.setenv(key, 'unset')
        monkeypatch.delenv(key)
    monkeypatch.setenv('SLURM_PROCID', '3')
    monkeypatch.setenv('SLURM_NTASKS', '8')
    monkeypatch.setenv('SLURM_LOCALID', '1')
    monkeypatch.setenv('SLURM_NODELIST', 'node[4-5]')
    calls = []

    def fake_getoutput(cmd):
        calls.append(cmd)
        return 'node4\n'

    monkeypatch.setattr(dist_utils.subprocess, 'getoutput', fake_getoutput)
    dist_utils._slurm_env_to_torch_env(port=29999)
    import os
    assert calls == ['scontrol show hostname node[4-5] | head -n1']
    assert (os.environ['MASTER_ADDR'], os.environ['MASTER_PORT'],
            os.environ['RANK'], os.environ['WORLD_SIZE'],
            os.environ['LOCAL_RANK']) == ('node4', '29999', '3', '8', '1')
