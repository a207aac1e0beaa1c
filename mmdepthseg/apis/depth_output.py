# Copyright (c) mmdepthseg contributors. All rights reserved.
"""What a model's ``pred_depth_map`` means: metres, relative depth (known
up to scale) or a height, and how to bring it to metres."""
from typing import Optional, Tuple

import numpy as np
import torch.nn as nn
from mmengine.config import Config

#: ``depth_kind`` values of the inferencer's results.
DEPTH_KINDS = ('metric', 'relative', 'height')
#: ``depth_kind`` values a model class may declare.
MODEL_DEPTH_KINDS = ('metric', 'relative')


def _find_values(obj, key: str) -> list:
    """Every value stored under ``key`` in nested dicts / lists."""
    found = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == key:
                found.append(v)
            found.extend(_find_values(v, key))
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            found.extend(_find_values(v, key))
    return found


def _find_transforms(obj, type_name: str) -> list:
    """Every dict of type ``type_name`` in nested dicts / lists (steps
    inside ``TestTimeAug`` and multi-source datasets included)."""
    found = []
    if isinstance(obj, dict):
        if obj.get('type') == type_name:
            found.append(obj)
        for value in obj.values():
            found.extend(_find_transforms(value, type_name))
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            found.extend(_find_transforms(value, type_name))
    return found


def depth_target_mode(cfg: Config) -> Tuple[Optional[str], Optional[float]]:
    """``mode`` and ``scale`` of the ``DepthTargetTransform`` of the
    config's test pipeline (``'inverse'``: the model regresses
    ``scale / depth``; ``'identity'``: a height), or ``(None, None)``.

    Args:
        cfg (Config): The config.

    Returns:
        tuple[str | None, float | None]: Mode and scale.
    """
    pipeline = cfg.get('test_pipeline', None)
    if pipeline is None:
        pipeline = cfg.get('test_dataloader', {}).get('dataset', {})
    steps = _find_transforms(pipeline, 'DepthTargetTransform')
    if not steps:
        return None, None
    mode = steps[0].get('mode', 'inverse')
    return mode, float(steps[0].get('scale', 1.0)) if mode == 'inverse' \
        else None


def model_depth_kind(model: nn.Module) -> Optional[str]:
    """The kind of depth a model class declares (its ``depth_kind``
    attribute: ``'metric'`` or ``'relative'``).

    Every segmentor of the package declares it (``'relative'`` for the
    self-supervised FSRE-Depth); a model without the attribute (e.g. a
    plain mmseg segmentor) is undeclared (None).

    Args:
        model (nn.Module): The built model.

    Returns:
        str | None: ``'metric'``, ``'relative'`` or None.
    """
    kind = getattr(model, 'depth_kind', None)
    if kind is None:
        return None
    if kind not in MODEL_DEPTH_KINDS:
        raise ValueError(f'{type(model).__name__}.depth_kind must be one of '
                         f'{MODEL_DEPTH_KINDS}, got {kind!r}')
    return kind


def depth_output_kind(model: nn.Module,
                      cfg: Config) -> Tuple[str, Optional[float]]:
    """What the model's ``pred_depth_map`` means.

    - A ``DepthTargetTransform`` in the test pipeline: the model regresses
      its target; ``mode='inverse'`` (``scale / depth``) is converted back
      to metres (``'metric'``, with the scale returned), ``'identity'`` is a
      height (``'height'``).
    - A model declaring ``depth_kind = 'relative'`` (self-supervised, e.g.
      FSRE-Depth; see :func:`model_depth_kind`), or a config whose depth
      evaluation uses ``median_scaling=True`` (the scale is not trusted,
      whatever the class): ``'relative'``.
    - Otherwise ``'metric'`` (metres).

    Args:
        model (nn.Module): The built model.
        cfg (Config): Its config.

    Returns:
        tuple[str, float | None]: The kind (one of :data:`DEPTH_KINDS`) and,
        for inverse-depth targets, their scale.
    """
    mode, scale = depth_target_mode(cfg)
    if mode == 'inverse':
        return 'metric', scale
    if mode is not None:
        return 'height', None
    if model_depth_kind(model) == 'relative':
        return 'relative', None
    evaluators = [cfg.get('test_evaluator'), cfg.get('val_evaluator')]
    if any(_find_values(evaluators, 'median_scaling')):
        return 'relative', None
    return 'metric', None


def inverse_to_depth(pred: np.ndarray, scale: float) -> np.ndarray:
    """``scale / pred`` where ``pred > 0``, else 0 (invalid).

    Args:
        pred (np.ndarray): Inverse depth ``scale / depth``.
        scale (float): Its scale (e.g. ``fx * baseline`` for disparity).

    Returns:
        np.ndarray: Depth in metres, shaped like ``pred``.
    """
    return np.where(pred > 0, scale / np.maximum(pred, 1e-12), 0.)
