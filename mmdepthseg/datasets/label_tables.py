# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Label tables: the named lookup tables that map stored label ids to
training labels (``results['label_id_format']``), and their id domains.

Datasets register their own tables with :func:`register_label_table`.
"""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from .cityscapes_io import (CITYSCAPES_LABEL_ID_TO_CATEGORY,
                            CITYSCAPES_LABEL_ID_TO_TRAIN_ID,
                            CITYSCAPES_TRAIN_ID_TO_CATEGORY)


def _build_lut(mapping: Dict[int, int], ignore_index: int = 255) -> np.ndarray:
    lut = np.full(256, ignore_index, dtype=np.uint8)
    for src, dst in mapping.items():
        lut[src] = dst
    return lut


#: Lookup tables (uint8, 256 entries) that convert a stored label map into
#: training labels, by the name datasets put into
#: ``results['label_id_format']``: trainIds, or the 7 categories
#: (``*_to_categories``), or NYUv2's 40 classes.
#: ``'cityscapes_labelIds_to_categories'`` maps every non-void labelId
#: (MTAN's 7 classes, :data:`CITYSCAPES_LABEL_ID_TO_CATEGORY`);
#: ``'cityscapes_labelIds_to_categories_eval19'`` only the 19 evaluated
#: classes (the 8 others are 255), i.e. what a model trained on trainIds
#: can predict, as in cityscapesScripts' category evaluation.
LABEL_LUTS: Dict[str, np.ndarray] = {
    'cityscapes_labelIds':
    _build_lut(CITYSCAPES_LABEL_ID_TO_TRAIN_ID),
    'cityscapes_trainIds_to_categories':
    _build_lut(CITYSCAPES_TRAIN_ID_TO_CATEGORY),
    'cityscapes_labelIds_to_categories':
    _build_lut(CITYSCAPES_LABEL_ID_TO_CATEGORY),
    'cityscapes_labelIds_to_categories_eval19':
    _build_lut({
        label_id: CITYSCAPES_TRAIN_ID_TO_CATEGORY[train_id]
        for label_id, train_id in CITYSCAPES_LABEL_ID_TO_TRAIN_ID.items()
    }),
    # NYUv2-40 ids (0 = unlabelled, 1..40 = classes) -> 0..39, 255
    'nyu40_labelIds':
    _build_lut({i: i - 1
                for i in range(1, 41)}),
}


def _id_domain(ids) -> np.ndarray:
    domain = np.zeros(256, dtype=bool)
    domain[list(ids)] = True
    return domain


#: The stored ids each table of :data:`LABEL_LUTS` defines (256-entry bool
#: tables). A stored id outside its table's domain (e.g. labelId 200) is a
#: defect of the file (``LoadDepthSegAnnotations(invalid_label=...)``),
#: whereas known ids the table sends to 255 (Cityscapes' void labels,
#: NYU's 0 "unlabelled") are ordinary ignored pixels. Cityscapes labelIds
#: are 0..33; trainId maps hold 0..18 and 255; NYUv2-40 ids 0..40. A table
#: registered without a domain accepts every id.
LABEL_ID_DOMAINS: Dict[str, np.ndarray] = {
    'cityscapes_labelIds': _id_domain(range(34)),
    'cityscapes_trainIds_to_categories': _id_domain([*range(19), 255]),
    'cityscapes_labelIds_to_categories': _id_domain(range(34)),
    'cityscapes_labelIds_to_categories_eval19': _id_domain(range(34)),
    'nyu40_labelIds': _id_domain(range(41)),
}


def register_label_table(name: str,
                         lut: np.ndarray,
                         domain: Optional[Sequence[int]] = None) -> None:
    """Add a named label table (kept if ``name`` exists already).

    Args:
        name (str): The ``label_id_format`` naming it.
        lut (np.ndarray): 256-entry uint8 table stored id -> training label
            (255 = ignore).
        domain (Sequence[int], optional): The stored ids the format
            defines; None accepts every id.
    """
    LABEL_LUTS.setdefault(name, np.asarray(lut, dtype=np.uint8))
    if domain is not None:
        LABEL_ID_DOMAINS.setdefault(name, _id_domain(domain))


def map_label_ids(label_map: np.ndarray, fmt: str) -> np.ndarray:
    """Convert a stored label map to trainIds with a named lookup table.

    Args:
        label_map (np.ndarray): uint8 label map of any shape.
        fmt (str): A key of :data:`LABEL_LUTS` (e.g. ``'cityscapes_labelIds'``)
            or ``'trainIds'`` (returned unchanged).

    Returns:
        np.ndarray: uint8 trainId map (255 = ignore).
    """
    if fmt == 'trainIds':
        return label_map
    if fmt not in LABEL_LUTS:
        raise KeyError(f'unknown label id format {fmt!r}; expected '
                       f"'trainIds' or one of {sorted(LABEL_LUTS)}")
    if label_map.dtype != np.uint8:
        raise TypeError(f'label maps must be uint8, got {label_map.dtype}')
    return LABEL_LUTS[fmt][label_map]


def label_table(fmt: str) -> Tuple[Optional[np.ndarray], Optional[np.ndarray]]:
    """The lookup table and id domain of a ``label_id_format``.

    Args:
        fmt (str): ``'trainIds'`` or a key of :data:`LABEL_LUTS`.

    Returns:
        tuple: ``(lut, domain)``: the 256-entry uint8 table (None for
        ``'trainIds'``) and the 256-entry bool table of the ids the format
        defines (None: every id, or ``'trainIds'`` whose range is the
        number of classes).
    """
    if fmt == 'trainIds':
        return None, None
    if fmt not in LABEL_LUTS:
        raise KeyError(f'unknown label id format {fmt!r}; expected '
                       f"'trainIds' or one of {sorted(LABEL_LUTS)}")
    return LABEL_LUTS[fmt], LABEL_ID_DOMAINS.get(fmt)
