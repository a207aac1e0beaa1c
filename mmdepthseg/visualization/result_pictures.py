# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Pictures of inference results: input | depth | segmentation.

Draws the result dicts of :class:`~mmdepthseg.apis.DepthSegInferencer`
(numpy ``depth``, ``depth_kind``, ``sem_seg``, ``num_classes``) with
:func:`~mmdepthseg.visualization.side_by_side.draw_side_by_side`, naming
the classes from the model's ``dataset_meta``.
"""
from typing import List, Optional, Sequence, Tuple

import numpy as np
from mmseg.utils import get_classes, get_palette

from .local_visualizer import default_palette
from .side_by_side import draw_side_by_side

#: Label of the depth colour bar per ``depth_kind``.
DEPTH_LABELS = dict(
    metric='depth [m]',
    relative='relative depth (self-supervised, up to scale)',
    height='height (model units)')


def classes_and_palette(dataset_meta: Optional[dict],
                        num_classes: int) -> Tuple[List[str], np.ndarray]:
    """Class names and colours for ``num_classes`` predicted classes.

    ``dataset_meta`` when its class count matches, else Cityscapes' for 19
    classes, else ``'class i'`` and a fixed random palette.

    Args:
        dataset_meta (dict, optional): A model's ``dataset_meta``
            (``classes``, ``palette``).
        num_classes (int): Number of predicted classes.

    Returns:
        tuple[list[str], np.ndarray]: Names and uint8 ``(C, 3)`` RGB colours.
    """
    meta = dataset_meta or {}
    classes = meta.get('classes')
    if classes is not None and len(classes) == num_classes:
        palette = meta.get('palette') or default_palette(num_classes)
    elif num_classes == 19:
        classes, palette = get_classes('cityscapes'), get_palette('cityscapes')
    else:
        classes = [f'class {i}' for i in range(num_classes)]
        palette = default_palette(num_classes)
    return list(classes), np.asarray(palette, dtype=np.uint8)


def draw_result(image_bgr: np.ndarray,
                result: dict,
                dataset_meta: Optional[dict] = None,
                opacity: float = 0.6,
                title: Optional[str] = None) -> np.ndarray:
    """The side-by-side picture of one inference result.

    Args:
        image_bgr (np.ndarray): The input, uint8 ``(H, W, 3)`` BGR.
        result (dict): Its result (``depth``, ``depth_kind``, ``sem_seg``,
            ``num_classes``; keys of an absent head missing).
        dataset_meta (dict, optional): See :func:`classes_and_palette`.
        opacity (float): Weight of the class colours. Defaults to 0.6.
        title (str, optional): Text under the input.

    Returns:
        np.ndarray: uint8 RGB picture.
    """
    classes = palette = None
    if 'sem_seg' in result:
        classes, palette = classes_and_palette(dataset_meta,
                                               result['num_classes'])
    return draw_side_by_side(
        np.ascontiguousarray(image_bgr[..., ::-1]),
        result.get('depth'),
        result.get('sem_seg'),
        classes,
        palette,
        depth_label=DEPTH_LABELS[result.get('depth_kind', 'metric')],
        alpha=opacity,
        title=title)


def draw_results(images_bgr: Sequence[np.ndarray],
                 results: Sequence[dict],
                 dataset_meta: Optional[dict] = None,
                 opacity: float = 0.6,
                 titles: Optional[Sequence[str]] = None) -> List[np.ndarray]:
    """:func:`draw_result` of several images.

    Args:
        images_bgr (Sequence[np.ndarray]): uint8 BGR inputs.
        results (Sequence[dict]): Their results.
        dataset_meta (dict, optional): See :func:`classes_and_palette`.
        opacity (float): Weight of the class colours. Defaults to 0.6.
        titles (Sequence[str], optional): Text under each input.

    Returns:
        list[np.ndarray]: uint8 RGB pictures.
    """
    return [
        draw_result(img, result, dataset_meta, opacity,
                    titles[k] if titles else None)
        for k, (img, result) in enumerate(zip(images_bgr, results))
    ]
