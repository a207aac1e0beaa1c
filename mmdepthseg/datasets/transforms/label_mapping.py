# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Remapping of loaded segmentation labels (e.g. to Cityscapes categories).
"""
import numpy as np
from mmcv.transforms import BaseTransform

from mmdepthseg.registry import TRANSFORMS
from ..label_tables import LABEL_LUTS, label_table
from ..validation import check_label_ids, check_policy


@TRANSFORMS.register_module()
class MapSegLabels(BaseTransform):
    """Map every segmentation field through a named lookup table.

    Use after ``LoadDepthSegAnnotations`` to train on coarser classes, e.g.
    ``MapSegLabels(lut='cityscapes_trainIds_to_categories')`` turns the 19
    trainIds into the 7 Cityscapes categories (Pseudo-MTL, Table 3) for
    datasets that store trainIds (KITTI ``semantic_0X``). Datasets that
    store labelIds can use ``label_id_format=
    'cityscapes_labelIds_to_categories'`` instead.

    The labels are checked as ``LoadDepthSegAnnotations`` checks them:
    ids the table does not define and mapped labels outside
    ``[0, num_classes)`` (the sample's ``num_classes``, from the dataset's
    metainfo) other than 255 are a defect of the label file (named through
    the sample's ``seg_map_paths``), raised or mapped to 255 with a
    warning by ``invalid_label``. With a table that changes the label
    space, give ``LoadDepthSegAnnotations`` the stored maps'
    ``num_classes`` (e.g. 19 for trainIds).

    Modified keys: every key of ``seg_fields`` (uint8 ``(V', H, W)``).

    Args:
        lut (str): A key of :data:`mmdepthseg.datasets.utils.LABEL_LUTS`.
            Defaults to ``'cityscapes_trainIds_to_categories'``.
        invalid_label (str): ``'error'`` (default) or ``'ignore'``.
    """

    def __init__(self,
                 lut: str = 'cityscapes_trainIds_to_categories',
                 invalid_label: str = 'error') -> None:
        if lut not in LABEL_LUTS:
            raise KeyError(f'unknown label lookup table {lut!r}; expected '
                           f'one of {sorted(LABEL_LUTS)}')
        self.lut = lut
        self.invalid_label = check_policy('invalid_label', invalid_label)

    def transform(self, results: dict) -> dict:
        table, domain = label_table(self.lut)
        num_classes = results.get('num_classes')
        paths = list(
            results.get('seg_map_paths')
            or [results.get('seg_map_path') or results.get('img_path')])
        for key in results.get('seg_fields', []):
            if key not in results:
                continue
            maps = np.asarray(results[key])
            if maps.dtype != np.uint8:
                raise TypeError(f'label maps must be uint8, got {maps.dtype}'
                                f' in results[{key!r}]')
            views = maps[None] if maps.ndim == 2 else maps
            mapped = [
                check_label_ids(
                    np.ascontiguousarray(view), paths[min(i,
                                                          len(paths) - 1)],
                    table, domain, num_classes, self.lut, self.invalid_label)
                for i, view in enumerate(views)
            ]
            results[key] = mapped[0] if maps.ndim == 2 else np.stack(mapped)
        return results

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(lut='{self.lut}', "
                f"invalid_label='{self.invalid_label}')")
