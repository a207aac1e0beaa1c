# Copyright (c) mmdepthseg contributors. All rights reserved.
from .visualization_hook import DepthSegVisualizationHook

__all__ = ['DepthSegVisualizationHook']
