# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Ray-casting helpers shared by the synthetic scene generators.

Hashed value noise for world-anchored textures, ray / axis-aligned box
intersection, the camera rays of a pixel grid, screen-space culling of
boxes and the sensor's quincunx pixel filter. Used by
:class:`~mmdepthseg.synthetic.StreetScene` and
:class:`~mmdepthseg.synthetic.IndoorScene`.

Conventions: OpenCV cameras (x right, y down, z forward), poses are 4x4
camera-to-world matrices, pixel ``(u, v)`` is the centre of column u / row
v. Rays are scaled to a camera-z component of 1, so a ray parameter ``t``
is the depth of the hit point. Everything is vectorised over pixels.
"""
from typing import Callable, Iterator, Tuple

import numpy as np

# Normal codes 0..5 are the axis-aligned faces +x, -x, +y, -y, +z, -z.
AXIS_NORMALS = np.array(
    [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]],
    dtype=np.float64)

#: Smallest ray parameter counted as a hit.
EPS = 1e-6
#: Near plane (camera z, metres) of the screen-space culling.
NEAR = 1e-3
# Corner pairs of the 12 edges of a box: corners differ in one bit of their
# index (bits 4, 2, 1 select max x, y, z; see :func:`box_corners`).
BOX_EDGES = np.array([(i, i | bit) for bit in (1, 2, 4) for i in range(8)
                      if not i & bit])


# ---------------------------------------------------------------------------
# Hashed value noise, evaluated at world coordinates.
# ---------------------------------------------------------------------------
def _to_u32(values: np.ndarray) -> np.ndarray:
    """Wrap integers (any sign, int64) to uint32."""
    return (np.asarray(values, dtype=np.int64) & 0xFFFFFFFF).astype(np.uint32)


def hash2(ix: np.ndarray, iy: np.ndarray, seed) -> np.ndarray:
    """Hash integer lattice coordinates to floats in [0, 1).

    Args:
        ix (np.ndarray): Integer x coordinates (any shape, int64).
        iy (np.ndarray): Integer y coordinates, broadcastable with ``ix``.
        seed (int | np.ndarray): uint32 seed(s), broadcastable.

    Returns:
        np.ndarray: float64 values in [0, 1), deterministic for the inputs.
    """
    with np.errstate(over='ignore'):  # uint32 wrap-around is intended
        h = _to_u32(ix) * np.uint32(0x8DA6B343)
        h ^= _to_u32(iy) * np.uint32(0xD8163841)
        h ^= np.asarray(seed, dtype=np.uint32) * np.uint32(0x9E3779B1)
        h ^= h >> np.uint32(16)
        h *= np.uint32(0x7FEB352D)
        h ^= h >> np.uint32(15)
        h *= np.uint32(0x846CA68B)
        h ^= h >> np.uint32(16)
    return (h >> np.uint32(8)).astype(np.float64) * (1.0 / (1 << 24))


def value_noise(x: np.ndarray, y: np.ndarray, seed) -> np.ndarray:
    """2D value noise with quintic (C2) interpolation, values in [0, 1].

    Args:
        x (np.ndarray): float coordinates in lattice units.
        y (np.ndarray): float coordinates, same shape as ``x``.
        seed (int | np.ndarray): uint32 seed(s), broadcastable.

    Returns:
        np.ndarray: Noise shaped like ``x``.
    """
    xf = np.floor(x)
    yf = np.floor(y)
    fx = x - xf
    fy = y - yf
    ix = xf.astype(np.int64)
    iy = yf.astype(np.int64)
    ux = fx * fx * fx * (fx * (fx * 6.0 - 15.0) + 10.0)
    uy = fy * fy * fy * (fy * (fy * 6.0 - 15.0) + 10.0)
    a = hash2(ix, iy, seed)
    b = hash2(ix + 1, iy, seed)
    c = hash2(ix, iy + 1, seed)
    d = hash2(ix + 1, iy + 1, seed)
    return a + (b - a) * ux + (c - a) * uy + (a - b - c + d) * ux * uy


def fbm(u: np.ndarray, v: np.ndarray, seed, wavelengths: Tuple[float, ...],
        weights: Tuple[float, ...]) -> np.ndarray:
    """Sum of value-noise octaves, zero mean, in ``[-sum(w), sum(w)]``.

    Args:
        u (np.ndarray): First surface coordinate (metres).
        v (np.ndarray): Second surface coordinate (metres).
        seed (int | np.ndarray): uint32 seed(s).
        wavelengths (tuple[float]): Lattice spacing of each octave (metres).
        weights (tuple[float]): Amplitude of each octave.

    Returns:
        np.ndarray: Noise shaped like ``u``.
    """
    out = np.zeros(np.shape(u))
    seed = np.asarray(seed, dtype=np.uint32)
    for i, (lam, w) in enumerate(zip(wavelengths, weights)):
        octave_seed = seed + np.uint32(1013 * (i + 1))
        # Per-octave offsets keep lattice corners of octaves unaligned.
        out += w * (2.0 * value_noise(u / lam + 0.37 * i, v / lam + 0.71 * i,
                                      octave_seed) - 1.0)
    return out


def smooth_pulse(x: np.ndarray, lo: float, hi: float,
                 soft: float) -> np.ndarray:
    """1 inside [lo, hi], 0 outside, with linear ramps of width ``soft``."""
    return np.clip(np.minimum(x - lo, hi - x) / soft + 0.5, 0.0, 1.0)


# ---------------------------------------------------------------------------
# Ray / box intersections (vectorised over the rays of a rectangle).
# ``o`` is the ray origin (3 floats), ``inv`` a tuple of 3 arrays (the safe
# reciprocal of the direction). Returned ``t`` is the ray parameter, ``inf``
# where the ray misses.
# ---------------------------------------------------------------------------
def intersect_box(o: np.ndarray, inv: Tuple[np.ndarray, ...], bmin: np.ndarray,
                  bmax: np.ndarray) -> np.ndarray:
    """Ray / axis-aligned box (slab method), entering hits only.

    Returns:
        np.ndarray: ``t`` (``inf`` on a miss).
    """
    t_near = t_far = None
    for k in range(3):
        t1 = (bmin[k] - o[k]) * inv[k]
        t2 = (bmax[k] - o[k]) * inv[k]
        lo, hi = np.minimum(t1, t2), np.maximum(t1, t2)
        t_near = lo if t_near is None else np.maximum(t_near, lo)
        t_far = hi if t_far is None else np.minimum(t_far, hi)
    hit = (t_near <= t_far) & (t_near > EPS)
    return np.where(hit, t_near, np.inf)


def box_face_code(points: np.ndarray, bmin: np.ndarray,
                  bmax: np.ndarray) -> np.ndarray:
    """Normal code of the box face each surface point lies on.

    Args:
        points (np.ndarray): (N, 3) points on the surface of the box.
        bmin (np.ndarray): (3,) or (N, 3) lower corner(s).
        bmax (np.ndarray): (3,) or (N, 3) upper corner(s).

    Returns:
        np.ndarray: (N,) int8 codes 0..5 = +x, -x, +y, -y, +z, -z.
    """
    # Distance to the six face planes, ordered like the codes.
    dist = np.stack([
        np.abs(points[:, a] - corner[..., a]) for a in range(3)
        for corner in (bmax, bmin)
    ],
                    axis=1)
    return np.argmin(dist, axis=1).astype(np.int8)


# ---------------------------------------------------------------------------
# Cameras, culling and the pixel filter
# ---------------------------------------------------------------------------
def euler_to_rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Camera-to-world rotation in the y-down world.

    ``R = Ry(yaw) @ Rx(-pitch) @ Rz(roll)``: positive yaw turns the camera to
    the right (+x), positive pitch tilts it down (+y), positive roll turns
    the image clockwise.

    Args:
        yaw (float): Radians about the world's vertical (y) axis.
        pitch (float): Radians, positive looks down.
        roll (float): Radians about the optical axis.

    Returns:
        np.ndarray: (3, 3) float64 rotation.
    """
    cy, sy = np.cos(yaw), np.sin(yaw)
    cp, sp = np.cos(-pitch), np.sin(-pitch)
    cr, sr = np.cos(roll), np.sin(roll)
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return ry @ rx @ rz


