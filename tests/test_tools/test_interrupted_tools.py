# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Tools killed (SIGKILL) in the middle of writing a file leave no partial
output, and a rerun leaves exactly the files of an uninterrupted run."""
import hashlib
import os
import os.path as osp
import shutil
import signal
import subprocess
import sys
import time

import pytest
from _helpers import REPO_ROOT

STALL = osp.join(REPO_ROOT, 'tests', 'test_engine', 'stall_write.py')


@pytest.fixture(scope='module')
def kitti_raw(tmp_path_factory) -> str:
    from mmdepthseg.synthetic import write_kitti_raw
    root = str(tmp_path_factory.mktemp('kitti_raw_small'))
    write_kitti_raw(
        root, seed=0, num_drives=1, frames_per_drive=6, height=64, width=160)
    return root


def _env() -> dict:
    env = dict(os.environ, OMP_NUM_THREADS='1')
    env['PYTHONPATH'] = os.pathsep.join([REPO_ROOT, env.get('PYTHONPATH', '')])
    return env


def _run(argv: list) -> None:
    proc = subprocess.run(
        [sys.executable] + argv,
        cwd=REPO_ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=900)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]


def _kill_while_writing(argv: list, substring: str, marker: str) -> None:
    """Run ``argv`` with the write of the file matching ``substring``
    stalled, SIGKILL it there."""
    proc = subprocess.Popen(
        [sys.executable, STALL, marker, substring] + argv,
        cwd=REPO_ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 600
        while not osp.exists(marker):
            assert proc.poll() is None, proc.stdout.read().decode()[-4000:]
            assert time.time() < deadline, f'{substring} was never written'
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def _tree(root: str) -> dict:
    """Every file (hidden ones too) under ``root`` -> SHA-1."""
    files = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = osp.join(folder, name)
            with open(path, 'rb') as f:
                files[osp.relpath(path,
                                  root)] = hashlib.sha1(f.read()).hexdigest()
    return files


def _check_interrupted_then_rerun(raw: str, tmp_path, argv, substring):
    """Uninterrupted run vs. killed run + rerun, on copies of ``raw``."""
    whole = shutil.copytree(raw, str(tmp_path / 'whole'))
    stalled = substring.split('/')[-1]
    _run([a.replace('ROOT', whole) for a in argv])
    expected = _tree(whole)
    broken = shutil.copytree(raw, str(tmp_path / 'broken'))
    argv = [a.replace('ROOT', broken) for a in argv]
    _kill_while_writing(argv, substring, str(tmp_path / 'stalled'))
    killed = _tree(broken)
    partial = [p for p in killed if p.endswith('.tmp')]
    assert len(partial) == 1 and stalled in partial[0]
    # every finished output is complete; the stalled one and the later ones
    # are absent
    outputs = {p: h for p, h in killed.items() if p not in partial}
    assert all(expected[p] == h for p, h in outputs.items())
    missing = set(expected) - set(outputs)
    assert any(p.endswith(stalled) for p in missing)
    _run(argv)
    assert _tree(broken) == expected


@pytest.mark.slow
def test_pseudo_depth_killed_mid_write_then_rerun(kitti_raw, tmp_path):
    _check_interrupted_then_rerun(kitti_raw, tmp_path, [
        'tools/generate_pseudo_depth.py', 'ROOT', '--dataset', 'kitti',
        '--num-disparities', '32', '--no-progress'
    ], 'pseudo_depth_03/data/0000000003.png')


@pytest.mark.slow
def test_kitti_converter_killed_mid_write_then_rerun(kitti_raw, tmp_path):
    _check_interrupted_then_rerun(kitti_raw, tmp_path, [
        'tools/dataset_converters/kitti.py', 'ROOT', '--out-dir',
        'ROOT/prepared', '--splits-dir', 'ROOT/splits', '--to-jpeg'
    ], 'image_02/data/0000000003.jpg')


@pytest.mark.slow
def test_pseudo_seg_killed_mid_write_then_rerun(tmp_path):
    from test_tools.test_generate_pseudo_seg import (_make_checkpoint,
                                                     _mmseg_cfg, _write_images)
    raw = str(tmp_path / 'raw')
    _write_images(osp.join(raw, 'images'))
    os.makedirs(osp.join(raw, 'model'))
    _mmseg_cfg().dump(osp.join(raw, 'model', 'cfg.py'))
    _make_checkpoint(_mmseg_cfg(), osp.join(raw, 'model', 'model.pth'))
    _check_interrupted_then_rerun(
        raw, tmp_path, [
            'tools/generate_pseudo_seg.py', 'ROOT/model/cfg.py',
            'ROOT/model/model.pth', '--img-dir', 'ROOT/images', '--out-dir',
            'ROOT/labels', '--device', 'cpu'
        ], 'drive_b_sync/image_03/data/0000000000.png')
