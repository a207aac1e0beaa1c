# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Coloured point clouds from depth maps, and PLY files.

Back-projection follows the data contract (``docs/en/data_contract.md``):
OpenCV camera frame (x right, y down, z forward), integer pixel centres
(pixel ``(u, v)`` is the centre of column u / row v), depth along z in
metres with 0 = invalid. A pixel with depth ``z`` becomes

.. math::

    X = (u - c_x) z / f_x, \\quad Y = (v - c_y) z / f_y, \\quad Z = z.

PLY files hold one ``vertex`` element with float ``x, y, z`` and, when
colours are given, uchar ``red, green, blue``; :func:`write_ply` writes
them as ASCII or binary little endian, atomically, and :func:`read_ply`
reads both back (and any PLY whose elements have scalar properties only).
"""
import io
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

# Back-projection and intrinsics live in mmdepthseg.structures.camera;
# re-exported here so that the old import paths keep working.
from mmdepthseg.structures.camera import (IntrinsicsType, as_intrinsics_matrix,
                                          backproject_depth_map)
from mmdepthseg.utils.io import atomic_open

__all__ = [
    'IntrinsicsType', 'as_intrinsics_matrix', 'backproject_depth',
    'backproject_depth_map', 'depth_to_point_cloud', 'label_colors',
    'write_ply', 'read_ply'
]

#: PLY scalar types -> numpy dtype characters (size and kind).
_PLY_TYPES: Dict[str, str] = {
    'char': 'i1',
    'int8': 'i1',
    'uchar': 'u1',
    'uint8': 'u1',
    'short': 'i2',
    'int16': 'i2',
    'ushort': 'u2',
    'uint16': 'u2',
    'int': 'i4',
    'int32': 'i4',
    'uint': 'u4',
    'uint32': 'u4',
    'float': 'f4',
    'float32': 'f4',
    'double': 'f8',
    'float64': 'f8',
}


#: The name :func:`backproject_depth_map` had before it was told apart from
#: the torch ``backproject_depth`` of ``mmdepthseg.models.layers``; kept so
#: that ``from mmdepthseg.apis import backproject_depth`` still works.
backproject_depth = backproject_depth_map


def depth_to_point_cloud(
    depth: np.ndarray,
    intrinsics: IntrinsicsType,
    colors: Optional[np.ndarray] = None,
    stride: int = 1,
    max_depth: Optional[float] = None
) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """Back-project the valid pixels of a depth map to a coloured cloud.

    Pixels ``(u, v)`` with ``u % stride == 0`` and ``v % stride == 0`` are
    kept when their depth is finite, ``> 0`` and ``<= max_depth``; points
    come in row-major pixel order.

    Args:
        depth (np.ndarray): ``(H, W)`` depth (metres, 0 = invalid).
        intrinsics (np.ndarray | Sequence[float]): ``K`` at the depth map's
            size, 3x3 or ``(fx, fy, cx, cy)``.
        colors (np.ndarray, optional): ``(H, W, 3)`` uint8 colour of every
            pixel (e.g. the RGB image or class colours).
        stride (int): Keep every ``stride``-th row and column. Defaults to 1.
        max_depth (float, optional): Drop points farther than this.
            Defaults to None (keep all).

    Returns:
        tuple[np.ndarray, np.ndarray | None]: float32 ``(N, 3)`` points and
        uint8 ``(N, 3)`` colours (None without ``colors``).
    """
    if int(stride) != stride or stride < 1:
        raise ValueError(f'stride must be an integer >= 1, got {stride}')
    depth = np.asarray(depth, dtype=np.float32)
    if colors is not None:
        colors = np.asarray(colors)
        if colors.shape != depth.shape + (3, ):
            raise ValueError(f'colors must be {depth.shape + (3, )} like the '
                             f'depth map, got {colors.shape}')
    points = backproject_depth_map(depth, intrinsics)[::stride, ::stride]
    z = points[..., 2]
    valid = np.isfinite(z) & (z > 0)
    if max_depth is not None:
        valid &= z <= max_depth
    cloud = np.ascontiguousarray(points[valid])
    if colors is None:
        return cloud, None
    return cloud, np.ascontiguousarray(
        colors[::stride, ::stride][valid].astype(np.uint8))


def label_colors(
    sem_seg: np.ndarray,
    palette: Union[np.ndarray, Sequence[Sequence[int]]],
    unknown_color: Tuple[int, int, int] = (0, 0, 0)
) -> np.ndarray:
    """Palette colour of every pixel of a class map.

    Args:
        sem_seg (np.ndarray): ``(H, W)`` class ids.
        palette (np.ndarray | Sequence): ``(C, 3)`` RGB colour per class.
        unknown_color (tuple[int, int, int]): RGB of ids outside
            ``[0, C)`` (e.g. 255 = ignore). Defaults to black.

    Returns:
        np.ndarray: uint8 ``(H, W, 3)``.
    """
    palette = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
    sem_seg = np.asarray(sem_seg).astype(np.int64)
    known = (sem_seg >= 0) & (sem_seg < len(palette))
    out = np.empty(sem_seg.shape + (3, ), dtype=np.uint8)
    out[...] = np.asarray(unknown_color, dtype=np.uint8)
    out[known] = palette[sem_seg[known]]
    return out


def _vertex_header(num_points: int, with_colors: bool, fmt: str) -> bytes:
    lines = [
        'ply', f'format {fmt} 1.0', 'comment written by mmdepthseg',
        f'element vertex {num_points}', 'property float x', 'property float y',
        'property float z'
    ]
    if with_colors:
        lines += [
            'property uchar red', 'property uchar green', 'property uchar blue'
        ]
    lines.append('end_header')
    return ('\n'.join(lines) + '\n').encode('ascii')


def write_ply(path: str,
              points: np.ndarray,
              colors: Optional[np.ndarray] = None,
              binary: bool = True) -> None:
    """Write a (coloured) point cloud as PLY, atomically.

    Args:
        path (str): Output file.
        points (np.ndarray): ``(N, 3)`` coordinates (stored as float32).
        colors (np.ndarray, optional): ``(N, 3)`` uint8 RGB.
        binary (bool): Binary little endian (True, default) or ASCII.
    """
    points = np.asarray(points, dtype=np.float32)
    if points.ndim != 2 or points.shape[1] != 3:
        raise ValueError(f'{path}: points must be (N, 3), got '
                         f'{points.shape}')
    if colors is not None:
        colors = np.asarray(colors)
        if colors.shape != points.shape:
            raise ValueError(f'{path}: colors must be {points.shape} like '
                             f'the points, got {colors.shape}')
        if colors.dtype != np.uint8:
            raise ValueError(f'{path}: colors must be uint8, got '
                             f'{colors.dtype}')
    fields: List[Tuple[str, str]] = [('x', '<f4'), ('y', '<f4'), ('z', '<f4')]
    if colors is not None:
        fields += [('red', 'u1'), ('green', 'u1'), ('blue', 'u1')]
    table = np.empty(len(points), dtype=fields)
    for i, name in enumerate('xyz'):
        table[name] = points[:, i]
    if colors is not None:
        for i, name in enumerate(('red', 'green', 'blue')):
            table[name] = colors[:, i]

    fmt = 'binary_little_endian' if binary else 'ascii'
    with atomic_open(path, 'wb') as f:
        f.write(_vertex_header(len(points), colors is not None, fmt))
        if binary:
            f.write(table.tobytes())
        else:
            text = io.StringIO()
            # '%.9g' round-trips float32 exactly
            row_fmt = ['%.9g'] * 3 + (['%d'] * 3 if colors is not None else [])
            columns = [points.astype(np.float64)]
            if colors is not None:
                columns.append(colors.astype(np.float64))
            np.savetxt(text, np.concatenate(columns, axis=1), fmt=row_fmt)
            f.write(text.getvalue().encode('ascii'))


def _parse_header(path: str, data: bytes) -> Tuple[str, list, int]:
    """``(format, elements, body offset)`` of a PLY file.

    ``elements`` is a list of ``(name, count, [(property, dtype char)])``.
    """
    end = data.find(b'end_header')
    if not data.startswith(b'ply') or end < 0:
        raise ValueError(f'{path}: not a PLY file (no "ply" magic / '
                         '"end_header")')
    newline = data.find(b'\n', end)
    if newline < 0:
        raise ValueError(f'{path}: truncated PLY header')
    lines = data[:end].decode('ascii', errors='replace').splitlines()
    fmt, elements = None, []
    for line in lines[1:]:
        words = line.split()
        if not words or words[0] in ('comment', 'obj_info'):
            continue
        if words[0] == 'format':
            fmt = words[1]
        elif words[0] == 'element':
            elements.append((words[1], int(words[2]), []))
        elif words[0] == 'property':
            if not elements:
                raise ValueError(f'{path}: property before any element')
            if words[1] == 'list':
                raise NotImplementedError(
                    f'{path}: list property {words[-1]!r} of element '
                    f'{elements[-1][0]!r} is not supported')
            if words[1] not in _PLY_TYPES:
                raise ValueError(f'{path}: unknown PLY type {words[1]!r}')
            elements[-1][2].append((words[2], _PLY_TYPES[words[1]]))
    if fmt not in ('ascii', 'binary_little_endian', 'binary_big_endian'):
        raise ValueError(f'{path}: unknown PLY format {fmt!r}')
    return fmt, elements, newline + 1


def read_ply(path: str) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """Read the vertices of a PLY file (ASCII or binary).

    The reader of what :func:`write_ply` writes, so that the point clouds
    of the demos can be loaded back without another package (public API;
    the tests check the written files with it).

    Args:
        path (str): PLY file.

    Returns:
        tuple[np.ndarray, np.ndarray | None]: float32 ``(N, 3)`` points and
        uint8 ``(N, 3)`` colours (None when the file has no
        ``red/green/blue`` properties).
    """
    with open(path, 'rb') as f:
        data = f.read()
    fmt, elements, offset = _parse_header(path, data)
    tables = {}
    if fmt == 'ascii':
        rows = data[offset:].decode('ascii').split('\n')
        start = 0
        for name, count, props in elements:
            block = [r for r in rows[start:start + count]]
            if len(block) < count:
                raise ValueError(f'{path}: element {name!r} has {count} rows '
                                 f'in the header but {len(block)} in the '
                                 'file')
            values = np.loadtxt(
                block, ndmin=2).reshape(count, len(props)) if count else \
                np.zeros((0, len(props)))
            table = np.empty(count, dtype=[(p, t) for p, t in props])
            for i, (p, _) in enumerate(props):
                table[p] = values[:, i]
            tables[name] = table
            start += count
    else:
        order = '<' if fmt == 'binary_little_endian' else '>'
        for name, count, props in elements:
            dtype = np.dtype([(p, order + t) for p, t in props])
            size = dtype.itemsize * count
            if offset + size > len(data):
                raise ValueError(f'{path}: truncated PLY body: element '
                                 f'{name!r} needs {size} bytes, '
                                 f'{len(data) - offset} left')
            tables[name] = np.frombuffer(
                data, dtype=dtype, count=count, offset=offset)
            offset += size
    if 'vertex' not in tables:
        raise ValueError(f'{path}: no vertex element')
    vertex = tables['vertex']
    names = vertex.dtype.names
    missing = [p for p in 'xyz' if p not in names]
    if missing:
        raise ValueError(f'{path}: vertex element lacks {missing}')
    points = np.stack([vertex[p] for p in 'xyz'], axis=1).astype(np.float32)
    colors = None
    if all(c in names for c in ('red', 'green', 'blue')):
        colors = np.stack([vertex[c] for c in ('red', 'green', 'blue')],
                          axis=1).astype(np.uint8)
    return points, colors
