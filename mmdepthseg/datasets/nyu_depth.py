# Copyright (c) mmdepthseg contributors. All rights reserved.
"""NYU Depth v2 in MMSegmentation's layout, with 40-class labels."""
import colorsys
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np

from mmdepthseg.registry import DATASETS
from .base import BaseDepthSegDataset
from .io import check_file_exists, list_dataset_images
from .validation import check_intrinsics, defect_guard

#: The 40 classes of Gupta et al. (NYUv2-40) in id order: stored id ``k``
#: (1..40) is training label ``k - 1``; names (including "refridgerator")
#: as in the published list.
NYU40_CLASSES: Tuple[str,
                     ...] = ('wall', 'floor', 'cabinet', 'bed', 'chair',
                             'sofa', 'table', 'door', 'window', 'bookshelf',
                             'picture', 'counter', 'blinds', 'desk', 'shelves',
                             'curtain', 'dresser', 'pillow', 'mirror',
                             'floor mat', 'clothes', 'ceiling', 'books',
                             'refridgerator', 'television', 'paper', 'towel',
                             'shower curtain', 'box', 'whiteboard', 'person',
                             'night stand', 'toilet', 'sink', 'lamp',
                             'bathtub', 'bag', 'otherstructure',
                             'otherfurniture', 'otherprop')


def _nyu40_palette() -> List[List[int]]:
    """40 distinct RGB colours: golden-ratio hues, alternating saturation
    and value."""
    palette = []
    for i in range(len(NYU40_CLASSES)):
        hue = (i * 0.6180339887) % 1.0
        sat = 0.45 + 0.45 * ((i * 3) % 4) / 3
        val = 0.55 + 0.4 * ((i * 5) % 3) / 2
        palette.append(
            [int(round(255 * c)) for c in colorsys.hsv_to_rgb(hue, sat, val)])
    return palette


NYU40_PALETTE: List[List[int]] = _nyu40_palette()

#: ``label_id_format`` of label maps holding NYUv2-40 ids (0 = unlabelled,
#: 1..40 = classes): mapped to 0..39 with 255 for unlabelled.
NYU40_LABEL_FORMAT = 'nyu40_labelIds'

#: NYU Depth v2's Kinect colour camera (pixels, 640x480 frame; the NYU
#: toolbox's ``camera_params.m``).
NYU_KINECT_INTRINSICS = (
    (518.857901, 0.0, 325.582449),
    (0.0, 519.469611, 253.736166),
    (0.0, 0.0, 1.0),
)
#: (h, w) of the frames the intrinsics are given for.
NYU_IMAGE_SIZE = (480, 640)


