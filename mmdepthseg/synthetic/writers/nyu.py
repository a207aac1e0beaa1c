# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Synthetic indoor rooms in MMSegmentation's NYU Depth v2 layout
(:func:`write_nyu`).

Room ``i`` (counted over all splits, from 1) is an :class:`IndoorScene`
named ``<room_type>_<i:04d>``; its views ``j``
(:meth:`IndoorScene.camera_poses`) get the stem ``<room_type>_<i:04d>_<j:05d>``
(the real layout's ``<scene>_<frame>`` names, whose prefix MMSegmentation
reads as the scene category) and the files::

    images/<split>/<stem><img_ext>      colour (JPEG quality 92 or PNG)
    annotations/<split>/<stem>.png      uint16 depth, metres * depth_scale
    <label_dir>/<split>/<stem>.png      uint8 NYUv2-40 ids (0 unlabelled)

``labels40`` (the default ``<label_dir>``) is mmdepthseg's folder of
NYUv2-40 labels next to the layout's own folders.
"""
import os.path as osp
from typing import Dict, List, Optional

import numpy as np

from mmdepthseg.datasets.nyu_depth import NYU_KINECT_INTRINSICS
from mmdepthseg.datasets.png_codecs import encode_depth_png
from ..indoor_scene import IndoorScene
from .common import advance, progress_bar, sub_seed, write_tree_image

#: Image size (height, width) of NYU Depth v2 (the Kinect's colour camera).
NYU_SIZE = (480, 640)


def nyu_intrinsics(height: int, width: int) -> np.ndarray:
    """NYU's Kinect colour camera scaled to ``width`` x ``height``.

    Row 0 is scaled by ``width / 640`` and row 1 by ``height / 480`` (the
    rule ``LoadMultiViewImages`` applies to normalised intrinsics, which
    is how :class:`~mmdepthseg.datasets.nyu_depth.NYUDepthSegDataset`
    hands the Kinect's intrinsics over), so the rendered images and the
    loaded intrinsics agree exactly at any size.

    Returns:
        np.ndarray: (3, 3) float64.
    """
    (fx, _, cx), (_, fy, cy) = NYU_KINECT_INTRINSICS[:2]
    sx, sy = width / NYU_SIZE[1], height / NYU_SIZE[0]
    return np.array([[fx * sx, 0.0, cx * sx], [0.0, fy * sy, cy * sy],
                     [0.0, 0.0, 1.0]])


def write_nyu(root: str,
              seed: int = 0,
              rooms: Optional[Dict[str, int]] = None,
              views_per_room: int = 4,
              height: int = 480,
              width: int = 640,
              img_ext: str = '.jpg',
              depth_scale: float = 1000.0,
              label_dir: str = 'labels40',
              antialias: bool = True,
              progress: bool = False) -> dict:
    """Render indoor rooms and write them in MMSegmentation's NYU layout.

    The stems and files are described in this module's docstring
    (:mod:`mmdepthseg.synthetic.writers.nyu`).

    Args:
        root (str): Output root.
        seed (int): Seed of everything. Defaults to 0.
        rooms (dict, optional): Split -> number of rooms. Defaults to
            ``{'train': 4, 'test': 2}``.
        views_per_room (int): Views (images) per room. Defaults to 4.
        height (int): Image height. Defaults to 480 (NYU).
        width (int): Image width. Defaults to 640 (NYU).
        img_ext (str): ``'.jpg'`` (the layout's) or ``'.png'``.
        depth_scale (float): Depth PNG units per metre. Defaults to 1000
            (millimetres, the layout's unit).
        label_dir (str): Folder of the label maps. Defaults to 'labels40'.
        antialias (bool): Quincunx pixel filter of the renderer.
        progress (bool): Show an MMEngine progress bar. Defaults to False.

    Returns:
        dict: Summary: ``root``, ``splits`` (split -> list of stems),
        ``height``, ``width``, ``K`` (3x3 list), ``depth_scale``,
        ``label_dir``, ``views_per_room`` and ``scenes`` (room name ->
        :class:`IndoorScene` arguments; the image ``<room>_<j:05d>`` is
        ``IndoorScene(**args).camera_poses(views_per_room)[j]``).
    """
    if rooms is None:
        rooms = {'train': 4, 'test': 2}
    _check_nyu_args(rooms, views_per_room, img_ext, depth_scale)
    K = nyu_intrinsics(height, width)
    bar = progress_bar(sum(rooms.values()) * views_per_room, progress)
    folders = dict(img='images', depth='annotations', label=label_dir)
    splits: Dict[str, List[str]] = {}
    scenes: Dict[str, dict] = {}
    index = 0
    for split, num_rooms in rooms.items():
        splits[split] = []
        for _ in range(num_rooms):
            index += 1
            scene_args = dict(seed=sub_seed(seed, 3, index))
            scene = IndoorScene(**scene_args)
            name = f'{scene.room_type}_{index:04d}'
            scenes[name] = scene_args
            for j, pose in enumerate(scene.camera_poses(views_per_room)):
                stem = f'{name}_{j:05d}'
                view = scene.render(
                    pose, K, height, width, antialias=antialias)
                _write_view(
                    root, folders, split, stem, view, img_ext, depth_scale)
                splits[split].append(stem)
                advance(bar)
    return dict(
        root=root,
        splits=splits,
        height=height,
        width=width,
        K=K.tolist(),
        depth_scale=depth_scale,
        label_dir=label_dir,
        views_per_room=views_per_room,
        scenes=scenes)


def _check_nyu_args(rooms: Dict[str, int], views_per_room: int, img_ext: str,
                    depth_scale: float) -> None:
    if views_per_room < 1 or any(n < 0 for n in rooms.values()):
        raise ValueError('write_nyu needs views_per_room >= 1 and room '
                         f'counts >= 0, got {views_per_room} and {rooms}')
    if img_ext not in ('.jpg', '.png'):
        raise ValueError(f"img_ext must be '.jpg' or '.png', got {img_ext!r}")
    if not 0 < depth_scale <= 65535 / 10:
        raise ValueError('depth_scale must be in (0, 6553.5] so that 10 m '
                         f'fit into uint16, got {depth_scale}')


def _write_view(root: str, folders: Dict[str, str], split: str, stem: str,
                view: dict, img_ext: str, depth_scale: float) -> None:
    """Image, depth PNG and label map of one rendered view."""
    write_tree_image(
        osp.join(root, folders['img'], split, stem + img_ext),
        view['img'],
        rgb=True)
    write_tree_image(
        osp.join(root, folders['depth'], split, stem + '.png'),
        encode_depth_png(view['depth'], depth_scale))
    write_tree_image(
        osp.join(root, folders['label'], split, stem + '.png'), view['label'])
