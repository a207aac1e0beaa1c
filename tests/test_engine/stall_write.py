# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Run a script with one file write stalled half-way, for kill tests.

Usage::

    python stall_write.py MARKER SUBSTRING SCRIPT [ARGS...]

Runs ``SCRIPT ARGS`` as ``__main__``. The first time a file whose path
contains ``SUBSTRING`` is written (through MMEngine's ``LocalBackend.put``,
which writes checkpoints, or ``os.replace`` of a temporary file onto such
a path, the last step of an atomic write), the write stops after half of
the bytes (for ``put``) or just before the rename (for ``os.replace``),
``MARKER`` is created, and the process sleeps until it is killed. The test
then kills it at a moment it knows: in the middle of that write.
"""
import os
import runpy
import sys
import time


def _stall(marker: str) -> None:
    with open(marker, 'w') as f:
        f.write(str(os.getpid()))
    while True:
        time.sleep(1)


def main() -> None:
    marker, substring, script = sys.argv[1:4]
    sys.argv = [script] + sys.argv[4:]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))

    from mmengine.fileio import LocalBackend
    put = LocalBackend.put

    def stalled_put(self, obj, filepath):
        if substring in str(filepath):
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
                f.flush()
                os.fsync(f.fileno())
            _stall(marker)
        return put(self, obj, filepath)

    LocalBackend.put = stalled_put
    replace = os.replace

    def stalled_replace(src, dst, *args, **kwargs):
        if substring in str(dst):
            _stall(marker)
        return replace(src, dst, *args, **kwargs)

    os.replace = stalled_replace
    runpy.run_path(script, run_name='__main__')


if __name__ == '__main__':
    main()
