# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Convert the labelled NYU Depth v2 release into mmdepthseg's NYU layout.

Input: the official ``nyu_depth_v2_labeled.mat`` (MATLAB v7.3, i.e. HDF5)
with the 1,449 labelled frames, and ``splits.mat`` (``trainNdxs`` 795 and
``testNdxs`` 654 one-based frame indices, the official split that SOSD-Net
and most NYUv2 papers use). :func:`convert_nyu` writes the layout that
:class:`~mmdepthseg.datasets.NYUDepthSegDataset` reads::

    <out>/images/<split>/<stem>.jpg       RGB frame (JPEG; or .png)
    <out>/annotations/<split>/<stem>.png  uint16 depth, millimetres (0 invalid)
    <out>/labels40/<split>/<stem>.png     uint8 NYUv2-40 ids (0 unlabelled)
    <out>/nyu_conversion.json             parameters and counts

with ``<split>`` ``train`` / ``test`` and ``<stem>`` the frame's one-based
index in the labelled set, zero-padded to 4 digits (``0001``..``1449``).

HDF5 layout: MATLAB stores arrays column-major, so h5py sees every array
with its axes reversed: ``images`` ``(N, 3, W, H)`` uint8 (MATLAB
``H x W x 3 x N``), ``depths`` ``(N, W, H)`` float metres, ``labels``
``(N, W, H)`` uint16 raw class ids 0..894 (0 = unlabelled). Frame ``i``
(one-based) is ``images[i - 1].transpose(2, 1, 0)`` (H, W, RGB), and
likewise ``.T`` for the maps.

Labels: raw class ``k`` becomes its 40-class id through the 894 -> 40 table
of Gupta et al. (:data:`~.nyu40_mapping.NYU894_TO_40` by default, or the
``mapClass`` of an official ``classMapping40.mat`` given as
``class_mapping``); 0 stays 0 (unlabelled, ignored by the loader).
Depth: ``round(1000 * d)`` millimetres, 0 where ``d`` is not a positive
finite number.

Resumable and atomic: every file is written to a temporary file and
renamed; a frame whose three files exist is skipped unless
``overwrite=True``.
"""
import json
import logging
import os.path as osp
from typing import Dict, List, Optional, Tuple

import numpy as np
from mmengine.logging import print_log
from mmengine.utils import track_progress

from mmdepthseg.utils.io import atomic_write_text, write_image
from .nyu40_mapping import NYU894_TO_40

#: Number of raw classes of the labelled release.
NYU_NUM_RAW_CLASSES = 894
#: Sizes of the official split.
NYU_SPLIT_SIZES = dict(train=795, test=654)
#: Output folders (relative to the output root) of images, depth, labels.
NYU_FOLDERS = dict(img='images', depth='annotations', label='labels40')


def _loadmat(path: str) -> dict:
    """MATLAB file -> dict of arrays (v5 via scipy, v7.3 via h5py)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: no such file')
    from scipy.io import loadmat
    try:
        return {
            k: v
            for k, v in loadmat(path).items() if not k.startswith('__')
        }
    except NotImplementedError:  # v7.3: HDF5
        h5py = _import_h5py()
        with h5py.File(path, 'r') as f:
            return {
                k: np.asarray(v).T
                for k, v in f.items() if isinstance(v, h5py.Dataset)
            }


def _import_h5py():
    try:
        import h5py
    except ImportError as err:  # pragma: no cover - depends on the env
        raise ImportError(
            'reading nyu_depth_v2_labeled.mat (MATLAB v7.3 = HDF5) needs '
            'h5py: pip install h5py') from err
    return h5py


