# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Pseudo segmentation labels: run a segmentor over an image tree.

Works with any MMSegmentation-style config + checkpoint, mmseg's own
(``EncoderDecoder`` ...) or mmdepthseg's (``MultiTaskSegmentor``): the model
is built by :func:`~mmdepthseg.apis.model_loader.init_segmentor`, images go
through the config's test pipeline (annotation loaders and label transforms
removed, :func:`~mmdepthseg.apis.inference_pipeline.build_inference_pipeline`)
and ``model.test_step``, and the ``pred_sem_seg`` of every image (at its
original size) is written as a uint8 trainId PNG into a tree mirroring the
image tree.
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.dataset import Compose
from mmengine.utils import ProgressBar

from mmdepthseg.datasets.validation import DatasetError
# the loader, pipeline adapter and label writer of this module before they
# got modules of their own (old import paths keep working)
from .inference_io import write_label_png
from .inference_pipeline import build_inference_pipeline
from .model_loader import init_segmentor

__all__ = [
    'build_inference_pipeline', 'generate_pseudo_seg', 'init_segmentor',
    'list_images', 'map_output_path', 'predict_labels', 'write_label_png'
]

DirMap = Sequence[Tuple[str, str]]


def map_output_path(rel_path: str, out_dir: str, dir_map: DirMap = ()) -> str:
    """Where the label of ``img_dir/rel_path`` goes.

    The relative path is kept, the extension becomes ``.png`` and, in the
    folder part only, every ``(src, dst)`` of ``dir_map`` replaces the
    substring ``src`` by ``dst`` (e.g. ``('image_0', 'semantic_0')`` maps
    ``<drive>/image_02/data/x.png`` to ``<drive>/semantic_02/data/x.png``,
    the layout ``KittiRawDataset(seg_dir='semantic_{cam:02d}')`` reads).

    Args:
        rel_path (str): Image path relative to the image root.
        out_dir (str): Output root.
        dir_map (Sequence[tuple[str, str]]): Folder-name rewrites.

    Returns:
        str: The label file path.
    """
    folder, name = osp.split(rel_path)
    for src, dst in dir_map:
        folder = folder.replace(src, dst)
    return osp.join(out_dir, folder, osp.splitext(name)[0] + '.png')


def list_images(img_dir: str,
                img_suffix: str = '.png',
                dir_map: DirMap = ()) -> List[str]:
    """Images below ``img_dir``, relative to it, sorted.

    With ``dir_map``, only images whose folder part contains one of its
    source strings are listed (so that a label tree written into the image
    tree, like KITTI's ``semantic_02``, is never taken as input).

    Args:
        img_dir (str): Image root.
        img_suffix (str): File ending of images. Defaults to '.png'.
        dir_map (Sequence[tuple[str, str]]): See :func:`map_output_path`.

    Returns:
        list[str]: Relative paths.
    """
    if not osp.isdir(img_dir):
        raise FileNotFoundError(f'image folder not found: {img_dir}')
    rel_paths = []
    for root, dirs, files in os.walk(img_dir):
        dirs.sort()
        rel_root = osp.relpath(root, img_dir)
        if dir_map and not any(src in rel_root for src, _ in dir_map):
            selected = False
        else:
            selected = True
        for name in sorted(files):
            if selected and name.endswith(img_suffix) \
                    and not name.startswith('.'):
                rel_paths.append(osp.normpath(osp.join(rel_root, name)))
    return rel_paths


def _label_from_sample(sample) -> np.ndarray:
    label = sample.pred_sem_seg.data
    if label.dim() == 3:
        label = label[0]
    label = label.cpu().numpy()
    if label.size and (label.min() < 0 or label.max() > 255):
        raise ValueError(f'predicted classes {label.min()}..{label.max()} do '
                         'not fit in a uint8 label PNG')
    return label.astype(np.uint8)


