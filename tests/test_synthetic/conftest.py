# Copyright (c) mmdepthseg contributors. All rights reserved.
import pytest
from mmengine.registry import init_default_scope


@pytest.fixture(autouse=True)
def mmdepthseg_scope():
    """Dataset pipelines (reading generated trees back) build their
    transforms in the default scope."""
    init_default_scope('mmdepthseg')
