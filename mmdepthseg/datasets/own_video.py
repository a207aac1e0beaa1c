# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Your own footage: frame folders or video files + a camera file each.

Layout (``docs/en/own_video.md``; ``tools/dataset_converters/video.py``
writes it from videos or frame folders)::

    data_root/<sequence>/
        intrinsics.json | intrinsics.yaml | intrinsics.yml   the camera
        image_02/<any name>.<any image ext>   left (or only) camera, or
        image_02.<mp4|avi|mov|mkv|...>       the same camera as a video
        image_03/ or image_03.<ext>           right camera (rectified stereo)
        semantic_02/<frame stem>.png          (pseudo) labels, optional
        pseudo_depth_02/<frame stem>.png      stereo pseudo depth, optional
        pseudo_conf_02/<frame stem>.png
        depth_02/<frame stem>.png             metric depth, optional

Frame ``i`` of a folder is its ``i``-th image in natural order
(``frame_2`` before ``frame_10``); of a video, its ``i``-th decoded frame,
named ``<i:010d>`` in the label trees. The camera file holds ``fx, fy, cx,
cy`` (or ``K``) in pixels of the stored frames or normalised like
monodepth2's KITTI constants, optional distortion coefficients (frames are
then undistorted while loading) and an optional stereo baseline; see
:func:`~mmdepthseg.datasets.camera_files.read_camera_file`.

Video frames and frames to undistort are addressed by ``ownvideo://``
paths that :class:`~mmdepthseg.datasets.video_frames.OwnVideoBackend` (an
MMEngine file backend) decodes, so every transform that reads through
:func:`mmengine.fileio.get` (``LoadMultiViewImages``,
``LoadDepthSegAnnotations``, ``LoadPseudoDepth``, the pseudo depth
generator) reads them unchanged.
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.logging import print_log

from mmdepthseg.registry import DATASETS
from mmdepthseg.structures.camera import (stereo_transform,
                                          undistorted_intrinsics)
from .camera_files import find_camera_file, read_camera_file
from .io import check_file_exists
from .kitti_io import read_kitti_split
from .kitti_raw import FrameId, KittiRawDataset
from .video_frames import (FrameSource, build_uri, find_camera_source,
                           natural_key, undistort_spec)


# ---------------------------------------------------------------------------
# The dataset
# ---------------------------------------------------------------------------
class _Sequence:
    """What the dataset knows of one sequence (listed once)."""

    def __init__(self, dataset: 'OwnVideoDataset', name: str) -> None:
        self.name = name
        self.dir = osp.join(dataset.data_root, name)
        if not osp.isdir(self.dir):
            raise FileNotFoundError(
                f'sequence folder not found: {self.dir} (listed in '
                f'{dataset.split_file}; see docs/en/own_video.md)')
        self.dataset = dataset
        self.camera = read_camera_file(
            find_camera_file(self.dir, dataset.intrinsics_file))
        self._sources: Dict[int, Optional[FrameSource]] = {}
        self._geometry: Optional[tuple] = None

    def source(self, cam: int) -> Optional[FrameSource]:
        if cam not in self._sources:
            path = find_camera_source(self.dir,
                                      self.dataset.img_dir.format(cam=cam))
            self._sources[cam] = None if path is None else FrameSource(
                path, self.dataset.img_suffix)
        return self._sources[cam]

    def require_source(self, cam: int) -> FrameSource:
        src = self.source(cam)
        if src is None:
            name = self.dataset.img_dir.format(cam=cam)
            role = 'left / only' if cam == 2 else 'right (stereo)'
            raise FileNotFoundError(
                f'no {role} camera in sequence {self.dir}: expected a frame '
                f'folder {name}/ or a video {name}.mp4 (or another video '
                'ending; see docs/en/own_video.md)')
        return src

    def geometry(self) -> tuple:
        """``(K, normalised, undistort spec or None)`` of the frames as the
        pipeline loads them (undistorted when the camera has distortion).
        """
        if self._geometry is None:
            cam = self.camera
            if cam.normalised and cam.distortion is None:
                self._geometry = (cam.K.astype(np.float32), True, None)
            else:
                w, h = self.require_source(2).size()
                k = cam.pixel_intrinsics(w, h)
                spec = None
                if cam.distortion is not None:
                    new_k = undistorted_intrinsics(
                        k, cam.distortion, w, h, self.dataset.undistort_alpha)
                    spec = undistort_spec(k, cam.distortion, new_k)
                    k = new_k
                self._geometry = (k.astype(np.float32), False, spec)
        return self._geometry

    def map_path(self,
                 tree: str,
                 cam: int,
                 index: int,
                 nearest_spec: bool,
                 what: str,
                 must_exist: bool = True) -> str:
        """Path of a per-frame map ``<seq>/<tree>/<frame stem>.png``."""
        folder = osp.join(self.dir, tree.format(cam=cam))
        name = self.require_source(cam).stem(index) + '.png'
        path = osp.join(folder, name)
        if must_exist and not osp.isfile(path):
            raise FileNotFoundError(
                f'{what} not found: {path} (frame {index} of '
                f'{self.require_source(cam).path}; see docs/en/own_video.md)')
        spec = self.geometry()[2]
        if spec is not None and nearest_spec:
            return build_uri(folder, name, spec, nearest=True)
        return path


