# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Synthetic street scenes in the Cityscapes layout
(:func:`write_cityscapes`).

For every split and city (one drive per city, frames ``spacing`` m apart)
the stem ``<city>_<seq:06d>_000019`` (``seq`` = frame index) gets::

    leftImg8bit/<split>/<city>/<stem>_leftImg8bit.png
    rightImg8bit/<split>/<city>/<stem>_rightImg8bit.png
    disparity/<split>/<city>/<stem>_disparity.png   uint16,
                                   d = (p - 1) / 256, 0 = sky/invalid
    camera/<split>/<city>/<stem>_camera.json
    gtFine/<split>/<city>/<stem>_gtFine_labelIds.png
    gtFine/<split>/<city>/<stem>_gtFine_labelTrainIds.png
"""
import json
import os.path as osp
import zlib
from typing import Dict, List, Optional

import numpy as np

from mmdepthseg.utils.io import atomic_write_text
from ..street_scene import StreetScene
from .common import (RenderCamera, advance, progress_bar, render_stereo_pair,
                     sub_seed, write_tree_image)

# Cityscapes trainId -> labelId (trainIds 0..18); 255 maps to 0 (unlabeled).
CITYSCAPES_TRAINID_TO_LABELID = (7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24,
                                 25, 26, 27, 28, 31, 32, 33)
# Real Cityscapes rig constants the synthetic data mimic.
CITYSCAPES_BASELINE = 0.209313
CITYSCAPES_CAMERA_HEIGHT = 1.22
CITYSCAPES_PITCH = 0.038


def trainid_to_labelid(label: np.ndarray) -> np.ndarray:
    """Map Cityscapes trainIds (255 = ignore) to labelIds (0 = unlabeled)."""
    lut = np.zeros(256, dtype=np.uint8)
    lut[:len(CITYSCAPES_TRAINID_TO_LABELID)] = CITYSCAPES_TRAINID_TO_LABELID
    return lut[label]


def cityscapes_intrinsics(height: int, width: int) -> np.ndarray:
    """Cityscapes' camera (2048x1024: fx 2262.52, fy 2265.30, u0 1096.98,
    v0 513.137) scaled to ``width`` x ``height``."""
    sx, sy = width / 2048.0, height / 1024.0
    return np.array([[2262.52 * sx, 0.0, 1096.98 * sx],
                     [0.0, 2265.30 * sy, 513.137 * sy], [0.0, 0.0, 1.0]])


def encode_cityscapes_disparity(depth: np.ndarray, fx: float,
                                baseline: float) -> np.ndarray:
    """Cityscapes disparity PNG values: ``p = round(256 d) + 1``, 0 invalid.

    Args:
        depth (np.ndarray): (H, W) depth in metres, 0 = invalid.
        fx (float): Focal length (pixels).
        baseline (float): Stereo baseline (m).

    Returns:
        np.ndarray: (H, W) uint16; decode with ``d = (p - 1) / 256``.
    """
    valid = depth > 0
    disp = np.where(valid, fx * baseline / np.where(valid, depth, 1.0), 0.0)
    p = np.rint(disp * 256.0) + 1
    ok = valid & (p <= 65535)
    return np.where(ok, p, 0).astype(np.uint16)


def write_cityscapes(root: str,
                     seed: int = 0,
                     cities: Optional[Dict[str, List[str]]] = None,
                     frames_per_city: int = 4,
                     height: int = 256,
                     width: int = 512,
                     baseline: float = CITYSCAPES_BASELINE,
                     spacing: float = 7.0,
                     antialias: bool = True,
                     progress: bool = False) -> dict:
    """Render street scenes and write them in the Cityscapes layout.

    The files of every frame are listed in this module's docstring
    (:mod:`mmdepthseg.synthetic.writers.cityscapes`).

    Args:
        root (str): Output root.
        seed (int): Seed of everything. Defaults to 0.
        cities (dict, optional): Split -> city names; cities must be
            distinct across splits. Defaults to
            ``{'train': ['aachen', 'bochum'], 'val': ['frankfurt']}``.
        frames_per_city (int): Frames per city. Defaults to 4.
        height (int): Image height. Defaults to 256.
        width (int): Image width. Defaults to 512.
        baseline (float): Stereo baseline (m). Defaults to 0.209313.
        spacing (float): Distance between frames of a city (m).
        antialias (bool): Quincunx pixel filter of the renderer.
        progress (bool): Show an MMEngine progress bar. Defaults to False.

    Returns:
        dict: Summary: ``root``, ``splits`` (split -> list of
        ``<split>/<city>/<stem>``), ``height``, ``width``, ``K`` (3x3 list),
        ``baseline``, ``scenes`` (city -> :class:`StreetScene` arguments)
        and ``trajectory`` (``step``/``start`` of
        :meth:`StreetScene.camera_trajectory`; frame ``seq`` of a city is
        its pose ``seq``).
    """
    if cities is None:
        cities = {'train': ['aachen', 'bochum'], 'val': ['frankfurt']}
    _check_cityscapes_args(cities, frames_per_city)
    K = cityscapes_intrinsics(height, width)
    camera_text = json.dumps(cityscapes_camera(K, baseline), indent=4) + '\n'
    camera = RenderCamera(K, height, width, antialias)
    bar = progress_bar(
        sum(len(names) for names in cities.values()) * frames_per_city,
        progress)
    summary: Dict[str, List[str]] = {}
    scenes: Dict[str, dict] = {}
    for split, names in cities.items():
        summary[split] = []
        for city in names:
            scenes[city] = dict(
                seed=sub_seed(seed, 2, zlib.crc32(city.encode())),
                length=(frames_per_city + 1) * spacing + 10.0,
                camera_height=CITYSCAPES_CAMERA_HEIGHT,
                camera_pitch=CITYSCAPES_PITCH)
            summary[split] += _write_city(
                root, split, city, StreetScene(**scenes[city]),
                frames_per_city, spacing, camera, camera_text, baseline, bar)
    return dict(
        root=root,
        splits=summary,
        height=height,
        width=width,
        K=K.tolist(),
        baseline=baseline,
        scenes=scenes,
        trajectory=dict(step=spacing, start=spacing / 2))


def _check_cityscapes_args(cities: Dict[str, List[str]],
                           frames_per_city: int) -> None:
    all_cities = [c for names in cities.values() for c in names]
    if len(set(all_cities)) != len(all_cities):
        raise ValueError(f'cities must be distinct across splits: {cities}')
    if frames_per_city < 1:
        raise ValueError(
            f'frames_per_city must be >= 1, got {frames_per_city}')


def cityscapes_camera(K: np.ndarray, baseline: float) -> dict:
    """The content of a Cityscapes ``_camera.json`` file for the rendering
    camera ``K`` (3, 3) on the synthetic rig (height, pitch, ``baseline``).
    """
    return {
        'extrinsic': {
            'baseline': baseline,
            'pitch': CITYSCAPES_PITCH,
            'roll': 0.0,
            'x': 1.7,
            'y': 0.1,
            'yaw': 0.0,
            'z': CITYSCAPES_CAMERA_HEIGHT
        },
        'intrinsic': {
            'fx': float(K[0, 0]),
            'fy': float(K[1, 1]),
            'u0': float(K[0, 2]),
            'v0': float(K[1, 2])
        }
    }


def _write_city(root: str, split: str, city: str, scene: StreetScene,
                num_frames: int, spacing: float, camera: RenderCamera,
                camera_text: str, baseline: float, bar) -> List[str]:
    """Render and write the frames of one city.

    Returns:
        list[str]: ``<split>/<city>/<stem>`` of every frame.
    """
    poses = scene.camera_trajectory(
        num_frames, step=spacing, start=spacing / 2)
    rels = []
    for i, pose in enumerate(poses):
        rel = osp.join(split, city, f'{city}_{i:06d}_000019')
        left, right = render_stereo_pair(scene, pose, camera, baseline)
        write_tree_image(
            osp.join(root, 'leftImg8bit', rel + '_leftImg8bit.png'),
            left['img'],
            rgb=True)
        write_tree_image(
            osp.join(root, 'rightImg8bit', rel + '_rightImg8bit.png'),
            right['img'],
            rgb=True)
        write_tree_image(
            osp.join(root, 'disparity', rel + '_disparity.png'),
            encode_cityscapes_disparity(left['depth'], camera.K[0, 0],
                                        baseline))
        atomic_write_text(
            osp.join(root, 'camera', rel + '_camera.json'), camera_text)
        write_tree_image(
            osp.join(root, 'gtFine', rel + '_gtFine_labelIds.png'),
            trainid_to_labelid(left['label']))
        write_tree_image(
            osp.join(root, 'gtFine', rel + '_gtFine_labelTrainIds.png'),
            left['label'])
        rels.append(rel)
        advance(bar)
    return rels
