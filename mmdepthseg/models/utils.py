# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Small helpers shared by models."""
from typing import Sequence

import torch
from mmengine.structures import BaseDataElement


def stack_pixel_field(data_samples: Sequence[BaseDataElement],
                      name: str,
                      key: str = 'data') -> torch.Tensor:
    """Stack one per-view ``PixelData`` field of a batch for the losses.

    Args:
        data_samples (Sequence[SegDataSample]): The batch (after the data
            preprocessor, so the field has one size across the batch).
        name (str): Field name, e.g. ``'gt_depth_map'``, ``'gt_sem_seg'``,
            ``'unaug_img'``.
        key (str): Entry of the ``PixelData``. Defaults to ``'data'``.

    Returns:
        Tensor: ``(B, V', H, W)`` (``(B, 3V, H, W)`` for ``unaug_img``).

    Raises:
        KeyError: A sample lacks the field (its index is named).
        ValueError: The field's shapes differ within the batch.
    """
    if len(data_samples) == 0:
        raise ValueError('stack_pixel_field got an empty batch')
    tensors = []
    for i, sample in enumerate(data_samples):
        if name not in sample:
            raise KeyError(f'data sample {i} of the batch has no {name!r} '
                           f'(it has {sorted(sample.keys())})')
        tensors.append(getattr(sample.get(name), key))
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f'{name!r} has different shapes in the batch: '
                         f'{[tuple(t.shape) for t in tensors]}; pad them with '
                         'the data preprocessor first')
    return torch.stack(tensors, dim=0)
