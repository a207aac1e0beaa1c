# Copyright (c) mmdepthseg contributors. All rights reserved.
"""One batch builder for the segmentor tests.

``packed_batch`` makes a batch as ``PackMultiViewInputs`` (or mmseg's
``PackSegInputs`` for one view) emits it: uint8 ``(3V, H, W)`` inputs and
:class:`SegDataSample` s with metainfo and pixel fields, all drawn from one
seeded ``torch.Generator`` in a fixed order (per sample: the image, then the
fields in the order given), so a test's batch is reproducible.
"""
from typing import Callable, Dict, Optional, Sequence, Tuple, Union

import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from torch import Tensor

#: Makes one pixel field from the batch's generator (None: no field).
FieldMaker = Callable[[torch.Generator], Optional[Tensor]]
PerSample = Union[dict, Callable[[int], dict], None]


def random_labels(num_classes: int, shape: Sequence[int]) -> FieldMaker:
    """Labels uniform in ``[0, num_classes)`` of ``shape`` ``(V, H, W)``."""
    return lambda gen: torch.randint(
        0, num_classes, tuple(shape), generator=gen)


def random_depth(low: float, high: float, shape: Sequence[int]) -> FieldMaker:
    """Depth uniform in ``[low, high)`` of ``shape`` ``(V, H, W)``."""
    return lambda gen: low + (high - low) * torch.rand(
        tuple(shape), generator=gen)


def _per_sample(value: PerSample, index: int) -> dict:
    if callable(value):
        return value(index)
    return dict(value or {})


def packed_batch(num: int = 2,
                 size: Tuple[int, int] = (64, 64),
                 views: int = 1,
                 seed: int = 0,
                 fields: PerSample = None,
                 metainfo: PerSample = None) -> dict:
    """A packed batch (the data preprocessor's input).

    Args:
        num (int): Samples. Default: 2.
        size (tuple[int, int]): ``(H, W)`` of every image. Default: (64, 64).
        views (int): Views stacked on the channels. Default: 1.
        seed (int): Seed of the generator. Default: 0.
        fields (dict | callable, optional): Field name -> :data:`FieldMaker`
            (e.g. :func:`random_labels`), or a function of the sample index
            returning such a dict. Default: None.
        metainfo (dict | callable, optional): Metainfo added to (or
            replacing) ``img_shape`` / ``ori_shape`` = ``size``, or a
            function of the sample index returning it. Default: None.

    Returns:
        dict: ``inputs`` (list of uint8 ``(3V, H, W)``) and ``data_samples``.
    """
    gen = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for i in range(num):
        inputs.append(
            torch.randint(
                0, 256, (3 * views, *size), dtype=torch.uint8, generator=gen))
        meta = dict(img_shape=tuple(size), ori_shape=tuple(size))
        meta.update(_per_sample(metainfo, i))
        sample = SegDataSample(metainfo=meta)
        makers: Dict[str, FieldMaker] = _per_sample(fields, i)
        for key, make in makers.items():
            data = make(gen)
            if data is not None:
                sample.set_field(PixelData(data=data), key)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)
