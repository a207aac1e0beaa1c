# Copyright (c) mmdepthseg contributors. All rights reserved.
"""One set of readers for the metainfo every model and metric needs.

Each reader takes a sample in any of the forms the package meets: a
``SegDataSample`` (its ``metainfo``), the dict a metric receives
(``data_sample.to_dict()``: metainfo keys at the top level), or a plain
metainfo / results dict. Missing keys raise a ``KeyError`` naming the
image and the key, unless the reader is asked with ``required=False``
(then it returns None). Values come back as plain Python / numpy types; the
``stack_*`` readers return one batched tensor for a list of samples.
"""
from typing import Any, Mapping, Optional, Sequence, Tuple

import numpy as np
from torch import Tensor

from .camera import scale_intrinsics
from .keys import (BASELINE, DOMAIN, FLIP, FLIP_DIRECTION, IMG_PATH, IMG_SHAPE,
                   INTRINSICS, LABELLED_TASKS, PADDING_SIZE, STEREO_T, TASKS,
                   VIEW_NAMES)


def metainfo_of(sample: Any) -> Mapping:
    """The metainfo mapping of a data sample or a dict.

    Args:
        sample (SegDataSample | dict): A packed sample (its ``metainfo``) or
            a dict holding the metainfo keys at the top level.

    Returns:
        Mapping: The metainfo.
    """
    meta = getattr(sample, 'metainfo', None)
    if meta is not None:
        return meta
    if isinstance(sample, Mapping):
        return sample
    raise TypeError('expected a data sample with metainfo or a dict, got '
                    f'{type(sample).__name__}')


def sample_name(sample: Any) -> str:
    """The sample's ``img_path`` for messages (``'<unknown image>'``)."""
    return str(metainfo_of(sample).get(IMG_PATH, '<unknown image>'))


def _numpy(value) -> np.ndarray:
    if isinstance(value, Tensor):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def _get(sample: Any, key: str, required: bool, needed_for: str = ''):
    meta = metainfo_of(sample)
    value = meta.get(key)
    if value is None and required:
        why = f' ({needed_for})' if needed_for else ''
        raise KeyError(
            f'the metainfo of {sample_name(sample)} has no {key!r}{why}; it '
            f'has {sorted(meta)} (see docs/en/data_contract.md)')
    return value


def read_view_names(
        sample: Any,
        default: Optional[Sequence[str]] = None) -> Tuple[str, ...]:
    """``view_names`` as a tuple of str.

    Args:
        sample: See :func:`metainfo_of`.
        default (Sequence[str], optional): Returned when the key is absent;
            None makes the key required.

    Returns:
        tuple[str, ...]: e.g. ``('l', 'r')``; the first is the reference.
    """
    names = _get(sample, VIEW_NAMES, default is None)
    if names is None:
        names = default
    if isinstance(names, str):
        names = (names, )
    return tuple(str(n) for n in names)


def reference_view(sample: Any, default: Optional[str] = None) -> str:
    """Name of the reference (first) view, e.g. ``'l'`` or ``'t'``.

    Args:
        sample: See :func:`metainfo_of`.
        default (str, optional): Returned without ``view_names``; None
            makes the key required.
    """
    names = read_view_names(sample, None if default is None else (default, ))
    if not names:
        raise ValueError(f'{sample_name(sample)}: view_names is empty')
    return names[0]


def read_img_shape(sample: Any,
                   required: bool = True) -> Optional[Tuple[int, int]]:
    """``(h, w)`` of ``img_shape`` (the size ``intrinsics`` describes)."""
    shape = _get(sample, IMG_SHAPE, required)
    if shape is None:
        return None
    return int(shape[0]), int(shape[1])


def read_padding_size(
    sample: Any, keys: Sequence[str] = (PADDING_SIZE, )
) -> Tuple[int, int, int, int]:
    """``(left, right, top, bottom)`` padding of the input, 0s without it.

    Args:
        sample: See :func:`metainfo_of`.
        keys (Sequence[str]): Keys tried in order, e.g.
            ``('img_padding_size', 'padding_size')`` after mmseg's TTA.
    """
    meta = metainfo_of(sample)
    padding = next((meta[k] for k in keys if meta.get(k) is not None),
                   (0, 0, 0, 0))
    left, right, top, bottom = (int(p) for p in padding)
    return left, right, top, bottom


def read_flip_direction(sample: Any) -> Optional[str]:
    """``'horizontal'`` / ``'vertical'`` for a flipped input, else None.

    Raises:
        ValueError: ``flip`` is True but ``flip_direction`` is neither.
    """
    meta = metainfo_of(sample)
    if not meta.get(FLIP, False):
        return None
    direction = meta.get(FLIP_DIRECTION, None)
    if direction not in ('horizontal', 'vertical'):
        raise ValueError("flip_direction must be 'horizontal' or 'vertical' "
                         f'when flip is True, got {direction!r} (image '
                         f'{meta.get(IMG_PATH)})')
    return direction


