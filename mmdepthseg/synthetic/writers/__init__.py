# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Write synthetic scenes in the on-disk layouts of real datasets, one
module per layout:

- :mod:`.kitti_raw`: :func:`write_kitti_raw`, KITTI raw
  (``<date>/<date>_drive_<NNNN>_sync`` with ``image_02``/``image_03``,
  velodyne scans, the two calibration files of the date) plus
  monodepth2-style split files and, as mmdepthseg's own convention, a
  segmentation tree ``semantic_02``/``semantic_03`` that mirrors the image
  tree (uint8 PNG, Cityscapes trainIds).
- :mod:`.cityscapes`: :func:`write_cityscapes`, Cityscapes
  (``leftImg8bit``, ``rightImg8bit``, ``disparity``, ``camera``, ``gtFine``
  labelIds and labelTrainIds).
- :mod:`.nyu`: :func:`write_nyu`, indoor rooms (:class:`IndoorScene`) in
  MMSegmentation's NYU layout (``images``, ``annotations`` with uint16
  depth in millimetres) plus mmdepthseg's parallel ``labels40`` folder
  (NYUv2-40 ids).
- :mod:`.isprs`: :func:`write_isprs`, top-down city tiles
  (:class:`AerialScene`) as raw ISPRS Potsdam / Vaihingen tiles (IRRG TIFF,
  colour-coded labels, 8-bit nDSM), to be cut into patches by
  ``tools/dataset_converters/isprs.py``.
- :mod:`.common`: what they share (derived seeds, progress bars, image
  files, stereo pairs).

The formats follow ``docs/en/dataset_formats.md``; loaders read these trees
exactly as they read the real datasets. Every file is written atomically
(:mod:`mmdepthseg.utils.io`), so an interrupted run leaves no truncated
file behind.
"""
from mmdepthseg.datasets.png_codecs import encode_depth_png
from .cityscapes import (CITYSCAPES_BASELINE, CITYSCAPES_CAMERA_HEIGHT,
                         CITYSCAPES_PITCH, CITYSCAPES_TRAINID_TO_LABELID,
                         cityscapes_camera, cityscapes_intrinsics,
                         encode_cityscapes_disparity, trainid_to_labelid,
                         write_cityscapes)
from .common import (JPEG_QUALITY, RenderCamera, progress_bar,
                     render_stereo_pair, sub_seed, write_tree_image)
from .isprs import (SYNTHETIC_ISPRS_FILES, SYNTHETIC_NDSM_STEP,
                    encode_ndsm_8bit, synthetic_isprs_tile_ids, write_isprs)
from .kitti_raw import (KITTI_BASELINE, KITTI_CAM2_OFFSET, cam2_points_to_velo,
                        depth_to_velodyne, kitti_calibration, kitti_intrinsics,
                        write_kitti_raw)
from .nyu import NYU_SIZE, nyu_intrinsics, write_nyu

__all__ = [
    'write_kitti_raw', 'kitti_calibration', 'kitti_intrinsics',
    'cam2_points_to_velo', 'depth_to_velodyne', 'KITTI_BASELINE',
    'KITTI_CAM2_OFFSET', 'write_cityscapes', 'cityscapes_intrinsics',
    'cityscapes_camera', 'encode_cityscapes_disparity', 'trainid_to_labelid',
    'CITYSCAPES_TRAINID_TO_LABELID', 'CITYSCAPES_BASELINE',
    'CITYSCAPES_CAMERA_HEIGHT', 'CITYSCAPES_PITCH', 'write_nyu',
    'nyu_intrinsics', 'NYU_SIZE', 'encode_depth_png', 'write_isprs',
    'SYNTHETIC_ISPRS_FILES', 'SYNTHETIC_NDSM_STEP', 'encode_ndsm_8bit',
    'synthetic_isprs_tile_ids', 'JPEG_QUALITY', 'RenderCamera',
    'progress_bar', 'render_stereo_pair', 'sub_seed', 'write_tree_image'
]
