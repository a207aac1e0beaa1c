# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Prepare a KITTI raw tree: validate it, install the split files, convert
the colour images to JPEG and export the Eigen ground-truth depth.

The command-line front end is ``tools/dataset_converters/kitti.py``; the
formats are described in ``docs/en/dataset_formats.md``.
"""
import glob
import multiprocessing as mp
import os
import os.path as osp
import re
import zipfile
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.utils import ProgressBar, track_parallel_progress, track_progress

from mmdepthseg.datasets.utils import (DATASET_PREP_HINT, KITTI_GT_DEPTH_KINDS,
                                       check_kitti_split_folders,
                                       kitti_improved_gt_path,
                                       kitti_velo_to_image, load_kitti_calib,
                                       read_image, read_kitti_depth_png,
                                       read_kitti_split,
                                       read_kitti_split_lines,
                                       read_velodyne_points,
                                       velodyne_to_depth_map)
from mmdepthseg.datasets.validation import check_depth_values
from mmdepthseg.utils.io import atomic_open, atomic_write_bytes, write_image

#: Split files FSRE-Depth (and most KITTI depth work) needs, relative to the
#: splits folder.
REQUIRED_SPLIT_FILES: Tuple[str, ...] = ('eigen/test_files.txt',
                                         'eigen_zhou/train_files.txt',
                                         'eigen_zhou/val_files.txt')
#: Where the split files come from (they are part of monodepth2's code).
SPLITS_SOURCE = ('https://github.com/nianticlabs/monodepth2/tree/master/'
                 'splits (folders eigen/, eigen_zhou/, eigen_benchmark/)')
#: The calibration files every date folder must hold.
CALIB_FILES: Tuple[str,
                   ...] = ('calib_cam_to_cam.txt', 'calib_velo_to_cam.txt')
_DATE_RE = re.compile(r'^\d{4}_\d{2}_\d{2}$')
#: Splits whose ground truth is KITTI's improved ground truth by default
#: (as in monodepth2's ``export_gt_depth.py``).
IMPROVED_GT_SPLITS: Tuple[str, ...] = ('eigen_benchmark', )


def default_gt_depth(split: str) -> str:
    """The ground truth monodepth2 exports for a split: ``'improved'`` for
    ``eigen_benchmark``, the velodyne scan's ``'velodyne_x'`` otherwise."""
    return 'improved' if split in IMPROVED_GT_SPLITS else 'velodyne_x'


# ---------------------------------------------------------------------------
# Validation and split files
# ---------------------------------------------------------------------------
def check_kitti_raw_tree(raw_root: str) -> List[str]:
    """Check that ``raw_root`` looks like an extracted KITTI raw download.

    Every date folder (``YYYY_MM_DD``) must hold the calibration files
    :data:`CALIB_FILES` and at least one ``<date>_drive_<NNNN>_sync`` drive.

    Args:
        raw_root (str): The folder holding the date folders.

    Returns:
        list[str]: The date folder names, sorted.

    Raises:
        FileNotFoundError: naming the missing root, calibration file or
            drive folder.
    """
    if not osp.isdir(raw_root):
        raise FileNotFoundError(
            f'KITTI raw root not found: {raw_root} ({DATASET_PREP_HINT})')
    dates = sorted(
        d for d in os.listdir(raw_root)
        if _DATE_RE.match(d) and osp.isdir(osp.join(raw_root, d)))
    if not dates:
        raise FileNotFoundError(
            f'no date folder (e.g. 2011_09_26/) found in {raw_root}; expected '
            'the extracted KITTI raw archives (<date>_calib.zip and '
            f'<date>_drive_<NNNN>_sync.zip) there ({DATASET_PREP_HINT})')
    for date in dates:
        for name in CALIB_FILES:
            path = osp.join(raw_root, date, name)
            if not osp.isfile(path):
                raise FileNotFoundError(
                    f'KITTI calibration file not found: {path} (it comes with '
                    f'{date}_calib.zip; {DATASET_PREP_HINT})')
        if not glob.glob(osp.join(raw_root, date, f'{date}_drive_*_sync')):
            raise FileNotFoundError(
                f'no drive folder {date}_drive_<NNNN>_sync in '
                f'{osp.join(raw_root, date)} ({DATASET_PREP_HINT})')
    return dates


