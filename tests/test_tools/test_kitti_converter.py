# Copyright (c) mmdepthseg contributors. All rights reserved.
"""tools/dataset_converters/kitti.py and its logic
(mmdepthseg.converters.kitti) on a generated KITTI raw tree."""
import os
import os.path as osp
import runpy
import shutil
import sys

import cv2
import numpy as np
import pytest
from _helpers import KITTI_SPLITS, REPO_ROOT

from mmdepthseg.converters import (REQUIRED_SPLIT_FILES, check_kitti_raw_tree,
                                   convert_kitti_to_jpeg, copy_split_files,
                                   load_gt_depths, prepare_kitti_raw)
from mmdepthseg.datasets.utils import (kitti_velo_to_image, load_kitti_calib,
                                       read_kitti_split, read_velodyne_points,
                                       velodyne_to_depth_map)

REAL_SPLITS = KITTI_SPLITS
H, W = 64, 160


@pytest.fixture(scope='module')
def raw_root(tmp_path_factory) -> str:
    from mmdepthseg.synthetic import write_kitti_raw
    root = str(tmp_path_factory.mktemp('kitti_raw'))
    write_kitti_raw(
        root, seed=0, num_drives=1, frames_per_drive=6, height=H, width=W)
    return root


def _run_tool(argv: list) -> None:
    """Run the command-line tool in-process (as ``python tools/...``)."""
    tool = osp.join(REPO_ROOT, 'tools', 'dataset_converters', 'kitti.py')
    old_argv = sys.argv
    sys.argv = [tool] + argv
    try:
        runpy.run_path(tool, run_name='__main__')
    finally:
        sys.argv = old_argv


def _copy_tree(src: str, dst: str) -> str:
    shutil.copytree(src, dst)
    return dst


def test_cli_exports_gt_equal_to_velodyne_projection(raw_root, tmp_path):
    out = str(tmp_path / 'out')
    _run_tool([
        raw_root, '--out-dir', out, '--splits-dir',
        osp.join(raw_root, 'splits'), '--export-gt', 'synthetic'
    ])
    # the split files were installed
    for name in ('train', 'val', 'test'):
        src = osp.join(raw_root, 'splits', 'synthetic', f'{name}_files.txt')
        dst = osp.join(out, 'splits', 'synthetic', f'{name}_files.txt')
        with open(src) as f1, open(dst) as f2:
            assert f1.read() == f2.read()

    samples = read_kitti_split(
        osp.join(raw_root, 'splits', 'synthetic', 'test_files.txt'))
    assert len(samples) > 0
    gt_file = osp.join(out, 'gt_depths_synthetic.npz')
    files, maps = load_gt_depths(gt_file)
    with np.load(gt_file, allow_pickle=False) as npz:
        assert len(npz.files) == len(samples) + 1  # one map a line + files
    assert len(files) == len(maps) == len(samples)
    calib = load_kitti_calib(osp.join(raw_root, '2011_09_26'))
    for (folder, index, side), line, depth in zip(samples, files, maps):
        assert line.split() == [folder, f'{index:010d}', side]
        cam = 2 if side == 'l' else 3
        points = read_velodyne_points(
            osp.join(raw_root, folder, 'velodyne_points', 'data',
                     f'{index:010d}.bin'))
        expected = velodyne_to_depth_map(points,
                                         kitti_velo_to_image(calib,
                                                             cam), (H, W), 1)
        assert depth.shape == (H, W) and depth.dtype == np.float32
        np.testing.assert_array_equal(depth, expected)
        assert (depth > 0).sum() > 100  # the scan is really projected
    # no temporary file is left behind
    assert sorted(os.listdir(out)) == ['gt_depths_synthetic.npz', 'splits']


def test_pixel_offset_shifts_the_map(raw_root, tmp_path):
    prepare_kitti_raw(
        raw_root,
        str(tmp_path),
        splits_dir=osp.join(raw_root, 'splits'),
        export_gt=['synthetic'],
        pixel_offset=0)
    _, maps0 = load_gt_depths(str(tmp_path / 'gt_depths_synthetic.npz'))
    prepare_kitti_raw(
        raw_root, str(tmp_path), export_gt=['synthetic'], pixel_offset=1)
    _, maps1 = load_gt_depths(str(tmp_path / 'gt_depths_synthetic.npz'))
    # round(u) - 1 moves every point one pixel up-left (the map's last
    # row/column drop out, points projecting to u = 0 / v = 0 are lost)
    np.testing.assert_array_equal(maps1[0][:-1, :-1], maps0[0][1:, 1:])


