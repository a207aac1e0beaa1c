# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Checkpoint files that survive a kill: atomic commits and a resume that
picks the newest complete checkpoint."""
import glob
import os
import os.path as osp
import re
import zipfile
from typing import List, Optional, Tuple

from mmengine.logging import print_log

#: Suffix of a checkpoint being written (``.iter_8.pth.tmp``).
TEMP_SUFFIX = '.tmp'
#: Names of the checkpoints ``CheckpointHook`` writes periodically.
PERIODIC_NAME = re.compile(r'^(?:epoch|iter)_(\d+)\.pth$')


def temp_name(filename: str) -> str:
    """The hidden temporary name a checkpoint is written under.

    It is fixed per file name, so a later save of the same file overwrites
    the temporary file a killed save left behind.
    """
    return f'.{filename}{TEMP_SUFFIX}'


def commit_file(tmp_path: str, path: str) -> None:
    """Flush ``tmp_path`` to disk and rename it to ``path`` (atomic).

    Args:
        tmp_path (str): The complete temporary file.
        path (str): Its final name (replaced if it exists).
    """
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp_path, path)
    try:  # make the rename itself durable
        dir_fd = os.open(osp.dirname(osp.abspath(path)), os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(dir_fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(dir_fd)


def checkpoint_problem(path: str) -> Optional[str]:
    """Why ``path`` is not a complete checkpoint, or None if it is.

    A torch zip checkpoint is complete when its central directory (written
    last) is present and every member matches its CRC; the pickle itself is
    not run. A file in torch's legacy (non-zip) format is loaded with
    mmdepthseg's safe loader instead.

    Args:
        path (str): Checkpoint file.

    Returns:
        str | None: A short reason (``'missing'``, ``'empty'``,
        ``'truncated or not a zip archive'``, ...) or None.
    """
    if not osp.isfile(path):
        return 'missing'
    if osp.getsize(path) == 0:
        return 'empty'
    if not zipfile.is_zipfile(path):
        try:
            from mmdepthseg.utils.checkpoint_safety import \
                load_checkpoint_from_local
            load_checkpoint_from_local(path, map_location='cpu')
        except Exception as err:  # noqa: BLE001 - any failure = unreadable
            return ('truncated or not a zip archive '
                    f'({type(err).__name__}: {str(err)[:100]})')
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            if not any(
                    name.endswith('data.pkl') for name in archive.namelist()):
                return 'no data.pkl in the archive'
            bad = archive.testzip()
            if bad is not None:
                return f'member {bad} fails its CRC check'
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as err:
        return f'unreadable archive ({type(err).__name__}: {err})'
    return None


def read_last_checkpoint(work_dir: str) -> Optional[str]:
    """The path recorded in ``work_dir/last_checkpoint``, if any."""
    record = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(record):
        return None
    try:
        with open(record, encoding='utf-8') as f:
            path = f.read().strip()
    except (OSError, UnicodeDecodeError):
        return None
    return path or None


def _periodic_checkpoints(folder: str) -> List[str]:
    return [
        path for path in glob.glob(osp.join(folder, '*.pth'))
        if PERIODIC_NAME.match(osp.basename(path))
    ]


def find_resumable_checkpoint(
        work_dir: str) -> Tuple[Optional[str], List[Tuple[str, str]]]:
    """The newest complete checkpoint of a work dir.

    Candidates are the file named in ``last_checkpoint`` and the periodic
    checkpoints (``iter_N.pth`` / ``epoch_N.pth``) in ``work_dir`` and in
    the folder of that file, newest first (modification time, then N). The
    first complete one (:func:`checkpoint_problem`) wins.

    Args:
        work_dir (str): The run's work dir.

    Returns:
        tuple: The checkpoint path (None if there is no complete one) and
        the ``(path, reason)`` of the newer candidates that were rejected.
    """
    recorded = read_last_checkpoint(work_dir)
    folders = {osp.abspath(work_dir)}
    if recorded is not None:
        folders.add(osp.dirname(osp.abspath(recorded)))
    candidates = {
        osp.abspath(p)
        for f in folders
        for p in _periodic_checkpoints(f)
    }
    if recorded is not None:
        candidates.add(osp.abspath(recorded))

    def recency(path: str) -> Tuple[float, int]:
        match = PERIODIC_NAME.match(osp.basename(path))
        mtime = osp.getmtime(path) if osp.exists(path) else float('inf')
        return mtime, int(match.group(1)) if match else -1

    rejected = []
    for path in sorted(candidates, key=recency, reverse=True):
        problem = checkpoint_problem(path)
        if problem is None:
            return path, rejected
        rejected.append((path, problem))
    return None, rejected


def remove_stale_temporaries(folder: str) -> List[str]:
    """Remove checkpoint temporaries (``.*.pth.tmp``) a killed run left.

    Call it only when no other process writes checkpoints to ``folder``.

    Returns:
        list[str]: The removed files.
    """
    removed = []
    for path in glob.glob(osp.join(folder, f'.*.pth{TEMP_SUFFIX}')):
        try:
            os.remove(path)
            removed.append(path)
        except OSError:  # pragma: no cover
            pass
    if removed:
        print_log(
            f'removed {len(removed)} partial checkpoint file(s) left by an '
            f'interrupted run: {removed}',
            logger='current')
    return removed
