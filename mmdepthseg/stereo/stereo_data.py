# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Stereo pairs with ground-truth disparity, to train and measure learned
stereo confidence (CCNN, :mod:`~mmdepthseg.stereo.learned_confidence`).

Sources (all give the LEFT view's disparity in pixels, ``0`` = no ground
truth):

- **KITTI stereo 2015** (and 2012 with other folder names): ``training/
  image_2/<NNNNNN>_10.png`` (left), ``image_3/`` (right) and ``disp_occ_0/
  <NNNNNN>_10.png``: uint16, ``disparity = p / 256``, ``p = 0`` invalid
  (``disp_noc_0`` holds the non-occluded subset). KITTI 2012:
  ``colored_0`` / ``colored_1`` / ``disp_occ``.
- **Cityscapes**: ``leftImg8bit`` / ``rightImg8bit`` and ``disparity/
  <split>/<city>/<stem>_disparity.png``: uint16, ``disparity = (p - 1) /
  256``, ``p = 0`` invalid. Cityscapes' disparity is itself semi-global
  matching, not a measurement: a confidence trained on it learns to agree
  with SGM.
- **Generated** street scenes (:func:`write_synthetic_stereo`): exact
  disparity written in the KITTI 2015 layout, so the KITTI loader reads
  them.
"""
import glob
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from mmdepthseg.datasets.utils import read_image
from mmdepthseg.utils.io import atomic_write_bytes

#: KITTI stereo 2015 folder names (left image, right image, disparity).
KITTI2015_DIRS = ('image_2', 'image_3', 'disp_occ_0')
#: KITTI stereo 2012 folder names.
KITTI2012_DIRS = ('colored_0', 'colored_1', 'disp_occ')


def _read_uint16(path: str, what: str) -> np.ndarray:
    png = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if png is None:
        raise FileNotFoundError(f'{what} not found or unreadable: {path}')
    if png.dtype != np.uint16 or png.ndim != 2:
        raise ValueError(f'{path}: {what} must be a single-channel uint16 '
                         f'PNG, got {png.dtype} with shape {png.shape}')
    return png


def read_kitti_disparity(path: str) -> np.ndarray:
    """KITTI stereo ground truth: ``disparity = p / 256``, 0 = invalid.

    Returns:
        np.ndarray: (H, W) float32 disparity in pixels.
    """
    return _read_uint16(path, 'KITTI disparity').astype(np.float32) / 256.0


def encode_kitti_disparity(disp: np.ndarray) -> np.ndarray:
    """Disparity (pixels, 0 invalid) -> KITTI's uint16 ``round(d * 256)``
    (values that do not fit become 0)."""
    p = np.rint(np.nan_to_num(disp, nan=0.0, posinf=0.0) * 256.0)
    return np.where((p > 0) & (p <= 65535), p, 0).astype(np.uint16)


def read_cityscapes_disparity(path: str) -> np.ndarray:
    """Cityscapes disparity: ``(p - 1) / 256`` for ``p > 0``, 0 = invalid.

    Returns:
        np.ndarray: (H, W) float32 disparity in pixels (``p = 1``, zero
        disparity, is returned as 0: not usable as ground truth).
    """
    png = _read_uint16(path, 'Cityscapes disparity')
    disp = (png.astype(np.float32) - 1.0) / 256.0
    return np.where(png > 1, disp, 0.0).astype(np.float32)


def list_kitti_stereo(root: str,
                      split: str = 'training',
                      dirs: Sequence[str] = KITTI2015_DIRS,
                      suffix: str = '_10.png') -> List[dict]:
    """Stereo pairs with ground truth of a KITTI stereo 2015/2012 tree.

    Args:
        root (str): Folder holding ``training/`` (and ``testing/``).
        split (str): Sub-folder. Defaults to 'training'.
        dirs (Sequence[str]): Left image, right image and disparity folder
            names. Defaults to KITTI 2015's ``('image_2', 'image_3',
            'disp_occ_0')``; KITTI 2012: :data:`KITTI2012_DIRS`.
        suffix (str): File ending of the frames with ground truth.
            Defaults to '_10.png'.

    Returns:
        list[dict]: Sorted ``left``, ``right``, ``disp`` paths and
        ``kind='kitti'``.
    """
    left_dir, right_dir, disp_dir = (osp.join(root, split, d) for d in dirs)
    for folder in (left_dir, right_dir, disp_dir):
        if not osp.isdir(folder):
            raise FileNotFoundError(
                f'KITTI stereo folder not found: {folder} (expected '
                f'{split}/{{{",".join(dirs)}}} under {root})')
    items = []
    for disp in sorted(glob.glob(osp.join(disp_dir, f'*{suffix}'))):
        name = osp.basename(disp)
        left = osp.join(left_dir, name)
        right = osp.join(right_dir, name)
        for path in (left, right):
            if not osp.exists(path):
                raise FileNotFoundError(
                    f'{path} missing: every ground-truth disparity ({disp}) '
                    'needs its left and right image')
        items.append(dict(left=left, right=right, disp=disp, kind='kitti'))
    if not items:
        raise FileNotFoundError(f'no *{suffix} disparity in {disp_dir}')
    return items


def list_cityscapes_stereo(root: str,
                           splits: Sequence[str] = ('train', )) -> List[dict]:
    """Stereo pairs with (SGM) disparity of a Cityscapes tree.

    Returns:
        list[dict]: Sorted ``left``, ``right``, ``disp`` paths and
        ``kind='cityscapes'``.
    """
    items = []
    for split in splits:
        pattern = osp.join(root, 'leftImg8bit', split, '*',
                           '*_leftImg8bit.png')
        for left in sorted(glob.glob(pattern)):
            rel = osp.relpath(left, osp.join(root, 'leftImg8bit'))
            stem = rel[:-len('_leftImg8bit.png')]
            right = osp.join(root, 'rightImg8bit', stem + '_rightImg8bit.png')
            disp = osp.join(root, 'disparity', stem + '_disparity.png')
            if osp.exists(right) and osp.exists(disp):
                items.append(
                    dict(left=left, right=right, disp=disp,
                         kind='cityscapes'))
    if not items:
        raise FileNotFoundError(
            f'no Cityscapes pairs with disparity under {root} for splits '
            f'{list(splits)} (leftImg8bit, rightImg8bit and disparity)')
    return items


def list_stereo_gt(root: str,
                   dataset: str = 'kitti2015',
                   splits: Optional[Sequence[str]] = None) -> List[dict]:
    """Dispatch to the listing of ``dataset``: 'kitti2015', 'kitti2012'
    or 'cityscapes' (``splits`` are Cityscapes splits, default train)."""
    if dataset == 'kitti2015':
        return list_kitti_stereo(root, dirs=KITTI2015_DIRS)
    if dataset == 'kitti2012':
        return list_kitti_stereo(root, dirs=KITTI2012_DIRS)
    if dataset == 'cityscapes':
        return list_cityscapes_stereo(root, splits or ('train', ))
    raise ValueError("dataset must be 'kitti2015', 'kitti2012' or "
                     f"'cityscapes', got {dataset!r}")


def load_stereo_gt(item: dict) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read one listed pair.

    Returns:
        tuple: ``left``, ``right`` (H, W, 3) uint8 BGR images and the left
        ground-truth disparity (H, W) float32 (0 = none).
    """
    left = read_image(item['left'])
    right = read_image(item['right'])
    if item['kind'] == 'cityscapes':
        disp = read_cityscapes_disparity(item['disp'])
    else:
        disp = read_kitti_disparity(item['disp'])
    if left.shape != right.shape or disp.shape != left.shape[:2]:
        raise ValueError(
            f'stereo sample sizes differ: {item["left"]} {left.shape}, '
            f'{item["right"]} {right.shape}, {item["disp"]} {disp.shape}')
    return left, right, disp


