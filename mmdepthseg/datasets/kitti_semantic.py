# Copyright (c) mmdepthseg contributors. All rights reserved.
"""KITTI 2015 semantic segmentation benchmark (evaluation of FSRE, Table 2)."""
import os.path as osp
from typing import List

from mmseg.datasets import CityscapesDataset

from mmdepthseg.registry import DATASETS
from .base import BaseDepthSegDataset
from .io import check_file_exists, list_dataset_images
from .validation import defect_guard


@DATASETS.register_module()
class KittiSemanticDataset(BaseDepthSegDataset):
    """The 200 labelled training images of the KITTI 2015 semantic benchmark.

    Reads the official layout (``docs/en/dataset_formats.md``), one sample
    per image::

        training/image_2/<NNNNNN>_10.png
        training/semantic/<NNNNNN>_10.png   (Cityscapes labelIds, uint8)

    The labels use Cityscapes' labelIds and are mapped to the 19 trainIds
    (255 = ignore) by ``LoadDepthSegAnnotations`` through
    ``label_id_format``. The benchmark ships no calibration, so samples
    carry no ``intrinsics``: it is meant for segmentation evaluation only
    (the transforms and the models' ``predict`` do not need them).

    Args:
        data_root (str): The KITTI 2015 root (holding ``training/``).
        data_prefix (dict): Folders relative to ``data_root``; keys
            ``img_path`` (required) and ``seg_map_path`` (leave it out to
            get images only).
        img_suffix (str): Image file suffix. Defaults to ``'_10.png'``.
        seg_map_suffix (str): Label file suffix. Defaults to ``'_10.png'``.
        label_id_format (str): How labels are stored: a key of
            :data:`~mmdepthseg.datasets.utils.LABEL_LUTS` or ``'trainIds'``.
            Defaults to ``'cityscapes_labelIds'``.
        **kwargs: Forwarded to :class:`mmengine.dataset.BaseDataset`.
    """

    METAINFO = CityscapesDataset.METAINFO

    def __init__(self,
                 data_root: str,
                 data_prefix: dict = dict(
                     img_path='training/image_2',
                     seg_map_path='training/semantic'),
                 img_suffix: str = '_10.png',
                 seg_map_suffix: str = '_10.png',
                 label_id_format: str = 'cityscapes_labelIds',
                 **kwargs) -> None:
        self.check_img_prefix(data_prefix, 'training/image_2')
        self.check_label_id_format(label_id_format)
        self.img_suffix = img_suffix
        self.seg_map_suffix = seg_map_suffix
        self.label_id_format = label_id_format
        super().__init__(
            data_root=data_root, data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Scan ``img_path`` and build one data info per image.

        Returns:
            list[dict]: Entries with ``img_path``, ``img_paths`` (one view),
            ``view_names`` (``('l',)``), ``frame_stem`` (e.g.
            ``'000000'``) and, with ``seg_map_path``, ``seg_map_paths`` +
            ``label_id_format``. No ``intrinsics``.
        """
        prefix = self.data_prefix
        img_dir = prefix['img_path']
        names = list_dataset_images(
            self.data_root,
            prefix,
            self.img_suffix,
            'KITTI 2015 semantic',
            recursive=False)

        num_classes = self.num_classes_or_none
        data_list = []
        for name in names:
            stem = name[:-len(self.img_suffix)]
            img_path = osp.join(img_dir, name)
            info = dict(
                img_path=img_path,
                img_paths=[img_path],
                view_names=('l', ),
                frame_stem=stem,
                reduce_zero_label=False,
                num_classes=num_classes,
                seg_fields=[],
                depth_fields=[])
            with defect_guard(img_path):
                if 'seg_map_path' in prefix:
                    seg_path = osp.join(prefix['seg_map_path'],
                                        stem + self.seg_map_suffix)
                    check_file_exists(seg_path, 'KITTI 2015 semantic label')
                    info['seg_map_paths'] = [seg_path]
                    info['label_id_format'] = self.label_id_format
                data_list.append(info)
        return data_list
