# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Synscapes: synthetic street scenes with class and depth ground truth."""
import json
import os.path as osp
from typing import Dict, List, Optional, Tuple

import mmengine.fileio as fileio
import numpy as np
from mmseg.datasets import CityscapesDataset

from mmdepthseg.registry import DATASETS
from .base import BaseDepthSegDataset
from .io import check_file_exists
from .validation import DatasetError, check_intrinsics, defect_guard

#: SemiMTL's split of the 25,000 frames (ids 1..25000, Sec. 4.1):
#: consecutive 20K / 1K / 4K frames, as inclusive (first, last) ids.
SYNSCAPES_SPLIT_IDS: Dict[str, Tuple[int, int]] = dict(
    train=(1, 20000), val=(20001, 21000), test=(21001, 25000))

#: Depth encodings ``LoadDepthSegAnnotations`` decodes for Synscapes.
_DEPTH_FORMATS = ('npy', 'png')


def read_synscapes_intrinsics(path: str) -> np.ndarray:
    """Read the camera intrinsics of a Synscapes ``meta/<i>.json``.

    The file holds ``{"camera": {"intrinsic": {"fx", "fy", "u0", "v0",
    ...}, "extrinsic": {...}}, ...}`` (pixels of the 1440x720 frame).

    Args:
        path (str): The JSON file.

    Returns:
        np.ndarray: (3, 3) float32 ``[[fx, 0, u0], [0, fy, v0], [0, 0, 1]]``.
    """
    check_file_exists(path, 'Synscapes metadata')
    try:
        meta = json.loads(fileio.get(path).decode('utf-8'))
        intrinsic = meta['camera']['intrinsic']
        fx, fy, u0, v0 = (float(intrinsic[k]) for k in 'fx fy u0 v0'.split())
    except (KeyError, TypeError, ValueError) as e:
        raise DatasetError(
            path, f'malformed metadata JSON ({e!r})', 'Synscapes metadata '
            'JSON with camera.intrinsic {fx, fy, u0, v0}', 'intrinsics') from e
    k = np.array([[fx, 0, u0], [0, fy, v0], [0, 0, 1]], dtype=np.float32)
    check_intrinsics(k, path, 'camera.intrinsic {fx, fy, u0, v0}')
    return k