def write_synthetic_stereo(root: str,
                           seed: int = 0,
                           num_scenes: int = 4,
                           frames_per_scene: int = 4,
                           height: int = 96,
                           width: int = 320,
                           baseline: float = 0.54,
                           spacing: float = 6.0,
                           split: str = 'training') -> Dict[str, object]:
    """Render street scenes in the KITTI stereo 2015 layout.

    Scene ``k`` is :class:`~mmdepthseg.synthetic.StreetScene`
    ``seed * 1000 + k`` (so trees of different seeds share no scene), its
    frames ``spacing`` metres apart, with monodepth2's KITTI intrinsics at
    ``width`` x ``height`` and a stereo ``baseline``. Files: ``<split>/
    image_2/<NNNNNN>_10.png`` (left), ``image_3`` (right) and ``disp_occ_0``
    (the EXACT left disparity ``fx * baseline / depth``, KITTI's uint16
    ``* 256``; 0 on the sky). Written atomically.

    Returns:
        dict: ``root``, ``frames`` (count), ``fx``, ``baseline``,
        ``scene_seeds``.
    """
    from mmdepthseg.synthetic import (StreetScene, kitti_intrinsics,
                                      stereo_right_pose)
    if num_scenes < 1 or frames_per_scene < 1:
        raise ValueError('num_scenes and frames_per_scene must be >= 1')
    K = kitti_intrinsics(height, width)
    fxb = float(K[0, 0]) * baseline
    seeds = [seed * 1000 + k for k in range(num_scenes)]
    index = 0
    for scene_seed in seeds:
        scene = StreetScene(
            seed=scene_seed,
            length=spacing * frames_per_scene + 10.0)
        poses = scene.camera_trajectory(frames_per_scene, step=spacing)
        for pose in poses:
            name = f'{index:06d}_10.png'
            left = scene.render(pose, K, height, width)
            right = scene.render(
                stereo_right_pose(pose, baseline), K, height, width)
            depth = left['depth']
            disp = np.where(depth > 0, fxb / np.maximum(depth, 1e-6), 0.0)
            for folder, img in (('image_2', left['img'][..., ::-1]),
                                ('image_3', right['img'][..., ::-1]),
                                ('disp_occ_0', encode_kitti_disparity(disp))):
                ok, buf = cv2.imencode('.png', np.ascontiguousarray(img))
                if not ok:
                    raise IOError(f'could not encode {folder}/{name}')
                atomic_write_bytes(
                    osp.join(root, split, folder, name), buf.tobytes())
            index += 1
    return dict(
        root=root,
        frames=index,
        fx=float(K[0, 0]),
        baseline=baseline,
        scene_seeds=seeds)
