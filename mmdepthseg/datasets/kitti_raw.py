# Copyright (c) mmdepthseg contributors. All rights reserved.
"""KITTI raw (monodepth2 splits): monocular video / stereo samples."""
import os.path as osp
from typing import Dict, FrozenSet, List, Optional, Sequence, Tuple, Union

import mmengine.fileio as fileio
import numpy as np
from mmengine.logging import print_log
from mmseg.datasets import CityscapesDataset

from mmdepthseg.registry import DATASETS
from mmdepthseg.structures.camera import stereo_transform
from mmdepthseg.structures.views import view_names_for_frame_ids
from .base import BaseDepthSegDataset
from .io import DATASET_PREP_HINT, check_file_exists
from .kitti_io import (KITTI_GT_DEPTH_KINDS, check_kitti_split_folders,
                       kitti_improved_gt_path, kitti_stereo_baseline,
                       kitti_velo_to_image, load_kitti_calib,
                       read_kitti_split_lines)
from .validation import DatasetError, defect_guard

#: monodepth2's normalised intrinsics (row 0 times width, row 1 times height).
MONODEPTH2_NORMALISED_K = np.array([[0.58, 0, 0.5], [0, 1.92, 0.5], [0, 0, 1]],
                                   dtype=np.float32)

FrameId = Union[int, str]