@DATASETS.register_module()
class SynscapesDataset(BaseDepthSegDataset):
    """Synscapes (Wrenninge and Unger, 2018): RGB, classes, metric depth.

    Reads the official layout (``docs/en/dataset_formats.md``), one sample
    per frame ``<i>`` (integer ids, 1..25000 in the full release)::

        img/rgb/<i>.png     1440x720 colour
        img/class/<i>.png   uint8 Cityscapes labelIds
        img/depth/<i>.npy   float depth in metres (0 = invalid)
        meta/<i>.json       camera intrinsics (camera.intrinsic)

    Class maps hold Cityscapes labelIds; ``LoadDepthSegAnnotations`` maps
    them to the 19 trainIds (``label_id_format='cityscapes_labelIds'``,
    255 = ignore; ``'cityscapes_labelIds_to_categories'`` for the 7
    categories), so the metainfo is Cityscapes'. Depth is read as ``.npy``
    float metres by default; ``depth_map_suffix='.png'`` with
    ``depth_format='png'`` and ``depth_scale`` (PNG units per metre) reads
    16-bit PNGs instead. For SemiMTL's target (inverse depth, sky = 0) add
    ``DepthTargetTransform(mode='inverse', sky_label=10)`` to the
    pipeline.

    There is no official split; SemiMTL takes consecutive 20K / 1K / 4K
    frames for train / val / test (:data:`SYNSCAPES_SPLIT_IDS`: ids
    1-20000, 20001-21000, 21001-25000). ``split_ids`` overrides the ranges
    (e.g. for small trees). Every frame under ``img/rgb`` must belong to
    one of the ranges (a tree numbered from 0, say, raises instead of
    shifting the split silently).

    Leave ``seg_map_path`` / ``depth_map_path`` out of ``data_prefix`` for
    a source without that task, ``meta_path`` to skip the intrinsics. Every
    listed file must exist; a missing one raises ``FileNotFoundError``
    naming it.

    Args:
        data_root (str): The Synscapes root (holding ``img/`` and
            ``meta/``).
        split (str, optional): ``'train'``, ``'val'`` or ``'test'``; None
            takes every frame. Defaults to ``'train'``.
        data_prefix (dict): Folders relative to ``data_root``:
            ``img_path`` (required), ``seg_map_path``, ``depth_map_path``,
            ``meta_path``.
        split_ids (dict, optional): ``{split: (first_id, last_id)}``
            (inclusive) for 'train', 'val' and 'test'. Defaults to
            :data:`SYNSCAPES_SPLIT_IDS`.
        img_suffix (str): Defaults to ``'.png'``.
        seg_map_suffix (str): Defaults to ``'.png'``.
        depth_map_suffix (str): Defaults to ``'.npy'``.
        meta_suffix (str): Defaults to ``'.json'``.
        depth_format (str): ``'npy'`` (float metres, default) or ``'png'``.
        depth_scale (float): PNG units per metre for ``depth_format='png'``.
            Defaults to 1.
        label_id_format (str): Defaults to ``'cityscapes_labelIds'``.
        **kwargs: Forwarded to :class:`mmengine.dataset.BaseDataset`.
    """

    METAINFO = CityscapesDataset.METAINFO

    def __init__(self,
                 data_root: str,
                 split: Optional[str] = 'train',
                 data_prefix: dict = dict(
                     img_path='img/rgb',
                     seg_map_path='img/class',
                     depth_map_path='img/depth',
                     meta_path='meta'),
                 split_ids: Optional[Dict[str, Tuple[int, int]]] = None,
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '.png',
                 depth_map_suffix: str = '.npy',
                 meta_suffix: str = '.json',
                 depth_format: str = 'npy',
                 depth_scale: float = 1.0,
                 label_id_format: str = 'cityscapes_labelIds',
                 **kwargs) -> None:
        if split_ids is None:
            split_ids = SYNSCAPES_SPLIT_IDS
        if set(split_ids) != set(SYNSCAPES_SPLIT_IDS):
            raise ValueError("split_ids must give 'train', 'val' and 'test', "
                             f'got {sorted(split_ids)}')
        for name, ids in split_ids.items():
            if len(ids) != 2 or not int(ids[0]) <= int(ids[1]):
                raise ValueError(f'split_ids[{name!r}] must be (first_id, '
                                 f'last_id) with first <= last, got {ids}')
        if split is not None and split not in split_ids:
            raise ValueError(f"split must be 'train', 'val', 'test' or None, "
                             f'got {split!r}')
        self.check_img_prefix(data_prefix, 'img/rgb')
        if depth_format not in _DEPTH_FORMATS:
            raise ValueError(f'depth_format must be one of {_DEPTH_FORMATS}, '
                             f'got {depth_format!r}')
        self.check_positive_arg(depth_scale, 'depth_scale')
        self.check_label_id_format(label_id_format)
        self.split = split
        self.split_ids = {
            k: (int(a), int(b))
            for k, (a, b) in split_ids.items()
        }
        self.img_suffix = img_suffix
        self.seg_map_suffix = seg_map_suffix
        self.depth_map_suffix = depth_map_suffix
        self.meta_suffix = meta_suffix
        self.depth_format = depth_format
        self.depth_scale = float(depth_scale)
        self.label_id_format = label_id_format
        super().__init__(
            data_root=data_root, data_prefix=data_prefix, **kwargs)

    def _frame_ids(self, img_dir: str) -> List[int]:
        """Sorted frame ids of ``img_dir`` that belong to ``self.split``."""
        names = fileio.list_dir_or_file(
            img_dir, list_dir=False, suffix=self.img_suffix)
        ids = []
        for name in names:
            stem = name[:-len(self.img_suffix)]
            if not stem.isdigit():
                raise ValueError(
                    f'{osp.join(img_dir, name)}: expected Synscapes frames '
                    f'named <integer id>{self.img_suffix}')
            ids.append(int(stem))
        if not ids:
            raise FileNotFoundError(
                f'no *{self.img_suffix} frame under {img_dir}')
        ids.sort()
        outside = [
            i for i in ids
            if not any(a <= i <= b for a, b in self.split_ids.values())
        ]
        if outside:
            raise ValueError(
                f'frames {outside[:5]} of {img_dir} are in no split of '
                f'split_ids={self.split_ids} (Synscapes numbers its frames '
                '1..25000); give split_ids for other numberings')
        if self.split is None:
            return ids
        first, last = self.split_ids[self.split]
        selected = [i for i in ids if first <= i <= last]
        if not selected:
            raise FileNotFoundError(
                f'no frame of split {self.split!r} (ids {first}..{last}) '
                f'under {img_dir}')
        return selected

    def load_data_list(self) -> List[dict]:
        """Build one data info per frame of the split.

        Returns:
            list[dict]: Entries with ``img_path``, ``img_paths``,
            ``view_names`` (``('l',)``), ``frame_id`` (int),
            ``frame_stem`` (its string), and where available
            ``seg_map_paths`` + ``label_id_format``, ``depth_map_paths`` +
            ``depth_format`` (+ ``depth_scale``) and ``intrinsics``.
        """
        check_file_exists(self.data_root, 'Synscapes data root')
        prefix = self.data_prefix
        check_file_exists(prefix['img_path'], 'Synscapes image folder')
        num_classes = self.num_classes_or_none
        data_list = []
        for frame_id in self._frame_ids(prefix['img_path']):
            stem = str(frame_id)
            info = dict(
                img_path=osp.join(prefix['img_path'], stem + self.img_suffix),
                frame_id=frame_id,
                frame_stem=stem,
                reduce_zero_label=False,
                num_classes=num_classes,
                seg_fields=[],
                depth_fields=[])
            info['img_paths'] = [info['img_path']]
            info['view_names'] = ('l', )
            with defect_guard(info['img_path']):
                data_list.append(self._add_annotations(info, stem))
        return data_list

    def _add_annotations(self, info: dict, stem: str) -> dict:
        """Add the class map, depth and intrinsics of frame ``stem``."""
        prefix = self.data_prefix
        if 'seg_map_path' in prefix:
            path = osp.join(prefix['seg_map_path'], stem + self.seg_map_suffix)
            check_file_exists(path, 'Synscapes class map')
            info['seg_map_paths'] = [path]
            info['label_id_format'] = self.label_id_format
        if 'depth_map_path' in prefix:
            path = osp.join(prefix['depth_map_path'],
                            stem + self.depth_map_suffix)
            check_file_exists(path, 'Synscapes depth map')
            info['depth_map_paths'] = [path]
            info['depth_format'] = self.depth_format
            info['depth_scale'] = self.depth_scale
        if 'meta_path' in prefix:
            info['intrinsics'] = read_synscapes_intrinsics(
                osp.join(prefix['meta_path'], stem + self.meta_suffix))
            info['intrinsics_normalised'] = False
        return info
