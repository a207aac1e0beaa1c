# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Helpers shared by the integration tests (importable as ``_helpers``)."""
import os
import os.path as osp
import socket
import subprocess
import sys
from typing import Sequence

from mmengine.config import Config

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


#: Files the tests need that cannot be generated: the sample photo
#: (``tests/data``) and the KITTI split files (``data/kitti_splits``), both
#: in the repository.
TEST_DATA = osp.join(REPO_ROOT, 'tests', 'data')
SAMPLE_IMAGE = osp.join(TEST_DATA, 'kitti_2011_09_26_test_image.jpg')
KITTI_SPLITS = osp.join(REPO_ROOT, 'data', 'kitti_splits')
BASELINE_CFG = osp.join(
    REPO_ROOT, 'configs', 'baseline',
    'baseline_r18-unet_1xb4-600it_synthetic-cityscapes-128x256.py')


def tiny_baseline_cfg(data_root: str,
                      work_dir: str,
                      max_iters: int,
                      checkpoint_interval: int = 1000,
                      batch_size: int = 4) -> Config:
    """The synthetic baseline config shrunk to 64x128 crops for CPU tests."""
    cfg = Config.fromfile(BASELINE_CFG)
    cfg.work_dir = work_dir
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
        cfg[loader].num_workers = 0
        cfg[loader].persistent_workers = False
    cfg.train_dataloader.batch_size = batch_size
    for step in cfg.train_dataloader.dataset.pipeline:
        if step.type == 'MultiViewRandomResize':
            step.scale = (128, 64)
        elif step.type == 'MultiViewRandomCrop':
            step.crop_size = (64, 128)
    for loader in ('val_dataloader', 'test_dataloader'):
        for step in cfg[loader].dataset.pipeline:
            if step.type == 'MultiViewResize':
                step.scale = (128, 64)
    cfg.train_cfg.max_iters = max_iters
    cfg.train_cfg.val_interval = max_iters
    cfg.param_scheduler = [
        dict(
            type='LinearLR',
            start_factor=0.2,
            by_epoch=False,
            begin=0,
            end=max(1, max_iters // 10))
    ]
    cfg.default_hooks.checkpoint.interval = checkpoint_interval
    cfg.default_hooks.logger.interval = 10
    cfg.randomness = dict(seed=0)
    return cfg


FSRE_SYNTH_CFG = osp.join(REPO_ROOT, 'configs', 'synthetic',
                          'fsre_r18_synthkitti.py')


def _shrink_synthetic_cfg(cfg: Config, data_root: str, work_dir: str,
                          max_iters: int, shape) -> Config:
    """Point a synthetic config at ``data_root`` at a CPU-test size."""
    cfg.work_dir = work_dir
    h, w = shape
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
        cfg[loader].num_workers = 0
        cfg[loader].persistent_workers = False
        for step in cfg[loader].dataset.pipeline:
            if step.type == 'MultiViewResize':
                step.scale = (w, h)
    cfg.train_cfg.max_iters = max_iters
    cfg.train_cfg.val_interval = max_iters
    cfg.param_scheduler = []
    cfg.default_hooks.logger.interval = 20
    cfg.default_hooks.checkpoint.interval = max_iters
    cfg.randomness = dict(seed=0)
    return cfg


def tiny_fsre_cfg(data_root: str,
                  work_dir: str,
                  max_iters: int,
                  shape=(64, 192)) -> Config:
    """The synthetic FSRE config at a CPU-test size, no workers."""
    return _shrink_synthetic_cfg(
        Config.fromfile(FSRE_SYNTH_CFG), data_root, work_dir, max_iters, shape)


PSEUDO_MTL_SYNTH_CFG = osp.join(REPO_ROOT, 'configs', 'synthetic',
                                'pseudo_mtl_vgg16_synthkitti.py')


def tiny_pseudo_mtl_cfg(data_root: str,
                        work_dir: str,
                        max_iters: int,
                        shape=(64, 192)) -> Config:
    """The synthetic Pseudo-MTL config at a CPU-test size, no workers."""
    return _shrink_synthetic_cfg(
        Config.fromfile(PSEUDO_MTL_SYNTH_CFG), data_root, work_dir, max_iters,
        shape)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now (for a process group)."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def run_dist_train(cfg_path: str,
                   nproc: int = 2,
                   pythonpath: Sequence[str] = (),
                   timeout: int = 300) -> subprocess.CompletedProcess:
    """``tools/dist_train.sh CFG NPROC`` on the CPU (gloo, one OpenMP
    thread per rank, a free port); fails the test with the output's tail
    when the run fails.

    Args:
        cfg_path (str): Dumped config to train.
        nproc (int): Number of processes. Defaults to 2.
        pythonpath (Sequence[str]): Folders the ranks import test helpers
            from (the repository root is always on the path).
        timeout (int): Seconds. Defaults to 300.

    Returns:
        subprocess.CompletedProcess: The finished run (text output).
    """
    env = dict(
        os.environ,
        OMP_NUM_THREADS='1',
        PYTHON=sys.executable,
        PORT=str(free_port()))
    env['PYTHONPATH'] = os.pathsep.join(
        [REPO_ROOT, *pythonpath,
         env.get('PYTHONPATH', '')])
    proc = subprocess.run(
        ['bash', 'tools/dist_train.sh', cfg_path,
         str(nproc)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    return proc
