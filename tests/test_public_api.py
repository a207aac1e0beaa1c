# Copyright (c) mmdepthseg contributors. All rights reserved.
"""What users type keeps working after the tree moves.

* Every ``from mmdepthseg... import ...`` written in the README, the docs
  and the method READMEs resolves.
* Every name a subpackage exports in ``__all__`` exists.
* Every command-line tool under ``tools/`` and ``demo/`` answers ``--help``
  (all run in one interpreter through :mod:`runpy`, so the imports are paid
  once; argparse exits 0 after printing its usage).
"""
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import List, Tuple

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / 'mmdepthseg'
DOCS = sorted([REPO / 'README.md', REPO / 'demo' / 'README.md'] +
              list((REPO / 'docs').rglob('*.md')) +
              list((REPO / 'configs').glob('*/README.md')))
IMPORT_RE = re.compile(
    r'^\s*from (mmdepthseg[\w.]*) import \(?([\w, \n]+?)\)?\s*$', re.M)


def documented_imports() -> List[Tuple[str, str, str]]:
    """``(doc, module, name)`` of every import of ours in the docs."""
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding='utf-8')
        for module, names in IMPORT_RE.findall(text):
            for name in re.split(r'[,\s]+', names.strip()):
                if name:
                    found.append((str(doc.relative_to(REPO)), module, name))
    return found


def test_the_docs_import_something():
    """The scan finds the README's inferencer import (else it checks
    nothing)."""
    assert ('README.md', 'mmdepthseg.apis',
            'DepthSegInferencer') in documented_imports()


@pytest.mark.parametrize('doc,module,name', documented_imports())
def test_documented_import_resolves(doc, module, name):
    mod = importlib.import_module(module)
    if not hasattr(mod, name):
        importlib.import_module(f'{module}.{name}')  # a submodule


def _packages() -> List[str]:
    return sorted('.'.join(p.parent.relative_to(REPO).parts)
                  for p in PACKAGE.rglob('__init__.py'))


@pytest.mark.parametrize('package', _packages())
def test_exported_names_exist(package):
    mod = importlib.import_module(package)
    missing = [n for n in getattr(mod, '__all__', ()) if not hasattr(mod, n)]
    assert not missing, f'{package}.__all__ names missing: {missing}'


HELP_ALL = r'''
import runpy, sys, traceback
failed = []
for tool in sys.argv[1:]:
    sys.argv = [tool, '--help']
    try:
        runpy.run_path(tool, run_name='__main__')
        failed.append((tool, 'returned without printing usage'))
    except SystemExit as e:
        if e.code not in (0, None):
            failed.append((tool, f'exit {e.code}'))
    except BaseException:
        failed.append((tool, traceback.format_exc()[-1500:]))
print('FAILED', failed, file=sys.stderr)
sys.exit(1 if failed else 0)
'''


def test_every_tool_answers_help():
    tools = sorted(
        str(p.relative_to(REPO))
        for p in list((REPO / 'tools').rglob('*.py')) +
        list((REPO / 'demo').glob('*.py')))
    assert len(tools) >= 25
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, '-c', HELP_ALL] + tools,
                          cwd=REPO,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert proc.stdout.count('usage:') == len(tools), proc.stdout[-2000:]