@DATASETS.register_module()
class KittiRawDataset(BaseDepthSegDataset):
    """KITTI raw sequences addressed by a monodepth2 split file.

    Reads the raw layout of ``docs/en/dataset_formats.md``::

        data_root/<date>/calib_cam_to_cam.txt, calib_velo_to_cam.txt
        data_root/<date>/<date>_drive_<NNNN>_sync/
            image_02/data/<%010d><img_suffix>    (left colour, side 'l')
            image_03/data/<%010d><img_suffix>    (right colour, side 'r')
            velodyne_points/data/<%010d>.bin
            semantic_02/data/<%010d>.png         (optional trainId labels)
            proj_depth/groundtruth/image_02/<%010d>.png
                                   (optional improved ground truth)

    One split line (``<date>/<drive>_sync <frame> <l|r>``) is one sample;
    the side picks the reference camera. When the dataset is built, the
    split file's format, every date and drive folder it names (all missing
    ones listed in one error) and the calibration entries the configuration
    reads (``P_rect_0X``, ``S_rect_0X``, ``R_rect_00``, velodyne ``R``/``T``:
    present, numeric, a valid camera, a positive baseline) are checked; the
    errors are :class:`~mmdepthseg.datasets.validation.DatasetError` naming
    the file, the line or key, and what was expected.

    ``frame_ids`` lists the views that travel with a sample, the reference
    first:

    - ``0`` the reference frame, ``-1``/``1`` (any int) temporal neighbours
      of the same camera, named ``'t'``, ``'t-1'``, ``'t+1'``;
    - ``'s'`` the stereo partner (other camera, same frame).

    ``(0,)`` gives one view named by its side (``('l',)``), ``(0, 's')`` a
    stereo pair named by the physical sides (``('l', 'r')`` or
    ``('r', 'l')``), and a temporal set with ``'s'`` names the partner
    ``'s'``. Samples whose neighbour frames do not exist (sequence ends) are
    dropped and their number logged.

    Args:
        split_file (str): monodepth2 split file. A relative path is looked
            up under ``data_root`` first, then relative to the working
            directory.
        data_root (str): The KITTI raw root (holding the date folders).
        frame_ids (Sequence[int | str]): Views of a sample, see above; the
            first must be 0. Defaults to ``(0,)``.
        img_suffix (str): Image extension, ``'.png'`` for the raw download
            or ``'.jpg'`` for the common JPEG conversion.
        load_gt_depth (bool): Whether to add the reference view's
            ground-truth depth, of the kind ``gt_depth``. Defaults to False.
        load_depth_from_velodyne (bool): The former name of
            ``load_gt_depth`` (either switches the ground truth on).
            Defaults to False.
        gt_depth (str): Which ground truth:

            - ``'velodyne_x'`` (default): the published KITTI Eigen
              benchmark's (monodepth2's ``export_gt_depth.py``): the
              velodyne scan projected by ``LoadDepthSegAnnotations`` at the
              ``S_rect`` size, each pixel holding the point's forward
              coordinate in the scanner frame, see
              :func:`~mmdepthseg.datasets.utils.velodyne_to_depth_map`.
            - ``'camera_z'``: the same projection storing the camera-frame
              depth ``z`` (about 0.27 m less near the optical axis): exact
              for data whose depth is the camera's (the synthetic
              generator's), not comparable with published tables.
            - ``'improved'``: KITTI's depth-completion annotations (Uhrig et
              al., 2017), the "improved ground truth" of the
              ``eigen_benchmark`` split (652 of Eigen's 697 test frames):
              uint16 PNGs, depth = value / 256, 0 = invalid, see
              :func:`~mmdepthseg.datasets.utils.kitti_improved_gt_path` for
              where they are looked up.
        improved_gt_root (str, optional): Root of the extracted
            depth-completion download (``<root>/{train,val}/<drive>_sync/
            proj_depth/groundtruth/image_0X/``). None (default) looks in the
            drive folders of ``data_root`` (the annotations merged into the
            raw tree, as monodepth2 expects them).
        velodyne_pixel_offset (int): The protocol's ``round(u) - 1`` offset.
            Keep 1 (default) for real KITTI; 0 gives pixel-aligned maps for
            data whose calibration uses 0-based pixel centres (the
            synthetic generator's).
        seg_dir (str, optional): Folder of trainId label PNGs inside a drive,
            formatted with the reference camera number, e.g.
            ``'semantic_{cam:02d}'``. None (default) loads no labels.
        seg_suffix (str): Extension of label files. Defaults to ``'.png'``.
        pseudo_depth_dir (str, optional): Folder of stereo pseudo depth PNGs
            inside a drive, formatted with each view's camera number, e.g.
            ``'pseudo_depth_{cam:02d}'`` (the trees written by
            :func:`~mmdepthseg.stereo.pseudo_depth.generate_dataset_pseudo_depth`).
            Adds ``pseudo_depth_paths`` for the leading views that are the
            reference frame or its stereo partner (both of ``(0, 's')``;
            the reference only when temporal neighbours follow it), the
            partner from its own camera's tree. None (default) = off.
        pseudo_conf_dir (str, optional): The same for the confidence PNGs
            (``'pseudo_conf_{cam:02d}'``); required with
            ``pseudo_depth_dir``.
        intrinsics_mode (str): ``'normalised'`` (monodepth2's fixed
            normalised K scaled by the loaded image size) or ``'calib'``
            (``P_rect_0X[:, :3]`` of the reference camera). Defaults to
            ``'normalised'``.
        baseline (float, optional): Stereo baseline for samples with a
            stereo partner. None means: from the calibration in ``'calib'``
            mode, 0.1 (monodepth2's unit) in ``'normalised'`` mode.
        **kwargs: Forwarded to :class:`mmengine.dataset.BaseDataset`
            (``pipeline``, ``test_mode``, ``metainfo``, ``indices``, ...).
    """

    METAINFO = CityscapesDataset.METAINFO

    def __init__(self,
                 split_file: str,
                 data_root: str,
                 frame_ids: Sequence[FrameId] = (0, ),
                 img_suffix: str = '.png',
                 load_gt_depth: bool = False,
                 load_depth_from_velodyne: bool = False,
                 gt_depth: str = 'velodyne_x',
                 improved_gt_root: Optional[str] = None,
                 velodyne_pixel_offset: int = 1,
                 seg_dir: Optional[str] = None,
                 seg_suffix: str = '.png',
                 pseudo_depth_dir: Optional[str] = None,
                 pseudo_conf_dir: Optional[str] = None,
                 intrinsics_mode: str = 'normalised',
                 baseline: Optional[float] = None,
                 **kwargs) -> None:
        frame_ids = tuple(frame_ids)
        if not frame_ids or frame_ids[0] != 0:
            raise ValueError(f'frame_ids must start with 0 (the reference '
                             f'view), got {frame_ids}')
        for fid in frame_ids:
            if not (isinstance(fid, int) or fid == 's'):
                raise ValueError(f"frame_ids hold ints or 's', got {fid!r}")
        if intrinsics_mode not in ('normalised', 'calib'):
            raise ValueError("intrinsics_mode must be 'normalised' or "
                             f"'calib', got {intrinsics_mode!r}")
        self.split_file = split_file
        self.frame_ids = frame_ids
        self.img_suffix = img_suffix
        if gt_depth not in KITTI_GT_DEPTH_KINDS:
            raise ValueError(f'gt_depth must be one of {KITTI_GT_DEPTH_KINDS}'
                             f', got {gt_depth!r}')
        self.load_gt_depth = bool(load_gt_depth or load_depth_from_velodyne)
        self.gt_depth = gt_depth
        self.improved_gt_root = improved_gt_root
        self.velodyne_pixel_offset = velodyne_pixel_offset
        self.seg_dir = seg_dir
        self.seg_suffix = seg_suffix
        if (pseudo_depth_dir is None) != (pseudo_conf_dir is None):
            raise ValueError('pseudo_depth_dir and pseudo_conf_dir must be '
                             'given together, got '
                             f'{pseudo_depth_dir!r} and {pseudo_conf_dir!r}')
        self.pseudo_depth_dir = pseudo_depth_dir
        self.pseudo_conf_dir = pseudo_conf_dir
        self.intrinsics_mode = intrinsics_mode
        self.baseline = baseline
        super().__init__(data_root=data_root, data_prefix=dict(), **kwargs)

    # -- naming ------------------------------------------------------------
    def view_names(self, side: str) -> Tuple[str, ...]:
        """Names of the views of a sample whose reference camera is ``side``.
        """
        return view_names_for_frame_ids(self.frame_ids, side)

    def _resolve_split_file(self) -> str:
        path = self.split_file
        if osp.isabs(path):
            candidates = [path]
        else:
            candidates = [osp.join(self.data_root, path), path]
        for cand in candidates:
            if fileio.exists(cand):
                return cand
        raise FileNotFoundError(
            f'split file not found: tried {" and ".join(candidates)} '
            f'({DATASET_PREP_HINT})')

    # -- loading -----------------------------------------------------------
    def load_data_list(self) -> List[dict]:
        """Build one data info per valid split line.

        Returns:
            list[dict]: Entries with ``img_path``, ``img_paths``,
            ``view_names``, ``intrinsics`` (+ ``intrinsics_normalised``),
            ``folder``, ``frame_index``, ``side``, and where configured
            ``baseline``/``stereo_T``, ``seg_map_paths``, ground-truth depth
            inputs (``gt_depth`` and ``depth_map_paths``; velodyne:
            ``depth_format='velodyne'``, ``velo2img``, ``depth_map_shape``,
            ``velodyne_depth_value``, ``velodyne_pixel_offset``; improved:
            ``depth_format='png'``, ``depth_scale=256``) and stereo pseudo
            labels (``pseudo_depth_paths``, ``pseudo_conf_paths``).
        """
        check_file_exists(self.data_root, 'KITTI raw data root')
        self._listing: Dict[str, FrozenSet[str]] = {}
        split_path = self._resolve_split_file()
        samples = read_kitti_split_lines(split_path)
        missing = check_kitti_split_folders(split_path, self.data_root,
                                            samples)
        self._num_classes = self.num_classes_or_none
        data_list, num_dropped = [], 0
        for line_no, folder, frame_index, side in samples:
            if folder in missing:  # recorded by a dataset scan
                continue
            with defect_guard():
                info = self._sample_info(folder, frame_index, side)
                if info is None:
                    num_dropped += 1
                else:
                    data_list.append(info)
        if num_dropped:
            print_log(
                f'KittiRawDataset: dropped {num_dropped} of {len(samples)} '
                f'samples of {self.split_file} whose frames {self.frame_ids} '
                'do not all exist (sequence ends)',
                logger='current')
        if not data_list:
            raise DatasetError(
                split_path, f'no valid sample under {self.data_root} for '
                f'frame_ids {self.frame_ids}', 'lines whose frames exist',
                'split')
        return data_list

    def _list_files(self, directory: str) -> FrozenSet[str]:
        """File names in ``directory``, listed once per drive and camera."""
        if directory not in self._listing:
            self._listing[directory] = frozenset(
                fileio.list_dir_or_file(
                    directory,
                    list_dir=False)) if osp.isdir(directory) else frozenset()
        return self._listing[directory]

    def _calib(self, folder: str) -> Dict[str, np.ndarray]:
        date = folder.split('/')[0]
        return load_kitti_calib(osp.join(self.data_root, date))

    def _image_file(self, folder: str, cam: int, index: int) -> str:
        return osp.join(self.data_root, folder, f'image_{cam:02d}', 'data',
                        f'{index:010d}{self.img_suffix}')

    def _velodyne_info(self, folder: str, frame_index: int,
                       cam: int) -> dict:
        """Inputs of the velodyne ground truth of one frame."""
        velo_path = osp.join(self.data_root, folder, 'velodyne_points',
                             'data', f'{frame_index:010d}.bin')
        check_file_exists(velo_path, 'velodyne scan')
        calib = self._calib(folder)
        width, height = calib[f'S_rect_{cam:02d}']
        return dict(
            depth_map_paths=[velo_path],
            depth_format='velodyne',
            velo2img=kitti_velo_to_image(calib, cam),
            depth_map_shape=(int(round(height)), int(round(width))),
            velodyne_depth_value=self.gt_depth,
            velodyne_pixel_offset=self.velodyne_pixel_offset)

    def _sample_info(self, folder: str, frame_index: int,
                     side: str) -> Optional[dict]:
        cam = 2 if side == 'l' else 3
        paths = self._image_paths(folder, frame_index, cam)
        if paths is None:
            return None

        info = dict(
            img_path=paths[0],
            img_paths=paths,
            view_names=self.view_names(side),
            folder=folder,
            frame_index=frame_index,
            side=side,
            reduce_zero_label=False,
            num_classes=self._num_classes,
            seg_fields=[],
            depth_fields=[])
        if self.intrinsics_mode == 'normalised':
            info['intrinsics'] = MONODEPTH2_NORMALISED_K.copy()
            info['intrinsics_normalised'] = True
        else:
            info['intrinsics'] = self._calib(
                folder)[f'P_rect_{cam:02d}'][:, :3].astype(np.float32)
            info['intrinsics_normalised'] = False

        if 's' in self.frame_ids:
            baseline = self.baseline
            if baseline is None:
                baseline = 0.1 if self.intrinsics_mode == 'normalised' \
                    else kitti_stereo_baseline(self._calib(folder))
            info['baseline'] = float(baseline)
            # T_ref2other: the right camera sits at +baseline along x.
            info['stereo_T'] = stereo_transform(baseline, side)

        if self.seg_dir is not None:
            seg_path = osp.join(self.data_root, folder,
                                self.seg_dir.format(cam=cam), 'data',
                                f'{frame_index:010d}{self.seg_suffix}')
            check_file_exists(seg_path, 'segmentation label')
            info['seg_map_paths'] = [seg_path]
            info['label_id_format'] = 'trainIds'

        if self.load_gt_depth:
            info['gt_depth'] = self.gt_depth
            if self.gt_depth == 'improved':
                info['depth_map_paths'] = [
                    kitti_improved_gt_path(self.data_root, folder,
                                           frame_index, cam,
                                           self.improved_gt_root)
                ]
                info['depth_format'] = 'png'
                info['depth_scale'] = 256.0
            else:
                info.update(self._velodyne_info(folder, frame_index, cam))

        if self.pseudo_depth_dir is not None:
            for key, tree in (('pseudo_depth_paths', self.pseudo_depth_dir),
                              ('pseudo_conf_paths', self.pseudo_conf_dir)):
                info[key] = [
                    osp.join(self.data_root, folder, tree.format(cam=c),
                             'data', f'{frame_index:010d}.png')
                    for c in self._pseudo_label_cams(cam)
                ]
        return info

    def _image_paths(self, folder: str, frame_index: int,
                     cam: int) -> Optional[List[str]]:
        """The image of every frame id of a sample (reference camera
        ``cam``), or None when a frame other than the reference is missing
        (sequence ends).

        Raises:
            FileNotFoundError: The reference frame is missing.
        """
        paths = []
        for fid in self.frame_ids:
            if fid == 's':
                paths.append(self._image_file(folder, 5 - cam, frame_index))
            else:
                paths.append(self._image_file(folder, cam, frame_index + fid))
        present = [
            osp.basename(p) in self._list_files(osp.dirname(p)) for p in paths
        ]
        if not present[0]:
            raise FileNotFoundError(
                f'image not found: {paths[0]} (listed in {self.split_file}; '
                f'{DATASET_PREP_HINT})')
        if not all(present):
            return None
        return paths

    def _pseudo_label_cams(self, cam: int) -> List[int]:
        """Cameras of the views that have stereo pseudo labels: the leading
        ``0`` / ``'s'`` frame ids (reference camera ``cam``, partner
        ``5 - cam``)."""
        cams = []
        for fid in self.frame_ids:
            if fid not in (0, 's'):
                break
            cams.append(cam if fid == 0 else 5 - cam)
        return cams
