# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Old import path of :mod:`mmdepthseg.converters`, kept for compatibility.

The dataset converters are offline tooling (the logic behind
``tools/dataset_converters/``): they live in the top-level package
:mod:`mmdepthseg.converters`. This package re-exports its names, and its old
submodule paths (``mmdepthseg.datasets.converters.kitti``, ``.isprs``,
``.nyu``, ``.nyu40_mapping``, ``.video``) name the very modules of
:mod:`mmdepthseg.converters`, so old imports, and monkeypatches made through
them, keep working. Importing :mod:`mmdepthseg.datasets` does not load it.
"""
import sys

from mmdepthseg.converters import *  # noqa: F401,F403
from mmdepthseg.converters import __all__  # noqa: F401
from mmdepthseg.converters import isprs, kitti, nyu, nyu40_mapping, video

for _module in (isprs, kitti, nyu, nyu40_mapping, video):
    sys.modules[__name__ + _module.__name__[len('mmdepthseg.converters'):]] \
        = _module
del _module
