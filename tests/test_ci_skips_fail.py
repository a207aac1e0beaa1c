# Copyright (c) mmdepthseg contributors. All rights reserved.
"""With ``CI=true`` a skipped test fails (``tests/conftest.py``): CI installs
everything the suite can use, so a skip there means something is missing.
"""
import os
import subprocess
import sys

import pytest
from _helpers import REPO_ROOT

PROBE = '''
import pytest


def test_skipped():
    pytest.skip('probe')


@pytest.mark.skipif(True, reason='marked')
def test_marked():
    pass


@pytest.mark.xfail(reason='expected')
def test_expected_failure():
    assert False


def test_passes():
    pass
'''


@pytest.mark.parametrize('ci', ['true', ''])
def test_a_skip_fails_only_under_ci(tmp_path, ci):
    (tmp_path / 'test_probe.py').write_text(PROBE)
    env = dict(os.environ, CI=ci)
    env['PYTHONPATH'] = os.pathsep.join(
        [REPO_ROOT, os.path.join(REPO_ROOT, 'tests')])
    # the suite's conftest as a plugin, on a probe outside the suite
    proc = subprocess.run([
        sys.executable, '-m', 'pytest', '-p', 'conftest', '-c', os.devnull,
        '--rootdir',
        str(tmp_path), '-q', '-p', 'no:cacheprovider', '-p', 'no:warnings',
        str(tmp_path / 'test_probe.py')
    ],
                          cwd=str(tmp_path),
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=300)
    summary = proc.stdout.strip().splitlines()[-1]
    if ci:
        assert proc.returncode == 1, proc.stdout[-3000:]
        assert '1 failed, 1 passed, 1 xfailed, 1 error' in summary, summary
        assert 'skipped with CI=true' in proc.stdout
    else:
        assert proc.returncode == 0, proc.stdout[-3000:]
        assert '1 passed, 2 skipped, 1 xfailed' in summary, summary
