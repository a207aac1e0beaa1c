# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Functions stay short and long modules hold one concept.

* No function or method in the library layers (``models``, ``datasets``,
  ``evaluation``, ``engine``, ``structures``) is longer than
  :data:`MAX_FUNCTION_LINES` lines (decorators and docstring included):
  a longer one is split into named steps.
* A module longer than :data:`MAX_MODULE_LINES` lines anywhere in the
  package is listed in :data:`ONE_CONCEPT_MODULES` with the one concept it
  holds; a new long module fails until it is split or listed with a reason,
  and a listed module that became short fails until its entry is removed
  (the list says what is true of the tree).

Each module is parsed with :mod:`ast`; nothing is imported.
"""
import ast
from pathlib import Path
from typing import Dict, List

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[1] / 'mmdepthseg'

MAX_FUNCTION_LINES = 80
MAX_MODULE_LINES = 600

#: The layers whose functions are held to :data:`MAX_FUNCTION_LINES`
#: (offline tooling -- ``benchmark``, ``converters``, ``synthetic`` -- and
#: the user-facing ``apis`` are read less often and may run longer steps).
FUNCTION_LAYERS = ('models', 'datasets', 'evaluation', 'engine',
                   'structures')

#: Module (relative to ``mmdepthseg/``) -> the one concept it holds.
ONE_CONCEPT_MODULES: Dict[str, str] = {
    'models/segmentors/semi_mtl.py':
    'the SemiMTL segmentor: its generator / discriminator training step '
    '(Algorithm 1) with the per-domain updates, masks and adversarial terms',
    'models/losses/cross_view_loss.py':
    "Pseudo-MTL's cross-view consistency losses for depth and segmentation "
    '(Eq. 5-10) and the warps they share',
    'datasets/validation.py':
    'validation of dataset input: the defect records, repair policies and '
    'the checks every dataset applies to what it reads',
    'converters/isprs.py':
    'the ISPRS Potsdam / Vaihingen converter (raw tiles -> patches)',
    'converters/video.py':
    'importing own footage into the video layout and writing its splits',
    'synthetic/street_scene.py':
    'the street-scene renderer (KITTI / Cityscapes layouts)',
    'synthetic/indoor_scene.py': 'the indoor-room renderer (NYUv2 layout)',
    'synthetic/aerial_scene.py':
    'the aerial-scene renderer (ISPRS layout: image, nDSM, labels)',
}


def function_lengths(path: Path) -> List[tuple]:
    """``(qualified name, first line, length)`` of every function in
    ``path`` (methods and nested functions included)."""
    tree = ast.parse(path.read_text(encoding='utf-8'), filename=str(path))
    found = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([child.lineno] +
                            [d.lineno for d in child.decorator_list])
                name = prefix + child.name
                found.append((name, first, child.end_lineno - first + 1))
                visit(child, name + '.')
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + '.')
            else:
                visit(child, prefix)

    visit(tree, '')
    return found


def long_functions(root: Path, layers=FUNCTION_LAYERS,
                   limit: int = MAX_FUNCTION_LINES) -> List[str]:
    out = []
    for layer in layers:
        for path in sorted((root / layer).rglob('*.py')):
            for name, line, length in function_lengths(path):
                if length > limit:
                    rel = path.relative_to(root)
                    out.append(f'{rel}:{line} {name} ({length} lines)')
    return out


def module_lengths(root: Path) -> Dict[str, int]:
    return {
        str(path.relative_to(root)): len(
            path.read_text(encoding='utf-8').splitlines())
        for path in sorted(root.rglob('*.py'))
    }


def test_no_long_function_in_library_layers():
    found = long_functions(PACKAGE_ROOT)
    assert not found, (
        f'functions over {MAX_FUNCTION_LINES} lines (split them into '
        'named steps):\n  ' + '\n  '.join(found))


def test_long_modules_hold_one_concept():
    lengths = module_lengths(PACKAGE_ROOT)
    unlisted = sorted(
        f'{name} ({n} lines)' for name, n in lengths.items()
        if n > MAX_MODULE_LINES and name not in ONE_CONCEPT_MODULES)
    assert not unlisted, (
        f'modules over {MAX_MODULE_LINES} lines: split them by concept or '
        'list them in ONE_CONCEPT_MODULES with the concept they hold:\n  ' +
        '\n  '.join(unlisted))
    stale = sorted(name for name in ONE_CONCEPT_MODULES
                   if lengths.get(name, 0) <= MAX_MODULE_LINES)
    assert not stale, f'listed but no longer long (remove them): {stale}'


@pytest.mark.parametrize('source,expected', [
    ('def f():\n' + '    x = 1\n' * 80, [('f', 1, 81)]),
    ('class A:\n    @staticmethod\n    def g():\n        pass\n',
     [('A.g', 2, 3)]),
    ('def f():\n    def inner():\n        pass\n    return inner\n',
     [('f', 1, 4), ('f.inner', 2, 2)]),
])
def test_function_lengths_by_hand(tmp_path, source, expected):
    path = tmp_path / 'm.py'
    path.write_text(source)
    assert function_lengths(path) == expected


def test_checkers_flag_a_long_function_and_an_unlisted_module(tmp_path):
    root = tmp_path / 'mmdepthseg'
    (root / 'models').mkdir(parents=True)
    (root / 'tools_like').mkdir()
    body = 'def f():\n' + '    x = 1\n' * 81
    (root / 'models' / 'a.py').write_text(body)
    (root / 'tools_like' / 'b.py').write_text(body)  # not a library layer
    assert long_functions(root) == ['models/a.py:1 f (82 lines)']
    (root / 'models' / 'c.py').write_text('x = 1\n' * 601)
    lengths = module_lengths(root)
    assert lengths['models/c.py'] == 601
    assert [n for n, k in lengths.items() if k > MAX_MODULE_LINES] == [
        'models/c.py'
    ]
