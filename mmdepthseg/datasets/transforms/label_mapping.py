# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Remapping of loaded segmentation labels (e.g. to Cityscapes categories).
"""
from mmcv.transforms import BaseTransform

from mmdepthseg.registry import TRANSFORMS
from ..utils import LABEL_LUTS, map_label_ids


@TRANSFORMS.register_module()
class MapSegLabels(BaseTransform):
    """Map every segmentation field through a named lookup table.

    Use after ``LoadDepthSegAnnotations`` to train on coarser classes, e.g.
    ``MapSegLabels(lut='cityscapes_trainIds_to_categories')`` turns the 19
    trainIds into the 7 Cityscapes categories (Pseudo-MTL, Table 3) for
    datasets that store trainIds (KITTI ``semantic_0X``). Datasets that
    store labelIds can use ``label_id_format=
    'cityscapes_labelIds_to_categories'`` instead.

    Modified keys: every key of ``seg_fields`` (uint8 ``(V', H, W)``).

    Args:
        lut (str): A key of :data:`mmdepthseg.datasets.utils.LABEL_LUTS`.
            Defaults to ``'cityscapes_trainIds_to_categories'``.
    """

    def __init__(self, lut: str = 'cityscapes_trainIds_to_categories') -> None:
        if lut not in LABEL_LUTS:
            raise KeyError(f'unknown label lookup table {lut!r}; expected '
                           f'one of {sorted(LABEL_LUTS)}')
        self.lut = lut

    def transform(self, results: dict) -> dict:
        for key in results.get('seg_fields', []):
            if key in results:
                results[key] = map_label_ids(results[key], self.lut)
        return results

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(lut='{self.lut}')"
