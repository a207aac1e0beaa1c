# Copyright (c) mmdepthseg contributors. All rights reserved.
import os.path as osp
import re
from setuptools import find_packages, setup


def readme() -> str:
    with open('README.md', encoding='utf-8') as f:
        return f.read()


def get_version() -> str:
    scope: dict = {}
    with open(osp.join('mmdepthseg', 'version.py'), encoding='utf-8') as f:
        exec(compile(f.read(), 'version.py', 'exec'), scope)
    return scope['__version__']


def parse_requirements(fname: str) -> list:
    """Read a requirements file, skipping comments and blank lines."""
    with open(fname, encoding='utf-8') as f:
        lines = [ln.split('#')[0].strip() for ln in f]
    return [ln for ln in lines if ln]


def requirement_name(requirement: str) -> str:
    """The package name of a requirement line, e.g. 'onnx' of 'onnx>=1.17'.
    """
    return re.split(r'[<>=!~;\[ ]', requirement, maxsplit=1)[0].lower()


def optional_extras() -> dict:
    """Extras from requirements/optional.txt: 'onnx' (export and
    verification), 'tensorboard' and 'optional' (all of them)."""
    optional = parse_requirements('requirements/optional.txt')
    groups = dict(
        onnx=('onnx', 'onnxruntime', 'onnxscript'),
        tensorboard=('tensorboard', ))
    extras = {
        extra: [r for r in optional if requirement_name(r) in names]
        for extra, names in groups.items()
    }
    extras['optional'] = optional
    return extras


if __name__ == '__main__':
    setup(
        name='mmdepthseg',
        version=get_version(),
        description='Joint monocular depth estimation and semantic '
        'segmentation for OpenMMLab',
        long_description=readme(),
        long_description_content_type='text/markdown',
        keywords='depth estimation, semantic segmentation, multi-task',
        packages=find_packages(exclude=('configs', 'tools', 'demo', 'tests')),
        include_package_data=True,
        python_requires='>=3.8',
        license='Apache License 2.0',
        install_requires=parse_requirements('requirements/runtime.txt'),
        extras_require={
            'tests': parse_requirements('requirements/tests.txt'),
            'mim': parse_requirements('requirements/mminstall.txt'),
            **optional_extras(),
        },
        zip_safe=False)
