# Copyright (c) mmdepthseg contributors. All rights reserved.
"""``mmdepthseg.structures`` loads no higher layer when imported."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_structures_loads_no_higher_layer():
    code = ('import sys\n'
            'import mmdepthseg.structures\n'
            "up = [m for m in sys.modules if m.split('.')[:2] in (\n"
            "    ['mmdepthseg', 'datasets'], ['mmdepthseg', 'models'],\n"
            "    ['mmdepthseg', 'evaluation'], ['mmdepthseg', 'apis'])]\n"
            'assert not up, up\n')
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, '-c', code],
                          cwd=str(ROOT),
                          env=env,
                          capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
