# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The data contract as code (``docs/en/data_contract.md``).

- :mod:`.keys`: the names of the sample fields and metainfo keys;
- :mod:`.camera`: pinhole-camera operations on numpy arrays (intrinsics
  under resize / crop / flip, normalised -> pixel intrinsics, the stereo
  rig's ``stereo_T``, back-projection);
- :mod:`.metainfo`: one set of readers for what models and metrics take
  from a sample's metainfo (intrinsics at a size, ``fx * baseline``,
  ``view_names``, the reference view, ...);
- :mod:`.views`: the names of the views of a sample.

This package sits at the bottom of the import graph with ``utils``: it
imports nothing from ``datasets``, ``models``, ``evaluation`` or ``apis``.
"""
from . import keys
from .camera import (IntrinsicsType, as_intrinsics_matrix,
                     backproject_depth_map, crop_intrinsics, hflip_intrinsics,
                     normalised_to_absolute_intrinsics, scale_intrinsics,
                     stereo_transform, undistorted_intrinsics)
from .metainfo import (metainfo_of, read_baseline, read_domain,
                       read_flip_direction, read_fx_baseline, read_img_shape,
                       read_intrinsics, read_labelled_tasks, read_padding_size,
                       read_stereo_transform, read_view_names, reference_view,
                       sample_name, stack_baselines, stack_focal_lengths,
                       stack_fx_baselines, stack_intrinsics,
                       stack_stereo_transforms)
from .views import view_names_for_frame_ids

__all__ = [
    'keys', 'IntrinsicsType', 'as_intrinsics_matrix', 'backproject_depth_map',
    'crop_intrinsics', 'hflip_intrinsics', 'normalised_to_absolute_intrinsics',
    'scale_intrinsics', 'stereo_transform', 'metainfo_of', 'read_baseline',
    'read_domain', 'read_flip_direction', 'read_fx_baseline', 'read_img_shape',
    'read_intrinsics', 'read_padding_size', 'read_labelled_tasks',
    'read_stereo_transform', 'read_view_names', 'reference_view',
    'sample_name', 'stack_baselines', 'stack_focal_lengths',
    'stack_fx_baselines', 'stack_intrinsics', 'stack_stereo_transforms',
    'view_names_for_frame_ids', 'undistorted_intrinsics'
]
