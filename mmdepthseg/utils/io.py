# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Atomic file writing: readers never see a partial file.

Every writer of the project (dataset converters, pseudo-label tools, the
synthetic generator, checkpoint tools, benchmark reports) goes through
:func:`atomic_open`: the data is written to a hidden temporary file in the
destination folder, which then replaces the destination with ``os.replace``
(atomic on POSIX and Windows). An interrupted run leaves either the old
file or the new one, never a truncated one, so resumable tools can trust
that an existing file is complete.

The temporary file of ``name`` is ``.name.tmp``, locked (``flock``) while it
is written. A run killed while writing leaves it behind; the run that
writes ``name`` again (a resumed tool rewrites every file that does not
exist yet) takes the unlocked leftover over and renames it, so a finished
rerun leaves the same files as an uninterrupted run. While another live
process holds the lock, a private randomly named temporary file is used
instead.
"""
import os
import os.path as osp
import tempfile
from contextlib import contextmanager
from typing import IO, Any, Iterator, Optional, Tuple

import cv2
import numpy as np
import torch

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None


def temp_path(path: str) -> str:
    """The fixed temporary file :func:`atomic_open` writes ``path`` to."""
    return osp.join(
        osp.dirname(osp.abspath(path)), f'.{osp.basename(path)}.tmp')


def _claim_temp(path: str) -> Optional[Tuple[int, str]]:
    """Open and lock ``path``'s fixed temporary file, emptied.

    Returns None if another process holds it (or locks are unavailable).
    The returned descriptor holds the lock until it is closed.
    """
    if fcntl is None:
        return None
    tmp = temp_path(path)
    for _ in range(3):
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # a live writer of the same file
            os.close(fd)
            return None
        except OSError:  # no locks on this file system
            if os.fstat(fd).st_size == 0:
                os.remove(tmp)
            os.close(fd)
            return None
        try:
            same = osp.samestat(os.fstat(fd), os.stat(tmp))
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            return fd, tmp
        os.close(fd)  # renamed away by its writer meanwhile: open anew
    return None


@contextmanager
def atomic_open(path: str, mode: str = 'wb') -> Iterator[IO]:
    """Open a temporary file that replaces ``path`` when the block ends.

    Parent folders are created. If the block raises, the temporary file is
    removed and ``path`` is left untouched.

    Args:
        path (str): Destination file.
        mode (str): ``'wb'`` or ``'w'`` (text, UTF-8). Default: ``'wb'``.

    Yields:
        IO: The open temporary file.
    """
    if mode not in ('wb', 'w'):
        raise ValueError(f"atomic_open: mode must be 'wb' or 'w', got "
                         f'{mode!r}')
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    claimed = _claim_temp(path)
    if claimed is not None:
        lock_fd, tmp = claimed
        fd = os.dup(lock_fd)  # the lock stays held until after the rename
    else:
        lock_fd = None
        fd, tmp = tempfile.mkstemp(
            dir=folder, prefix=f'.{osp.basename(path)}.', suffix='.tmp')
    try:
        kwargs = dict(encoding='utf-8') if mode == 'w' else dict()
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
        # temporary files are created 0600: give the result the
        # permissions of an ordinary new file (0666 minus the umask)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    finally:
        if lock_fd is not None:
            os.close(lock_fd)


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_open`).

    Args:
        path (str): Destination file.
        data (bytes): File content.
    """
    with atomic_open(path, 'wb') as f:
        f.write(data)


def atomic_write_text(path: str, text: str) -> None:
    """Write a UTF-8 text file atomically (see :func:`atomic_open`).

    Args:
        path (str): Destination file.
        text (str): File content.
    """
    with atomic_open(path, 'w') as f:
        f.write(text)


def atomic_torch_save(obj: Any, path: str) -> None:
    """``torch.save`` to ``path`` atomically (see :func:`atomic_open`).

    Args:
        obj: Any object ``torch.save`` accepts (e.g. a checkpoint dict).
        path (str): Destination file.
    """
    with atomic_open(path, 'wb') as f:
        torch.save(obj, f)


def write_image(path: str,
                img: np.ndarray,
                rgb: bool = False,
                jpeg_quality: int = 95) -> None:
    """Encode an image by the file's extension and write it atomically.

    Args:
        path (str): Target path (``.png``, ``.jpg``, ``.tif``, ...; none:
            PNG).
        img (np.ndarray): ``(H, W)`` or ``(H, W, 3)`` uint8 / uint16 array,
            BGR (OpenCV's order) unless ``rgb``.
        rgb (bool): ``img`` is RGB (converted to BGR). Defaults to False.
        jpeg_quality (int): Quality of JPEG files, 0-100. Defaults to 95
            (OpenCV's default).
    """
    if rgb:
        img = np.ascontiguousarray(img[..., ::-1])
    ext = osp.splitext(path)[1].lower() or '.png'
    params = [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)] \
        if ext in ('.jpg', '.jpeg') else []
    ok, buf = cv2.imencode(ext, img, params)
    if not ok:
        raise OSError(f'could not encode an image for {path}')
    atomic_write_bytes(path, buf.tobytes())
