# Copyright (c) mmdepthseg contributors. All rights reserved.
from .pose_net import PoseDecoder, PoseNet

__all__ = ['PoseDecoder', 'PoseNet']
