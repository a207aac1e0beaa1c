# Copyright (c) mmdepthseg contributors. All rights reserved.
"""General file I/O of the dataset readers: existence checks, image
decoding, listing a dataset's images, stacking the views of a sample.

Errors name the offending file and say what was expected; a missing file
points to the README's "Dataset preparation" section.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import mmcv
import mmengine.fileio as fileio
import numpy as np

from .validation import DatasetError, jpeg_num_components, to_bgr_uint8

#: Pointer appended to every "missing file" error.
DATASET_PREP_HINT = ('see the "Dataset preparation" section of README.md for '
                     'how to download and lay out the data')


def check_file_exists(path: str, what: str = 'file') -> None:
    """Raise ``FileNotFoundError`` naming ``path`` if it does not exist.

    Args:
        path (str): File or directory that must exist.
        what (str): Words describing it in the message, e.g. ``'data root'``.
    """
    if not fileio.exists(path):
        raise FileNotFoundError(
            f'{what} not found: {path} ({DATASET_PREP_HINT})')


def list_dataset_images(data_root: str,
                        data_prefix: Dict[str, str],
                        img_suffix: str,
                        what: str,
                        folders: Sequence[Tuple[str, str]] = (),
                        recursive: bool = True) -> List[str]:
    """Check a dataset's folders and list its images.

    Args:
        data_root (str): The dataset root (must exist).
        data_prefix (dict[str, str]): Folders by key; ``'img_path'`` (the
            image folder) must exist.
        img_suffix (str): Suffix of the image files, e.g. ``'.png'``.
        what (str): Name of the dataset in error messages, e.g.
            ``'NYUv2'``.
        folders (Sequence[tuple[str, str]]): ``(key, description)`` of
            further ``data_prefix`` folders that must exist when the key is
            given (e.g. ``('seg_map_path', 'label folder')``).
        recursive (bool): List the image folder recursively. Defaults to
            True.

    Returns:
        list[str]: Sorted image paths relative to the image folder.

    Raises:
        FileNotFoundError: Naming the missing root / folder, or the image
            folder without any ``*img_suffix`` file.
    """
    check_file_exists(data_root, f'{what} data root')
    img_dir = data_prefix['img_path']
    check_file_exists(img_dir, f'{what} image folder')
    for key, description in folders:
        if key in data_prefix:
            check_file_exists(data_prefix[key], f'{what} {description}')
    rel_paths = sorted(
        fileio.list_dir_or_file(
            img_dir, list_dir=False, suffix=img_suffix, recursive=recursive))
    if not rel_paths:
        raise FileNotFoundError(f'no *{img_suffix} image under {img_dir} '
                                f'({DATASET_PREP_HINT})')
    return rel_paths


def read_file_bytes(path: str, backend_args: Optional[dict] = None) -> bytes:
    """The bytes of ``path`` (any mmengine file backend).

    Raises:
        FileNotFoundError: Naming the file and pointing to the dataset
            preparation section of the README.
    """
    try:
        return fileio.get(path, backend_args=backend_args)
    except FileNotFoundError:
        raise FileNotFoundError(
            f'file not found: {path} ({DATASET_PREP_HINT})') from None


def read_image(path: str,
               flag: str = 'color',
               backend: str = 'cv2',
               backend_args: Optional[dict] = None) -> np.ndarray:
    """Read an image file with mmcv (OpenCV backend by default).

    With ``flag='color'`` and the OpenCV backend the file is decoded as
    stored (``IMREAD_ANYCOLOR | IMREAD_ANYDEPTH``, EXIF orientation
    applied as by ``IMREAD_COLOR``) and converted by
    :func:`~mmdepthseg.datasets.validation.to_bgr_uint8`: grey images are
    repeated into 3 channels (with a warning), an alpha channel is dropped,
    16-bit / float images and CMYK JPEGs are refused, naming the file.

    Args:
        path (str): Image file.
        flag (str): ``'color'`` (BGR uint8 ``(H, W, 3)``), ``'grayscale'`` or
            ``'unchanged'`` (keeps 16-bit PNGs and single channels).
        backend (str): mmcv decoding backend. Defaults to ``'cv2'``.
        backend_args (dict, optional): mmengine file backend arguments.

    Returns:
        np.ndarray: The decoded image.

    Raises:
        FileNotFoundError: The file does not exist.
        OSError: The file exists but cannot be decoded (corrupt, truncated or
            not an image).
        DatasetError: A colour image of a refused kind (see above).
    """
    img_bytes = read_file_bytes(path, backend_args)
    img = None
    as_stored = flag == 'color' and backend == 'cv2'
    if len(img_bytes) > 0:
        try:
            if as_stored:
                img = cv2.imdecode(
                    np.frombuffer(img_bytes, np.uint8),
                    cv2.IMREAD_ANYCOLOR | cv2.IMREAD_ANYDEPTH)
            else:
                img = mmcv.imfrombytes(img_bytes, flag=flag, backend=backend)
        except Exception:  # decoders raise various errors on bad input
            img = None
    if img is None:
        raise OSError(f'cannot decode image file {path}: it is empty, '
                      'truncated or not an image')
    if as_stored:
        img = to_bgr_uint8(img, path, jpeg_num_components(img_bytes))
    return img


def _kind_for(what: str) -> str:
    return 'label' if 'label' in what else 'depth'


def stack_views(arrays: Sequence[np.ndarray],
                paths: Sequence[str],
                what: str = 'image') -> np.ndarray:
    """Stack per-view arrays, checking that their sizes agree.

    Args:
        arrays: (H, W[, C]) arrays, one per view.
        paths: their file names, for the error message.
        what: what they are, for the error message.

    Returns:
        np.ndarray: ``(H, W, sum C)`` for images (channels concatenated) or
        ``(V, H, W)`` for 2-D maps.
    """
    shapes = [a.shape[:2] for a in arrays]
    if len(set(shapes)) > 1:
        listing = ', '.join(f'{p} {s[1]}x{s[0]}'
                            for p, s in zip(paths, shapes))
        raise DatasetError(
            paths[0], f'the views of one sample differ in size: {what}s '
            f'{listing} (w x h)', 'all views of one sample of the same size',
            'image' if what == 'image' else _kind_for(what))
    if arrays[0].ndim == 3:
        return np.concatenate(arrays, axis=2)
    return np.stack(arrays, axis=0)
