# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The names of the views of a multi-view sample (``view_names``).

The first name is the reference view. Stereo-only samples name the
physical cameras (``'l'``, ``'r'``); samples with video frames name them
by their offset to the target ``'t'`` (``'t-1'``, ``'t+1'``) and the stereo
partner ``'s'``.
"""
from typing import Sequence, Tuple, Union

FrameId = Union[int, str]


def view_names_for_frame_ids(frame_ids: Sequence[FrameId],
                             side: str = 'l') -> Tuple[str, ...]:
    """View names of KITTI-style ``frame_ids`` (monodepth2's convention).

    Args:
        frame_ids (Sequence[int | str]): Frame offsets to the reference
            (``0`` first) and ``'s'`` for the stereo partner, e.g.
            ``(0, -1, 1)`` or ``(0, 's')``.
        side (str): Reference camera, ``'l'`` or ``'r'``. Defaults to 'l'.

    Returns:
        tuple[str]: ``(0, 's')`` -> ``('l', 'r')`` (``('r', 'l')`` for a
        right reference); ``(0, -1, 1, 's')`` -> ``('t', 't-1', 't+1',
        's')``.
    """
    temporal = any(isinstance(f, int) and f != 0 for f in frame_ids)
    other = 'r' if side == 'l' else 'l'
    if not temporal:
        return tuple(side if f == 0 else other for f in frame_ids)
    return tuple('s' if f == 's' else ('t' if f == 0 else f't{f:+d}')
                 for f in frame_ids)