def load_nyu_splits(path: str) -> Dict[str, np.ndarray]:
    """The official train / test split of the labelled set.

    Args:
        path (str): ``splits.mat`` with ``trainNdxs`` and ``testNdxs``
            (one-based frame indices, column vectors).

    Returns:
        dict[str, np.ndarray]: ``train`` and ``test`` int64 one-based
        indices, in file order.

    Raises:
        KeyError: If a key is missing (the message names the file and the
            keys found).
        ValueError: If an index is not a positive integer or a frame is in
            both splits.
    """
    data = _loadmat(path)
    splits = {}
    for split, key in (('train', 'trainNdxs'), ('test', 'testNdxs')):
        if key not in data:
            raise KeyError(f'{path}: expected the arrays trainNdxs and '
                           f'testNdxs (one-based frame indices), found '
                           f'{sorted(data)}')
        values = np.asarray(data[key], dtype=np.float64).reshape(-1)
        if values.size == 0 or np.any(values < 1) or \
                np.any(values != np.round(values)):
            raise ValueError(f'{path}: {key} must hold one-based frame '
                             'indices (positive integers)')
        splits[split] = values.astype(np.int64)
    both = np.intersect1d(splits['train'], splits['test'])
    if both.size:
        raise ValueError(f'{path}: frames {both[:10].tolist()} are in both '
                         'trainNdxs and testNdxs')
    return splits


def load_class_mapping(path: Optional[str] = None) -> np.ndarray:
    """Lookup table raw class id (0..894) -> NYUv2-40 id (0..40).

    Args:
        path (str, optional): ``classMapping40.mat`` (its ``mapClass``,
            894 values in 1..40), a ``.npy`` array or a text file of 894
            integers (whitespace or comma separated). None (default): the
            table shipped in :mod:`~.nyu40_mapping`.

    Returns:
        np.ndarray: uint8 ``(895,)``: entry 0 (unlabelled) is 0, entry k
        the 40-class id of raw class k.
    """
    if path is None:
        table = np.asarray(NYU894_TO_40, dtype=np.int64)
        source = 'the shipped table'
    else:
        source = path
        if path.endswith('.mat'):
            data = _loadmat(path)
            if 'mapClass' not in data:
                raise KeyError(f'{path}: expected the array mapClass (894 '
                               f'40-class ids), found {sorted(data)}')
            table = np.asarray(data['mapClass'])
        elif path.endswith('.npy'):
            table = np.load(path)
        else:
            with open(path) as f:
                table = np.array(
                    f.read().replace(',', ' ').split(), dtype=np.float64)
        table = np.asarray(table, dtype=np.float64).reshape(-1)
        if np.any(table != np.round(table)):
            raise ValueError(f'{path}: class ids must be integers')
        table = table.astype(np.int64)
    if table.shape != (NYU_NUM_RAW_CLASSES, ) or table.min() < 1 or \
            table.max() > 40:
        raise ValueError(
            f'{source}: expected {NYU_NUM_RAW_CLASSES} class ids in 1..40 '
            f'(one per raw class), got {table.size} values in '
            f'[{table.min()}, {table.max()}]')
    return np.concatenate([[0], table]).astype(np.uint8)


def nyu_frame_stem(index: int) -> str:
    """File stem of the one-based frame ``index``: ``'0001'``."""
    return f'{index:04d}'


def _check_arrays(f, path: str) -> Tuple[int, int, int]:
    """Check the three arrays of the labelled file; return (N, H, W)."""
    missing = [k for k in ('images', 'depths', 'labels') if k not in f]
    if missing:
        raise KeyError(f'{path}: expected the HDF5 datasets images, depths '
                       f'and labels (nyu_depth_v2_labeled.mat), missing '
                       f'{missing}; found {sorted(f.keys())}')
    images, depths, labels = f['images'], f['depths'], f['labels']
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f'{path}: images must be stored (N, 3, W, H) '
                         '(MATLAB H x W x 3 x N), got shape '
                         f'{images.shape}')
    if images.dtype != np.uint8:
        raise ValueError(f'{path}: images must be 8-bit (uint8) RGB, got '
                         f'{images.dtype}')
    n, _, w, h = images.shape
    for name, arr in (('depths', depths), ('labels', labels)):
        if tuple(arr.shape) != (n, w, h):
            raise ValueError(f'{path}: {name} must be stored (N, W, H) = '
                             f'{(n, w, h)} like images, got {arr.shape}')
    return n, h, w


