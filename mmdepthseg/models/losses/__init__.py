# Copyright (c) mmdepthseg contributors. All rights reserved.
from .depth_l1_loss import DepthL1Loss

__all__ = ['DepthL1Loss']
