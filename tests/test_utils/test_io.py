# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Atomic writers: all or nothing, ordinary permissions."""
import os
import stat

import cv2
import numpy as np
import pytest
import torch

from mmdepthseg.utils.io import (atomic_open, atomic_torch_save,
                                 atomic_write_bytes, atomic_write_text,
                                 write_image)


def test_writes_and_replaces(tmp_path):
    path = str(tmp_path / 'sub' / 'a.txt')
    atomic_write_text(path, 'one')
    atomic_write_text(path, 'two')
    assert open(path).read() == 'two'
    atomic_write_bytes(path, b'\x00\x01')
    assert open(path, 'rb').read() == b'\x00\x01'
    atomic_torch_save(dict(x=torch.arange(3)), str(tmp_path / 'c.pth'))
    assert torch.load(str(tmp_path / 'c.pth'))['x'].tolist() == [0, 1, 2]


def test_failure_leaves_the_old_file_and_no_temporary(tmp_path):
    path = str(tmp_path / 'a.txt')
    atomic_write_text(path, 'old')
    with pytest.raises(RuntimeError):
        with atomic_open(path, 'w') as f:
            f.write('half')
            raise RuntimeError('interrupted')
    assert open(path).read() == 'old'
    assert os.listdir(tmp_path) == ['a.txt']


def test_permissions_follow_the_umask(tmp_path):
    umask = os.umask(0o022)
    try:
        path = str(tmp_path / 'a.bin')
        atomic_write_bytes(path, b'x')
    finally:
        os.umask(umask)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644


def test_a_rewrite_takes_over_the_temporary_file_of_a_killed_writer(tmp_path):
    path = str(tmp_path / 'a.png')
    # what a writer killed half-way leaves: its (unlocked) temporary file
    with open(str(tmp_path / '.a.png.tmp'), 'wb') as f:
        f.write(b'half')
    atomic_write_bytes(path, b'complete')
    assert os.listdir(tmp_path) == ['a.png']
    assert open(path, 'rb').read() == b'complete'


def test_a_live_writer_keeps_its_temporary_file(tmp_path):
    path = str(tmp_path / 'a.bin')
    with atomic_open(path) as outer:
        outer.write(b'outer')
        # a second writer of the same file while the first one holds the
        # fixed temporary file: a private temporary file, no interference
        atomic_write_bytes(path, b'inner')
        assert open(path, 'rb').read() == b'inner'
    assert open(path, 'rb').read() == b'outer'
    assert os.listdir(tmp_path) == ['a.bin']


def test_without_file_locks_a_private_temporary_file_is_used(
        tmp_path, monkeypatch):
    import errno

    import mmdepthseg.utils.io as io_module

    def no_locks(fd, op):
        raise OSError(errno.ENOLCK, 'no locks')

    monkeypatch.setattr(io_module.fcntl, 'flock', no_locks)
    path = str(tmp_path / 'a.bin')
    atomic_write_bytes(path, b'data')
    assert open(path, 'rb').read() == b'data'
    assert os.listdir(tmp_path) == ['a.bin']


def test_write_image_png_rgb_and_jpeg_quality(tmp_path):
    rgb = np.zeros((4, 6, 3), np.uint8)
    rgb[..., 0] = 200  # red
    write_image(str(tmp_path / 'a.png'), rgb, rgb=True)
    back = cv2.imread(str(tmp_path / 'a.png'), cv2.IMREAD_UNCHANGED)
    assert back[0, 0].tolist() == [0, 0, 200]  # BGR on disk
    write_image(str(tmp_path / 'b.png'), rgb)  # taken as BGR
    assert cv2.imread(str(tmp_path / 'b.png'))[0, 0].tolist() == [200, 0, 0]
    depth = np.full((3, 5), 60000, np.uint16)
    write_image(str(tmp_path / 'd.png'), depth)
    assert cv2.imread(str(tmp_path / 'd.png'),
                      cv2.IMREAD_UNCHANGED).tolist() == depth.tolist()
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8)
    write_image(str(tmp_path / 'lo.jpg'), noise, jpeg_quality=10)
    write_image(str(tmp_path / 'hi.jpg'), noise, jpeg_quality=95)
    assert os.path.getsize(tmp_path / 'lo.jpg') < \
        os.path.getsize(tmp_path / 'hi.jpg')
    assert sorted(os.listdir(tmp_path)) == [
        'a.png', 'b.png', 'd.png', 'hi.jpg', 'lo.jpg'
    ]
