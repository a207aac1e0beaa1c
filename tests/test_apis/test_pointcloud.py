# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Back-projection of depth maps and the PLY writer / reader."""
import os

import numpy as np
import pytest

from mmdepthseg.apis.pointcloud import (as_intrinsics_matrix,
                                        backproject_depth_map,
                                        depth_to_point_cloud, label_colors,
                                        read_ply, write_ply)

# fx=2, fy=4, cx=1, cy=0.5 (pixels)
K = np.array([[2., 0., 1.], [0., 4., 0.5], [0., 0., 1.]])
# 2 x 3 map: (u, v) = column, row; 0 and NaN are invalid
DEPTH = np.array([[1., 2., 0.], [4., np.nan, 8.]], dtype=np.float32)
# X = (u - cx) z / fx, Y = (v - cy) z / fy, Z = z, by hand, row-major order
EXPECTED = np.array([
    [(0 - 1) * 1 / 2, (0 - 0.5) * 1 / 4, 1],  # u=0, v=0, z=1
    [(1 - 1) * 2 / 2, (0 - 0.5) * 2 / 4, 2],  # u=1, v=0, z=2
    [(0 - 1) * 4 / 2, (1 - 0.5) * 4 / 4, 4],  # u=0, v=1, z=4
    [(2 - 1) * 8 / 2, (1 - 0.5) * 8 / 4, 8],  # u=2, v=1, z=8
])


def test_backprojection_gives_hand_computed_points():
    points, colors = depth_to_point_cloud(DEPTH, K)
    assert colors is None
    assert points.dtype == np.float32
    np.testing.assert_allclose(points, EXPECTED, rtol=1e-6)
    # the full (H, W, 3) grid agrees at a valid pixel
    grid = backproject_depth_map(DEPTH, K)
    assert grid.shape == (2, 3, 3)
    np.testing.assert_allclose(grid[1, 2], EXPECTED[3], rtol=1e-6)


def test_intrinsics_as_four_values_equal_the_matrix():
    np.testing.assert_array_equal(as_intrinsics_matrix((2, 4, 1, 0.5)), K)
    with pytest.raises(ValueError, match='3x3 matrix or'):
        as_intrinsics_matrix([1, 2, 3])
    with pytest.raises(ValueError, match='fx, fy > 0'):
        as_intrinsics_matrix((0, 4, 1, 0.5))


def test_max_depth_and_stride_select_pixels():
    points, _ = depth_to_point_cloud(DEPTH, K, max_depth=4.0)
    np.testing.assert_allclose(points, EXPECTED[:3], rtol=1e-6)
    # stride 2 keeps row 0 and columns 0, 2: depths 1 (valid) and 0
    points, _ = depth_to_point_cloud(DEPTH, K, stride=2)
    np.testing.assert_allclose(points, EXPECTED[:1], rtol=1e-6)
    with pytest.raises(ValueError, match='stride'):
        depth_to_point_cloud(DEPTH, K, stride=0)


def test_points_take_image_or_class_colours():
    image = np.arange(18, dtype=np.uint8).reshape(2, 3, 3)
    _, colors = depth_to_point_cloud(DEPTH, K, image)
    # valid pixels (0,0), (0,1), (1,0), (1,2) in row-major order
    np.testing.assert_array_equal(
        colors, [image[0, 0], image[0, 1], image[1, 0], image[1, 2]])

    palette = [[10, 20, 30], [40, 50, 60]]
    seg = np.array([[0, 1, 1], [1, 0, 255]])
    by_class = label_colors(seg, palette)
    assert by_class.dtype == np.uint8
    np.testing.assert_array_equal(by_class[0, 1], [40, 50, 60])
    np.testing.assert_array_equal(by_class[1, 2], [0, 0, 0])  # 255: unknown
    _, colors = depth_to_point_cloud(DEPTH, K, by_class)
    np.testing.assert_array_equal(
        colors, [[10, 20, 30], [40, 50, 60], [40, 50, 60], [0, 0, 0]])
    with pytest.raises(ValueError, match='colors must be'):
        depth_to_point_cloud(DEPTH, K, image[:1])


@pytest.mark.parametrize('binary', [True, False])
def test_ply_round_trip(tmp_path, binary):
    rng = np.random.default_rng(0)
    points = (rng.standard_normal((500, 3)) * 30).astype(np.float32)
    colors = rng.integers(0, 256, (500, 3)).astype(np.uint8)
    path = str(tmp_path / 'cloud.ply')
    write_ply(path, points, colors, binary=binary)
    with open(path, 'rb') as f:
        head = f.read(60)
    fmt = b'binary_little_endian' if binary else b'ascii'
    assert head.startswith(b'ply\nformat ' + fmt + b' 1.0\n')
    read_points, read_colors = read_ply(path)
    assert read_points.shape == (500, 3)
    # float32 survives exactly in both encodings ('%.9g' for ASCII)
    np.testing.assert_array_equal(read_points, points)
    np.testing.assert_array_equal(read_colors, colors)
    if binary:
        header_len = open(path, 'rb').read().index(b'end_header\n') + 11
        assert os.path.getsize(path) == header_len + 500 * (3 * 4 + 3)


@pytest.mark.parametrize('binary', [True, False])
def test_ply_without_colours_and_empty_cloud(tmp_path, binary):
    path = str(tmp_path / 'plain.ply')
    write_ply(path, EXPECTED, binary=binary)
    points, colors = read_ply(path)
    assert colors is None
    np.testing.assert_array_equal(points, EXPECTED.astype(np.float32))
    write_ply(path, np.zeros((0, 3)), binary=binary)
    points, _ = read_ply(path)
    assert points.shape == (0, 3)


def test_ply_errors_name_the_file(tmp_path):
    path = str(tmp_path / 'cut.ply')
    write_ply(path, EXPECTED, np.zeros((4, 3), np.uint8), binary=True)
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(data[:-5])
    with pytest.raises(ValueError, match='cut.ply: truncated'):
        read_ply(path)
    with open(path, 'wb') as f:
        f.write(b'not a ply')
    with pytest.raises(ValueError, match='cut.ply: not a PLY'):
        read_ply(path)
    with pytest.raises(ValueError, match='points must be'):
        write_ply(path, np.zeros((4, 2)))
    with pytest.raises(ValueError, match='colors must be uint8'):
        write_ply(path, EXPECTED, np.zeros((4, 3)))
