# Copyright (c) mmdepthseg contributors. All rights reserved.
"""ISPRS Potsdam and Vaihingen: 6-class segmentation and nDSM height.

Reads the patch layout written by ``tools/dataset_converters/isprs.py``
(:mod:`mmdepthseg.converters.isprs`): MMSegmentation's
``img_dir`` / ``ann_dir`` tree plus an ``ndsm_dir`` of 16-bit nDSM PNGs.
"""
import os.path as osp
from typing import List, Optional, Tuple

import numpy as np
from mmseg.datasets import PotsdamDataset

from mmdepthseg.registry import DATASETS
from .base import BaseDepthSegDataset
from .io import check_file_exists, list_dataset_images
from .label_tables import register_label_table
from .validation import defect_guard

#: The 6 ISPRS classes and their colours (RGB) in the label tiles, in
#: training-label order 0..5 (MMSegmentation's ``PotsdamDataset`` /
#: ``ISPRSDataset`` metainfo).
ISPRS_METAINFO: dict = PotsdamDataset.METAINFO
ISPRS_CLASSES: Tuple[str, ...] = tuple(ISPRS_METAINFO['classes'])
ISPRS_COLOURS: Tuple[Tuple[int, int, int],
                     ...] = tuple(tuple(c) for c in ISPRS_METAINFO['palette'])

#: ``label_id_format`` of the converted ``ann_dir`` maps. They follow
#: MMSegmentation's ISPRS converters: 0 = boundary / unknown colour
#: (ignored), 1..6 = the classes (``reduce_zero_label=True`` there), so
#: MMSegmentation's own ``PotsdamDataset`` reads the same tree. This table
#: maps stored ``k`` in 1..6 to class ``k - 1`` and everything else to 255.
ISPRS_LABEL_FORMAT = 'isprs_reduce_zero'
_ISPRS_LUT = np.full(256, 255, dtype=np.uint8)
_ISPRS_LUT[1:len(ISPRS_CLASSES) + 1] = np.arange(len(ISPRS_CLASSES))
# ``LoadDepthSegAnnotations`` maps labels through the named tables of
# ``datasets.label_tables.LABEL_LUTS``; the ISPRS table (stored ids 0..6) is
# registered here.
register_label_table(ISPRS_LABEL_FORMAT, _ISPRS_LUT,
                     range(len(ISPRS_CLASSES) + 1))

#: nDSM PNG encoding (``ndsm_dir``): uint16 ``p = round((h + OFFSET) *
#: SCALE)`` for the normalised height ``h`` in [0, 1], ``p = 0`` where the
#: nDSM is invalid (no data, padding). ``LoadDepthSegAnnotations``
#: (``depth_format='png'``, ``depth_scale=SCALE``) therefore yields ``h +
#: 1`` in [1, 2] with 0 = invalid, so ground (``h = 0``) stays
#: distinguishable from invalid pixels. The offset travels with every
#: sample as ``depth_offset``: the depth target is ``loaded -
#: depth_offset`` where ``loaded > 0`` and invalid (NaN) elsewhere.
NDSM_PNG_SCALE = 32767.0
NDSM_PNG_OFFSET = 1.0


def encode_ndsm_png(ndsm: np.ndarray,
                    valid: Optional[np.ndarray] = None) -> np.ndarray:
    """Normalised nDSM in [0, 1] -> uint16 PNG values (see above).

    Args:
        ndsm (np.ndarray): (H, W) float heights, normalised to [0, 1]
            (values outside are clipped).
        valid (np.ndarray, optional): (H, W) bool, False where the nDSM is
            invalid. Defaults to the finite pixels of ``ndsm``.

    Returns:
        np.ndarray: (H, W) uint16; ``p = round((h + 1) * 32767)`` in
        [32767, 65534], 0 = invalid.
    """
    ndsm = np.asarray(ndsm, dtype=np.float64)
    ok = np.isfinite(ndsm)
    if valid is not None:
        ok &= np.asarray(valid, dtype=bool)
    h = np.clip(np.where(ok, ndsm, 0.0), 0.0, 1.0)
    p = np.rint((h + NDSM_PNG_OFFSET) * NDSM_PNG_SCALE)
    return np.where(ok, p, 0).astype(np.uint16)


