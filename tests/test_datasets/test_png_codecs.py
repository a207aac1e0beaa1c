# Copyright (c) mmdepthseg contributors. All rights reserved.
"""mmdepthseg.datasets.png_codecs: the one uint16 depth / confidence PNG
encoding of pseudo labels, predictions and synthetic trees."""
import numpy as np

from mmdepthseg.datasets.png_codecs import (decode_conf_png, decode_depth_png,
                                            encode_conf_png, encode_depth_png)

# 12.34567 * 256 = 3160.49; 255.99 * 256 = 65533.4; 300 * 256 > 65535
DEPTH = np.array([[0.0, 1.0, 12.34567, 255.99, 300.0],
                  [-1.0, np.nan, np.inf, -np.inf, 1e-3]])


def test_depth_by_hand_too_far_is_invalid_by_default():
    assert encode_depth_png(DEPTH).tolist() == [[0, 256, 3160, 65533, 0],
                                                [0, 0, 0, 0, 0]]


def test_depth_saturates_for_the_kitti_benchmark():
    assert encode_depth_png(DEPTH, saturate=True).tolist() == [
        [0, 256, 3160, 65533, 65535], [0, 0, 0, 0, 0]
    ]


def test_depth_in_millimetres_round_trips():
    png = encode_depth_png(DEPTH, 1000.0)
    assert png.dtype == np.uint16
    assert png.tolist() == [[0, 1000, 12346, 0, 0], [0, 0, 0, 0, 1]]
    np.testing.assert_allclose(
        decode_depth_png(png, 1000.0)[0, :3], [0.0, 1.0, 12.346])
    assert decode_depth_png(png, 1000.0).dtype == np.float32


def test_confidence_by_hand():
    conf = np.array([0.0, 0.5, 1.0, 1.5, -0.5, np.nan], np.float32)
    png = encode_conf_png(conf)
    assert png.tolist() == [0, 32768, 65535, 65535, 0, 0]
    np.testing.assert_allclose(
        decode_conf_png(png), [0, 32768 / 65535, 1, 1, 0, 0])