def copy_split_files(splits_dir: Optional[str],
                     out_dir: str,
                     required: Sequence[str] = ()) -> List[str]:
    """Copy monodepth2 split files into ``out_dir/splits/``.

    Every ``<split>/<name>_files.txt`` below ``splits_dir`` is copied
    (already identical copies are left alone) and parsed once, so that a
    malformed file fails here rather than at training time.

    Args:
        splits_dir (str, optional): Folder holding ``<split>/*_files.txt``
            (e.g. a checkout of monodepth2's ``splits/``). None only checks
            that ``out_dir/splits`` already holds ``required``.
        out_dir (str): Output root; files go to ``out_dir/splits/<split>/``.
        required (Sequence[str]): Files (relative to the splits folder) that
            must be present, e.g. ``('eigen/test_files.txt',)``.

    Returns:
        list[str]: Relative names of the split files now in
        ``out_dir/splits``.

    Raises:
        FileNotFoundError: listing exactly the missing files and where they
            come from.
    """
    dst_root = osp.join(out_dir, 'splits')
    copied = []
    if splits_dir is not None:
        if not osp.isdir(splits_dir):
            raise FileNotFoundError(
                f'--splits-dir not found: {splits_dir}; it must hold '
                f'{", ".join(REQUIRED_SPLIT_FILES)} (from {SPLITS_SOURCE})')
        for src in sorted(glob.glob(osp.join(splits_dir, '*', '*_files.txt'))):
            rel = osp.relpath(src, splits_dir)
            read_kitti_split(src)  # validates the format, names the line
            dst = osp.join(dst_root, rel)
            if osp.abspath(src) != osp.abspath(dst):
                with open(src, 'rb') as f:
                    atomic_write_bytes(dst, f.read())
            copied.append(rel.replace(os.sep, '/'))
    present = sorted(
        osp.relpath(p, dst_root).replace(os.sep, '/')
        for p in glob.glob(osp.join(dst_root, '*', '*_files.txt')))
    missing = [r for r in required if r not in present]
    if missing or not present:
        needed = missing or list(REQUIRED_SPLIT_FILES)
        where = splits_dir if splits_dir is not None else \
            f'{dst_root} (no --splits-dir given)'
        raise FileNotFoundError(
            f'split files missing in {where}: {", ".join(needed)}. They come '
            f'from {SPLITS_SOURCE}; a copy ships in data/kitti_splits/. Pass '
            'the folder holding them with --splits-dir.')
    return present


# ---------------------------------------------------------------------------
# PNG -> JPEG
# ---------------------------------------------------------------------------
def list_kitti_colour_images(raw_root: str, suffix: str = '.png') -> List[str]:
    """All colour frames ``<date>/<drive>/image_0{2,3}/data/*<suffix>``.

    Returns:
        list[str]: Absolute paths, sorted.
    """
    pattern = osp.join(
        osp.abspath(raw_root), '*', '*_sync', 'image_0[23]', 'data',
        f'*{suffix}')
    return sorted(glob.glob(pattern))


def convert_png_to_jpeg(png_path: str, quality: int = 92) -> bool:
    """Write ``png_path`` as JPEG next to it (same stem, ``.jpg``).

    An existing JPEG is taken as finished (writes are atomic), which makes
    a restarted conversion resume where it stopped. The PNG is kept.

    Args:
        png_path (str): Source PNG.
        quality (int): OpenCV JPEG quality. Defaults to 92.

    Returns:
        bool: True if a file was written, False if it was skipped.
    """
    jpg_path = osp.splitext(png_path)[0] + '.jpg'
    if osp.exists(jpg_path):
        return False
    img = read_image(png_path)  # checked: 8-bit colour (grey converted)
    write_image(jpg_path, img, jpeg_quality=quality)
    return True


def _convert_task(task: Tuple[str, int]) -> bool:
    return convert_png_to_jpeg(*task)


def convert_kitti_to_jpeg(raw_root: str,
                          quality: int = 92,
                          nproc: int = 1) -> Dict[str, int]:
    """Convert every colour PNG of a KITTI raw tree to JPEG, in place.

    ``image_0X/data/<frame>.jpg`` is written next to ``<frame>.png`` so that
    ``KittiRawDataset(data_root=raw_root, img_suffix='.jpg')`` reads it.

    Args:
        raw_root (str): KITTI raw root.
        quality (int): JPEG quality. Defaults to 92 (monodepth2's choice).
        nproc (int): Worker processes. Defaults to 1.

    Returns:
        dict: ``converted`` and ``skipped`` (already present) counts.
    """
    tasks = [(p, quality) for p in list_kitti_colour_images(raw_root)]
    if not tasks:
        return dict(converted=0, skipped=0)
    if nproc > 1:
        done = track_parallel_progress(_convert_task, tasks, nproc)
    else:
        done = track_progress(_convert_task, tasks)
    converted = int(sum(done))
    return dict(converted=converted, skipped=len(tasks) - converted)


