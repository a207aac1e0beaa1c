# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Shared fixtures: generated datasets in the real on-disk layouts."""
import sys

import pytest


@pytest.fixture(scope='session')
def synthetic_cityscapes(tmp_path_factory) -> str:
    """A small generated dataset in the Cityscapes layout (128x256).

    Train: 2 cities x 12 frames; val: 1 city x 12 frames.
    """
    from mmdepthseg.datasets.synthetic import write_cityscapes
    root = str(tmp_path_factory.mktemp('synthetic_cityscapes'))
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


@pytest.fixture
def python_exe() -> str:
    return sys.executable


@pytest.fixture(autouse=True)
def _mmdepthseg_default_scope():
    """Every test starts in the ``mmdepthseg`` scope, whatever ran before."""
    from mmengine.registry import init_default_scope

    from mmdepthseg.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    init_default_scope('mmdepthseg')


@pytest.fixture(scope='session')
def synthetic_kitti(tmp_path_factory) -> str:
    """A small generated KITTI raw tree (96x320): 2 drives x 16 frames with
    calibration, velodyne scans, semantic trees and split files."""
    from mmdepthseg.datasets.synthetic import write_kitti_raw
    root = str(tmp_path_factory.mktemp('synthetic_kitti'))
    write_kitti_raw(
        root, seed=0, num_drives=2, frames_per_drive=16, height=96, width=320)
    return root


@pytest.fixture(scope='session')
def synthetic_kitti_pseudo(tmp_path_factory, synthetic_kitti) -> str:
    """A copy of ``synthetic_kitti`` with SGBM pseudo depth + confidence for
    both cameras (``pseudo_depth_0X`` / ``pseudo_conf_0X``)."""
    import shutil

    from mmdepthseg.stereo.pseudo_depth import generate_dataset_pseudo_depth
    root = str(tmp_path_factory.mktemp('synthetic_kitti_pseudo'))
    shutil.copytree(synthetic_kitti, root, dirs_exist_ok=True)
    generate_dataset_pseudo_depth(root, dataset='kitti', progress=False)
    return root


@pytest.fixture(scope='session')
def synthetic_semimtl(tmp_path_factory) -> str:
    """Generated Cityscapes-layout streets for two-domain SemiMTL (128x256):
    ``train`` (2 cities, labels segmentation) / ``train_extra`` (2 other
    cities, labels depth) and held-out ``val`` / ``val_extra`` cities."""
    from mmdepthseg.datasets.synthetic import write_cityscapes
    root = str(tmp_path_factory.mktemp('synthetic_semimtl'))
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
