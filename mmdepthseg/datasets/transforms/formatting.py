# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Packing of a multi-view results dict into ``inputs`` + ``SegDataSample``.
"""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmdepthseg.registry import TRANSFORMS
# PACKED_NAMES (results keys renamed when packed; the rest keep their name)
# is defined with the other names of the data contract and re-exported here.
from mmdepthseg.structures.keys import DEFAULT_META_KEYS, PACKED_NAMES


def _hwc_to_chw_tensor(img: np.ndarray) -> torch.Tensor:
    if img.ndim == 2:
        img = img[..., None]
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))


@TRANSFORMS.register_module()
class PackMultiViewInputs(BaseTransform):
    """Pack a multi-view sample as the data contract specifies.

    Output ``inputs``: uint8 tensor ``(3V, H, W)`` (``img``, views stacked
    on channels). Output ``data_samples``: a ``SegDataSample`` with

    - ``gt_sem_seg``: ``PixelData`` LongTensor ``(V', H, W)`` from
      ``gt_seg_map``; every other key of ``seg_fields`` as a LongTensor
      ``PixelData`` of the same name;
    - ``gt_depth_map`` and every other key of ``depth_fields``:
      ``PixelData`` FloatTensor ``(V', H, W)``;
    - ``unaug_img``: ``PixelData`` uint8 ``(3V, H, W)`` when present
      (training pipelines with ``KeepUnaugmentedImage``);
    - metainfo: the ``meta_keys`` found in the results (``intrinsics`` and
      ``stereo_T`` stay float32 numpy arrays); ``reduce_zero_label``
      defaults to False. The defaults include the SemiMTL keys ``domain``
      and ``labelled_tasks`` (``MultiSourceDataset``).

    Args:
        meta_keys (Sequence[str]): Results keys copied into the metainfo.
    """

    def __init__(self,
                 meta_keys: Sequence[str] = DEFAULT_META_KEYS) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        """Pack ``results``.

        Returns:
            dict: ``inputs`` (uint8 ``(3V, H, W)``) and ``data_samples``
            (:obj:`SegDataSample`).
        """
        packed = dict()
        if 'img' in results:
            packed['inputs'] = _hwc_to_chw_tensor(results['img'])

        data_sample = SegDataSample()
        fields = [(k, torch.int64) for k in results.get('seg_fields', [])]
        fields += [(k, torch.float32) for k in results.get('depth_fields', [])]
        for key, dtype in fields:
            if key not in results:
                continue
            maps = np.asarray(results[key])
            if maps.ndim == 2:
                maps = maps[None]
            if maps.ndim != 3:
                raise ValueError(f"results[{key!r}] must be (V', H, W), got "
                                 f'shape {maps.shape}')
            data = torch.from_numpy(np.ascontiguousarray(maps)).to(dtype)
            data_sample.set_data(
                {PACKED_NAMES.get(key, key): PixelData(data=data)})
        if 'unaug_img' in results:
            data_sample.set_data(
                dict(
                    unaug_img=PixelData(
                        data=_hwc_to_chw_tensor(results['unaug_img']))))

        meta = {k: results[k] for k in self.meta_keys if k in results}
        meta.setdefault('reduce_zero_label', False)
        data_sample.set_metainfo(meta)
        packed['data_samples'] = data_sample
        return packed

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
