# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Cityscapes with depth from disparity (and optional right views)."""
import os.path as osp
from typing import List, Optional, Sequence

import numpy as np
from mmseg.datasets import CityscapesDataset

from mmdepthseg.registry import DATASETS
from mmdepthseg.structures.camera import stereo_transform
from .base import BaseDepthSegDataset
from .cityscapes_io import read_cityscapes_camera
from .io import check_file_exists, list_dataset_images
from .validation import defect_guard


@DATASETS.register_module()
class CityscapesDepthSegDataset(BaseDepthSegDataset):
    """Cityscapes: 19-class segmentation, depth from disparity, stereo views.

    Reads the official layout (``docs/en/dataset_formats.md``), one sample
    per left image::

        leftImg8bit/<split>/<city>/<stem>_leftImg8bit.png
        rightImg8bit/<split>/<city>/<stem>_rightImg8bit.png
        disparity/<split>/<city>/<stem>_disparity.png   (uint16)
        camera/<split>/<city>/<stem>_camera.json
        gtFine/<split>/<city>/<stem>_gtFine_labelTrainIds.png (or _labelIds)

    Only ``img_path`` is required in ``data_prefix``; leave out
    ``seg_map_path`` for a depth-only source, ``disp_path`` for a seg-only
    source (both occur in SemiMTL), ``right_img_path`` unless ``views``
    includes ``'r'``. ``pseudo_depth_path`` + ``pseudo_conf_path`` (e.g.
    ``'pseudoDepth/train'``, ``'pseudoConf/train'``) add the stereo pseudo
    labels of every view (``pseudo_depth_paths``/``pseudo_conf_paths``,
    ``<stem>_leftPseudoDepth.png``/``_rightPseudoDepth.png`` and
    ``..._leftPseudoConf.png``/``_rightPseudoConf.png``, read by
    ``LoadPseudoDepth``). ``camera_path`` gives the intrinsics, the
    baseline and, with ``disp_path``, the depth (``depth = baseline * fx /
    disparity``, decoded by ``LoadDepthSegAnnotations``).

    Right views have no ground-truth labels; ``right_seg_map_path`` (e.g.
    ``'pseudoSeg/train'``, written by ``tools/generate_pseudo_seg.py`` from
    ``rightImg8bit``) adds pseudo labels for them
    (``<stem>_rightImg8bit.png``, trainIds), so a stereo sample carries a
    ``(2, H, W)`` ``gt_seg_map``: left ground truth, right pseudo labels
    (Pseudo-MTL, Table 1). Each map is mapped with its own format
    (``label_id_formats``).

    Args:
        data_root (str): The Cityscapes root.
        data_prefix (dict): Folders relative to ``data_root``; keys
            ``img_path``, ``seg_map_path``, ``disp_path``, ``camera_path``,
            ``right_img_path``, ``right_seg_map_path``,
            ``pseudo_depth_path``, ``pseudo_conf_path``.
        views (Sequence[str]): ``('l',)`` or ``('l', 'r')``.
        img_suffix (str): Defaults to ``'_leftImg8bit.png'``.
        right_img_suffix (str): Defaults to ``'_rightImg8bit.png'``.
        seg_map_suffix (str): ``'_gtFine_labelTrainIds.png'`` (default) or
            ``'_gtFine_labelIds.png'`` (mapped to trainIds by the loader).
        disp_suffix (str): Defaults to ``'_disparity.png'``.
        camera_suffix (str): Defaults to ``'_camera.json'``.
        label_id_format (str, optional): ``'trainIds'`` or a key of
            ``LABEL_LUTS`` (``'cityscapes_labelIds'``, and
            ``'cityscapes_labelIds_to_categories'`` for the 7 categories).
            None (default) infers it from ``seg_map_suffix`` (``labelIds``
            in the name -> labelIds).
        right_seg_map_suffix (str): Suffix of the right pseudo labels.
            Defaults to ``'_rightImg8bit.png'`` (the image name, as
            ``generate_pseudo_seg.py`` writes it).
        right_label_id_format (str): Format of the right pseudo labels:
            ``'trainIds'`` (default) or e.g.
            ``'cityscapes_trainIds_to_categories'``.
        **kwargs: Forwarded to :class:`mmengine.dataset.BaseDataset`.
    """

    METAINFO = CityscapesDataset.METAINFO

    def __init__(self,
                 data_root: str,
                 data_prefix: dict = dict(
                     img_path='leftImg8bit/train',
                     seg_map_path='gtFine/train',
                     disp_path='disparity/train',
                     camera_path='camera/train'),
                 views: Sequence[str] = ('l', ),
                 img_suffix: str = '_leftImg8bit.png',
                 right_img_suffix: str = '_rightImg8bit.png',
                 seg_map_suffix: str = '_gtFine_labelTrainIds.png',
                 disp_suffix: str = '_disparity.png',
                 camera_suffix: str = '_camera.json',
                 label_id_format: Optional[str] = None,
                 right_seg_map_suffix: str = '_rightImg8bit.png',
                 right_label_id_format: str = 'trainIds',
                 **kwargs) -> None:
        views = tuple(views)
        if views not in (('l', ), ('l', 'r')):
            raise ValueError(
                f"views must be ('l',) or ('l', 'r'), got {views}")
        self.check_img_prefix(data_prefix, 'leftImg8bit/train')
        if 'r' in views and 'right_img_path' not in data_prefix:
            raise KeyError(
                "views ('l', 'r') need data_prefix['right_img_path']"
                " (e.g. 'rightImg8bit/train')")
        if 'disp_path' in data_prefix and 'camera_path' not in data_prefix:
            raise KeyError('depth from disparity needs data_prefix'
                           "['camera_path'] (e.g. 'camera/train')")
        if ('pseudo_depth_path' in data_prefix) != ('pseudo_conf_path'
                                                    in data_prefix):
            raise KeyError("data_prefix needs both 'pseudo_depth_path' and "
                           "'pseudo_conf_path' (e.g. 'pseudoDepth/train' and "
                           "'pseudoConf/train') or neither")
        if label_id_format is None:
            label_id_format = 'cityscapes_labelIds' \
                if 'labelIds' in seg_map_suffix else 'trainIds'
        self.check_label_id_format(label_id_format)
        self.check_label_id_format(right_label_id_format,
                                   'right_label_id_format')
        if 'right_seg_map_path' in data_prefix and (
                'r' not in views or 'seg_map_path' not in data_prefix):
            raise KeyError("data_prefix['right_seg_map_path'] labels the "
                           "right view: it needs views ('l', 'r') and "
                           "data_prefix['seg_map_path'] for the left view")
        self.views = views
        self.img_suffix = img_suffix
        self.right_img_suffix = right_img_suffix
        self.seg_map_suffix = seg_map_suffix
        self.disp_suffix = disp_suffix
        self.camera_suffix = camera_suffix
        self.label_id_format = label_id_format
        self.right_seg_map_suffix = right_seg_map_suffix
        self.right_label_id_format = right_label_id_format
        super().__init__(
            data_root=data_root, data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Scan ``img_path`` and build one data info per left image.

        Returns:
            list[dict]: Entries with ``img_path``, ``img_paths``,
            ``view_names``, ``city``, ``frame_stem``, and where available
            ``intrinsics``, ``baseline``/``stereo_T`` (stereo views),
            ``seg_map_paths`` + ``label_id_format`` (``label_id_formats``
            with right pseudo labels), and disparity depth
            inputs (``depth_map_paths``, ``depth_format='disparity'``,
            ``disp_to_depth = baseline * fx``) and stereo pseudo labels
            (``pseudo_depth_paths``, ``pseudo_conf_paths``).
        """
        prefix = self.data_prefix
        img_dir = prefix['img_path']
        rel_paths = list_dataset_images(self.data_root, prefix,
                                        self.img_suffix, 'Cityscapes')

        num_classes = self.num_classes_or_none
        data_list = []
        for rel in rel_paths:
            with defect_guard(osp.join(img_dir, rel)):
                data_list.append(self._sample_info(rel, num_classes))
        return data_list

    def _sample_info(self, rel: str, num_classes: Optional[int]) -> dict:
        """The data info of the left image ``img_dir/rel``."""
        prefix = self.data_prefix
        img_dir = prefix['img_path']
        stem = rel[:-len(self.img_suffix)]
        img_paths = [osp.join(img_dir, rel)]
        if 'r' in self.views:
            img_paths.append(
                osp.join(prefix['right_img_path'],
                         stem + self.right_img_suffix))
        for path in img_paths[1:]:
            check_file_exists(path, 'right image')
        info = dict(
            img_path=img_paths[0],
            img_paths=img_paths,
            view_names=self.views,
            city=osp.dirname(stem),
            frame_stem=osp.basename(stem),
            reduce_zero_label=False,
            num_classes=num_classes,
            seg_fields=[],
            depth_fields=[])
        if 'seg_map_path' in prefix:
            seg_path = osp.join(prefix['seg_map_path'],
                                stem + self.seg_map_suffix)
            check_file_exists(seg_path, 'segmentation label')
            info['seg_map_paths'] = [seg_path]
            info['label_id_format'] = self.label_id_format
            if 'right_seg_map_path' in prefix:
                right_seg = osp.join(prefix['right_seg_map_path'],
                                     stem + self.right_seg_map_suffix)
                check_file_exists(right_seg, 'right pseudo label')
                info['seg_map_paths'].append(right_seg)
                info['label_id_formats'] = [
                    self.label_id_format, self.right_label_id_format
                ]
        if 'pseudo_depth_path' in prefix:
            sides = ['left' if v == 'l' else 'right' for v in self.views]
            info['pseudo_depth_paths'] = [
                osp.join(prefix['pseudo_depth_path'],
                         f'{stem}_{side}PseudoDepth.png') for side in sides
            ]
            info['pseudo_conf_paths'] = [
                osp.join(prefix['pseudo_conf_path'],
                         f'{stem}_{side}PseudoConf.png') for side in sides
            ]
        if 'camera_path' in prefix:
            cam = read_cityscapes_camera(
                osp.join(prefix['camera_path'], stem + self.camera_suffix))
            info['intrinsics'] = np.array(
                [[cam['fx'], 0, cam['u0']], [0, cam['fy'], cam['v0']],
                 [0, 0, 1]],
                dtype=np.float32)
            info['intrinsics_normalised'] = False
            # the rig's baseline: disparity metrics need it even when
            # only the left view is loaded
            info['baseline'] = cam['baseline']
            if 'r' in self.views:
                info['stereo_T'] = stereo_transform(cam['baseline'], 'l')
            if 'disp_path' in prefix:
                disp_path = osp.join(prefix['disp_path'],
                                     stem + self.disp_suffix)
                check_file_exists(disp_path, 'disparity map')
                info['depth_map_paths'] = [disp_path]
                info['depth_format'] = 'disparity'
                info['disp_to_depth'] = cam['baseline'] * cam['fx']
        return info
