# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Shared-encoder multi-task model: depth + semantic segmentation."""
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.structures import PixelData
from mmseg.models.segmentors import BaseSegmentor
from mmseg.models.utils import resize
from mmseg.structures import SegDataSample
from mmseg.utils import (ConfigType, OptConfigType, OptMultiConfig,
                         OptSampleList, SampleList, add_prefix)
from torch import Tensor

from mmdepthseg.registry import MODELS
from ..layers.geometry import flip_post_process_disparity

#: Spaces in which a depth prediction is resized to the original image size.
DEPTH_RESIZE_SPACES = ('depth', 'disparity')


@MODELS.register_module()
class MultiTaskSegmentor(BaseSegmentor):
    """A backbone shared by a depth head and a segmentation head.

    Inputs are ``(B, 3V, H, W)``: the V views of a sample stacked on
    channels by ``MultiViewDataPreProcessor``. The backbone sees only the
    reference view (:meth:`_reference_view`, the first three channels);
    subclasses that need the other views (view synthesis, cross-view
    consistency) take them from ``inputs`` themselves.

    .. code:: text

        loss():    extract_feat() -> depth_head.loss() + seg_head.loss()
        predict(): extract_feat() -> heads' predict() -> postprocess_result()

    Loss items are prefixed ``depth.`` and ``seg.`` (e.g. ``depth.loss_depth``,
    ``seg.loss_ce``, ``seg.acc_seg``). Either head may be None for a
    single-task model.

    Args:
        backbone (dict): Backbone config, e.g. ``ResNetEncoder``.
        depth_head (dict, optional): Depth head config (a
            :class:`BaseDepthHead`). Default: None.
        seg_head (dict, optional): Segmentation head config (an mmseg
            ``BaseDecodeHead``). Default: None.
        neck (dict, optional): Neck config. Default: None.
        train_cfg (dict, optional): Training config. Default: None.
        test_cfg (dict, optional): Testing config. Default: None (all
            defaults). Keys:

            - ``mode``: only ``'whole'`` inference is supported.
            - ``depth_resize``: how the depth prediction is resized to
              ``ori_shape``: ``'depth'`` (default) interpolates depth,
              ``'disparity'`` interpolates its inverse and inverts the
              result, as the KITTI Eigen benchmark (monodepth2's
              ``evaluate_depth.py``) resizes the predicted disparity to the
              ground truth's size; the KITTI configs set it. The two
              differ wherever depth changes between neighbouring pixels.
            - ``flip_post_process``: predict on each image and on its
              mirror image and blend the two disparities with
              :func:`~mmdepthseg.models.layers.flip_post_process_disparity`
              (monodepth2's ``--post_process``) before the resize; the
              segmentation comes from the image itself. Default: False.
        data_preprocessor (dict, optional): Data preprocessor config, e.g.
            ``MultiViewDataPreProcessor``. Default: None.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Default: None.
    """

    def __init__(self,
                 backbone: ConfigType,
                 depth_head: OptConfigType = None,
                 seg_head: OptConfigType = None,
                 neck: OptConfigType = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        mode = (test_cfg or {}).get('mode', 'whole')
        if mode != 'whole':
            raise NotImplementedError(
                f"{type(self).__name__}: test_cfg.mode={mode!r} is not "
                f"supported, only 'whole'")
        depth_resize = (test_cfg or {}).get('depth_resize', 'depth')
        if depth_resize not in DEPTH_RESIZE_SPACES:
            raise ValueError(
                f'{type(self).__name__}: test_cfg.depth_resize must be one '
                f'of {DEPTH_RESIZE_SPACES}, got {depth_resize!r}')
        self.backbone = MODELS.build(backbone)
        if neck is not None:
            self.neck = MODELS.build(neck)
        self._init_heads(depth_head, seg_head)
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg

    def _init_heads(self, depth_head: OptConfigType,
                    seg_head: OptConfigType) -> None:
        """Build the task heads (a subclass with other decoders overrides
        this)."""
        if depth_head is None and seg_head is None:
            raise ValueError(
                f'{type(self).__name__} needs a depth_head, a seg_head or '
                f'both; got neither')
        self.depth_head = MODELS.build(depth_head) if depth_head else None
        self.seg_head = MODELS.build(seg_head) if seg_head else None

    @property
    def with_depth_head(self) -> bool:
        """bool: Whether the model predicts depth."""
        return self.depth_head is not None

    @property
    def with_seg_head(self) -> bool:
        """bool: Whether the model predicts semantic segmentation."""
        return self.seg_head is not None

    def _reference_view(self, inputs: Tensor) -> Tensor:
        """Select the view the backbone encodes.

        Args:
            inputs (Tensor): ``(B, 3V, H, W)``, views stacked on channels.

        Returns:
            Tensor: The reference (first) view, ``(B, 3, H, W)``.
        """
        if inputs.dim() != 4 or inputs.shape[1] % 3 != 0:
            raise ValueError(f'{type(self).__name__} expects inputs of shape '
                             f'(B, 3V, H, W), got {tuple(inputs.shape)}')
        return inputs[:, :3]

    def extract_feat(self, inputs: Tensor) -> Tuple[Tensor, ...]:
        """Encode the reference view.

        Args:
            inputs (Tensor): ``(B, 3V, H, W)``.

        Returns:
            tuple[Tensor]: Multi-level features of the backbone (and neck).
        """
        x = self.backbone(self._reference_view(inputs))
        if self.with_neck:
            x = self.neck(x)
        return x

    def encode_decode(self, inputs: Tensor,
                      batch_img_metas: List[dict]) -> Tensor:
        """Segmentation logits at the (padded) input size.

        Args:
            inputs (Tensor): ``(B, 3V, H, W)``.
            batch_img_metas (list[dict]): Image metas.

        Returns:
            Tensor: ``(B, C, H, W)`` logits.
        """
        if not self.with_seg_head:
            raise RuntimeError(
                f'{type(self).__name__}.encode_decode needs a seg_head')
        feats = self.extract_feat(inputs)
        return self.seg_head.predict(feats, batch_img_metas, self.test_cfg)

    def loss(self, inputs: Tensor,
             data_samples: SampleList) -> Dict[str, Tensor]:
        """Compute the losses of both tasks.

        Args:
            inputs (Tensor): ``(B, 3V, H, W)``.
            data_samples (list[SegDataSample]): Samples with
                ``gt_depth_map`` and / or ``gt_sem_seg``.

        Returns:
            dict[str, Tensor]: Loss items prefixed ``depth.`` / ``seg.``.
        """
        feats = self.extract_feat(inputs)
        losses = dict()
        if self.with_depth_head:
            losses.update(
                add_prefix(
                    self.depth_head.loss(feats, data_samples, self.train_cfg),
                    'depth'))
        if self.with_seg_head:
            losses.update(
                add_prefix(
                    self.seg_head.loss(feats, data_samples, self.train_cfg),
                    'seg'))
        return losses

    def _forward(self,
                 inputs: Tensor,
                 data_samples: OptSampleList = None) -> Dict[str, object]:
        """Raw head outputs, without post-processing.

        Args:
            inputs (Tensor): ``(B, 3V, H, W)``.
            data_samples (list[SegDataSample], optional): Unused.

        Returns:
            dict: ``'depth'``: list of depth maps ``(B, 1, h_s, w_s)``
            (finest first) if there is a depth head; ``'seg_logits'``:
            ``(B, C, h, w)`` if there is a segmentation head.
        """
        feats = self.extract_feat(inputs)
        outs = dict()
        if self.with_depth_head:
            outs['depth'] = self.depth_head.forward(feats)
        if self.with_seg_head:
            outs['seg_logits'] = self.seg_head.forward(feats)
        return outs

    def _batch_img_metas(self, inputs: Tensor,
                         data_samples: OptSampleList) -> List[dict]:
        """Image metas for the heads' ``predict``.

        ``pad_shape`` is the size of the batched inputs and ``img_shape`` is
        a tuple (MMSegmentation's ``predict_by_feat`` treats a
        ``torch.Size`` ``img_shape`` as a slide-inference crop).
        """
        pad_shape = tuple(inputs.shape[2:])
        if data_samples is None:
            return [
                dict(
                    ori_shape=pad_shape,
                    img_shape=pad_shape,
                    pad_shape=pad_shape)
            ] * inputs.shape[0]
        metas = []
        for data_sample in data_samples:
            meta = dict(data_sample.metainfo)
            meta['img_shape'] = tuple(meta.get('img_shape', pad_shape))[:2]
            meta['pad_shape'] = pad_shape
            metas.append(meta)
        return metas

    def _test_option(self, key: str, default):
        return (self.test_cfg or {}).get(key, default)

    def _with_mirror(self, inputs: Tensor) -> Tensor:
        """The batch followed by its horizontal mirror when
        ``test_cfg.flip_post_process`` is set, else ``inputs`` unchanged.

        Args:
            inputs (Tensor): ``(B, C, H, W)``.

        Returns:
            Tensor: ``(2B, C, H, W)`` or ``inputs``.
        """
        if not self._test_option('flip_post_process', False):
            return inputs
        return torch.cat([inputs, inputs.flip(-1)])

    def _merge_mirror(
        self, seg_logits: Optional[Tensor], depth: Optional[Tensor]
    ) -> Tuple[Optional[Tensor], Optional[Tensor]]:
        """Undo :meth:`_with_mirror` on the predictions.

        With ``test_cfg.flip_post_process`` the ``2B`` depth maps (images,
        then mirror images) become ``B`` maps blended in disparity space by
        :func:`~mmdepthseg.models.layers.flip_post_process_disparity`
        (``1 / depth``, positive depths), and the segmentation keeps the
        images' own logits; otherwise both pass through.

        Args:
            seg_logits (Tensor, optional): ``(2B, C, H, W)`` logits.
            depth (Tensor, optional): ``(2B, 1, H, W)`` depth.

        Returns:
            tuple: ``(B, C, H, W)`` logits and ``(B, 1, H, W)`` depth.
        """
        if not self._test_option('flip_post_process', False):
            return seg_logits, depth
        if seg_logits is not None:
            seg_logits = seg_logits[:seg_logits.shape[0] // 2]
        if depth is not None:
            num = depth.shape[0] // 2
            disp = 1.0 / depth
            depth = 1.0 / flip_post_process_disparity(disp[:num],
                                                      disp[num:].flip(-1))
        return seg_logits, depth

    def predict(self,
                inputs: Tensor,
                data_samples: OptSampleList = None) -> SampleList:
        """Predict depth and segmentation at the original image size.

        Args:
            inputs (Tensor): ``(B, 3V, H, W)``.
            data_samples (list[SegDataSample], optional): Samples with
                metainfo ``img_shape``, ``ori_shape`` and optionally
                ``flip`` / ``flip_direction``.

        Returns:
            list[SegDataSample]: With ``seg_logits`` ``(C, H, W)``,
            ``pred_sem_seg`` ``(1, H, W)`` and ``pred_depth_map``
            ``(1, H, W)`` (metres) at ``ori_shape``, for the heads present.
        """
        batch_img_metas = self._batch_img_metas(inputs, data_samples)
        inputs = self._with_mirror(inputs)
        if inputs.shape[0] != len(batch_img_metas):  # images + mirrors
            batch_img_metas = batch_img_metas * 2
        feats = self.extract_feat(inputs)
        seg_logits = self.seg_head.predict(
            feats, batch_img_metas,
            self.test_cfg) if self.with_seg_head else None
        depth = self.depth_head.predict(
            feats, batch_img_metas,
            self.test_cfg) if self.with_depth_head else None
        seg_logits, depth = self._merge_mirror(seg_logits, depth)
        return self.postprocess_result(seg_logits, data_samples, depth)

    @staticmethod
    def _restore_geometry(pred: Tensor, img_meta: dict,
                          align_corners: bool) -> Tensor:
        """Undo padding and test-time flip, resize to ``ori_shape``.

        Args:
            pred (Tensor): One sample's map ``(1, C, H_pad, W_pad)``.
            img_meta (dict): Its metainfo.
            align_corners (bool): ``align_corners`` of the bilinear resize.

        Returns:
            Tensor: ``(C, H_ori, W_ori)``.
        """
        # Padding is at the bottom / right (mmseg's ``stack_batch``).
        if 'img_shape' in img_meta:
            h, w = (int(s) for s in tuple(img_meta['img_shape'])[:2])
            pred = pred[:, :, :h, :w]
        if img_meta.get('flip', False):
            direction = img_meta.get('flip_direction', None)
            if direction == 'horizontal':
                pred = pred.flip(dims=(3, ))
            elif direction == 'vertical':
                pred = pred.flip(dims=(2, ))
            else:
                raise ValueError(
                    f"flip_direction must be 'horizontal' or 'vertical' "
                    f'when flip is True, got {direction!r} '
                    f"(image {img_meta.get('img_path')})")
        if 'ori_shape' in img_meta:
            ori_shape = tuple(int(s) for s in tuple(img_meta['ori_shape'])[:2])
            pred = resize(
                pred,
                size=ori_shape,
                mode='bilinear',
                align_corners=align_corners,
                warning=False)
        return pred.squeeze(0)

    def postprocess_result(self,
                           seg_logits: Optional[Tensor],
                           data_samples: OptSampleList = None,
                           depth: Optional[Tensor] = None) -> SampleList:
        """Fill the data samples with predictions at the original size.

        Extends ``BaseSegmentor.postprocess_result`` to depth: for each
        sample the padding is cropped using ``img_shape``, a test-time flip
        is undone and the maps are resized (bilinearly) to ``ori_shape``;
        depth in the space of ``test_cfg.depth_resize`` (with
        ``'disparity'``: ``1 / resize(1 / depth)``, positive depths).

        Args:
            seg_logits (Tensor, optional): ``(B, C, H, W)`` logits.
            data_samples (list[SegDataSample], optional): Samples whose
                metainfo describes the inputs; without them predictions are
                returned at the input size.
            depth (Tensor, optional): ``(B, 1, H, W)`` depth, metres.

        Returns:
            list[SegDataSample]: Samples with ``seg_logits``,
            ``pred_sem_seg`` and ``pred_depth_map`` for the maps given.
        """
        ref = seg_logits if seg_logits is not None else depth
        batch_size = ref.shape[0]
        if data_samples is None:
            data_samples = [SegDataSample() for _ in range(batch_size)]
        for i, data_sample in enumerate(data_samples):
            img_meta = data_sample.metainfo
            if seg_logits is not None:
                i_logits = self._restore_geometry(
                    seg_logits[i:i + 1], img_meta,
                    getattr(self.seg_head, 'align_corners', False))
                if i_logits.shape[0] > 1:
                    i_pred = i_logits.argmax(dim=0, keepdim=True)
                else:
                    i_logits = i_logits.sigmoid()
                    i_pred = (i_logits > getattr(self.seg_head, 'threshold',
                                                 0.5)).to(i_logits)
                data_sample.set_data({
                    'seg_logits': PixelData(data=i_logits),
                    'pred_sem_seg': PixelData(data=i_pred)
                })
            if depth is not None:
                in_disparity = self._test_option('depth_resize',
                                                 'depth') == 'disparity'
                i_depth = depth[i:i + 1]
                i_depth = self._restore_geometry(
                    1.0 / i_depth if in_disparity else i_depth, img_meta,
                    getattr(self.depth_head, 'align_corners', False))
                if in_disparity:
                    i_depth = 1.0 / i_depth
                data_sample.set_data(
                    {'pred_depth_map': PixelData(data=i_depth)})
        return data_samples
