# Copyright (c) mmdepthseg contributors. All rights reserved.
"""No public top-level function or class is defined twice in the package.

Two ``def depth_to_disparity`` in two modules either repeat one piece of
code (it should have one definition, imported where needed) or mean two
different things under one name (they should be named apart). Each module
under ``mmdepthseg/`` is parsed with :mod:`ast`; its top-level ``def`` and
``class`` statements count, ``__init__.py`` files (re-exports), private
``_names`` and assignments (``OldName = NewName`` aliases, registry
aliases) do not.
"""
import ast
from collections import defaultdict
from pathlib import Path
from typing import Dict, List

PACKAGE_ROOT = Path(__file__).resolve().parents[1] / 'mmdepthseg'


def top_level_definitions(root: Path) -> Dict[str, List[str]]:
    """Public top-level function / class name -> the modules defining it."""
    found = defaultdict(list)
    for path in sorted(root.rglob('*.py')):
        if path.name == '__init__.py':
            continue
        tree = ast.parse(path.read_text(encoding='utf-8'), filename=str(path))
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                 ast.ClassDef)) \
                    and not node.name.startswith('_'):
                found[node.name].append(
                    str(path.relative_to(root.parent)))
    return dict(found)


def duplicates(root: Path) -> Dict[str, List[str]]:
    return {
        name: paths
        for name, paths in top_level_definitions(root).items()
        if len(paths) > 1
    }


def test_no_public_name_is_defined_twice():
    repeated = duplicates(PACKAGE_ROOT)
    assert not repeated, (
        'names defined in more than one module (give each one definition, '
        'or distinct names where they mean different things):\n  ' +
        '\n  '.join(f'{name}: {", ".join(paths)}'
                    for name, paths in sorted(repeated.items())))


def test_checker_ignores_reexports_private_names_and_aliases(tmp_path):
    root = tmp_path / 'mmdepthseg'
    (root / 'sub').mkdir(parents=True)
    (root / '__init__.py').write_text('from .a import f\n')
    (root / 'sub' / '__init__.py').write_text('def f():\n    pass\n')
    (root / 'a.py').write_text(
        'def f():\n    pass\n\n\ndef _g():\n    pass\n\n\nclass C:\n'
        '    def f(self):\n        pass\n')
    (root / 'sub' / 'b.py').write_text(
        'from ..a import f\nC = dict\n\n\ndef _g():\n    pass\n\n\n'
        'class D:\n    pass\n')
    assert duplicates(root) == {}
    (root / 'sub' / 'c.py').write_text('class D:\n    pass\n')
    assert duplicates(root) == {
        'D': ['mmdepthseg/sub/b.py', 'mmdepthseg/sub/c.py']
    }
