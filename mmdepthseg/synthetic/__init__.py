# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Synthetic street, indoor and aerial scenes written in real dataset
layouts.

Light on purpose: numpy and OpenCV only (no torch, no mmseg), so data can be
generated before, and independently of, the training stack.
"""
from .aerial_scene import (CITY_STYLES, ISPRS_CLASS_NAMES, ISPRS_LABEL_COLOURS,
                           AerialScene, AerialStyle, labels_to_colours)
from .indoor_scene import NYU40_IDS, ROOM_TYPES, IndoorScene
from .street_scene import (BUILDING, CAR, PERSON, POLE, ROAD, SIDEWALK, SKY,
                           TERRAIN, VEGETATION, StreetScene, euler_to_rotation,
                           stereo_right_pose)
from .video import open_video_writer, write_street_video
from .writers import (CITYSCAPES_TRAINID_TO_LABELID, SYNTHETIC_ISPRS_FILES,
                      SYNTHETIC_NDSM_STEP, cityscapes_intrinsics,
                      encode_cityscapes_disparity, encode_depth_png,
                      encode_ndsm_8bit, kitti_calibration, kitti_intrinsics,
                      nyu_intrinsics, synthetic_isprs_tile_ids,
                      trainid_to_labelid, write_cityscapes, write_isprs,
                      write_kitti_raw, write_nyu)

__all__ = [
    'StreetScene', 'stereo_right_pose', 'euler_to_rotation', 'write_kitti_raw',
    'write_cityscapes', 'kitti_intrinsics', 'kitti_calibration',
    'cityscapes_intrinsics', 'encode_cityscapes_disparity',
    'trainid_to_labelid', 'CITYSCAPES_TRAINID_TO_LABELID', 'ROAD', 'SIDEWALK',
    'BUILDING', 'POLE', 'VEGETATION', 'TERRAIN', 'SKY', 'PERSON', 'CAR',
    'IndoorScene', 'ROOM_TYPES', 'NYU40_IDS', 'write_nyu', 'nyu_intrinsics',
    'encode_depth_png', 'AerialScene', 'AerialStyle', 'CITY_STYLES',
    'ISPRS_CLASS_NAMES', 'ISPRS_LABEL_COLOURS', 'labels_to_colours',
    'write_isprs', 'SYNTHETIC_ISPRS_FILES', 'SYNTHETIC_NDSM_STEP',
    'encode_ndsm_8bit', 'synthetic_isprs_tile_ids', 'write_street_video',
    'open_video_writer'
]