def read_intrinsics(sample: Any,
                    size: Optional[Tuple[int, int]] = None,
                    required: bool = True) -> Optional[np.ndarray]:
    """The camera matrix, at ``img_shape`` or rescaled to ``size``.

    The metainfo's ``intrinsics`` describe the image of ``img_shape``; with
    ``size`` they are rescaled (integer pixel centres, see
    :func:`~mmdepthseg.structures.camera.scale_intrinsics`) by
    ``size / img_shape``. Without ``img_shape`` they are returned as they
    are.

    Args:
        sample: See :func:`metainfo_of`.
        size (tuple[int, int], optional): ``(h, w)`` to rescale to, e.g.
            the ground truth's size.
        required (bool): Raise when the key is missing (else None).

    Returns:
        np.ndarray | None: float32 ``(3, 3)``.
    """
    k = _get(sample, INTRINSICS, required)
    if k is None:
        return None
    k = _numpy(k).astype(np.float32).reshape(3, 3)
    shape = read_img_shape(sample, required=False)
    if size is not None and shape is not None and \
            tuple(int(s) for s in size[:2]) != shape:
        k = scale_intrinsics(k, size[1] / shape[1], size[0] / shape[0])
    return k


def read_baseline(sample: Any, required: bool = True) -> Optional[float]:
    """The stereo baseline in metres."""
    baseline = _get(sample, BASELINE, required)
    if baseline is None:
        return None
    return float(_numpy(baseline).reshape(-1)[0])


def read_fx_baseline(sample: Any,
                     width: Optional[int] = None,
                     required: bool = True) -> Optional[float]:
    """``fx * baseline`` (pixels x metres), the disparity-depth factor.

    ``disparity = fx * baseline / depth`` at the image size ``fx`` belongs
    to: ``img_shape``, or ``width`` pixels wide (``fx`` rescaled by
    ``width / img_shape[1]``).

    Args:
        sample: See :func:`metainfo_of`.
        width (int, optional): Image width to give ``fx`` at.
        required (bool): Raise when ``intrinsics`` or ``baseline`` is
            missing (else None).

    Returns:
        float | None
    """
    meta = metainfo_of(sample)
    if not required and (meta.get(INTRINSICS) is None
                         or meta.get(BASELINE) is None):
        return None
    need = 'fx * baseline'
    fx = float(_numpy(_get(sample, INTRINSICS, True, need)).reshape(-1)[0])
    baseline = float(_numpy(_get(sample, BASELINE, True, need)).reshape(-1)[0])
    shape = read_img_shape(sample, required=False)
    if width is not None and shape is not None:
        fx *= width / float(shape[1])
    return fx * baseline


def read_stereo_transform(sample: Any,
                          required: bool = True) -> Optional[np.ndarray]:
    """``stereo_T`` (float32 ``(4, 4)`` ``T_ref2other``)."""
    stereo_t = _get(sample, STEREO_T, required)
    if stereo_t is None:
        return None
    return _numpy(stereo_t).astype(np.float32).reshape(4, 4)


def read_domain(sample: Any, required: bool = True) -> Optional[int]:
    """SemiMTL's ``domain`` (an int >= 1)."""
    domain = _get(sample, DOMAIN, required)
    if domain is None:
        return None
    if int(domain) != domain or int(domain) < 1:
        raise ValueError(f'{sample_name(sample)}: domain must be an int '
                         f'>= 1, got {domain!r}')
    return int(domain)


def read_labelled_tasks(sample: Any,
                        required: bool = True) -> Optional[Tuple[str, ...]]:
    """SemiMTL's ``labelled_tasks`` as a tuple (a str is one task).

    Raises:
        ValueError: A task outside :data:`~mmdepthseg.structures.keys.TASKS`.
    """
    tasks = _get(sample, LABELLED_TASKS, required)
    if tasks is None:
        return None
    tasks = (tasks, ) if isinstance(tasks, str) else tuple(tasks)
    bad = set(tasks) - set(TASKS)
    if bad:
        raise ValueError(f'{sample_name(sample)}: labelled_tasks holds '
                         f'unknown tasks {sorted(bad)}; tasks are {TASKS}')
    return tasks


# ---------------------------------------------------------------------------
# batched readers (one tensor for a list of samples)
# ---------------------------------------------------------------------------
def stack_intrinsics(samples: Sequence[Any], like: Tensor) -> Tensor:
    """``(B, 3, 3)`` intrinsics at ``img_shape`` (dtype/device of
    ``like``)."""
    return like.new_tensor(np.stack([read_intrinsics(s) for s in samples]))


def stack_focal_lengths(samples: Sequence[Any], like: Tensor) -> Tensor:
    """``(B,)`` ``fx`` at ``img_shape``."""
    return like.new_tensor([float(read_intrinsics(s)[0, 0]) for s in samples])


def stack_baselines(samples: Sequence[Any], like: Tensor) -> Tensor:
    """``(B,)`` stereo baselines in metres."""
    return like.new_tensor([read_baseline(s) for s in samples])


def stack_fx_baselines(samples: Sequence[Any], like: Tensor) -> Tensor:
    """``(B,)`` ``fx * baseline`` at ``img_shape``."""
    return like.new_tensor([read_fx_baseline(s) for s in samples])


def stack_stereo_transforms(samples: Sequence[Any], like: Tensor) -> Tensor:
    """``(B, 4, 4)`` ``stereo_T``."""
    return like.new_tensor(
        np.stack([read_stereo_transform(s) for s in samples]))


__all__ = [
    'metainfo_of', 'sample_name', 'read_view_names', 'reference_view',
    'read_img_shape', 'read_padding_size', 'read_flip_direction',
    'read_intrinsics', 'read_baseline', 'read_fx_baseline',
    'read_stereo_transform', 'read_domain', 'read_labelled_tasks',
    'stack_intrinsics', 'stack_focal_lengths', 'stack_baselines',
    'stack_fx_baselines', 'stack_stereo_transforms'
]
