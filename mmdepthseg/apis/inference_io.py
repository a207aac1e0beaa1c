# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Files of the inferencer: its inputs (paths, folders, arrays), output
names, and what it writes per image (picture, raw predictions, point
cloud), atomically."""
import io
import os.path as osp
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Union

import cv2
import mmengine
import numpy as np

from mmdepthseg.utils.io import atomic_write_bytes, write_image
from .pointcloud import depth_to_point_cloud, label_colors, write_ply

InputType = Union[str, np.ndarray]
InputsType = Union[InputType, Sequence[InputType]]

#: File endings taken from an input folder.
IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
#: ``ply_color`` values: the image's colours or the class palette's.
PLY_COLORS = ('image', 'class')


def inputs_to_list(inputs: InputsType) -> list:
    """Inputs as a list of image paths / arrays.

    A folder gives its images (sorted, non-recursive, by
    :data:`IMG_EXTENSIONS`); one input a list of one; a batch array
    ``(N, H, W, 3)`` N arrays.

    Args:
        inputs (str | np.ndarray | Sequence): See
            :meth:`DepthSegInferencer.__call__`.

    Returns:
        list[str | np.ndarray]: The inputs, each checked.
    """
    if isinstance(inputs, str):
        if osp.isdir(inputs):
            files = sorted(
                osp.join(inputs, f)
                for f in mmengine.list_dir_or_file(inputs, list_dir=False)
                if f.lower().endswith(IMG_EXTENSIONS)
                and not f.startswith('.'))
            if not files:
                raise FileNotFoundError(
                    f'no image ({", ".join(IMG_EXTENSIONS)}) in folder '
                    f'{inputs}')
            return files
        inputs = [inputs]
    elif isinstance(inputs, np.ndarray):
        inputs = list(inputs) if inputs.ndim == 4 else [inputs]
    inputs = list(inputs)
    for item in inputs:
        if isinstance(item, str) and not osp.isfile(item):
            raise FileNotFoundError(f'input image not found: {item}')
        if not isinstance(item, (str, np.ndarray)):
            raise TypeError('inputs are image paths or arrays, got '
                            f'{type(item).__name__}')
    return inputs


def output_stems(inputs: list,
                 names: Optional[Sequence[str]] = None,
                 first_array_index: int = 0) -> List[str]:
    """Output file stems: the file's name, a counter for arrays; repeated
    stems get ``_1``, ``_2``...

    Args:
        inputs (list): Paths / arrays (:func:`inputs_to_list`).
        names (Sequence[str], optional): Stems given by the caller, one per
            input (returned as they are).
        first_array_index (int): Number of the first array. Defaults to 0.

    Returns:
        list[str]: One stem per input.
    """
    if names is not None:
        if len(names) != len(inputs):
            raise ValueError(f'{len(names)} names for {len(inputs)} inputs')
        return [str(n) for n in names]
    stems, seen = [], {}
    array_index = first_array_index
    for item in inputs:
        if isinstance(item, str):
            stem = osp.splitext(osp.basename(item))[0]
        else:
            stem = f'{array_index:08d}'
            array_index += 1
        count = seen.get(stem, 0)
        seen[stem] = count + 1
        stems.append(stem if count == 0 else f'{stem}_{count}')
    return stems


@dataclass
class SaveOptions:
    """What :func:`save_result` writes besides the picture.

    Args:
        save_pred (bool): ``pred/<name>_depth.npy`` and
            ``pred/<name>_seg.png``.
        save_ply (bool): ``ply/<name>.ply`` (needs depth and intrinsics).
        ply_color (str): ``'image'`` or ``'class'`` (palette).
        ply_binary (bool): Binary or ASCII PLY.
        max_depth (float, optional): Drop farther points from the cloud.
        stride (int): Keep every ``stride``-th row / column in the cloud.
    """
    save_pred: bool = False
    save_ply: bool = False
    ply_color: str = 'image'
    ply_binary: bool = True
    max_depth: Optional[float] = None
    stride: int = 1

    def __post_init__(self) -> None:
        if self.ply_color not in PLY_COLORS:
            raise ValueError(f"ply_color must be 'image' or 'class', got "
                             f'{self.ply_color!r}')


def save_result(out_dir: str,
                name: str,
                image_bgr: np.ndarray,
                result: dict,
                picture: Optional[np.ndarray],
                options: SaveOptions,
                palette_of: Optional[Callable[[int], np.ndarray]] = None
                ) -> None:
    """Write the picture, raw predictions and point cloud of an image.

    Files (each written atomically): ``vis/<name>.png`` (the picture,
    when given), with ``options.save_pred`` ``pred/<name>_depth.npy`` and
    ``pred/<name>_seg.png`` (uint8 class ids), with ``options.save_ply``
    ``ply/<name>.ply``.

    Args:
        out_dir (str): Output folder.
        name (str): File stem.
        image_bgr (np.ndarray): The input, uint8 BGR (point colours).
        result (dict): Its result dict.
        picture (np.ndarray, optional): uint8 RGB picture.
        options (SaveOptions): What to write.
        palette_of (Callable, optional): ``num_classes -> (C, 3)`` RGB
            palette, for ``ply_color='class'``.
    """
    if picture is not None:
        write_image(osp.join(out_dir, 'vis', f'{name}.png'), picture, rgb=True)
    if options.save_pred:
        _save_pred(out_dir, name, result)
    if options.save_ply:
        if options.ply_color == 'class':
            colors = label_colors(result['sem_seg'],
                                  palette_of(result['num_classes']))
        else:
            colors = np.ascontiguousarray(image_bgr[..., ::-1])
        points, point_colors = depth_to_point_cloud(result['depth'],
                                                    result['intrinsics'],
                                                    colors, options.stride,
                                                    options.max_depth)
        write_ply(
            osp.join(out_dir, 'ply', f'{name}.ply'), points, point_colors,
            options.ply_binary)


def _save_pred(out_dir: str, name: str, result: Dict[str, object]) -> None:
    """``pred/<name>_depth.npy`` and ``pred/<name>_seg.png``."""
    if 'depth' in result:
        buf = io.BytesIO()
        np.save(buf, result['depth'])
        atomic_write_bytes(
            osp.join(out_dir, 'pred', f'{name}_depth.npy'), buf.getvalue())
    if 'sem_seg' in result and result['sem_seg'].dtype == np.uint8:
        write_label_png(
            osp.join(out_dir, 'pred', f'{name}_seg.png'), result['sem_seg'])


def write_label_png(path: str, label: np.ndarray) -> None:
    """Write a uint8 ``(H, W)`` label map as PNG, atomically."""
    ok, buf = cv2.imencode('.png', label)
    if not ok:
        raise OSError(f'PNG encoding failed for {path}')
    atomic_write_bytes(path, buf.tobytes())
