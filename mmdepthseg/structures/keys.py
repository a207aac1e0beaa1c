# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The names of the data contract (``docs/en/data_contract.md``).

Datasets write these keys into the data infos and the pipeline's results
dict, ``PackMultiViewInputs`` copies the metainfo keys onto each
``SegDataSample`` and turns the map keys into ``PixelData`` fields, and
models, metrics and visualisers read them back. Use the constants (or the
readers of :mod:`mmdepthseg.structures.metainfo`) instead of spelling the
strings, so that a renamed key is renamed everywhere.
"""
from typing import Tuple

# ---------------------------------------------------------------------------
# metainfo keys (results dict -> SegDataSample.metainfo)
# ---------------------------------------------------------------------------
#: Path of the reference (first) view.
IMG_PATH = 'img_path'
#: Paths of every view, in ``view_names`` order.
IMG_PATHS = 'img_paths'
#: Names of the views stacked along the channels, e.g. ``('l', 'r')`` or
#: ``('t', 't-1', 't+1')``; the first is the reference view.
VIEW_NAMES = 'view_names'
#: float32 ``(3, 3)`` camera matrix ``K`` in pixels of ``img_shape``.
INTRINSICS = 'intrinsics'
#: True while ``intrinsics`` is still normalised by the image size
#: (monodepth2's convention; ``LoadMultiViewImages`` converts it to pixels).
INTRINSICS_NORMALISED = 'intrinsics_normalised'
#: Stereo baseline in metres (stereo data only).
BASELINE = 'baseline'
#: float32 ``(4, 4)`` ``T_ref2other`` of the stereo pair.
STEREO_T = 'stereo_T'
#: ``(h, w)`` of the image as loaded.
ORI_SHAPE = 'ori_shape'
#: ``(h, w)`` of the image after the geometric transforms (the size
#: ``intrinsics`` describes).
IMG_SHAPE = 'img_shape'
#: ``(h, w)`` after the data preprocessor's padding.
PAD_SHAPE = 'pad_shape'
#: ``(w, h)`` resize ratios.
SCALE_FACTOR = 'scale_factor'
FLIP = 'flip'
FLIP_DIRECTION = 'flip_direction'
#: ``(left, right, top, bottom)`` padding added by the data preprocessor.
PADDING_SIZE = 'padding_size'
#: The padding of a test-time-augmented input (mmseg's TTA), read before
#: :data:`PADDING_SIZE` where present.
IMG_PADDING_SIZE = 'img_padding_size'
REDUCE_ZERO_LABEL = 'reduce_zero_label'
#: SemiMTL: the sample's source domain (int 1..K).
DOMAIN = 'domain'
#: SemiMTL: the tasks the sample's source labels (subset of :data:`TASKS`).
LABELLED_TASKS = 'labelled_tasks'
#: Dataset-specific ids of a sample.
FOLDER = 'folder'
FRAME_INDEX = 'frame_index'
SIDE = 'side'
CITY = 'city'
FRAME_STEM = 'frame_stem'

#: Metainfo keys ``PackMultiViewInputs`` copies by default.
DEFAULT_META_KEYS = (IMG_PATH, IMG_PATHS, VIEW_NAMES, INTRINSICS, BASELINE,
                     STEREO_T, ORI_SHAPE, IMG_SHAPE, SCALE_FACTOR, FLIP,
                     FLIP_DIRECTION, REDUCE_ZERO_LABEL, FOLDER, FRAME_INDEX,
                     SIDE, CITY, FRAME_STEM, DOMAIN, LABELLED_TASKS)

# ---------------------------------------------------------------------------
# results-dict keys of the pipeline (numpy)
# ---------------------------------------------------------------------------
#: uint8 ``(H, W, 3V)`` views stacked along the channels.
IMG = 'img'
#: Copy of ``img`` taken before colour augmentation.
UNAUG_IMG = 'unaug_img'
#: uint8 ``(V', H, W)`` trainId maps (packed as :data:`GT_SEM_SEG`).
GT_SEG_MAP = 'gt_seg_map'
#: Keys resized like label maps / like depth maps.
SEG_FIELDS = 'seg_fields'
DEPTH_FIELDS = 'depth_fields'
#: ``label_id_format`` of the stored label maps (a ``LABEL_LUTS`` key).
LABEL_ID_FORMAT = 'label_id_format'

# ---------------------------------------------------------------------------
# SegDataSample fields (PixelData)
# ---------------------------------------------------------------------------
#: Long ``(V', H, W)`` trainIds, 255 = ignore.
GT_SEM_SEG = 'gt_sem_seg'
#: Float ``(V', H, W)`` depth in metres, 0 = invalid (SemiMTL: the
#: regression target, NaN = invalid).
GT_DEPTH_MAP = 'gt_depth_map'
#: Stereo pseudo labels of Pseudo-MTL.
GT_PSEUDO_DEPTH = 'gt_pseudo_depth'
GT_CONFIDENCE = 'gt_confidence'
#: Predictions at the original image size.
SEG_LOGITS = 'seg_logits'
PRED_SEM_SEG = 'pred_sem_seg'
PRED_DEPTH_MAP = 'pred_depth_map'

#: Results key -> field name where packing renames it.
PACKED_NAMES = {GT_SEG_MAP: GT_SEM_SEG}

#: The tasks of a multi-task sample, in ``labelled_tasks`` order.
TASKS: Tuple[str, ...] = ('seg', 'depth')
#: Task -> its ground-truth field.
TASK_GT_FIELDS = {'seg': GT_SEM_SEG, 'depth': GT_DEPTH_MAP}
