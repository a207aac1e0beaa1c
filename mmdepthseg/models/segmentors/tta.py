# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Test-time augmentation for depth + segmentation (``tools/test.py
--tta``)."""
from typing import List, Optional, Sequence

import torch
from mmengine.model import BaseTTAModel
from mmengine.structures import PixelData
from mmseg.utils import SampleList
from torch import Tensor

from mmdepthseg.registry import MODELS
from ..layers.geometry import flip_post_process_disparity

#: How :class:`DepthSegTTAModel` merges the depth of its branches.
DEPTH_MERGES = ('mean', 'mean_disparity', 'flip_post_process')


@MODELS.register_module()
class DepthSegTTAModel(BaseTTAModel):
    """Merge the predictions of a ``TestTimeAug`` pipeline's branches.

    MMSegmentation's ``SegTTAModel`` for the segmentation, plus depth. Every
    branch (one resize and one flip of ``tta_pipeline``) is predicted by the
    wrapped model, which already undoes the flip and resizes its maps back
    to the original image (``postprocess_result``), so the branches'
    predictions are aligned pixel by pixel.

    - **Segmentation**: the mean of the branches' class probabilities
      (softmax), all scales and flips, as ``SegTTAModel``;
      ``pred_sem_seg`` is its argmax and ``seg_logits`` its logarithm (so
      that a softmax of ``seg_logits`` gives the mean probabilities back).
    - **Depth**: a monocular depth network is not scale-equivariant (an
      enlarged image looks nearer), so by default only the branches at the
      network input size of the first branch (the pipeline's first resize,
      the config's own test scale) are merged (``depth_all_scales=False``).
      ``depth_merge`` says how:

      - ``'mean'``: mean depth of those branches;
      - ``'mean_disparity'``: ``1 / mean(1 / depth)``;
      - ``'flip_post_process'``: monodepth2's post-processing
        (:func:`~mmdepthseg.models.layers.flip_post_process_disparity`,
        Godard et al. 2017) of the mean disparity of the plain branches and
        that of the flipped ones: near the left border the mirrored
        prediction, near the right border the plain one, their mean in
        between. Self-supervised depth (FSRE-Depth) uses it. Unlike
        ``test_cfg.flip_post_process`` of the model, which blends at the
        network's resolution before the resize to the ground truth, the
        blend happens here at the original resolution (the ramp covers the
        same 5-10 % of the width); without a flipped branch the plain
        prediction is kept.

    The ground truth and metainfo of the merged sample are those of the
    first un-flipped branch at the depth scale.

    Args:
        module (dict | nn.Module): The segmentor.
        depth_merge (str): One of :data:`DEPTH_MERGES`. Defaults to
            'mean_disparity'.
        depth_all_scales (bool): Merge the depth of every branch, not only
            those at the first branch's input size. Defaults to False.
        data_preprocessor (dict, optional): Unused (the module's runs).
    """

    def __init__(self,
                 module,
                 depth_merge: str = 'mean_disparity',
                 depth_all_scales: bool = False,
                 data_preprocessor: Optional[dict] = None) -> None:
        if depth_merge not in DEPTH_MERGES:
            raise ValueError(f'depth_merge must be one of {DEPTH_MERGES}, '
                             f'got {depth_merge!r}')
        super().__init__(module=module, data_preprocessor=data_preprocessor)
        self.depth_merge = depth_merge
        self.depth_all_scales = depth_all_scales

    @staticmethod
    def _flipped(sample) -> bool:
        return bool(sample.metainfo.get('flip', False))

    @staticmethod
    def _input_size(sample) -> tuple:
        return tuple(sample.metainfo.get('img_shape', ()))[:2]

    def _merge_seg(self, samples: Sequence) -> Optional[tuple]:
        """Mean probabilities -> ``(log probabilities, labels)``."""
        if 'seg_logits' not in samples[0]:
            return None
        probs = []
        for sample in samples:
            logits = sample.seg_logits.data.float()
            # a single-channel (binary) head: its logit is a probability
            # already after MultiTaskSegmentor's sigmoid
            probs.append(
                logits.softmax(dim=0) if logits.shape[0] > 1 else logits)
        mean = torch.stack(probs).mean(dim=0)
        if mean.shape[0] > 1:
            labels = mean.argmax(dim=0, keepdim=True)
            return mean.clamp_min(1e-12).log(), labels
        threshold = getattr(getattr(self.module, 'seg_head', None),
                            'threshold', 0.5)
        return mean, (mean > threshold).to(mean)

    @staticmethod
    def _mean_disparity(depths: List[Tensor]) -> Tensor:
        disp = torch.stack([1.0 / d.clamp_min(1e-12) for d in depths])
        return disp.mean(dim=0)

    def _merge_depth(self, samples: Sequence) -> Optional[Tensor]:
        """The merged ``(1, H, W)`` depth of the branches at the depth
        scale."""
        if 'pred_depth_map' not in samples[0]:
            return None
        if not self.depth_all_scales:
            size = self._input_size(samples[0])
            samples = [s for s in samples if self._input_size(s) == size]
        depths = [s.pred_depth_map.data.float() for s in samples]
        if self.depth_merge == 'mean':
            return torch.stack(depths).mean(dim=0)
        if self.depth_merge == 'mean_disparity':
            return 1.0 / self._mean_disparity(depths)
        plain = [d for d, s in zip(depths, samples) if not self._flipped(s)]
        mirrored = [d for d, s in zip(depths, samples) if self._flipped(s)]
        if not plain or not mirrored:
            return 1.0 / self._mean_disparity(depths)
        disp = flip_post_process_disparity(
            self._mean_disparity(plain), self._mean_disparity(mirrored))
        return 1.0 / disp

    def merge_preds(self, data_samples_list: List[SampleList]) -> SampleList:
        """Merge the branches of every image.

        Args:
            data_samples_list (list[list[SegDataSample]]): Per image, the
                predictions of its branches.

        Returns:
            list[SegDataSample]: One merged sample per image.
        """
        merged = []
        for samples in data_samples_list:
            size = self._input_size(samples[0])
            base = next((s for s in samples if not self._flipped(s)
                         and self._input_size(s) == size), samples[0])
            out = base.clone()
            seg = self._merge_seg(samples)
            if seg is not None:
                out.set_data({
                    'seg_logits': PixelData(data=seg[0]),
                    'pred_sem_seg': PixelData(data=seg[1])
                })
            depth = self._merge_depth(samples)
            if depth is not None:
                out.set_data({'pred_depth_map': PixelData(data=depth)})
            merged.append(out)
        return merged