@DATASETS.register_module()
class OwnVideoDataset(KittiRawDataset):
    """Your own footage (frame folders or videos) with its camera file.

    Reads the layout of this module's docstring (written by
    ``tools/dataset_converters/video.py``). Split files have monodepth2's
    format, ``<sequence> <frame index> <l|r>``, and ``frame_ids``,
    neighbours, the stereo partner (``'s'``), view names, the dropping of
    samples without neighbours and the stereo transform work exactly as in
    :class:`~mmdepthseg.datasets.KittiRawDataset`, so every FSRE-Depth /
    Pseudo-MTL config runs on it by changing the dataset. Side ``r`` uses
    the right camera (``img_dir`` formatted with ``cam=3``).

    Intrinsics come from each sequence's camera file
    (:func:`read_camera_file`): normalised ones travel as normalised
    (``LoadMultiViewImages`` multiplies them by the loaded size), pixel
    ones as pixels of the stored frames (rescaled from the file's
    ``width``/``height`` if those differ); every resize then scales them.
    With distortion coefficients, frames and maps are undistorted while
    loading (``cv2.remap``; bilinear for images, nearest for label and
    depth maps) and ``intrinsics`` is the undistorted camera
    (``cv2.getOptimalNewCameraMatrix`` with ``undistort_alpha``). Stereo
    footage must be rectified (no distortion).

    Args:
        split_file (str): monodepth2-style split file (relative paths are
            looked up under ``data_root``, then the working directory).
        data_root (str): Folder holding the sequence folders.
        frame_ids (Sequence[int | str]): Views of a sample, see
            :class:`KittiRawDataset`. Defaults to ``(0,)``.
        img_dir (str): Frame folder / video name (without extension) in a
            sequence, formatted with ``cam`` (2 left, 3 right). Defaults to
            ``'image_{cam:02d}'``.
        img_suffix (str, optional): Only frames with this ending; None
            (default) takes every :data:`IMAGE_EXTENSIONS` ending.
        intrinsics_file (str, optional): Camera file name in every sequence
            folder, or one path for all sequences; None (default) looks for
            ``intrinsics.json``, ``.yaml``, ``.yml``.
        seg_dir (str, optional): (Pseudo) label tree in a sequence, e.g.
            ``'semantic_{cam:02d}'`` (uint8 trainId PNGs named like the
            frames). None (default) loads no labels.
        seg_suffix (str): Only ``'.png'`` is supported (the name follows
            the frame). Defaults to ``'.png'``.
        pseudo_depth_dir (str, optional): Stereo pseudo depth tree, e.g.
            ``'pseudo_depth_{cam:02d}'`` (``tools/generate_pseudo_depth.py
            --dataset own_video``); for the leading reference / partner
            views as in :class:`KittiRawDataset`.
        pseudo_conf_dir (str, optional): Its confidence tree; required with
            ``pseudo_depth_dir``.
        depth_dir (str, optional): Metric depth of the reference view (a
            depth camera, or generated data), e.g. ``'depth_{cam:02d}'``:
            uint16 PNGs, ``depth = value / depth_scale``, 0 invalid.
        depth_scale (float): See ``depth_dir``. Defaults to 256.
        baseline (float, optional): Stereo baseline (metres) for samples
            with ``'s'``; None takes the camera file's ``baseline``.
        undistort_alpha (float): ``alpha`` of
            ``cv2.getOptimalNewCameraMatrix``: 0 (default) keeps only valid
            pixels, 1 every source pixel.
        **kwargs: Forwarded to :class:`mmengine.dataset.BaseDataset`
            (``pipeline``, ``test_mode``, ``indices``, ...).
    """

    def __init__(self,
                 split_file: str,
                 data_root: str,
                 frame_ids: Sequence[FrameId] = (0, ),
                 img_dir: str = 'image_{cam:02d}',
                 img_suffix: Optional[str] = None,
                 intrinsics_file: Optional[str] = None,
                 seg_dir: Optional[str] = None,
                 seg_suffix: str = '.png',
                 pseudo_depth_dir: Optional[str] = None,
                 pseudo_conf_dir: Optional[str] = None,
                 depth_dir: Optional[str] = None,
                 depth_scale: float = 256.0,
                 baseline: Optional[float] = None,
                 undistort_alpha: float = 0.0,
                 **kwargs) -> None:
        if seg_suffix != '.png':
            raise ValueError(f"seg_suffix must be '.png', got {seg_suffix!r}")
        self.img_dir = img_dir
        self.intrinsics_file = intrinsics_file
        self.depth_dir = depth_dir
        self.depth_scale = float(depth_scale)
        self.undistort_alpha = float(undistort_alpha)
        super().__init__(
            split_file=split_file,
            data_root=data_root,
            frame_ids=frame_ids,
            img_suffix=img_suffix,
            seg_dir=seg_dir,
            seg_suffix=seg_suffix,
            pseudo_depth_dir=pseudo_depth_dir,
            pseudo_conf_dir=pseudo_conf_dir,
            baseline=baseline,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """One data info per valid split line.

        Returns:
            list[dict]: Entries like :class:`KittiRawDataset`'s
            (``img_path``, ``img_paths``, ``view_names``, ``intrinsics``,
            ``intrinsics_normalised``, ``folder``, ``frame_index``,
            ``side``, ``baseline``/``stereo_T``, ``seg_map_paths``,
            ``pseudo_depth_paths``/``pseudo_conf_paths``) plus
            ``depth_map_paths`` (``depth_format='png'``, ``depth_scale``)
            with ``depth_dir``.
        """
        check_file_exists(self.data_root, 'own video data root')
        self._sequences: Dict[str, _Sequence] = {}
        samples = read_kitti_split(self._resolve_split_file())
        data_list, num_dropped = [], 0
        for folder, frame_index, side in samples:
            info = self._sample_info(folder, frame_index, side)
            if info is None:
                num_dropped += 1
            else:
                data_list.append(info)
        if num_dropped:
            print_log(
                f'OwnVideoDataset: dropped {num_dropped} of {len(samples)} '
                f'samples of {self.split_file} whose frames {self.frame_ids} '
                'do not all exist (sequence ends)',
                logger='current')
        if not data_list:
            raise ValueError(f'no valid sample in {self.split_file} under '
                             f'{self.data_root} for frame_ids '
                             f'{self.frame_ids}')
        return data_list

    def _sequence(self, name: str) -> _Sequence:
        if name not in self._sequences:
            self._sequences[name] = _Sequence(self, name)
        return self._sequences[name]

    def _sample_info(self, folder: str, frame_index: int,
                     side: str) -> Optional[dict]:
        seq = self._sequence(folder)
        cam = 2 if side == 'l' else 3
        other_cam = 5 - cam
        ref = seq.require_source(cam)
        if frame_index >= len(ref):
            raise FileNotFoundError(
                f'frame {frame_index} of {ref.path} not found: it has '
                f'{len(ref)} frames (listed in {self.split_file})')
        k, normalised, spec = seq.geometry()
        paths = self._frame_uris(seq, ref, frame_index, other_cam, spec)
        if paths is None:
            return None

        info = dict(
            img_path=paths[0],
            img_paths=paths,
            view_names=self.view_names(side),
            folder=folder,
            frame_index=frame_index,
            side=side,
            intrinsics=k.copy(),
            intrinsics_normalised=normalised,
            reduce_zero_label=False,
            seg_fields=[],
            depth_fields=[])

        if 's' in self.frame_ids:
            baseline = self.baseline if self.baseline is not None \
                else seq.camera.baseline
            if baseline is None:
                raise ValueError(
                    f'{seq.camera.path}: frame_ids {self.frame_ids} has a '
                    "stereo partner 's' but the camera file gives no "
                    'baseline (metres) and the dataset no baseline=')
            info['baseline'] = float(baseline)
            info['stereo_T'] = stereo_transform(baseline, side)

        if self.seg_dir is not None:
            info['seg_map_paths'] = [
                seq.map_path(self.seg_dir, cam, frame_index, True,
                             'segmentation label')
            ]
            info['label_id_format'] = 'trainIds'

        if self.depth_dir is not None:
            info['depth_map_paths'] = [
                seq.map_path(self.depth_dir, cam, frame_index, True,
                             'depth map')
            ]
            info['depth_format'] = 'png'
            info['depth_scale'] = self.depth_scale

        if self.pseudo_depth_dir is not None:
            for key, tree in (('pseudo_depth_paths', self.pseudo_depth_dir),
                              ('pseudo_conf_paths', self.pseudo_conf_dir)):
                info[key] = [
                    seq.map_path(
                        tree,
                        c,
                        frame_index,
                        True,
                        'pseudo label',
                        must_exist=False)
                    for c in self._pseudo_label_cams(cam)
                ]
        return info

    def _frame_uris(self, seq: _Sequence, ref: FrameSource, frame_index: int,
                    other_cam: int, spec) -> Optional[List[str]]:
        """The frame URI of every frame id of a sample, or None when a
        frame lies outside the sequence (its ends).

        Raises:
            ValueError: A stereo partner is asked for frames that need
                undistortion (``spec`` not None).
        """
        paths = []
        for fid in self.frame_ids:
            if fid == 's':
                partner = seq.require_source(other_cam)
                if spec is not None:
                    raise ValueError(
                        f'{seq.camera.path}: stereo samples need rectified '
                        'frames, but the camera file has distortion '
                        'coefficients; rectify the pair first')
                if frame_index >= len(partner):
                    return None
                paths.append(partner.uri(frame_index))
            else:
                index = frame_index + fid
                if not 0 <= index < len(ref):
                    return None
                paths.append(ref.uri(index, spec))
        return paths


# ---------------------------------------------------------------------------
# Stereo pairs for tools/generate_pseudo_depth.py
# ---------------------------------------------------------------------------
def list_own_video_stereo_pairs(
        root: str,
        img_dir: str = 'image_{cam:02d}',
        intrinsics_file: Optional[str] = None,
        img_suffix: Optional[str] = None) -> List[dict]:
    """Stereo pairs of an own-video tree, for
    :func:`~mmdepthseg.stereo.pseudo_depth.generate_pseudo_depth`.

    Every sequence folder under ``root`` with a right camera gives one pair
    per frame; ``fx * baseline`` comes from its camera file (``fx`` in
    pixels of the stored frames). Outputs go to
    ``<seq>/pseudo_depth_0X/<frame stem>.png`` and ``pseudo_conf_0X``, where
    :class:`OwnVideoDataset` (``pseudo_depth_dir='pseudo_depth_{cam:02d}'``)
    reads them. Video frames are read through ``ownvideo://`` paths.

    Args:
        root (str): The data root (sequence folders).
        img_dir (str): See :class:`OwnVideoDataset`.
        intrinsics_file (str, optional): See :class:`OwnVideoDataset`.
        img_suffix (str, optional): See :class:`OwnVideoDataset`.

    Returns:
        list[dict]: Pairs with ``left``, ``right``, ``fx_baseline`` and
        ``outputs``.
    """
    pairs = []
    for name in sorted(os.listdir(root), key=natural_key):
        seq_dir = osp.join(root, name)
        if not osp.isdir(seq_dir) or name.startswith('.'):
            continue
        left_path = find_camera_source(seq_dir, img_dir.format(cam=2))
        right_path = find_camera_source(seq_dir, img_dir.format(cam=3))
        if left_path is None or right_path is None:
            continue
        camera = read_camera_file(find_camera_file(seq_dir, intrinsics_file))
        if camera.baseline is None:
            raise ValueError(f'{camera.path}: stereo pseudo depth needs the '
                             'baseline (metres) in the camera file')
        if camera.distortion is not None:
            raise ValueError(f'{camera.path}: stereo matching needs rectified '
                             'frames, but the camera file has distortion')
        left, right = FrameSource(left_path, img_suffix), FrameSource(
            right_path, img_suffix)
        if len(left) != len(right):
            raise ValueError(f'{left_path} has {len(left)} frames but '
                             f'{right_path} {len(right)}')
        if not len(left):
            continue
        fx = camera.pixel_intrinsics(*left.size())[0, 0]
        fx_baseline = float(fx * camera.baseline)
        for i in range(len(left)):

            def out(kind, cam, i=i):
                # named like the frame of that camera, as the dataset reads
                src = left if cam == 2 else right
                return osp.join(seq_dir, f'pseudo_{kind}_{cam:02d}',
                                src.stem(i) + '.png')

            pairs.append(
                dict(
                    left=left.uri(i),
                    right=right.uri(i),
                    kind='own_video',
                    fx_baseline=fx_baseline,
                    outputs=dict(
                        depth_left=out('depth', 2),
                        depth_right=out('depth', 3),
                        conf_left=out('conf', 2),
                        conf_right=out('conf', 3))))
    return pairs
