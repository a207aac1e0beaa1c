# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Synthetic street scenes written in real dataset layouts.

Light on purpose: numpy and OpenCV only (no torch, no mmseg), so data can be
generated before, and independently of, the training stack.
"""
from .street_scene import (BUILDING, CAR, PERSON, POLE, ROAD, SIDEWALK, SKY,
                           TERRAIN, VEGETATION, StreetScene, euler_to_rotation,
                           stereo_right_pose)
from .writers import (CITYSCAPES_TRAINID_TO_LABELID, cityscapes_intrinsics,
                      encode_cityscapes_disparity, kitti_calibration,
                      kitti_intrinsics, trainid_to_labelid, write_cityscapes,
                      write_kitti_raw)

__all__ = [
    'StreetScene', 'stereo_right_pose', 'euler_to_rotation', 'write_kitti_raw',
    'write_cityscapes', 'kitti_intrinsics', 'kitti_calibration',
    'cityscapes_intrinsics', 'encode_cityscapes_disparity',
    'trainid_to_labelid', 'CITYSCAPES_TRAINID_TO_LABELID', 'ROAD', 'SIDEWALK',
    'BUILDING', 'POLE', 'VEGETATION', 'TERRAIN', 'SKY', 'PERSON', 'CAR'
]