def predict_labels(model: torch.nn.Module, pipeline: Compose,
                   img_paths: Sequence[str]) -> List[np.ndarray]:
    """Predict trainId maps of some images at their original size.

    Images whose network inputs have different shapes are run in separate
    ``test_step`` calls (mmseg's test-time data preprocessors do not pad
    mixed sizes).

    Args:
        model (nn.Module): A segmentor from :func:`init_segmentor`.
        pipeline (Compose): From :func:`build_inference_pipeline`.
        img_paths (Sequence[str]): Image files.

    Returns:
        list[np.ndarray]: ``(H, W)`` uint8 maps, in input order.
    """
    items = []
    for path in img_paths:
        try:
            items.append(pipeline(dict(img_path=path)))
        except (AssertionError, OSError, ValueError) as err:
            if path in str(err):  # already names the file
                raise
            raise DatasetError(path, f'cannot be loaded for inference: {err}',
                               'an 8-bit colour image', 'image') from err
    groups: Dict[tuple, List[int]] = {}
    for idx, item in enumerate(items):
        groups.setdefault(tuple(item['inputs'].shape), []).append(idx)
    labels: List[Optional[np.ndarray]] = [None] * len(items)
    with torch.no_grad():
        for indices in groups.values():
            data = dict(
                inputs=[items[i]['inputs'] for i in indices],
                data_samples=[items[i]['data_samples'] for i in indices])
            for i, sample in zip(indices, model.test_step(data)):
                labels[i] = _label_from_sample(sample)
    return labels


def generate_pseudo_seg(model: torch.nn.Module,
                        img_dir: str,
                        out_dir: str,
                        img_suffix: str = '.png',
                        dir_map: DirMap = (),
                        batch_size: int = 1,
                        progress: bool = True) -> Dict[str, int]:
    """Write a trainId label PNG for every image of a tree.

    ``img_dir/<rel>/<name><img_suffix>`` gives ``out_dir/<rel'>/<name>.png``
    (``rel'`` = ``rel`` rewritten by ``dir_map``). Existing outputs are
    skipped, so an interrupted run resumes; writes are atomic, so an
    existing output is always complete.

    Args:
        model (nn.Module): A segmentor from :func:`init_segmentor`.
        img_dir (str): Image root.
        out_dir (str): Label root (may equal ``img_dir`` with a ``dir_map``).
        img_suffix (str): Image file ending. Defaults to '.png'.
        dir_map (Sequence[tuple[str, str]]): Folder rewrites, see
            :func:`map_output_path`.
        batch_size (int): Images per forward pass. Defaults to 1.
        progress (bool): Show an MMEngine progress bar. Defaults to True.

    Returns:
        dict: ``written`` and ``skipped`` counts.
    """
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    rel_paths = list_images(img_dir, img_suffix, dir_map)
    if not rel_paths:
        only = (' in folders containing '
                f'{" or ".join(repr(src) for src, _ in dir_map)}'
                if dir_map else '')
        raise FileNotFoundError(
            f'no *{img_suffix} image under {img_dir}{only}; check '
            '--img-dir, --img-suffix and --dir-map')
    jobs = []
    for rel in rel_paths:
        src = osp.join(img_dir, rel)
        dst = map_output_path(rel, out_dir, dir_map)
        if osp.abspath(src) == osp.abspath(dst):
            raise ValueError(f'the label of {src} would overwrite the image; '
                             'choose another --out-dir or a --dir-map')
        if not osp.exists(dst):
            jobs.append((src, dst))
    pipeline = build_inference_pipeline(model.cfg)
    bar = ProgressBar(len(jobs)) if progress and jobs else None
    for start in range(0, len(jobs), batch_size):
        chunk = jobs[start:start + batch_size]
        labels = predict_labels(model, pipeline, [src for src, _ in chunk])
        for (_, dst), label in zip(chunk, labels):
            write_label_png(dst, label)
            if bar is not None:
                bar.update()
    return dict(written=len(jobs), skipped=len(rel_paths) - len(jobs))
