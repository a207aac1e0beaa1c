# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The uint16 PNG encodings of depth and confidence maps.

One definition for every writer and reader of these files: the stereo
pseudo labels (``tools/generate_pseudo_depth.py``) and their loader
(``LoadPseudoDepthConfidence``), the depth PNGs of the prediction writer
hook (``tools/test.py --out``) and the synthetic dataset writers.

- depth: ``uint16 = round(depth [m] * scale)``, KITTI's depth benchmark
  uses ``scale = 256`` (:data:`DEPTH_PNG_SCALE`); NYUv2 trees use 1000
  (millimetres). 0 is invalid.
- confidence: ``uint16 = round(confidence * 65535)`` (:data:`CONF_PNG_SCALE`).
"""
import numpy as np

#: Depth PNG units per metre of KITTI's depth benchmark (and of mmdepthseg's
#: pseudo depth labels and predictions).
DEPTH_PNG_SCALE = 256.0
#: Confidence PNG value of confidence 1.
CONF_PNG_SCALE = 65535.0
_UINT16_MAX = 65535


def encode_depth_png(depth: np.ndarray,
                     scale: float = DEPTH_PNG_SCALE,
                     saturate: bool = False) -> np.ndarray:
    """Depth in metres -> uint16 PNG values ``round(depth * scale)``.

    Args:
        depth (np.ndarray): ``(H, W)`` depth in metres; not finite or
            ``<= 0`` is invalid.
        scale (float): PNG units per metre. Defaults to 256 (KITTI).
        saturate (bool): Depth beyond the uint16 range (``65535 / scale``
            m, 255.996 m at 256) becomes 65535 when True (the KITTI
            benchmark's submissions), else 0 = invalid (labels: a far
            value that cannot be stored is not supervised). Defaults to
            False.

    Returns:
        np.ndarray: ``(H, W)`` uint16, 0 where invalid. Decode with
        :func:`decode_depth_png`.
    """
    depth = np.asarray(depth, dtype=np.float64)
    valid = np.isfinite(depth) & (depth > 0)
    value = np.rint(np.where(valid, depth, 0.0) * scale)
    if saturate:
        value = np.minimum(value, _UINT16_MAX)
    else:
        value = np.where(value <= _UINT16_MAX, value, 0)
    return value.astype(np.uint16)


def decode_depth_png(png: np.ndarray,
                     scale: float = DEPTH_PNG_SCALE) -> np.ndarray:
    """uint16 depth PNG values -> float32 metres (0 stays 0 = invalid).

    Args:
        png (np.ndarray): ``(H, W)`` uint16 values.
        scale (float): PNG units per metre. Defaults to 256 (KITTI).

    Returns:
        np.ndarray: ``(H, W)`` float32 depth in metres.
    """
    return np.asarray(png, dtype=np.float32) / scale


def encode_conf_png(conf: np.ndarray) -> np.ndarray:
    """Confidence in [0, 1] -> uint16 ``round(conf * 65535)`` (NaN -> 0,
    clipped to [0, 1])."""
    conf = np.clip(np.nan_to_num(conf, nan=0.0), 0.0, 1.0)
    return np.rint(conf * CONF_PNG_SCALE).astype(np.uint16)


def decode_conf_png(png: np.ndarray) -> np.ndarray:
    """uint16 confidence PNG values -> float32 in [0, 1]."""
    return np.asarray(png, dtype=np.float32) / CONF_PNG_SCALE
