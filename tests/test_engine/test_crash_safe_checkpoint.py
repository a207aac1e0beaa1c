# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Checkpoints survive a kill; --resume takes the newest complete one."""
import os
import os.path as osp
import shutil
import signal
import struct
import subprocess
import sys
import time
import zipfile

import pytest
import torch
from _helpers import REPO_ROOT, tiny_baseline_cfg
from test_engine.reliability_helpers import no_validation

from mmdepthseg.engine import checkpoint_problem, find_resumable_checkpoint

HERE = osp.dirname(osp.abspath(__file__))


def _save(path: str, value: float = 1.0) -> None:
    torch.save(dict(meta=dict(iter=1), w=torch.full((1000, ), value)), path)


def test_checkpoint_problem_detects_truncation_corruption_and_emptiness(
        tmp_path):
    good = str(tmp_path / 'good.pth')
    _save(good)
    assert checkpoint_problem(good) is None
    data = open(good, 'rb').read()
    truncated = str(tmp_path / 'truncated.pth')
    with open(truncated, 'wb') as f:
        f.write(data[:len(data) // 2])
    assert 'zip' in checkpoint_problem(truncated)
    # one flipped byte inside the tensor data: the CRC check catches it
    with zipfile.ZipFile(good) as archive:
        info = next(i for i in archive.infolist() if '/data/' in i.filename)
    name_len, extra_len = struct.unpack(
        '<HH', data[info.header_offset + 26:info.header_offset + 30])
    offset = info.header_offset + 30 + name_len + extra_len + 10
    corrupt = bytearray(data)
    corrupt[offset] ^= 0xFF
    flipped = str(tmp_path / 'flipped.pth')
    with open(flipped, 'wb') as f:
        f.write(bytes(corrupt))
    assert 'CRC' in checkpoint_problem(flipped)
    open(str(tmp_path / 'empty.pth'), 'wb').close()
    assert checkpoint_problem(str(tmp_path / 'empty.pth')) == 'empty'
    assert checkpoint_problem(str(tmp_path / 'none.pth')) == 'missing'


def test_resumable_checkpoint_is_the_newest_complete_one(tmp_path):
    work = str(tmp_path)
    for step in (2, 4, 6):
        _save(osp.join(work, f'iter_{step}.pth'), step)
        time.sleep(0.01)
    with open(osp.join(work, 'iter_6.pth'), 'r+b') as f:
        f.truncate(500)
    record = osp.join(work, 'last_checkpoint')
    with open(record, 'w') as f:
        f.write(osp.join(work, 'iter_6.pth'))
    path, rejected = find_resumable_checkpoint(work)
    assert path == osp.join(work, 'iter_4.pth')
    assert [osp.basename(p) for p, _ in rejected] == ['iter_6.pth']
    # an empty last_checkpoint (killed while writing it) is no obstacle,
    # and a complete checkpoint newer than the record is preferred
    open(record, 'w').close()
    _save(osp.join(work, 'iter_8.pth'), 8)
    assert find_resumable_checkpoint(work)[0] == osp.join(work, 'iter_8.pth')
    assert find_resumable_checkpoint(str(tmp_path / 'void')) == (None, [])


def _env() -> dict:
    env = dict(os.environ, OMP_NUM_THREADS='1')
    env['PYTHONPATH'] = os.pathsep.join(
        [REPO_ROOT, HERE, env.get('PYTHONPATH', '')])
    return env


@pytest.mark.slow
def test_kill_during_checkpoint_write_then_resume(synthetic_cityscapes,
                                                  tmp_path):
    work = str(tmp_path / 'work')
    cfg = no_validation(
        tiny_baseline_cfg(
            synthetic_cityscapes,
            work,
            max_iters=6,
            checkpoint_interval=2,
            batch_size=2))
    # keep one checkpoint: MMEngine deletes it before writing the next
    cfg.default_hooks.checkpoint.max_keep_ckpts = 1
    cfg.default_hooks.logger.interval = 1
    cfg_path = str(tmp_path / 'cfg.py')
    cfg.dump(cfg_path)
    marker = str(tmp_path / 'stalled')
    proc = subprocess.Popen([
        sys.executable,
        osp.join(HERE, 'stall_write.py'), marker, 'iter_4.pth',
        'tools/train.py', cfg_path
    ],
                            cwd=REPO_ROOT,
                            env=_env(),
                            stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 900
        while not osp.exists(marker):
            assert proc.poll() is None, proc.stdout.read().decode()[-4000:]
            assert time.time() < deadline, 'the checkpoint write never came'
            time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    files = sorted(os.listdir(work))
    # killed half-way through the temporary file: no truncated iter_4.pth,
    # the previous checkpoint kept, last_checkpoint still names it
    assert '.iter_4.pth.tmp' in files
    assert 'iter_4.pth' not in files
    assert checkpoint_problem(osp.join(work, 'iter_2.pth')) is None
    with open(osp.join(work, 'last_checkpoint')) as f:
        assert osp.basename(f.read().strip()) == 'iter_2.pth'
    # what MMEngine's in-place write leaves: a truncated iter_4.pth, newer
    # than iter_2.pth and named by last_checkpoint
    shutil.copy(
        osp.join(work, '.iter_4.pth.tmp'), osp.join(work, 'iter_4.pth'))
    with open(osp.join(work, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(work, 'iter_4.pth'))
    out = subprocess.run(
        [sys.executable, 'tools/train.py', cfg_path, '--resume'],
        cwd=REPO_ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=1200)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-6000:]
    assert f'Not resuming from {osp.join(work, "iter_4.pth")}' in log
    assert 'Auto resumed from the latest checkpoint ' \
        f'{osp.join(work, "iter_2.pth")}' in log
    assert 'Iter(train) [3/6]' in log and 'Iter(train) [1/6]' not in log
    ckpt = torch.load(osp.join(work, 'iter_6.pth'), map_location='cpu')
    assert ckpt['meta']['iter'] == 6
    steps = {int(s['step']) for s in ckpt['optimizer']['state'].values()}
    assert steps == {6}
    # the partial file is gone, only the last checkpoint is kept
    assert sorted(f for f in os.listdir(work)
                  if f.endswith(('.pth', '.tmp'))) == ['iter_6.pth']