def _frame_paths(out_dir: str, split: str, stem: str,
                 img_ext: str) -> Dict[str, str]:
    return dict(
        img=osp.join(out_dir, NYU_FOLDERS['img'], split, stem + img_ext),
        depth=osp.join(out_dir, NYU_FOLDERS['depth'], split, stem + '.png'),
        label=osp.join(out_dir, NYU_FOLDERS['label'], split, stem + '.png'))


def depth_to_millimetres(depth: np.ndarray) -> np.ndarray:
    """Metres -> uint16 millimetres (``round(1000 d)``, 0 if invalid).

    Args:
        depth (np.ndarray): Depth in metres, any float dtype.

    Returns:
        np.ndarray: uint16, same shape; values above 65.535 m saturate.
    """
    depth = np.asarray(depth, dtype=np.float64)
    valid = np.isfinite(depth) & (depth > 0)
    mm = np.zeros(depth.shape, dtype=np.float64)
    mm[valid] = np.round(depth[valid] * 1000.0)
    return np.clip(mm, 0, np.iinfo(np.uint16).max).astype(np.uint16)


def convert_nyu(labeled_mat: str,
                splits_mat: str,
                out_dir: str,
                class_mapping: Optional[str] = None,
                img_ext: str = '.jpg',
                jpeg_quality: int = 95,
                overwrite: bool = False,
                progress: bool = True) -> dict:
    """Write the labelled NYUv2 frames of both splits in the NYU layout.

    Args:
        labeled_mat (str): ``nyu_depth_v2_labeled.mat`` (HDF5).
        splits_mat (str): ``splits.mat`` (``trainNdxs`` / ``testNdxs``).
        out_dir (str): Output root (``data/nyu`` in the configs).
        class_mapping (str, optional): 894 -> 40 table
            (see :func:`load_class_mapping`). Default: the shipped one.
        img_ext (str): ``'.jpg'`` (default, what the dataset reads by
            default) or ``'.png'`` (lossless; set the dataset's
            ``img_suffix='.png'``).
        jpeg_quality (int): JPEG quality. Defaults to 95.
        overwrite (bool): Rewrite frames whose files exist. Defaults to
            False (resume).
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        dict: The summary also written to ``nyu_conversion.json``: frame
        counts per split, how many were written / skipped, the frames
        written without any valid depth pixel (``frames_without_depth``,
        each also logged as a warning), the source files and the mapping
        used.
    """
    if img_ext not in ('.jpg', '.png'):
        raise ValueError(f"img_ext must be '.jpg' or '.png', got {img_ext!r}")
    splits = load_nyu_splits(splits_mat)
    lut = load_class_mapping(class_mapping)
    h5py = _import_h5py()
    if not osp.isfile(labeled_mat):
        raise FileNotFoundError(f'{labeled_mat}: no such file (the labelled '
                                'NYUv2 release, nyu_depth_v2_labeled.mat)')
    with h5py.File(labeled_mat, 'r') as f:
        num_frames, height, width = _check_arrays(f, labeled_mat)
        for split, idx in splits.items():
            if idx.max() > num_frames:
                raise ValueError(
                    f'{splits_mat}: {split} index {int(idx.max())} is beyond '
                    f'the {num_frames} frames of {labeled_mat}')
        tasks = [(split, int(i)) for split in ('train', 'test')
                 for i in splits[split]]
        convert_frame = _FrameConverter(f, labeled_mat, out_dir, lut, img_ext,
                                        jpeg_quality, overwrite)
        if progress:
            written = track_progress(convert_frame, tasks)
        else:
            written = [convert_frame(t) for t in tasks]
    for split, size in NYU_SPLIT_SIZES.items():
        if len(splits[split]) != size:
            print(f'note: {split} has {len(splits[split])} frames; the '
                  f'official split has {size}')
    summary = dict(
        labeled_mat=osp.abspath(labeled_mat),
        splits_mat=osp.abspath(splits_mat),
        class_mapping=osp.abspath(class_mapping)
        if class_mapping else 'mmdepthseg NYU894_TO_40 (Gupta et al.)',
        frame_size=[height, width],
        num_frames={
            s: int(len(v))
            for s, v in splits.items()
        },
        written=int(sum(written)),
        frames_without_depth=sorted(convert_frame.empty_depth),
        skipped=int(len(written) - sum(written)),
        img_ext=img_ext,
        folders=NYU_FOLDERS)
    atomic_write_text(
        osp.join(out_dir, 'nyu_conversion.json'),
        json.dumps(summary, indent=1) + '\n')
    return summary


