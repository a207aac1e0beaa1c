# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Cityscapes: label ids, categories and the camera / disparity files.

Follows cityscapesScripts (``labels.py``) and the dataset's on-disk format
(``docs/en/dataset_formats.md``).
"""
import json
from typing import Dict

import numpy as np

from .io import read_file_bytes
from .validation import DatasetError, check_intrinsics, check_positive

#: Cityscapes labelId -> trainId (19 classes, 255 = ignore), as in
#: cityscapesScripts' ``labels.py``.
CITYSCAPES_LABEL_ID_TO_TRAIN_ID: Dict[int, int] = {
    7: 0,
    8: 1,
    11: 2,
    12: 3,
    13: 4,
    17: 5,
    19: 6,
    20: 7,
    21: 8,
    22: 9,
    23: 10,
    24: 11,
    25: 12,
    26: 13,
    27: 14,
    28: 15,
    31: 16,
    32: 17,
    33: 18
}

#: Cityscapes trainId -> category (Pseudo-MTL Table 3: 0 flat, 1
#: construction, 2 object, 3 nature, 4 sky, 5 human, 6 vehicle), following
#: the ``category`` of cityscapesScripts' ``labels.py``. A trainId map holds
#: only the 19 evaluated classes, so only they can be mapped (everything
#: else is 255 already).
CITYSCAPES_TRAIN_ID_TO_CATEGORY: Dict[int, int] = {
    train_id: category
    for category, train_ids in enumerate((
        (0, 1),  # flat: road, sidewalk
        (2, 3, 4),  # construction: building, wall, fence
        (5, 6, 7),  # object: pole, traffic light, traffic sign
        (8, 9),  # nature: vegetation, terrain
        (10, ),  # sky
        (11, 12),  # human: person, rider
        (13, 14, 15, 16, 17, 18),  # vehicle: car ... bicycle
    ))
    for train_id in train_ids
}

#: Cityscapes labelId -> category: the ``category`` (``catId - 1``) that
#: cityscapesScripts' ``labels.py`` gives EVERY non-void label, as in the
#: 7-class Cityscapes of MTAN (Liu et al., 2019) that Pseudo-MTL's Table 3
#: follows: besides the 19 evaluated classes, parking (9) and rail track
#: (10) are flat, guard rail (14), bridge (15) and tunnel (16)
#: construction, polegroup (18) object, caravan (29) and trailer (30)
#: vehicle. The void labels 0-6 (unlabeled, ego vehicle, rectification
#: border, out of roi, static, dynamic, ground) are 255.
CITYSCAPES_LABEL_ID_TO_CATEGORY: Dict[int, int] = {
    label_id: category
    for category, label_ids in enumerate((
        (7, 8, 9, 10),  # flat: road, sidewalk, parking, rail track
        (11, 12, 13, 14, 15, 16),  # construction: building, wall, fence,
        # guard rail, bridge, tunnel
        (17, 18, 19, 20),  # object: pole, polegroup, traffic light, sign
        (21, 22),  # nature: vegetation, terrain
        (23, ),  # sky
        (24, 25),  # human: person, rider
        (26, 27, 28, 29, 30, 31, 32, 33),  # vehicle: car, truck, bus,
        # caravan, trailer, train, motorcycle, bicycle
    ))
    for label_id in label_ids
}

#: Metainfo (``classes``, ``palette``) of the 7 Cityscapes categories; each
#: colour is that of the category's main class (road, building, pole,
#: vegetation, sky, person, car).
CITYSCAPES_CATEGORIES: Dict[str, tuple] = dict(
    classes=('flat', 'construction', 'object', 'nature', 'sky', 'human',
             'vehicle'),
    palette=([128, 64, 128], [70, 70, 70], [153, 153, 153], [107, 142, 35],
             [70, 130, 180], [220, 20, 60], [0, 0, 142]))


def read_cityscapes_camera(path: str) -> Dict[str, float]:
    """Read a Cityscapes ``*_camera.json``.

    Returns:
        dict: ``fx``, ``fy``, ``u0``, ``v0`` (pixels) and ``baseline``
        (metres).
    """
    try:
        cam = json.loads(read_file_bytes(path).decode('utf-8'))
        out = dict(
            fx=float(cam['intrinsic']['fx']),
            fy=float(cam['intrinsic']['fy']),
            u0=float(cam['intrinsic']['u0']),
            v0=float(cam['intrinsic']['v0']),
            baseline=float(cam['extrinsic']['baseline']))
    except (KeyError, TypeError, ValueError) as e:
        raise DatasetError(
            path, f'malformed camera JSON ({e!r})', 'Cityscapes camera JSON '
            'with intrinsic {fx, fy, u0, v0} and extrinsic {baseline}',
            'intrinsics') from e
    check_intrinsics(
        [[out['fx'], 0, out['u0']], [0, out['fy'], out['v0']], [0, 0, 1]],
        path, 'intrinsic {fx, fy, u0, v0}')
    check_positive(out['baseline'], path, 'extrinsic.baseline')
    return out


def cityscapes_disparity_to_depth(disp_png: np.ndarray,
                                  baseline_fx: float) -> np.ndarray:
    """Decode a Cityscapes disparity PNG into metric depth.

    ``disparity = (p - 1) / 256`` for ``p > 0`` and
    ``depth = baseline * fx / disparity``; ``p = 0`` and ``p = 1`` (zero
    disparity, infinitely far) give depth 0 (invalid).

    Args:
        disp_png (np.ndarray): (H, W) uint16 PNG values.
        baseline_fx (float): ``baseline * fx`` (metres * pixels).

    Returns:
        np.ndarray: (H, W) float32 depth in metres.
    """
    disp = (disp_png.astype(np.float32) - 1.0) / 256.0
    valid = disp_png > 1
    depth = np.zeros(disp_png.shape, dtype=np.float32)
    depth[valid] = baseline_fx / disp[valid]
    return depth