# ---------------------------------------------------------------------------
# Eigen ground truth
# ---------------------------------------------------------------------------
def kitti_gt_depth(raw_root: str,
                   folder: str,
                   frame_index: int,
                   side: str,
                   pixel_offset: int = 1,
                   gt_depth: str = 'velodyne_x',
                   improved_gt_root: Optional[str] = None) -> np.ndarray:
    """Ground-truth depth of one split line (Eigen protocol).

    With ``gt_depth='velodyne_x'`` (default, the published benchmark's) or
    ``'camera_z'`` the velodyne scan is projected into camera 2 (side
    ``'l'``) or 3 (``'r'``) at the calibration's ``S_rect_0X`` size, keeping
    the smallest value per pixel, see :func:`velodyne_to_depth_map` (which
    also says why ``'camera_z'`` exists). ``'improved'`` reads KITTI's
    depth-completion annotation instead (:func:`kitti_improved_gt_path`,
    value / 256).

    Args:
        raw_root (str): KITTI raw root.
        folder (str): ``<date>/<drive>_sync``.
        frame_index (int): Frame number.
        side (str): ``'l'`` or ``'r'``.
        pixel_offset (int): The devkit's ``round(u) - 1`` offset.
        gt_depth (str): ``'velodyne_x'``, ``'camera_z'`` or ``'improved'``.
        improved_gt_root (str, optional): Root of the depth-completion
            download, see :func:`kitti_improved_gt_path`.

    Returns:
        np.ndarray: ``(h, w)`` float32 depth in metres, 0 = no point.

    Raises:
        DatasetError: A map without any valid pixel (a scan with no point
            in the image, an empty annotation), naming its file.
    """
    if gt_depth not in KITTI_GT_DEPTH_KINDS:
        raise ValueError(f'gt_depth must be one of {KITTI_GT_DEPTH_KINDS}, '
                         f'got {gt_depth!r}')
    cam = 2 if side == 'l' else 3
    if gt_depth == 'improved':
        path = kitti_improved_gt_path(raw_root, folder, frame_index, cam,
                                      improved_gt_root)
        return check_depth_values(
            read_kitti_depth_png(path), path, 'improved ground truth')
    calib = load_kitti_calib(osp.join(raw_root, folder.split('/')[0]))
    width, height = calib[f'S_rect_{cam:02d}']
    path = osp.join(raw_root, folder, 'velodyne_points', 'data',
                    f'{frame_index:010d}.bin')
    depth = velodyne_to_depth_map(
        read_velodyne_points(path), kitti_velo_to_image(calib, cam),
        (int(round(height)), int(round(width))), pixel_offset, gt_depth)
    return check_depth_values(depth, path,
                              'velodyne scan (projected into the image)')


def _gt_task(task: tuple) -> np.ndarray:
    return kitti_gt_depth(*task)


def gt_depth_key(index: int) -> str:
    """Key of the ``index``-th map in a ``gt_depths_<split>.npz``."""
    return f'depth_{index:05d}'


def _iter_maps(tasks: list, nproc: int) -> Iterator[np.ndarray]:
    if nproc > 1:
        # spawned, not forked: a fork after numpy / OpenCV started their
        # thread pools can deadlock the child
        with mp.get_context('spawn').Pool(nproc) as pool:
            yield from pool.imap(_gt_task, tasks, chunksize=4)
    else:
        yield from map(_gt_task, tasks)


def export_eigen_gt(raw_root: str,
                    split_file: str,
                    out_file: str,
                    pixel_offset: int = 1,
                    nproc: int = 1,
                    gt_depth: str = 'velodyne_x',
                    improved_gt_root: Optional[str] = None) -> str:
    """Export the ground-truth depth of a test split as one ``.npz``.

    File layout (a standard ``np.savez_compressed`` archive, readable with
    ``np.load`` without pickle): ``files`` holds the split lines as a
    unicode array (``'<folder> <frame> <side>'``, in split order) and
    ``depth_00000``, ``depth_00001``, ... (:func:`gt_depth_key`) hold one
    ``(h, w)`` float32 map per line (0 = no lidar point). One key per sample
    rather than monodepth2's object array ``data`` because KITTI's image
    size differs between dates and object arrays need ``allow_pickle``;
    :func:`load_gt_depths` returns the maps as a list. The archive is
    written one map at a time to a temporary file that then replaces
    ``out_file``, so memory stays at one map and a crash leaves no partial
    file.

    Args:
        raw_root (str): KITTI raw root.
        split_file (str): e.g. ``splits/eigen/test_files.txt``.
        out_file (str): Destination, e.g. ``gt_depths_eigen.npz``.
        pixel_offset (int): The devkit's ``round(u) - 1`` offset; 1 for real
            KITTI, 0 for the synthetic generator's data.
        nproc (int): Worker processes. Defaults to 1.
        gt_depth (str): ``'velodyne_x'`` (default: the published benchmark's
            value, velodyne forward coordinate), ``'camera_z'`` (camera
            depth, see :func:`velodyne_to_depth_map` for why it exists) or
            ``'improved'`` (depth-completion annotations), see
            :func:`kitti_gt_depth`.
        improved_gt_root (str, optional): See :func:`kitti_gt_depth`.

    Returns:
        str: ``out_file``.
    """
    lines = read_kitti_split_lines(split_file)
    if not lines:
        raise ValueError(f'{split_file}: empty split file')
    # every missing date / drive at once, before any work
    check_kitti_split_folders(split_file, raw_root, lines)
    samples = [line[1:] for line in lines]
    if gt_depth not in KITTI_GT_DEPTH_KINDS:
        raise ValueError(f'gt_depth must be one of {KITTI_GT_DEPTH_KINDS}, '
                         f'got {gt_depth!r}')
    tasks = [(raw_root, f, i, s, pixel_offset, gt_depth, improved_gt_root)
             for f, i, s in samples]
    bar = ProgressBar(len(tasks))
    with atomic_open(out_file, 'wb') as fobj, zipfile.ZipFile(
            fobj, 'w', compression=zipfile.ZIP_DEFLATED,
            allowZip64=True) as zf:
        files = np.array([f'{f} {i:010d} {s}' for f, i, s in samples])
        with zf.open('files.npy', 'w', force_zip64=True) as f:
            np.lib.format.write_array(f, files, allow_pickle=False)
        for idx, depth in enumerate(_iter_maps(tasks, nproc)):
            with zf.open(
                    f'{gt_depth_key(idx)}.npy', 'w', force_zip64=True) as f:
                np.lib.format.write_array(f, depth, allow_pickle=False)
            bar.update()
    return out_file