def decode_ndsm_png(png: np.ndarray) -> np.ndarray:
    """uint16 nDSM PNG values -> normalised height, NaN where invalid.

    Args:
        png (np.ndarray): (H, W) uint16 values of an ``ndsm_dir`` PNG.

    Returns:
        np.ndarray: (H, W) float32 heights in [0, 1], NaN where ``p = 0``.
    """
    png = np.asarray(png)
    h = png.astype(
        np.float32) / np.float32(NDSM_PNG_SCALE) - np.float32(NDSM_PNG_OFFSET)
    return np.where(png > 0, np.clip(h, 0, 1), np.nan).astype(np.float32)


@DATASETS.register_module()
class ISPRSDepthSegDataset(BaseDepthSegDataset):
    """ISPRS Potsdam / Vaihingen patches: 6 classes and the nDSM (SemiMTL).

    Reads the converted layout (``tools/dataset_converters/isprs.py``, see
    ``docs/en/dataset_formats.md``), one sample per 512x512 patch::

        img_dir/<split>/<tile>_<r>_<c>.png   IRRG / NIRRG patch (3 channels)
        ann_dir/<split>/<tile>_<r>_<c>.png   uint8, 0 ignore, 1..6 classes
        ndsm_dir/<split>/<tile>_<r>_<c>.png  uint16 nDSM, see below

    (``<r>``, ``<c>``: row and column of the patch's top-left pixel in the
    resampled tile.) Leave ``seg_map_path`` out of ``data_prefix`` for a
    height-only source and ``depth_map_path`` for a segmentation-only one
    (SemiMTL's Table 2 trains on Potsdam labels and Vaihingen heights).
    Every listed file must exist; a missing one raises
    ``FileNotFoundError`` naming it.

    Image: the three stored channels are (IR, R, G) for both cities; they
    are loaded like an RGB image (``LoadMultiViewImages``), so after the
    data preprocessor's BGR->RGB swap the network sees IR, R, G in that
    order.

    Labels: ``label_id_format='isprs_reduce_zero'`` maps stored 1..6 to
    classes 0..5 (:data:`ISPRS_CLASSES`) and 0 (boundary, unknown colour)
    to 255; ``'trainIds'`` reads maps that already hold 0..5 / 255.

    Height: ``depth_format='png'`` with ``depth_scale=32767``:
    ``LoadDepthSegAnnotations`` yields ``gt_depth_map = h + depth_offset``
    (``depth_offset = 1``, see :data:`NDSM_PNG_OFFSET`), with ``h`` the nDSM
    normalised to [0, 1] by the converter and 0 for invalid pixels. Every
    sample carries ``depth_offset`` so that the SemiMTL target (``h``,
    NaN invalid) is ``gt_depth_map - depth_offset`` on the pixels > 0.

    Samples are orthophotos: no intrinsics, one view ``('l',)``.

    Args:
        data_root (str): Root of one converted city.
        data_prefix (dict): Folders relative to ``data_root``: ``img_path``
            (required), ``seg_map_path``, ``depth_map_path``.
        city (str, optional): Name stored in every sample's ``city`` (e.g.
            ``'potsdam'``). Defaults to the data root's folder name.
        img_suffix (str): Defaults to ``'.png'``.
        seg_map_suffix (str): Defaults to ``'.png'``.
        depth_map_suffix (str): Defaults to ``'.png'``.
        label_id_format (str): ``'isprs_reduce_zero'`` (default),
            ``'trainIds'`` or another table of ``LABEL_LUTS``.
        depth_scale (float): nDSM PNG units per normalised-height unit.
            Defaults to 32767 (:data:`NDSM_PNG_SCALE`).
        depth_offset (float): Offset stored in the nDSM PNGs. Defaults to
            1 (:data:`NDSM_PNG_OFFSET`).
        **kwargs: Forwarded to :class:`mmengine.dataset.BaseDataset`.
    """

    METAINFO = ISPRS_METAINFO

    def __init__(self,
                 data_root: str,
                 data_prefix: dict = dict(
                     img_path='img_dir/train',
                     seg_map_path='ann_dir/train',
                     depth_map_path='ndsm_dir/train'),
                 city: Optional[str] = None,
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '.png',
                 depth_map_suffix: str = '.png',
                 label_id_format: str = ISPRS_LABEL_FORMAT,
                 depth_scale: float = NDSM_PNG_SCALE,
                 depth_offset: float = NDSM_PNG_OFFSET,
                 **kwargs) -> None:
        self.check_img_prefix(data_prefix, 'img_dir/train')
        self.check_label_id_format(label_id_format)
        self.check_positive_arg(depth_scale, 'depth_scale')
        if not depth_offset > 0:
            raise ValueError('depth_offset must be > 0 (0 marks invalid '
                             f'pixels), got {depth_offset}')
        self.city = city or osp.basename(osp.normpath(data_root))
        self.img_suffix = img_suffix
        self.seg_map_suffix = seg_map_suffix
        self.depth_map_suffix = depth_map_suffix
        self.label_id_format = label_id_format
        self.depth_scale = float(depth_scale)
        self.depth_offset = float(depth_offset)
        super().__init__(
            data_root=data_root, data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Scan ``img_path`` and build one data info per patch.

        Returns:
            list[dict]: Entries with ``img_path``, ``img_paths``,
            ``view_names`` (``('l',)``), ``city``, ``frame_stem`` (the
            patch name), ``tile``, and where available ``seg_map_paths`` +
            ``label_id_format`` and ``depth_map_paths`` +
            ``depth_format='png'`` + ``depth_scale`` + ``depth_offset``.
        """
        what = f'ISPRS ({self.city})'
        prefix = self.data_prefix
        img_dir = prefix['img_path']
        rel_paths = list_dataset_images(
            self.data_root,
            prefix,
            self.img_suffix,
            what,
            folders=(('seg_map_path', 'label folder'), ('depth_map_path',
                                                        'nDSM folder')))

        num_classes = self.num_classes_or_none
        data_list = []
        for rel in rel_paths:
            with defect_guard(osp.join(img_dir, rel)):
                stem = rel[:-len(self.img_suffix)]
                img_path = osp.join(img_dir, rel)
                name = osp.basename(stem)
                info = dict(
                    img_path=img_path,
                    img_paths=[img_path],
                    view_names=('l', ),
                    city=self.city,
                    frame_stem=name,
                    tile=name.rsplit('_', 2)[0],
                    reduce_zero_label=False,
                    num_classes=num_classes,
                    seg_fields=[],
                    depth_fields=[])
                if 'seg_map_path' in prefix:
                    path = osp.join(prefix['seg_map_path'],
                                    stem + self.seg_map_suffix)
                    check_file_exists(path,
                                      f'{what} label patch of {img_path}')
                    info['seg_map_paths'] = [path]
                    info['label_id_format'] = self.label_id_format
                if 'depth_map_path' in prefix:
                    path = osp.join(prefix['depth_map_path'],
                                    stem + self.depth_map_suffix)
                    check_file_exists(path, f'{what} nDSM patch of {img_path}')
                    info['depth_map_paths'] = [path]
                    info['depth_format'] = 'png'
                    info['depth_scale'] = self.depth_scale
                    info['depth_offset'] = self.depth_offset
                data_list.append(info)
        return data_list


@DATASETS.register_module()
class PotsdamDepthSegDataset(ISPRSDepthSegDataset):
    """ISPRS Potsdam patches (IRRG, resampled to 9 cm by the converter).

    :class:`ISPRSDepthSegDataset` with ``city='potsdam'``.
    """

    def __init__(self,
                 data_root: str,
                 city: str = 'potsdam',
                 **kwargs) -> None:
        super().__init__(data_root=data_root, city=city, **kwargs)


@DATASETS.register_module()
class VaihingenDepthSegDataset(ISPRSDepthSegDataset):
    """ISPRS Vaihingen patches (NIRRG, 9 cm).

    :class:`ISPRSDepthSegDataset` with ``city='vaihingen'``.
    """

    def __init__(self,
                 data_root: str,
                 city: str = 'vaihingen',
                 **kwargs) -> None:
        super().__init__(data_root=data_root, city=city, **kwargs)