def test_jpeg_conversion_and_resume(raw_root, tmp_path):
    root = _copy_tree(raw_root, str(tmp_path / 'raw'))
    drive = osp.join(root, '2011_09_26', '2011_09_26_drive_0001_sync')
    pngs = sorted(
        os.listdir(osp.join(drive, 'image_02', 'data')) +
        os.listdir(osp.join(drive, 'image_03', 'data')))
    counts = convert_kitti_to_jpeg(root, quality=92)
    assert counts == dict(converted=len(pngs), skipped=0) and len(pngs) == 12
    for cam in ('image_02', 'image_03'):
        for i in range(6):
            png = osp.join(drive, cam, 'data', f'{i:010d}.png')
            jpg = osp.splitext(png)[0] + '.jpg'
            img_png = cv2.imread(png)
            img_jpg = cv2.imread(jpg)
            assert img_jpg is not None and img_jpg.shape == (H, W, 3)
            with open(jpg, 'rb') as f:
                assert f.read(3) == b'\xff\xd8\xff'  # JPEG magic
            err = np.abs(img_jpg.astype(int) - img_png.astype(int)).mean()
            assert err < 10
    # labels and other folders are left alone
    assert not any(
        n.endswith('.jpg')
        for n in os.listdir(osp.join(drive, 'semantic_02', 'data')))
    jpg0 = osp.join(drive, 'image_02', 'data', '0000000000.jpg')
    mtime = os.stat(jpg0).st_mtime_ns
    assert convert_kitti_to_jpeg(root) == dict(converted=0, skipped=12)
    assert os.stat(jpg0).st_mtime_ns == mtime
    # an interrupted run resumes: a missing JPEG is written again
    os.remove(jpg0)
    assert convert_kitti_to_jpeg(root) == dict(converted=1, skipped=11)
    assert not [n for n in os.listdir(osp.dirname(jpg0)) if 'tmp' in n]


def test_missing_calib_names_the_file(raw_root, tmp_path):
    root = _copy_tree(raw_root, str(tmp_path / 'raw'))
    missing = osp.join(root, '2011_09_26', 'calib_velo_to_cam.txt')
    os.remove(missing)
    with pytest.raises(FileNotFoundError, match=missing):
        check_kitti_raw_tree(root)
    with pytest.raises(FileNotFoundError, match=missing):
        prepare_kitti_raw(root, str(tmp_path / 'out'),
                          osp.join(root, 'splits'))


def test_no_date_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match='no date folder'):
        check_kitti_raw_tree(str(tmp_path))


def test_missing_splits_lists_the_needed_files(raw_root, tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        copy_split_files(None, str(tmp_path))
    for name in REQUIRED_SPLIT_FILES:
        assert name in str(err.value)
    assert 'monodepth2' in str(err.value)
    # a split asked for by --export-gt must be there
    with pytest.raises(FileNotFoundError, match='eigen/test_files.txt'):
        copy_split_files(
            osp.join(raw_root, 'splits'), str(tmp_path),
            ['eigen/'
             'test_files.txt'])


def test_real_split_files_parse(tmp_path):
    test = read_kitti_split(osp.join(REAL_SPLITS, 'eigen', 'test_files.txt'))
    train = read_kitti_split(
        osp.join(REAL_SPLITS, 'eigen_zhou', 'train_files.txt'))
    assert len(test) == 697 and len(train) == 39810
    assert test[0] == ('2011_09_26/2011_09_26_drive_0002_sync', 69, 'l')
    assert {s for _, _, s in train} == {'l', 'r'}
    installed = copy_split_files(REAL_SPLITS, str(tmp_path),
                                 REQUIRED_SPLIT_FILES)
    assert set(REQUIRED_SPLIT_FILES) <= set(installed)
    # monodepth2's other splits ship too: eigen_full (Pseudo-MTL's stereo
    # pairs, both sides of each frame) and eigen_benchmark
    sizes = {
        'eigen_full/train_files.txt': 45200,
        'eigen_full/val_files.txt': 1776,
        'eigen_benchmark/test_files.txt': 652,
        'eigen_zhou/val_files.txt': 4424
    }
    test_drives = {drive for drive, _, _ in test}
    for name, size in sizes.items():
        samples = read_kitti_split(osp.join(REAL_SPLITS, name))
        assert len(samples) == size, name
        assert name in installed
        if 'train' in name or 'val' in name:
            # Eigen's split: no training drive is a test drive
            assert not {d for d, _, _ in samples} & test_drives, name
    full = read_kitti_split(
        osp.join(REAL_SPLITS, 'eigen_full', 'train_files.txt'))
    assert sum(s == 'l' for _, _, s in full) == 22600


def test_every_kitti_split_a_config_names_ships():
    """The configs read ``data/kitti_splits/<split>/<name>_files.txt``
    relative to the repository: every such file is in it."""
    import glob
    import re
    named = set()
    for path in glob.glob(
            osp.join(REPO_ROOT, 'configs', '**', '*.py'), recursive=True):
        with open(path) as f:
            named |= set(
                re.findall(r"data/kitti_splits/[\w/]+_files\.txt", f.read()))
    assert {
        'data/kitti_splits/eigen/test_files.txt',
        'data/kitti_splits/eigen_zhou/train_files.txt',
        'data/kitti_splits/eigen_full/train_files.txt'
    } <= named
    for rel in sorted(named):
        assert osp.isfile(osp.join(REPO_ROOT, rel)), rel


def test_nproc_exports_the_maps_of_one_process(raw_root, tmp_path):
    """``--nproc 2`` (spawned workers) writes the maps of ``--nproc 1``."""
    maps = {}
    for nproc in (1, 2):
        out = str(tmp_path / f'nproc{nproc}')
        prepare_kitti_raw(
            raw_root,
            out,
            splits_dir=osp.join(raw_root, 'splits'),
            export_gt=['synthetic'],
            nproc=nproc)
        maps[nproc] = load_gt_depths(
            osp.join(out, 'gt_depths_synthetic.npz'))[1]
    assert len(maps[1]) == len(maps[2]) > 0
    for one, two in zip(maps[1], maps[2]):
        np.testing.assert_array_equal(one, two)
