# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The package's layers import downward only.

Every module under ``mmdepthseg/`` is parsed with :mod:`ast` (no import is
executed), every ``import``/``from ... import`` statement is collected --
function-local ones included -- and relative imports are resolved against the
module's package. A lower layer may not import a higher one:

* ``mmdepthseg.utils`` sits at the bottom: nothing from ``datasets``,
  ``models``, ``evaluation``, ``apis``;
* ``mmdepthseg.structures`` (the data contract) sits there too: nothing
  from ``datasets``, ``models``, ``evaluation``, ``apis``, ``deployment``;
* ``mmdepthseg.datasets`` nothing from ``models``, ``apis``, ``deployment``;
* ``mmdepthseg.models`` nothing from ``datasets``, ``apis``, ``deployment``;
* the offline data producers ``mmdepthseg.synthetic`` (scene generator) and
  ``mmdepthseg.converters`` (dataset converters) nothing from ``models``,
  ``apis``, ``deployment``;
* the library layers ``models``, ``evaluation``, ``engine`` and ``utils``
  nothing from the tooling packages ``synthetic``, ``converters``,
  ``benchmark``.

``importlib.import_module('mmdepthseg.x')`` with a literal name counts as an
import too, so a lazy attribute hook cannot hide one either.
"""
import ast
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[1] / 'mmdepthseg'

#: Offline tooling packages: they produce data or measure, the library
#: layers never need them.
TOOLING = ('mmdepthseg.synthetic', 'mmdepthseg.converters',
           'mmdepthseg.benchmark')

# layer -> the packages it must not import.
FORBIDDEN: Dict[str, Tuple[str, ...]] = {
    'mmdepthseg.utils': ('mmdepthseg.datasets', 'mmdepthseg.models',
                         'mmdepthseg.evaluation', 'mmdepthseg.apis') +
    TOOLING,
    'mmdepthseg.structures': ('mmdepthseg.datasets', 'mmdepthseg.models',
                              'mmdepthseg.evaluation', 'mmdepthseg.apis',
                              'mmdepthseg.deployment') + TOOLING,
    'mmdepthseg.datasets': ('mmdepthseg.models', 'mmdepthseg.apis',
                            'mmdepthseg.deployment'),
    'mmdepthseg.models': ('mmdepthseg.datasets', 'mmdepthseg.apis',
                          'mmdepthseg.deployment') + TOOLING,
    'mmdepthseg.evaluation': TOOLING,
    'mmdepthseg.engine': TOOLING,
    'mmdepthseg.synthetic': ('mmdepthseg.models', 'mmdepthseg.apis',
                             'mmdepthseg.deployment'),
    'mmdepthseg.converters': ('mmdepthseg.models', 'mmdepthseg.apis',
                              'mmdepthseg.deployment'),
}


def module_name(path: Path) -> str:
    """``mmdepthseg/a/b.py`` -> ``mmdepthseg.a.b``; ``__init__`` -> the
    package."""
    rel = path.relative_to(PACKAGE_ROOT.parent).with_suffix('')
    parts = list(rel.parts)
    if parts[-1] == '__init__':
        parts.pop()
    return '.'.join(parts)


def _resolve(module: str, is_package: bool, level: int,
             target: Optional[str]) -> str:
    """The absolute name of a ``from <level dots><target> import``."""
    if level == 0:
        return target or ''
    base = module.split('.')
    # A module's own package is its parent; a package's own package is
    # itself.
    if not is_package:
        base = base[:-1]
    if level > 1:
        base = base[:-(level - 1)]
    if target:
        base = base + target.split('.')
    return '.'.join(base)


def imported_modules(path: Path) -> Iterator[Tuple[int, str]]:
    """Yield ``(line, absolute module name)`` for every import in ``path``.

    ``from pkg import name`` yields both ``pkg`` and ``pkg.name`` (``name``
    may be a submodule); the caller matches by prefix so either catches an
    import of a forbidden package.
    """
    tree = ast.parse(path.read_text(encoding='utf-8'), filename=str(path))
    module = module_name(path)
    is_package = path.name == '__init__.py'
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(module, is_package, node.level, node.module)
            yield node.lineno, source
            for alias in node.names:
                if alias.name != '*':
                    yield node.lineno, f'{source}.{alias.name}'
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)):
            func = node.func
            name = getattr(func, 'attr', getattr(func, 'id', ''))
            if name in ('import_module', '__import__'):
                yield node.lineno, node.args[0].value


def _inside(name: str, package: str) -> bool:
    return name == package or name.startswith(package + '.')


def layering_violations() -> List[str]:
    """``'file:line -> module'`` for every import a layer may not make."""
    found = []
    for path in sorted(PACKAGE_ROOT.rglob('*.py')):
        module = module_name(path)
        for layer, forbidden in FORBIDDEN.items():
            if not _inside(module, layer):
                continue
            seen = set()
            for line, target in imported_modules(path):
                bad = next((f for f in forbidden if _inside(target, f)), None)
                if bad is None or (line, bad) in seen:
                    continue
                seen.add((line, bad))
                rel = path.relative_to(PACKAGE_ROOT.parent)
                found.append(f'{rel}:{line} -> {target}')
    return found


def test_layers_import_downward_only():
    violations = layering_violations()
    assert not violations, (
        'lower layers import higher ones (file:line -> module):\n  ' +
        '\n  '.join(violations))


@pytest.mark.parametrize('module,is_package,level,target,expected', [
    ('mmdepthseg.utils.io', False, 1, 'data_root',
     'mmdepthseg.utils.data_root'),
    ('mmdepthseg.utils.io', False, 2, 'datasets', 'mmdepthseg.datasets'),
    ('mmdepthseg.utils', True, 1, 'io', 'mmdepthseg.utils.io'),
    ('mmdepthseg.utils', True, 2, None, 'mmdepthseg'),
    ('mmdepthseg.a.b.c', False, 3, 'models', 'mmdepthseg.models'),
    ('x', False, 0, 'mmdepthseg.models', 'mmdepthseg.models'),
])
def test_relative_imports_resolve(module, is_package, level, target,
                                  expected):
    assert _resolve(module, is_package, level, target) == expected


def test_checker_catches_local_relative_and_lazy_imports(tmp_path,
                                                         monkeypatch):
    """The checker sees an import hidden in a function, a relative one and
    an ``importlib.import_module`` one (written into a scratch package)."""
    root = tmp_path / 'mmdepthseg'
    (root / 'utils').mkdir(parents=True)
    (root / '__init__.py').write_text('')
    (root / 'utils' / '__init__.py').write_text(
        'import importlib\n'
        'def __getattr__(name):\n'
        "    return importlib.import_module('mmdepthseg.evaluation')\n")
    (root / 'utils' / 'a.py').write_text(
        'def f():\n    from ..datasets import x\n    return x\n')
    (root / 'utils' / 'b.py').write_text(
        'from .. import models\nimport mmdepthseg.apis.inferencer\n'
        'from mmdepthseg.registry import MODELS\n')
    monkeypatch.setitem(globals(), 'PACKAGE_ROOT', root)
    found = layering_violations()
    assert found == [
        'mmdepthseg/utils/__init__.py:3 -> mmdepthseg.evaluation',
        'mmdepthseg/utils/a.py:2 -> mmdepthseg.datasets',
        'mmdepthseg/utils/b.py:1 -> mmdepthseg.models',
        'mmdepthseg/utils/b.py:2 -> mmdepthseg.apis.inferencer',
    ]


def test_checker_keeps_tooling_out_of_the_library_layers(
        tmp_path, monkeypatch):
    """Library layers may not import the tooling packages, and the data
    producers may not import the model side (scratch package)."""
    root = tmp_path / 'mmdepthseg'
    for sub in ('models', 'engine', 'synthetic', 'converters', 'datasets'):
        (root / sub).mkdir(parents=True)
        (root / sub / '__init__.py').write_text('')
    (root / '__init__.py').write_text('')
    (root / 'models' / 'a.py').write_text(
        'from mmdepthseg.benchmark import run\n')
    (root / 'engine' / 'b.py').write_text(
        'def f():\n    from ..synthetic import writers\n')
    (root / 'synthetic' / 'c.py').write_text(
        'from ..datasets.png_codecs import encode_depth_png\n'
        'from ..models import utils\n')
    (root / 'converters' / 'd.py').write_text(
        'import mmdepthseg.apis\nfrom mmdepthseg.datasets import utils\n')
    # the old import paths re-export the producers: allowed
    (root / 'datasets' / 'synthetic.py').write_text(
        'from mmdepthseg.synthetic import *\n')
    monkeypatch.setitem(globals(), 'PACKAGE_ROOT', root)
    assert layering_violations() == [
        'mmdepthseg/converters/d.py:1 -> mmdepthseg.apis',
        'mmdepthseg/engine/b.py:2 -> mmdepthseg.synthetic',
        'mmdepthseg/models/a.py:1 -> mmdepthseg.benchmark',
        'mmdepthseg/synthetic/c.py:2 -> mmdepthseg.models',
    ]


def test_utils_forwards_register_all_modules_without_importing_up():
    """``from mmdepthseg.utils import register_all_modules`` still works,
    and importing ``mmdepthseg.utils`` alone loads no higher layer (run in
    a fresh interpreter: this one has imported everything already)."""
    code = (
        'import sys\n'
        'import mmdepthseg.utils\n'
        "up = [m for m in sys.modules if m.split('.')[:2] in (\n"
        "    ['mmdepthseg', 'datasets'], ['mmdepthseg', 'models'],\n"
        "    ['mmdepthseg', 'evaluation'], ['mmdepthseg', 'apis'])]\n"
        'assert not up, up\n'
        'from mmdepthseg.utils import register_all_modules\n'
        'from mmdepthseg.set_env import register_all_modules as direct\n'
        'assert register_all_modules is direct\n'
        'register_all_modules(init_default_scope=False)\n'
        'from mmdepthseg.registry import MODELS\n'
        "assert MODELS.get('FSREDepth') is not None\n")
    root = str(PACKAGE_ROOT.parent)
    env = dict(os.environ, PYTHONPATH=root, OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, '-c', code],
                          cwd=root,
                          env=env,
                          capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