def load_gt_depths(path: str) -> Tuple[List[str], List[np.ndarray]]:
    """Read a file written by :func:`export_eigen_gt`.

    Returns:
        tuple[list[str], list[np.ndarray]]: The split lines and their
        ``(h, w)`` float32 depth maps, in split order.
    """
    with np.load(path, allow_pickle=False) as npz:
        files = [str(f) for f in npz['files']]
        maps = [npz[gt_depth_key(i)] for i in range(len(files))]
    return files, maps


# ---------------------------------------------------------------------------
# All steps
# ---------------------------------------------------------------------------
def prepare_kitti_raw(raw_root: str,
                      out_dir: str,
                      splits_dir: Optional[str] = None,
                      to_jpeg: bool = False,
                      jpeg_quality: int = 92,
                      export_gt: Sequence[str] = (),
                      pixel_offset: int = 1,
                      nproc: int = 1,
                      gt_depth: Optional[str] = None,
                      improved_gt_root: Optional[str] = None
                      ) -> Dict[str, object]:
    """Validate, install splits, optionally convert to JPEG, export GT.

    Args:
        raw_root (str): KITTI raw root (date folders).
        out_dir (str): Receives ``splits/`` and ``gt_depths_<split>.npz``.
        splits_dir (str, optional): Source of the split files, see
            :func:`copy_split_files`.
        to_jpeg (bool): Convert ``image_02``/``image_03`` PNGs to JPEG in
            place. Defaults to False.
        jpeg_quality (int): JPEG quality. Defaults to 92.
        export_gt (Sequence[str]): Splits whose ``test_files.txt`` gets a
            ground-truth archive ``out_dir/gt_depths_<split>.npz``.
        pixel_offset (int): See :func:`export_eigen_gt`.
        nproc (int): Worker processes.
        gt_depth (str, optional): Ground truth of every exported split, see
            :func:`export_eigen_gt`. None (default) follows monodepth2's
            ``export_gt_depth.py``: :func:`default_gt_depth` (the improved
            ground truth for ``eigen_benchmark``, the velodyne forward
            coordinate ``'velodyne_x'`` otherwise).
        improved_gt_root (str, optional): See :func:`kitti_gt_depth`.

    Returns:
        dict: ``dates``, ``splits`` (installed split files), ``jpeg``
        (counts, when converting) and ``gt_files`` (written archives).
    """
    summary: Dict[str, object] = dict(dates=check_kitti_raw_tree(raw_root))
    required = [f'{s}/test_files.txt' for s in export_gt]
    summary['splits'] = copy_split_files(splits_dir, out_dir, required)
    if to_jpeg:
        summary['jpeg'] = convert_kitti_to_jpeg(raw_root, jpeg_quality, nproc)
    gt_files = []
    for split in export_gt:
        gt_files.append(
            export_eigen_gt(
                raw_root, osp.join(out_dir, 'splits', split, 'test_files.txt'),
                osp.join(out_dir, f'gt_depths_{split}.npz'),
                pixel_offset,
                nproc,
                gt_depth=gt_depth or default_gt_depth(split),
                improved_gt_root=improved_gt_root))
    summary['gt_files'] = gt_files
    return summary
