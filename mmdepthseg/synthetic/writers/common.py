# Copyright (c) mmdepthseg contributors. All rights reserved.
"""What the layout writers share: derived seeds, progress bars, the image
files, the stereo pair of a street scene."""
from typing import NamedTuple, Optional, Tuple

import numpy as np

from mmdepthseg.utils.io import write_image
from ..street_scene import StreetScene, stereo_right_pose

#: JPEG quality of the generated ``.jpg`` images.
JPEG_QUALITY = 92


class RenderCamera(NamedTuple):
    """What a view is rendered with.

    Attributes:
        K (np.ndarray): (3, 3) pixel intrinsics.
        height (int): Image height.
        width (int): Image width.
        antialias (bool): The renderer's quincunx pixel filter.
    """
    K: np.ndarray
    height: int
    width: int
    antialias: bool


def write_tree_image(path: str, img: np.ndarray, rgb: bool = False) -> None:
    """:func:`~mmdepthseg.utils.io.write_image` (atomic) at the generated
    trees' JPEG quality (:data:`JPEG_QUALITY`)."""
    write_image(path, img, rgb, jpeg_quality=JPEG_QUALITY)


def progress_bar(total: int, enabled: bool):
    """An MMEngine progress bar, or ``None`` (lazy import: keeps this
    package light)."""
    if not enabled:
        return None
    from mmengine.utils import ProgressBar
    return ProgressBar(total)


def advance(bar: Optional[object]) -> None:
    """One step of a :func:`progress_bar` (nothing without one)."""
    if bar is not None:
        bar.update()


def sub_seed(*keys: int) -> int:
    """A 31-bit seed derived from integers (stable across runs)."""
    return int(np.random.SeedSequence(list(keys)).generate_state(1)[0] >> 1)


def render_stereo_pair(scene: StreetScene, pose: np.ndarray,
                       camera: RenderCamera,
                       baseline: float) -> Tuple[dict, dict]:
    """Render the left view at ``pose`` and the right one ``baseline``
    metres to its right (:func:`stereo_right_pose`).

    Returns:
        tuple[dict, dict]: :meth:`StreetScene.render` of the left and the
        right camera.
    """
    left = scene.render(
        pose,
        camera.K,
        camera.height,
        camera.width,
        antialias=camera.antialias)
    right = scene.render(
        stereo_right_pose(pose, baseline),
        camera.K,
        camera.height,
        camera.width,
        antialias=camera.antialias)
    return left, right
