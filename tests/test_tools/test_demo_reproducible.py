# Copyright (c) mmdepthseg contributors. All rights reserved.
"""`make demo` (tools/misc/run_demo.py) run twice on one machine prints the
same numbers: generation, training and testing are seeded."""
import os
import subprocess
import sys

import pytest
from _helpers import REPO_ROOT

TIMING_KEYS = ('time', 'data_time', 'step')


def _demo(data_root, work_dir):
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [REPO_ROOT, env.get('PYTHONPATH', '')])
    proc = subprocess.run([
        sys.executable, 'tools/misc/run_demo.py', '--config',
        'configs/synthetic/fsre_r18_synthkitti.py', '--data-root', data_root,
        '--layout', 'kitti', '--work-dir', work_dir, '--max-iters', '2'
    ],
                          cwd=REPO_ROOT,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=1800)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    sys.path.insert(0, os.path.join(REPO_ROOT, 'tools', 'misc'))
    try:
        from run_demo import latest_metrics
    finally:
        sys.path.pop(0)
    metrics = latest_metrics(work_dir)
    return {k: v for k, v in metrics.items() if k not in TIMING_KEYS}


@pytest.mark.slow
def test_demo_twice_gives_the_same_numbers(tmp_path):
    data = str(tmp_path / 'synthetic_kitti')
    first = _demo(data, str(tmp_path / 'a'))
    second = _demo(data, str(tmp_path / 'b'))
    assert {'mIoU', 'abs_rel', 'rmse', 'a1'} <= set(first)
    assert first == second