@DATASETS.register_module()
class NYUDepthSegDataset(BaseDepthSegDataset):
    """NYU Depth v2: depth and 40-class segmentation, one (monocular) view.

    Reads MMSegmentation's NYU layout (``mmseg.datasets.NYUDataset``, made
    by its ``tools/dataset_converters/nyu.py``) plus a parallel label
    folder for the 40 classes (``docs/en/dataset_formats.md``), one sample
    per image::

        images/<split>/<stem>.jpg       colour (e.g. bedroom_0001_00045)
        annotations/<split>/<stem>.png  uint16 depth, millimetres (0 invalid)
        labels40/<split>/<stem>.png     uint8 NYUv2-40 ids (0 unlabelled)

    Leave ``seg_map_path`` out of ``data_prefix`` for a depth-only source
    (MMSegmentation's layout has no labels) and ``depth_map_path`` for a
    segmentation-only one. Every listed file must exist; a missing one
    raises ``FileNotFoundError`` naming it.

    Labels: ``label_id_format='nyu40_labelIds'`` (default) maps stored id
    ``k`` in 1..40 to class ``k - 1`` (:data:`NYU40_CLASSES`) and 0
    ("unlabelled") to 255 (ignored); ids above 40 are a defect of the file
    (``LoadDepthSegAnnotations(invalid_label=...)``: an error, or 255 with
    a warning); ``'trainIds'`` reads maps that already hold 0..39 / 255.

    Depth: ``depth_format='png'`` with ``depth_scale`` (PNG units per
    metre), decoded to metres by ``LoadDepthSegAnnotations``.

    Intrinsics: the Kinect's (:data:`NYU_KINECT_INTRINSICS` for 640x480)
    unless given. They travel normalised by ``intrinsics_size``
    (``intrinsics_normalised=True``), so ``LoadMultiViewImages`` scales
    row 0 by the loaded width and row 1 by the height: exact at the
    calibrated size, and what the synthetic NYU writer renders with at
    other sizes (:func:`~mmdepthseg.synthetic.nyu_intrinsics`).
    SOSD-Net's protocol evaluates depth over all valid pixels of the test
    set on the whole frame: ``DepthMetric(max_depth=10,
    aggregation='pooled')``; the common per-image protocol adds Eigen's NYU
    crop (``crop='nyu'``).

    ``tools/dataset_converters/nyu.py`` writes this layout (stems
    ``0001``..``1449``, the official 795 / 654 split) from the labelled
    release ``nyu_depth_v2_labeled.mat``.

    Args:
        data_root (str): The dataset root.
        data_prefix (dict): Folders relative to ``data_root``: ``img_path``
            (required), ``depth_map_path``, ``seg_map_path``.
        img_suffix (str): Defaults to ``'.jpg'``.
        depth_map_suffix (str): Defaults to ``'.png'``.
        seg_map_suffix (str): Defaults to ``'.png'``.
        depth_scale (float): Depth PNG units per metre. Defaults to 1000.
        label_id_format (str): ``'nyu40_labelIds'`` (default) or
            ``'trainIds'`` (or any table of ``LABEL_LUTS``).
        intrinsics (Sequence, optional): (3, 3) pixel intrinsics for
            ``intrinsics_size``. Defaults to the Kinect's.
        intrinsics_size (tuple[int, int]): (h, w) the intrinsics are given
            for. Defaults to (480, 640).
        **kwargs: Forwarded to :class:`mmengine.dataset.BaseDataset`.
    """

    METAINFO = dict(classes=NYU40_CLASSES, palette=NYU40_PALETTE)

    def __init__(self,
                 data_root: str,
                 data_prefix: dict = dict(
                     img_path='images/train',
                     depth_map_path='annotations/train',
                     seg_map_path='labels40/train'),
                 img_suffix: str = '.jpg',
                 depth_map_suffix: str = '.png',
                 seg_map_suffix: str = '.png',
                 depth_scale: float = 1000.0,
                 label_id_format: str = NYU40_LABEL_FORMAT,
                 intrinsics: Optional[Sequence] = None,
                 intrinsics_size: Tuple[int, int] = NYU_IMAGE_SIZE,
                 **kwargs) -> None:
        self.check_img_prefix(data_prefix, 'images/train')
        self.check_label_id_format(label_id_format)
        self.check_positive_arg(depth_scale, 'depth_scale')
        k = np.array(
            NYU_KINECT_INTRINSICS if intrinsics is None else intrinsics,
            dtype=np.float32)
        if k.shape != (3, 3):
            raise ValueError(f'intrinsics must be 3x3, got shape {k.shape}')
        check_intrinsics(k, 'NYUDepthSegDataset(intrinsics=...)')
        h, w = intrinsics_size
        if not (h > 0 and w > 0):
            raise ValueError('intrinsics_size must be (h, w) > 0, got '
                             f'{intrinsics_size}')
        k[0] /= w
        k[1] /= h
        self.normalised_intrinsics = k
        self.img_suffix = img_suffix
        self.depth_map_suffix = depth_map_suffix
        self.seg_map_suffix = seg_map_suffix
        self.depth_scale = float(depth_scale)
        self.label_id_format = label_id_format
        super().__init__(
            data_root=data_root, data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Scan ``img_path`` and build one data info per image.

        Returns:
            list[dict]: Entries with ``img_path``, ``img_paths``,
            ``view_names`` (``('l',)``), ``frame_stem``, ``intrinsics``
            (normalised) + ``intrinsics_normalised``, and where available
            ``depth_map_paths`` + ``depth_format='png'`` + ``depth_scale``
            and ``seg_map_paths`` + ``label_id_format``.
        """
        prefix = self.data_prefix
        img_dir = prefix['img_path']
        rel_paths = list_dataset_images(
            self.data_root,
            prefix,
            self.img_suffix,
            'NYUv2',
            folders=(('depth_map_path', 'depth folder'), ('seg_map_path',
                                                          'label folder')))

        num_classes = self.num_classes_or_none
        data_list = []
        for rel in rel_paths:
            with defect_guard(osp.join(img_dir, rel)):
                stem = rel[:-len(self.img_suffix)]
                img_path = osp.join(img_dir, rel)
                info = dict(
                    img_path=img_path,
                    img_paths=[img_path],
                    view_names=('l', ),
                    frame_stem=osp.basename(stem),
                    intrinsics=self.normalised_intrinsics.copy(),
                    intrinsics_normalised=True,
                    reduce_zero_label=False,
                    num_classes=num_classes,
                    seg_fields=[],
                    depth_fields=[])
                if 'depth_map_path' in prefix:
                    path = osp.join(prefix['depth_map_path'],
                                    stem + self.depth_map_suffix)
                    check_file_exists(path, f'NYUv2 depth map of {img_path}')
                    info['depth_map_paths'] = [path]
                    info['depth_format'] = 'png'
                    info['depth_scale'] = self.depth_scale
                if 'seg_map_path' in prefix:
                    path = osp.join(prefix['seg_map_path'],
                                    stem + self.seg_map_suffix)
                    check_file_exists(path, f'NYUv2 label map of {img_path}')
                    info['seg_map_paths'] = [path]
                    info['label_id_format'] = self.label_id_format
                data_list.append(info)
        return data_list
