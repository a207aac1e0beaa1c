# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Data preprocessor for view-stacked inputs."""
from numbers import Number
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseDataPreprocessor
from mmengine.structures import PixelData

from mmdepthseg.registry import MODELS


@MODELS.register_module()
class MultiViewDataPreProcessor(BaseDataPreprocessor):
    """Normalise, pad and batch samples whose V views are stacked on channels.

    For a batch of packed samples (``docs/en/data_contract.md``):

    - ``inputs`` (list of uint8 ``(3V, H, W)``) become one float tensor
      ``(B, 3V, H', W')``: every view BGR->RGB (``bgr_to_rgb``) and
      normalised with the same 3-value ``mean``/``std``, then padded at the
      bottom/right with ``pad_val`` to the largest size in the batch, rounded
      up to ``size_divisor`` or enlarged to ``size``;
    - every ``PixelData`` field of a data sample that has the sample's input
      size is padded the same way. The pad value is chosen by dtype:
      integer fields (label maps such as ``gt_sem_seg``) take
      ``seg_pad_val``, floating fields (depth-like maps: ``gt_depth_map``,
      pseudo depth, confidence) take ``depth_pad_val``. Fields of another
      size (e.g. full-resolution ground truth kept for evaluation) are left
      as they are;
    - ``unaug_img`` (uint8 ``(3V, H, W)``) becomes float RGB in [0, 1]
      (padded with 0);
    - metainfo gains ``pad_shape`` and ``batch_input_shape`` (``(H', W')``)
      and mmseg's ``padding_size`` ``(left, right, top, bottom)``.

    Args:
        mean (Sequence[Number], optional): Per-channel mean of one RGB view
            (3 values). None: no normalisation.
        std (Sequence[Number], optional): Per-channel std (3 values).
        bgr_to_rgb (bool): Convert every view BGR -> RGB. Defaults to True.
        size (tuple[int, int], optional): Minimum padded (h, w).
        size_divisor (int, optional): Pad h and w to multiples of this.
        pad_val (Number): Input padding value. Defaults to 0.
        seg_pad_val (Number): Padding of integer maps. Defaults to 255.
        depth_pad_val (Number): Padding of float maps (0 = invalid).
            Defaults to 0.
        non_blocking (bool): Non-blocking device transfer. Defaults to False.
    """

    def __init__(self,
                 mean: Optional[Sequence[Number]] = None,
                 std: Optional[Sequence[Number]] = None,
                 bgr_to_rgb: bool = True,
                 size: Optional[Tuple[int, int]] = None,
                 size_divisor: Optional[int] = None,
                 pad_val: Number = 0,
                 seg_pad_val: Number = 255,
                 depth_pad_val: Number = 0,
                 non_blocking: bool = False) -> None:
        super().__init__(non_blocking=non_blocking)
        if (mean is None) != (std is None):
            raise ValueError('give both mean and std, or neither')
        self._enable_normalize = mean is not None
        if self._enable_normalize:
            if len(mean) != 3 or len(std) != 3:
                raise ValueError('mean and std take 3 values (one RGB view), '
                                 f'got {mean} and {std}')
            self.register_buffer('mean',
                                 torch.tensor(mean).view(1, 3, 1, 1), False)
            self.register_buffer('std',
                                 torch.tensor(std).view(1, 3, 1, 1), False)
        self.bgr_to_rgb = bgr_to_rgb
        self.size = tuple(size) if size is not None else None
        self.size_divisor = size_divisor
        self.pad_val = pad_val
        self.seg_pad_val = seg_pad_val
        self.depth_pad_val = depth_pad_val

    def _to_rgb_views(self, img: torch.Tensor) -> torch.Tensor:
        """(3V, H, W) -> float (V, 3, H, W), RGB if ``bgr_to_rgb``."""
        if img.dim() != 3 or img.shape[0] % 3 != 0:
            raise ValueError('inputs must be (3V, H, W) with views stacked on '
                             f'channels, got shape {tuple(img.shape)}')
        views = img.float().view(-1, 3, *img.shape[1:])
        if self.bgr_to_rgb:
            views = views.flip(1)
        return views

    def _padded_size(self, sizes: List[Tuple[int, int]]) -> Tuple[int, int]:
        h = max(s[0] for s in sizes)
        w = max(s[1] for s in sizes)
        if self.size is not None:
            h, w = max(h, self.size[0]), max(w, self.size[1])
        if self.size_divisor is not None and self.size_divisor > 1:
            d = self.size_divisor
            h, w = (h + d - 1) // d * d, (w + d - 1) // d * d
        return h, w

    def _pad_fields(self, sample: Any, in_hw: Tuple[int, int],
                    padding: Tuple[int, int, int, int]) -> None:
        for name in list(sample.keys()):
            field = sample.get(name)
            if not isinstance(field, PixelData) or field.shape != in_hw:
                continue
            new_values = {}
            for key in field.keys():
                value = field.get(key)
                if name == 'unaug_img':
                    new_values[key] = F.pad(
                        self._to_rgb_views(value).flatten(0, 1) / 255.,
                        padding,
                        value=0)
                    continue
                pad_val = self.depth_pad_val if value.is_floating_point() \
                    else self.seg_pad_val
                new_values[key] = F.pad(value, padding, value=pad_val)
            # PixelData refuses values of another size than its current
            # ones, so drop every entry before setting the padded ones.
            for key in new_values:
                delattr(field, key)
            for key, value in new_values.items():
                field.set_field(value, key)

    def forward(self, data: dict, training: bool = False) -> Dict[str, Any]:
        """Normalise, pad and stack a collated batch.

        Args:
            data (dict): ``inputs`` (list of uint8 ``(3V, H, W)``) and
                optionally ``data_samples`` (list of ``SegDataSample``).
            training (bool): Pad the per-pixel fields of the samples (ground
                truth, ``unaug_img``) with the images; at test time they keep
                their size.

        Returns:
            dict: ``inputs`` float ``(B, 3V, H', W')`` and ``data_samples``.
        """
        data = self.cast_data(data)
        inputs = data['inputs']
        if isinstance(inputs, torch.Tensor):
            inputs = list(inputs)
        data_samples = data.get('data_samples', None)
        channels = {x.shape[0] for x in inputs}
        if len(channels) > 1:
            raise ValueError('all samples of a batch need the same number of '
                             f'views; got channel counts {sorted(channels)}')

        sizes = [tuple(x.shape[-2:]) for x in inputs]
        pad_h, pad_w = self._padded_size(sizes)
        batch = []
        for i, img in enumerate(inputs):
            views = self._to_rgb_views(img)
            if self._enable_normalize:
                views = (views - self.mean) / self.std
            h, w = sizes[i]
            padding = (0, pad_w - w, 0, pad_h - h)
            batch.append(
                F.pad(views.flatten(0, 1), padding, value=self.pad_val))
            if data_samples is not None:
                sample = data_samples[i]
                if training:
                    # losses compare maps with the padded inputs; for
                    # evaluation the ground truth keeps its own size (the
                    # predictions are cropped and resized back to it)
                    self._pad_fields(sample, (h, w), padding)
                sample.set_metainfo(
                    dict(
                        pad_shape=(pad_h, pad_w),
                        batch_input_shape=(pad_h, pad_w),
                        padding_size=padding))
        return dict(
            inputs=torch.stack(batch, dim=0), data_samples=data_samples)