class _FrameConverter:
    """Writes the files of one frame of an open labelled ``.mat`` file
    (the task of :func:`convert_nyu`'s progress loop).

    Args:
        mat (h5py.File): The open ``nyu_depth_v2_labeled.mat``.
        labeled_mat (str): Its path (for messages).
        out_dir (str): Output root.
        lut (np.ndarray): 894 -> 40 lookup table (index 0: unlabelled).
        img_ext (str): ``'.jpg'`` or ``'.png'``.
        jpeg_quality (int): JPEG quality.
        overwrite (bool): Rewrite frames whose files exist.

    Attributes:
        empty_depth (list[int]): Frames written without any valid depth
            pixel (one-based indices).
    """

    def __init__(self, mat, labeled_mat: str, out_dir: str, lut: np.ndarray,
                 img_ext: str, jpeg_quality: int, overwrite: bool) -> None:
        self.mat = mat
        self.labeled_mat = labeled_mat
        self.out_dir = out_dir
        self.lut = lut
        self.img_ext = img_ext
        self.jpeg_quality = int(jpeg_quality)
        self.overwrite = overwrite
        self.empty_depth: List[int] = []

    def __call__(self, task: Tuple[str, int]) -> bool:
        """Convert frame ``task = (split, one-based index)``; False if its
        files exist (and are not to be overwritten)."""
        split, index = task
        paths = _frame_paths(self.out_dir, split, nyu_frame_stem(index),
                             self.img_ext)
        if not self.overwrite and all(osp.isfile(p) for p in paths.values()):
            return False
        rgb, depth, raw = self._read(index)
        if not (np.isfinite(depth) & (depth > 0)).any():
            # kept (its labels are fine), reported and counted
            self.empty_depth.append(index)
            print_log(
                f'{self.labeled_mat}: frame {index} has no valid depth pixel '
                f'(all 0 / NaN); {paths["depth"]} is written all 0 '
                '(invalid)',
                logger='current',
                level=logging.WARNING)
        write_image(
            paths['img'], rgb, rgb=True, jpeg_quality=self.jpeg_quality)
        write_image(paths['depth'], depth_to_millimetres(depth))
        write_image(paths['label'], self.lut[raw])
        return True

    def _read(self, index: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """RGB ``(H, W, 3)``, depth ``(H, W)`` in metres and raw labels
        ``(H, W)`` int64 of a frame (MATLAB's axes reversed back)."""
        k = index - 1
        rgb = np.asarray(self.mat['images'][k]).transpose(2, 1, 0)
        depth = np.asarray(self.mat['depths'][k]).T
        raw = np.asarray(self.mat['labels'][k]).T.astype(np.int64)
        if raw.min() < 0 or raw.max() > NYU_NUM_RAW_CLASSES:
            raise ValueError(
                f'{self.labeled_mat}: labels of frame {index} hold ids in '
                f'[{raw.min()}, {raw.max()}], expected 0..'
                f'{NYU_NUM_RAW_CLASSES}')
        return rgb, depth, raw
