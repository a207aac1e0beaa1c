# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Distributed set-up that also works on CPU-only PyTorch builds.

MMEngine 0.10.7's ``init_dist(launcher='pytorch')`` calls
``torch.cuda.set_device`` unconditionally, and its default DDP wrapper passes
``device_ids=[local_rank]``, which DDP rejects for CPU modules. On a machine
without CUDA we therefore start the gloo process group before the Runner is
built (the Runner then skips its own ``init_dist``) and wrap the model with
``device_ids=None``. The Runner also passes ``device_ids=[local_rank]`` to a
wrapper named by the config when it subclasses ``DistributedDataParallel``
(``MMDistributedDataParallel``, ``MMSeparateDistributedDataParallel``, whose
per-child DDP wrappers receive it); such a config gets ``device_ids=None``
unless it sets ``device_ids`` itself.
"""
import os
import subprocess
from typing import Optional

import torch
import torch.distributed as dist
from mmengine.config import Config
from torch.nn.parallel import DistributedDataParallel

from mmdepthseg.registry import MODEL_WRAPPERS


def _slurm_env_to_torch_env(port: Optional[int] = None) -> None:
    """Translate SLURM's process variables into torch's ``env://`` ones.

    The master is the first host of ``SLURM_NODELIST`` as ``scontrol show
    hostname`` expands it (as MMEngine's own slurm set-up does).
    """
    proc_id = int(os.environ['SLURM_PROCID'])
    ntasks = int(os.environ['SLURM_NTASKS'])
    node_list = os.environ['SLURM_NODELIST']
    addr = subprocess.getoutput(
        f'scontrol show hostname {node_list} | head -n1').strip()
    os.environ.setdefault('MASTER_ADDR', addr)
    os.environ.setdefault('MASTER_PORT', str(port or 29500))
    os.environ.setdefault('WORLD_SIZE', str(ntasks))
    os.environ.setdefault('RANK', str(proc_id))
    os.environ.setdefault('LOCAL_RANK',
                          os.environ.get('SLURM_LOCALID', str(proc_id)))


def setup_cpu_distributed(cfg: Config, launcher: str) -> bool:
    """Prepare a CPU-only distributed run before the Runner is built.

    Does nothing when ``launcher == 'none'`` or when CUDA is available (the
    Runner's own initialisation is right there).

    Args:
        cfg (Config): The run's config; ``model_wrapper_cfg`` is set to
            ``MMDistributedDataParallel`` with ``device_ids=None`` unless the
            config already names a wrapper; a named wrapper that subclasses
            ``DistributedDataParallel`` gets ``device_ids=None`` unless it
            sets ``device_ids``.
        launcher (str): ``'none'``, ``'pytorch'`` or ``'slurm'``.

    Returns:
        bool: True if the gloo process group was set up here.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return False
    if launcher not in ('pytorch', 'slurm'):
        raise ValueError(f'launcher "{launcher}" is not supported on a '
                         "CPU-only machine; use 'pytorch' (torchrun) or "
                         "'slurm'.")
    if launcher == 'slurm':
        _slurm_env_to_torch_env(
            cfg.get('env_cfg', {}).get('dist_cfg', {}).get('port'))
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo', init_method='env://')
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel',
            device_ids=None,
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    elif 'device_ids' not in cfg.model_wrapper_cfg and _is_ddp_wrapper(
            cfg.model_wrapper_cfg.get('type', 'MMDistributedDataParallel')):
        cfg.model_wrapper_cfg['device_ids'] = None
    return True


def _is_ddp_wrapper(wrapper_type) -> bool:
    """Whether a model wrapper type (name or class) subclasses DDP."""
    if isinstance(wrapper_type, str):
        wrapper_type = MODEL_WRAPPERS.get(wrapper_type)
    return isinstance(wrapper_type, type) and issubclass(
        wrapper_type, DistributedDataParallel)