def box_corners(bmin: np.ndarray, bmax: np.ndarray) -> np.ndarray:
    """The 8 corners of axis-aligned boxes.

    Corner ``i`` takes the max x / y / z where bit 4 / 2 / 1 of ``i`` is
    set (the order :data:`BOX_EDGES` refers to).

    Args:
        bmin (np.ndarray): (N, 3) lower corners.
        bmax (np.ndarray): (N, 3) upper corners.

    Returns:
        np.ndarray: (N, 8, 3) corners.
    """
    sel = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)])
    lo_hi = np.stack([bmin, bmax], axis=1)  # (N, 2, 3)
    return np.stack([lo_hi[:, sel[:, a], a] for a in range(3)], axis=-1)


def camera_rays(
        T: np.ndarray, K: np.ndarray, height: int,
        width: int) -> Tuple[Tuple[np.ndarray, ...], Tuple[np.ndarray, ...]]:
    """World directions of the rays through the pixel centres of a grid.

    Pixel ``(u, v)`` looks along ``R @ K^-1 @ (u, v, 1)``: the camera-z
    component of every ray is 1, so the ray parameter is the depth.

    Args:
        T (np.ndarray): (4, 4) camera-to-world pose.
        K (np.ndarray): (3, 3) intrinsics.
        height (int): Grid height H.
        width (int): Grid width W.

    Returns:
        tuple: ``d``, the 3 (H, W) world components of the directions, and
        ``inv``, their reciprocals (directions closer to 0 than 1e-12 are
        treated as 1e-12).
    """
    R = T[:3, :3]
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    Kinv = np.linalg.inv(K)
    rays_cam = [Kinv[r, 0] * u + Kinv[r, 1] * v + Kinv[r, 2] for r in range(3)]
    d = tuple(R[r, 0] * rays_cam[0] + R[r, 1] * rays_cam[1] +
              R[r, 2] * rays_cam[2] for r in range(3))
    inv = tuple(1.0 / np.where(np.abs(c) < 1e-12, 1e-12, c) for c in d)
    return d, inv


