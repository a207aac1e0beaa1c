# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The data producers' old import paths under ``mmdepthseg.datasets`` name
the modules of the top-level packages ``mmdepthseg.synthetic`` and
``mmdepthseg.converters``, and importing the datasets loads neither."""
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_old_paths_are_the_moved_modules():
    import mmdepthseg.converters as converters
    import mmdepthseg.converters.nyu40_mapping as nyu40_mapping
    import mmdepthseg.datasets.converters.nyu40_mapping as old_nyu40
    import mmdepthseg.datasets.synthetic.writers as old_writers
    import mmdepthseg.synthetic as synthetic
    import mmdepthseg.synthetic.writers as writers
    from mmdepthseg.datasets import converters as old_converters
    from mmdepthseg.datasets import synthetic as old_synthetic
    from mmdepthseg.datasets.converters.video import import_sources
    from mmdepthseg.datasets.synthetic.video import write_street_video

    assert old_writers is writers
    assert old_nyu40 is nyu40_mapping
    assert write_street_video is synthetic.video.write_street_video
    assert import_sources is converters.video.import_sources
    for new, old in ((synthetic, old_synthetic),
                     (converters, old_converters)):
        assert old.__all__ == new.__all__
        for name in new.__all__:
            assert getattr(old, name) is getattr(new, name), name


def test_loading_the_datasets_loads_no_producer():
    code = ('import sys\n'
            'import mmdepthseg.datasets\n'
            "bad = [m for m in sys.modules if m.startswith(\n"
            "    ('mmdepthseg.synthetic', 'mmdepthseg.converters',\n"
            "     'mmdepthseg.datasets.synthetic',\n"
            "     'mmdepthseg.datasets.converters'))]\n"
            'assert not bad, bad\n')
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, '-c', code],
                          cwd=str(REPO_ROOT),
                          env=env,
                          capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
