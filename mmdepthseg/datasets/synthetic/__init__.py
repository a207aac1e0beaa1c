# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Old import path of :mod:`mmdepthseg.synthetic`, kept for compatibility.

The synthetic scene generator produces data, it is no dataset: it lives in
the top-level package :mod:`mmdepthseg.synthetic`. This package re-exports
its names, and its old submodule paths (``mmdepthseg.datasets.synthetic.
writers``, ``.video``, ...) name the very modules of
:mod:`mmdepthseg.synthetic`, so old imports, and monkeypatches made through
them, keep working. Importing :mod:`mmdepthseg.datasets` does not load it.
"""
import sys

from mmdepthseg.synthetic import *  # noqa: F401,F403
from mmdepthseg.synthetic import __all__  # noqa: F401
from mmdepthseg.synthetic import (aerial_scene, indoor_scene, raycast,
                                  street_scene, video, writers)

for _module in (aerial_scene, indoor_scene, raycast, street_scene, video,
                writers):
    sys.modules[__name__ + _module.__name__[len('mmdepthseg.synthetic'):]] \
        = _module
del _module