def visible_rects(
        corners: np.ndarray, R: np.ndarray, origin: np.ndarray, K: np.ndarray,
        height: int,
        width: int) -> Iterator[Tuple[int, float, Tuple[int, int, int, int]]]:
    """Yield ``(box index, z_min, (v0, v1, u0, u1))``, near first.

    The rectangle bounds the projection of the box clipped to the
    half-space in front of the camera (``z > NEAR``): the box corners in
    front plus the points where its 12 edges cross the near plane.
    ``z_min`` is the smallest camera z of the box (a corner, the box being
    convex), a lower bound of its depth, so a box with ``z_min`` beyond
    every depth already drawn in its rectangle is hidden. Boxes behind the
    camera are skipped.

    Args:
        corners (np.ndarray): (N, 8, 3) world corners, see
            :func:`box_corners`.
        R (np.ndarray): (3, 3) camera-to-world rotation.
        origin (np.ndarray): (3,) camera centre.
        K (np.ndarray): (3, 3) intrinsics.
        height (int): Image height.
        width (int): Image width.
    """
    cam = (corners - origin) @ R  # (N, 8, 3), R^T (X - C)
    z = cam[..., 2]
    a, b = cam[:, BOX_EDGES[:, 0]], cam[:, BOX_EDGES[:, 1]]
    za, zb = a[..., 2], b[..., 2]
    crosses = (za - NEAR) * (zb - NEAR) < 0
    with np.errstate(divide='ignore', invalid='ignore'):
        frac = np.where(crosses, (NEAR - za) / (zb - za), 0.0)
    cut = a + frac[..., None] * (b - a)
    cut[..., 2] = NEAR
    pts = np.concatenate([cam, cut], axis=1)  # (N, 20, 3)
    ok = np.concatenate([z > NEAR, crosses], axis=1)
    proj = pts @ K.T
    zz = np.where(ok, pts[..., 2], 1.0)
    uu, vv = proj[..., 0] / zz, proj[..., 1] / zz
    big = 1e9
    u0 = np.floor(np.where(ok, uu, big).min(axis=1)) - 1
    u1 = np.ceil(np.where(ok, uu, -big).max(axis=1)) + 2
    v0 = np.floor(np.where(ok, vv, big).min(axis=1)) - 1
    v1 = np.ceil(np.where(ok, vv, -big).max(axis=1)) + 2
    u0 = np.clip(u0, 0, width).astype(np.int64)
    u1 = np.clip(u1, 0, width).astype(np.int64)
    v0 = np.clip(v0, 0, height).astype(np.int64)
    v1 = np.clip(v1, 0, height).astype(np.int64)
    keep = ok.any(axis=1) & (u1 > u0) & (v1 > v0)
    z_min = z.min(axis=1)
    order = np.nonzero(keep)[0]
    order = order[np.argsort(z_min[order], kind='stable')]
    for k in order:
        yield int(k), z_min[k], (v0[k], v1[k], u0[k], u1[k])


def quincunx_filter(cast: Callable[..., tuple], T: np.ndarray, K: np.ndarray,
                    height: int, width: int,
                    centre_colour: np.ndarray) -> np.ndarray:
    """The sensor's quincunx pixel filter.

    ``1/2`` of the radiance at the pixel centre plus ``1/8`` of each of the
    four pixel corners (``u +- 1/2, v +- 1/2``, shared with the neighbours,
    so it costs one more ray a pixel).

    Args:
        cast (callable): ``cast(T, K, height, width) -> (t, colour, label)``
            with colour (H, W, 3).
        T (np.ndarray): (4, 4) camera-to-world pose.
        K (np.ndarray): (3, 3) intrinsics of the image.
        height (int): Image height H.
        width (int): Image width W.
        centre_colour (np.ndarray): (H, W, 3) radiance at the pixel centres.

    Returns:
        np.ndarray: (H, W, 3) filtered colour.
    """
    # Corner grid: index (i, j) is pixel (j - 1/2, i - 1/2).
    K_corner = K.copy()
    K_corner[:2, 2] += 0.5
    _, corners, _ = cast(T, K_corner, height + 1, width + 1)
    return 0.5 * centre_colour + 0.125 * (
        corners[:-1, :-1] + corners[:-1, 1:] + corners[1:, :-1] +
        corners[1:, 1:])
