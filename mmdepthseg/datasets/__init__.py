# Copyright (c) mmdepthseg contributors. All rights reserved.
# The synthetic scene generator (``mmdepthseg.synthetic``) is a
# standalone module imported on demand, not here: loading datasets must not
# pull in the renderer.
from .cityscapes_depth import CityscapesDepthSegDataset
from .isprs import (ISPRSDepthSegDataset, PotsdamDepthSegDataset,
                    VaihingenDepthSegDataset)
from .kitti_raw import KittiRawDataset
from .kitti_semantic import KittiSemanticDataset
from .multi_source import MultiSourceDataset
from .nyu_depth import NYUDepthSegDataset
from .own_video import OwnVideoDataset
from .samplers import MultiSourceSampler
from .synscapes import SynscapesDataset
from .transforms import *  # noqa: F401,F403
from .transforms import __all__ as _transforms_all

__all__ = [
    'KittiRawDataset', 'CityscapesDepthSegDataset', 'KittiSemanticDataset',
    'NYUDepthSegDataset', 'MultiSourceDataset', 'MultiSourceSampler',
    'SynscapesDataset', 'ISPRSDepthSegDataset', 'PotsdamDepthSegDataset',
    'VaihingenDepthSegDataset', 'OwnVideoDataset'
] + _transforms_all
