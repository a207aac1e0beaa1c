# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Write the test predictions to files (``tools/test.py --out DIR``)."""
import io
import json
import os.path as osp
from typing import Optional, Sequence

import cv2
import numpy as np
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmseg.datasets import CityscapesDataset

from mmdepthseg.datasets.png_codecs import encode_depth_png
from mmdepthseg.datasets.utils import CITYSCAPES_LABEL_ID_TO_TRAIN_ID
from mmdepthseg.registry import HOOKS
from mmdepthseg.utils.io import atomic_write_bytes, atomic_write_text
from .visualization_hook import DepthSegVisualizationHook

#: Depth file formats of :class:`DepthSegPredictionWriterHook`.
DEPTH_FORMATS = ('png', 'npy')


def train_id_to_label_id_lut(ignore_label_id: int = 0) -> np.ndarray:
    """Cityscapes trainId (0..18, 255) -> labelId lookup table (256
    entries); unknown ids become ``ignore_label_id`` (0, 'unlabeled')."""
    lut = np.full(256, ignore_label_id, dtype=np.uint8)
    for label_id, train_id in CITYSCAPES_LABEL_ID_TO_TRAIN_ID.items():
        if train_id != 255:
            lut[train_id] = label_id
    return lut


def _png_bytes(array: np.ndarray, path: str) -> bytes:
    ok, buf = cv2.imencode('.png', array)
    if not ok:
        raise OSError(f'encoding {path} as PNG failed')
    return buf.tobytes()


@HOOKS.register_module()
class DepthSegPredictionWriterHook(Hook):
    """Save every test prediction, and the metrics, under ``out_dir``.

    For each test image, with ``<rel>`` its path below the dataset's
    ``data_root`` without extension (the tree of ``--show-dir``):

    - ``depth/<rel>.png``: the predicted depth as a 16-bit PNG in KITTI's
      depth-benchmark encoding (``round(depth * 256)``, 0 = no depth);
      models that regress inverse depth (``depth_from_inverse``) are
      converted to depth first. Read back with
      :func:`mmdepthseg.datasets.png_codecs.decode_depth_png`.
    - ``depth/<rel>.npy``: ``pred_depth_map`` exactly as evaluated
      (float32, the model's output space).
    - ``seg/<rel>.png``: the predicted class ids (trainIds for Cityscapes),
      uint8.
    - ``seg_labelIds/<rel>.png``: for datasets with Cityscapes' 19 classes
      (Cityscapes, KITTI semantics), the Cityscapes labelIds that the
      benchmark servers take.
    - ``metrics.json``: the test metrics.

    Args:
        out_dir (str): Output folder.
        depth_formats (Sequence[str]): Any of ``'png'``, ``'npy'``.
            Defaults to both.
        depth_from_inverse (float, optional): The depth head predicts
            ``depth_from_inverse / depth`` (SemiMTL's ``DepthTargetTransform``
            with ``mode='inverse'``): the PNG stores
            ``depth_from_inverse / prediction``. Defaults to None.
        label_ids (bool, optional): Write ``seg_labelIds``. Defaults to None:
            when the test dataset's classes are Cityscapes' 19.
    """

    priority = 'LOW'

    def __init__(self,
                 out_dir: str,
                 depth_formats: Sequence[str] = DEPTH_FORMATS,
                 depth_from_inverse: Optional[float] = None,
                 label_ids: Optional[bool] = None) -> None:
        unknown = set(depth_formats) - set(DEPTH_FORMATS)
        if unknown:
            raise ValueError(f'depth_formats must be among {DEPTH_FORMATS}, '
                             f'got {sorted(unknown)}')
        self.out_dir = out_dir
        self.depth_formats = tuple(depth_formats)
        self.depth_from_inverse = depth_from_inverse
        self.label_ids = label_ids
        self._lut = train_id_to_label_id_lut()
        self._data_root: Optional[str] = None
        self.num_written = 0

    def before_test(self, runner) -> None:
        self._data_root = DepthSegVisualizationHook._data_root(runner, 'test')
        if self.label_ids is None:
            meta = getattr(runner.test_dataloader.dataset, 'metainfo', {})
            classes = tuple(meta.get('classes') or ())
            self.label_ids = classes == tuple(
                CityscapesDataset.METAINFO['classes'])

    def _depth_for_png(self, depth: np.ndarray) -> np.ndarray:
        if self.depth_from_inverse is None:
            return depth
        return np.where(depth > 0,
                        self.depth_from_inverse / np.maximum(depth, 1e-12),
                        0.)

    def after_test_iter(self,
                        runner,
                        batch_idx: int,
                        data_batch=None,
                        outputs=None) -> None:
        for sample in outputs or []:
            rel = DepthSegVisualizationHook._relative_stem(
                sample.img_path, self._data_root)
            if 'pred_depth_map' in sample:
                depth = sample.pred_depth_map.data[0].float().cpu().numpy()
                path = osp.join(self.out_dir, 'depth', rel)
                if 'npy' in self.depth_formats:
                    buf = io.BytesIO()
                    np.save(buf, depth.astype(np.float32))
                    atomic_write_bytes(path + '.npy', buf.getvalue())
                if 'png' in self.depth_formats:
                    atomic_write_bytes(
                        path + '.png',
                        _png_bytes(
                            encode_depth_png(
                                self._depth_for_png(depth), saturate=True),
                            path))
            if 'pred_sem_seg' in sample:
                label = sample.pred_sem_seg.data[0].cpu().numpy()
                if label.max(initial=0) > 255 or label.min(initial=0) < 0:
                    raise ValueError(
                        f'{sample.img_path}: class ids outside 0..255 do not '
                        'fit a uint8 PNG')
                label = label.astype(np.uint8)
                path = osp.join(self.out_dir, 'seg', rel + '.png')
                atomic_write_bytes(path, _png_bytes(label, path))
                if self.label_ids:
                    path = osp.join(self.out_dir, 'seg_labelIds',
                                    rel + '.png')
                    atomic_write_bytes(path,
                                       _png_bytes(self._lut[label], path))
            self.num_written += 1

    def after_test_epoch(self, runner, metrics: Optional[dict] = None) -> None:
        if not is_main_process():
            return
        values = {
            k: (float(v) if isinstance(v, (int, float, np.floating,
                                           np.integer)) else str(v))
            for k, v in (metrics or {}).items()
        }
        atomic_write_text(
            osp.join(self.out_dir, 'metrics.json'),
            json.dumps(values, indent=2) + '\n')
        runner.logger.info(f'predictions and metrics written to '
                           f'{self.out_dir}')
