# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Procedural street scenes, ray-cast with numpy.

A :class:`StreetScene` is one drive: a straight street with a road, raised
sidewalks, two rows of building facades, box-shaped cars, cylindrical poles,
trees (cylinder trunks + sphere crowns), hedges, pedestrians (thin boxes) and
a sky at infinity. :meth:`StreetScene.render` casts one ray per pixel through
the pixel centre and returns the RGB image, the exact depth and the
Cityscapes trainId label map.

World frame (metres): **x right** (across the street), **y down**, **z
forward** along the street, i.e. the OpenCV camera axes of a car that drives
straight ahead. The road surface is the plane ``y = 0``; the camera of the
default trajectory sits at ``y = -camera_height``. Poses are 4x4
camera-to-world matrices ``T_cam2world`` of OpenCV cameras (x right, y down,
z forward), so ``X_world = T_cam2world @ X_cam``.

Photometric consistency: every colour is a function of the 3D hit point and
the surface normal only (procedural textures evaluated at the world point,
Lambertian shading with a fixed light direction); nothing depends on the
viewing direction or the camera, so a surface point has exactly the same
radiance in every view. The sky's colour depends on the world ray direction
only (it is at infinity). The texture spectrum falls off with frequency
(wavelengths from metres down to a few centimetres, amplitudes roughly
proportional to the wavelength), which keeps the images rich for photometric
losses and stereo matching while bilinear resampling stays accurate.

Rendering is vectorised over pixels: every object is intersected with the
rays of the pixels inside its projected bounding rectangle at once (the loop
runs over objects, never over pixels).
"""
from typing import Dict, List, NamedTuple, Tuple

import numpy as np

from .raycast import AXIS_NORMALS as _AXIS_NORMALS
from .raycast import EPS as _EPS
from .raycast import (box_corners, box_face_code, camera_rays,
                      euler_to_rotation, fbm, hash2, intersect_box,
                      quincunx_filter)
from .raycast import smooth_pulse as _smooth_pulse
from .raycast import value_noise, visible_rects

# Cityscapes trainIds used by the generator.
ROAD, SIDEWALK, BUILDING, POLE, VEGETATION, TERRAIN, SKY, PERSON, CAR = (0, 1,
                                                                         2, 5,
                                                                         8, 9,
                                                                         10,
                                                                         11,
                                                                         13)

# Primitive kinds.
_BOX, _CYLINDER, _SPHERE = 0, 1, 2

# Materials (texture functions).
_M_GROUND, _M_SIDEWALK, _M_BUILDING, _M_CAR_BODY, _M_CAR_CABIN, _M_POLE, \
    _M_FOLIAGE, _M_TRUNK, _M_PERSON = range(9)

# Normal codes: 0..5 are the axis-aligned faces +x, -x, +y, -y, +z, -z;
# 6 is a vertical cylinder's side, 7 a sphere.
_N_CYLINDER, _N_SPHERE = 6, 7
_GROUND_ID = -2  # object id of the ground plane; -1 = no hit (sky)

# ---------------------------------------------------------------------------
# Ray / primitive intersections (vectorised over the rays of a rectangle;
# boxes are in ``raycast``). ``o`` is the ray origin (3 floats), ``d`` a
# tuple of 3 direction arrays. Returned ``t`` is the ray parameter, ``inf``
# where the ray misses.
# ---------------------------------------------------------------------------


def intersect_vertical_cylinder(o: np.ndarray, d: Tuple[np.ndarray, ...],
                                centre_xz: Tuple[float, float], radius: float,
                                y_range: Tuple[float, float]) -> np.ndarray:
    """Ray / side of a finite cylinder with a vertical (y) axis.

    The caps are not intersected: the scene's cylinders stand on the ground
    and end above the camera (poles) or inside a tree crown (trunks), so
    their caps are never visible.

    Returns:
        np.ndarray: ``t`` (``inf`` on a miss).
    """
    ox = o[0] - centre_xz[0]
    oz = o[2] - centre_xz[1]
    dx, dy, dz = d
    a = dx * dx + dz * dz
    b = ox * dx + oz * dz
    c = ox * ox + oz * oz - radius * radius
    disc = b * b - a * c
    with np.errstate(invalid='ignore', divide='ignore'):
        t = (-b - np.sqrt(disc)) / a
    y = o[1] + t * dy
    hit = (disc > 0) & (a > 0) & (t > _EPS) & (y >= y_range[0]) & (
        y <= y_range[1])
    return np.where(hit, t, np.inf)


def intersect_sphere(o: np.ndarray, d: Tuple[np.ndarray, ...],
                     centre: np.ndarray, radius: float) -> np.ndarray:
    """Ray / sphere, entering hits only.

    Returns:
        np.ndarray: ``t`` (``inf`` on a miss).
    """
    oc = o - centre
    dx, dy, dz = d
    a = dx * dx + dy * dy + dz * dz
    b = oc[0] * dx + oc[1] * dy + oc[2] * dz
    c = float(oc @ oc) - radius * radius
    disc = b * b - a * c
    with np.errstate(invalid='ignore'):
        t = (-b - np.sqrt(disc)) / a
    hit = (disc > 0) & (t > _EPS)
    return np.where(hit, t, np.inf)


def stereo_right_pose(T_left_cam2world: np.ndarray,
                      baseline: float) -> np.ndarray:
    """Pose of the right camera of a rectified stereo rig.

    The right camera is the left one translated by ``+baseline`` along the
    left camera's x axis: ``T_right = T_left @ [I | (baseline, 0, 0)]``.

    Args:
        T_left_cam2world (np.ndarray): (4, 4) or (N, 4, 4) left poses.
        baseline (float): Stereo baseline in metres (> 0).

    Returns:
        np.ndarray: Right poses, same shape and dtype as the input.
    """
    T_left = np.asarray(T_left_cam2world)
    if T_left.shape[-2:] != (4, 4):
        raise ValueError('stereo_right_pose expects (4, 4) or (N, 4, 4) '
                         f'poses, got shape {T_left.shape}')
    shift = np.eye(4)
    shift[0, 3] = baseline
    return (T_left.astype(np.float64) @ shift).astype(T_left.dtype)


class _Surface(NamedTuple):
    """Hit points of one material handed to its texture function.

    Attributes:
        p (np.ndarray): (N, 3) world points.
        su (np.ndarray): (N,) first coordinate of the dominant face plane.
        sv (np.ndarray): (N,) second coordinate of the dominant face plane.
        axis (np.ndarray): (N,) dominant normal axis (0 = x, 1 = y, 2 = z).
        base (np.ndarray): (N, 3) base RGB colour of the hit object.
        params (np.ndarray): (N, 4) material parameters of the hit object.
        seed (np.ndarray): (N,) uint32 texture seed of the hit object.
    """
    p: np.ndarray
    su: np.ndarray
    sv: np.ndarray
    axis: np.ndarray
    base: np.ndarray
    params: np.ndarray
    seed: np.ndarray


class StreetScene:
    """A procedural street for one drive, rendered by ray casting.

    Layout (world frame: x right, y down, z forward; ground at ``y = 0``):
    the road spans ``|x| < road_half_width`` with a 2 m parking strip on each
    side and two driving lanes between them; raised sidewalks
    (``curb_height``) lie outside the road, followed by a strip of terrain,
    a row of building facades with gaps (hedges, trees and terrain show
    through them), a second, taller and gap-free row of buildings behind,
    and a wall that closes the street far ahead, so every ray below the
    horizon hits something at a finite distance. Cars are parked in the
    parking strips and stand in the oncoming lane; the camera drives in the
    right lane, so nothing ever blocks its path. All objects are static.

    Args:
        seed (int): Seed of the layout, colours and textures.
        length (float): Length of street the camera can drive along (m),
            starting at ``z = 0``. Defaults to 200.
        camera_height (float): Camera height above the road (m) for
            :meth:`camera_trajectory`. Defaults to 1.65 (KITTI).
        camera_pitch (float): Mean camera pitch (radians, positive looks
            down). Defaults to 0.
        road_half_width (float, optional): Half width of the road (m).
            Defaults to a seeded value in [5.5, 6.5].
    """

    def __init__(self,
                 seed: int,
                 length: float = 200.0,
                 camera_height: float = 1.65,
                 camera_pitch: float = 0.0,
                 road_half_width: float = None) -> None:
        if length <= 0:
            raise ValueError(f'StreetScene length must be > 0, got {length}')
        if not 0.2 < camera_height <= 4.5:
            # Poles (>= 5 m) and tree trunks end above the camera, which is
            # why cylinder caps are never visible (see
            # ``intersect_vertical_cylinder``).
            raise ValueError('StreetScene camera_height must be in (0.2, '
                             f'4.5] m, got {camera_height}')
        self.seed = int(seed)
        self.length = float(length)
        self.camera_height = float(camera_height)
        self.camera_pitch = float(camera_pitch)
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, 17]))
        self._rng = rng
        self.texture_seed = int(rng.integers(1, 2**31))
        if road_half_width is None:
            road_half_width = rng.uniform(5.5, 6.5)
        if road_half_width < 4.5:
            raise ValueError('road_half_width must be >= 4.5 m, got '
                             f'{road_half_width}')
        self.road_half_width = float(road_half_width)
        self.sidewalk_width = rng.uniform(2.5, 3.5)
        self.curb_height = rng.uniform(0.1, 0.16)
        self.lane_center = (self.road_half_width - 2.0) / 2.0
        self.tile_size = rng.uniform(0.3, 0.5)
        light = np.array(
            [rng.uniform(-0.6, 0.6), -1.0,
             rng.uniform(-0.6, 0.3)])
        self.light_dir = light / np.linalg.norm(light)
        # Smooth trajectory jitter: (amplitude, wavelength in m, phase).
        self._jitter = {
            key: [(amp * rng.uniform(0.5, 1.0), rng.uniform(*wl),
                   rng.uniform(0, 2 * np.pi)) for wl in ((15, 40), (50, 120))]
            for key, amp in (('x', 0.15), ('y', 0.01), ('yaw', 0.02),
                             ('pitch', 0.006), ('roll', 0.004))
        }
        self._objects: List[dict] = []
        self._build()
        self._finalise()

    # ------------------------------------------------------------------
    # Scene construction
    # ------------------------------------------------------------------
    def _add(self,
             kind: int,
             material: int,
             label: int,
             bmin,
             bmax,
             colour,
             params=(0.0, 0.0, 0.0, 0.0),
             centre=(0.0, 0.0, 0.0),
             radius: float = 0.0) -> None:
        self._objects.append(
            dict(
                kind=kind,
                material=material,
                label=label,
                bmin=np.asarray(bmin, dtype=np.float64),
                bmax=np.asarray(bmax, dtype=np.float64),
                colour=np.asarray(colour, dtype=np.float64),
                params=np.asarray(params, dtype=np.float64),
                centre=np.asarray(centre, dtype=np.float64),
                radius=float(radius),
                seed=int(self._rng.integers(0, 2**32, dtype=np.uint64))))

    def _add_box(self,
                 material: int,
                 label: int,
                 bmin,
                 bmax,
                 colour,
                 params=(0.0, 0.0, 0.0, 0.0)) -> None:
        self._add(_BOX, material, label, bmin, bmax, colour, params)

    def _add_cylinder(self, material: int, label: int, x: float, z: float,
                      radius: float, y_top: float, y_bottom: float,
                      colour) -> None:
        self._add(
            _CYLINDER,
            material,
            label, (x - radius, y_top, z - radius),
            (x + radius, y_bottom, z + radius),
            colour,
            centre=(x, 0.0, z),
            radius=radius)

    def _add_sphere(self, material: int, label: int, centre, radius: float,
                    colour) -> None:
        centre = np.asarray(centre, dtype=np.float64)
        self._add(
            _SPHERE,
            material,
            label,
            centre - radius,
            centre + radius,
            colour,
            centre=centre,
            radius=radius)

    def _build(self) -> None:
        rng = self._rng
        hw, sw, curb = self.road_half_width, self.sidewalk_width, \
            self.curb_height
        z_begin, z_end = -40.0, self.length + 140.0
        self.z_end = z_end
        # Sidewalks in 20 m segments (tight screen rectangles for culling).
        for side in (-1, 1):
            x_in, x_out = sorted((side * hw, side * (hw + sw)))
            for z0 in np.arange(z_begin, z_end, 20.0):
                self._add_box(_M_SIDEWALK, SIDEWALK, (x_in, -curb, z0),
                              (x_out, 0.0, z0 + 20.0), (150, 146, 140))
        # Front row of buildings with gaps, and a gap-free back row.
        palette = np.array([[196, 180, 150], [170, 120, 100], [150, 150, 155],
                            [215, 205, 185], [185, 150, 110], [120, 110, 105],
                            [200, 170, 160], [160, 170, 150]],
                           dtype=float)
        for side in (-1, 1):
            front_x = hw + sw
            z = z_begin
            while z < z_end:
                if rng.random() < 0.22 and z > 5.0:
                    gap = rng.uniform(4.0, 9.0)
                    self._add_gap_vegetation(side, front_x, z, z + gap)
                    z += gap
                    continue
                width = rng.uniform(8.0, 22.0)
                setback = rng.uniform(0.0, 2.0)
                depth = rng.uniform(8.0, 14.0)
                height = rng.uniform(7.0, 22.0)
                x_near = front_x + setback
                self._add_building(side, x_near, x_near + depth, z, z + width,
                                   height, palette)
                if setback > 1.2 and rng.random() < 0.5:
                    self._add_hedge(side, front_x + 0.2, x_near - 0.1, z,
                                    z + width)
                z += width
            z = z_begin
            while z < z_end:
                width = rng.uniform(15.0, 35.0)
                x_near = front_x + rng.uniform(18.0, 22.0)
                self._add_building(side, x_near, x_near + 12.0, z, z + width,
                                   rng.uniform(14.0, 28.0), palette)
                z += width
        # A wall closing the street far ahead.
        self._add_building(
            0, -400.0, 400.0, z_end, z_end + 10.0, 16.0, palette, across=True)
        self._add_cars(z_begin, z_end)
        self._add_street_furniture(z_begin, z_end)

    def _add_building(self,
                      side: int,
                      x_near: float,
                      x_far: float,
                      z0: float,
                      z1: float,
                      height: float,
                      palette: np.ndarray,
                      across: bool = False) -> None:
        rng = self._rng
        colour = palette[rng.integers(len(palette))] * rng.uniform(0.85, 1.1)
        params = (rng.uniform(2.2, 3.6), rng.uniform(2.9, 3.6),
                  rng.uniform(0.35, 0.6), rng.uniform(0.0, 1.0))
        if across:
            bmin, bmax = (x_near, -height, z0), (x_far, 0.0, z1)
        else:
            xs = sorted((side * x_near, side * x_far))
            bmin, bmax = (xs[0], -height, z0), (xs[1], 0.0, z1)
        self._add_box(_M_BUILDING, BUILDING, bmin, bmax, colour, params)

    def _add_hedge(self, side: int, x_near: float, x_far: float, z0: float,
                   z1: float) -> None:
        rng = self._rng
        xs = sorted((side * x_near, side * x_far))
        height = rng.uniform(0.7, 1.5)
        colour = (rng.uniform(40, 70), rng.uniform(95,
                                                   130), rng.uniform(30, 55))
        self._add_box(_M_FOLIAGE, VEGETATION, (xs[0], -height, z0 + 0.3),
                      (xs[1], 0.0, z1 - 0.3), colour)

    def _add_tree(self, x: float, z: float, ground_y: float = 0.0) -> None:
        rng = self._rng
        trunk_h = rng.uniform(2.6, 3.6)
        crown_r = rng.uniform(1.3, 2.3)
        self._add_cylinder(_M_TRUNK, VEGETATION, x, z, rng.uniform(0.12, 0.2),
                           ground_y - trunk_h - crown_r, ground_y,
                           (95, 72, 52))
        colour = (rng.uniform(35, 75), rng.uniform(90,
                                                   140), rng.uniform(25, 60))
        self._add_sphere(_M_FOLIAGE, VEGETATION,
                         (x, ground_y - trunk_h - 0.7 * crown_r, z), crown_r,
                         colour)

    def _add_gap_vegetation(self, side: int, front_x: float, z0: float,
                            z1: float) -> None:
        rng = self._rng
        if rng.random() < 0.7:
            self._add_tree(side * (front_x + rng.uniform(3.0, 8.0)),
                           0.5 * (z0 + z1))
        if rng.random() < 0.5:
            self._add_hedge(side, front_x + 0.3, front_x + 1.3, z0, z1)

    def _add_car(self, x: float, z: float) -> None:
        rng = self._rng
        length, width = rng.uniform(3.8, 4.8), rng.uniform(1.7, 1.9)
        body_h = rng.uniform(0.85, 1.05)
        cabin_h = rng.uniform(0.45, 0.6)
        colours = np.array(
            [[170, 30, 30], [30, 60, 150], [190, 190, 195], [35, 35, 40],
             [225, 225, 220], [40, 110, 60], [120, 120, 125], [200, 150, 40]],
            dtype=float)
        colour = colours[rng.integers(len(colours))]
        params = (z, length, rng.uniform(0.3, 0.36), x)
        self._add_box(_M_CAR_BODY, CAR,
                      (x - width / 2, -body_h, z - length / 2),
                      (x + width / 2, 0.0, z + length / 2), colour, params)
        cabin_len = length * rng.uniform(0.45, 0.6)
        zc = z - length * rng.uniform(0.0, 0.08)
        self._add_box(
            _M_CAR_CABIN, CAR,
            (x - width / 2 + 0.08, -body_h - cabin_h, zc - cabin_len / 2),
            (x + width / 2 - 0.08, -body_h, zc + cabin_len / 2), colour,
            params)

    def _add_cars(self, z_begin: float, z_end: float) -> None:
        rng = self._rng
        hw = self.road_half_width
        lanes = ((hw - 1.0, 0.55), (-(hw - 1.0), 0.5), (-self.lane_center,
                                                        0.08))
        for lane_i, (x, prob) in enumerate(lanes):
            # Slots every 5.5-9 m; on the right a car is always parked in
            # the slot 10-14 m ahead of the start, so every class is in the
            # first frames.
            anchor = rng.uniform(10.0, 14.0)
            for z in self._spaced_positions(anchor, z_begin, z_end - 10, 5.5,
                                            9.0):
                if (lane_i == 0 and z == anchor) or rng.random() < prob:
                    self._add_car(x + rng.uniform(-0.15, 0.15), z)

    def _add_street_furniture(self, z_begin: float, z_end: float) -> None:
        rng = self._rng
        hw, sw, curb = self.road_half_width, self.sidewalk_width, \
            self.curb_height
        for side in (-1, 1):
            # Poles at the curb; on the right one stands 12-17 m ahead of
            # the start, so every class is in the first frames.
            anchor = rng.uniform(12.0, 17.0) if side == 1 else \
                rng.uniform(0.0, 25.0)
            for z in self._spaced_positions(anchor, z_begin, z_end, 18, 30):
                height = rng.uniform(5.0, 8.0)
                radius = rng.uniform(0.07, 0.12)
                grey = rng.uniform(90, 150)
                self._add_cylinder(_M_POLE, POLE, side * (hw + 0.35), z,
                                   radius, -curb - height, -curb,
                                   (grey, grey, grey * 1.05))
            # Trees on the sidewalk.
            z = z_begin + rng.uniform(0, 8)
            while z < z_end:
                self._add_tree(
                    side * (hw + sw * rng.uniform(0.55, 0.75)),
                    z,
                    ground_y=-curb)
                z += rng.uniform(10, 25)
            # Pedestrians (thin boxes); on the right one always stands
            # 12-18 m ahead of the start.
            anchor = rng.uniform(12.0, 18.0)
            for z in self._spaced_positions(anchor, z_begin, z_end, 4.0, 12.0):
                if (side == 1 and z == anchor) or rng.random() < 0.35:
                    x = side * (hw + rng.uniform(0.8, sw - 0.4))
                    height = rng.uniform(1.55, 1.9)
                    w2, d2 = rng.uniform(0.22, 0.3), rng.uniform(0.14, 0.2)
                    colour = rng.uniform(30, 220, size=3)
                    params = (height, rng.uniform(40,
                                                  200), rng.uniform(40, 200),
                              rng.uniform(40, 200))
                    self._add_box(_M_PERSON, PERSON,
                                  (x - w2, -curb - height, z - d2),
                                  (x + w2, -curb, z + d2), colour, params)
        # A tree across the street in the first frames (left side).
        self._add_tree(
            -(hw + sw * 0.6), rng.uniform(18.0, 24.0), ground_y=-curb)

    def _spaced_positions(self, anchor: float, z_begin: float, z_end: float,
                          min_gap: float, max_gap: float) -> List[float]:
        """Positions in [z_begin, z_end) through ``anchor``, random gaps."""
        rng = self._rng
        out = [anchor]
        while out[-1] + min_gap < z_end:
            out.append(out[-1] + rng.uniform(min_gap, max_gap))
        while out[0] - min_gap > z_begin:
            out.insert(0, out[0] - rng.uniform(min_gap, max_gap))
        return [z for z in out if z_begin <= z < z_end]

    def _finalise(self) -> None:
        """Pack the object list into arrays for vectorised lookups."""
        objs = self._objects
        self.num_objects = len(objs)
        self._kind = np.array([o['kind'] for o in objs], dtype=np.int8)
        self._material = np.array([o['material'] for o in objs], dtype=np.int8)
        self._label = np.array([o['label'] for o in objs], dtype=np.uint8)
        self._bmin = np.stack([o['bmin'] for o in objs])
        self._bmax = np.stack([o['bmax'] for o in objs])
        self._colour = np.stack([o['colour'] for o in objs])
        self._params = np.stack([o['params'] for o in objs])
        self._centre = np.stack([o['centre'] for o in objs])
        self._radius = np.array([o['radius'] for o in objs])
        self._obj_seed = np.array([o['seed'] for o in objs],
                                  dtype=np.uint64).astype(np.uint32)
        # The 8 corners of every bounding box, (N, 8, 3).
        self._corners = box_corners(self._bmin, self._bmax)

    # ------------------------------------------------------------------
    # Camera path
    # ------------------------------------------------------------------
    def _jitter_value(self, key: str, s: np.ndarray) -> np.ndarray:
        return sum(amp * np.sin(2 * np.pi * s / wl + ph)
                   for amp, wl, ph in self._jitter[key])

    def camera_trajectory(self,
                          num_frames: int,
                          step: float = 1.0,
                          start: float = 0.0) -> np.ndarray:
        """Poses of the LEFT camera driving along the right lane.

        The camera moves ``step`` metres forward per frame with smooth
        seeded lateral/vertical sway and yaw/pitch/roll jitter (a few
        tenths of a degree to about 2 degrees).

        Args:
            num_frames (int): Number of poses N.
            step (float): Forward motion per frame (m). Defaults to 1.0
                (KITTI: about 1 m per frame at 10 Hz).
            start (float): Street position ``z`` of the first frame (m).
                Defaults to 0.

        Returns:
            np.ndarray: (N, 4, 4) float64 ``T_cam2world`` (OpenCV camera).
        """
        if num_frames < 1:
            raise ValueError(f'num_frames must be >= 1, got {num_frames}')
        end = start + (num_frames - 1) * step
        if start < 0 or end > self.length or step < 0:
            raise ValueError(
                f'trajectory from z={start} to z={end} (step {step}) leaves '
                f'the drivable street [0, {self.length}]; increase length')
        s = start + step * np.arange(num_frames, dtype=np.float64)
        x = self.lane_center + self._jitter_value('x', s)
        y = -self.camera_height + self._jitter_value('y', s)
        yaw = self._jitter_value('yaw', s)
        pitch = self.camera_pitch + self._jitter_value('pitch', s)
        roll = self._jitter_value('roll', s)
        poses = np.tile(np.eye(4), (num_frames, 1, 1))
        for i in range(num_frames):
            poses[i, :3, :3] = euler_to_rotation(yaw[i], pitch[i], roll[i])
            poses[i, :3, 3] = (x[i], y[i], s[i])
        return poses

    # ------------------------------------------------------------------
    # Rendering
    # ------------------------------------------------------------------
    def render(self,
               T_cam2world: np.ndarray,
               K: np.ndarray,
               height: int,
               width: int,
               antialias: bool = True) -> Dict[str, np.ndarray]:
        """Ray-cast one frame.

        Pixel ``(u, v)`` (integer coordinates = pixel centres) looks along
        ``R @ K^-1 @ (u, v, 1)``. ``depth`` and ``label`` are exact for that
        centre ray. The colour is, with ``antialias``, the quincunx filter
        of the sensor: ``1/2`` of the radiance at the pixel centre plus
        ``1/8`` of each of the four pixel corners (``u +- 1/2, v +- 1/2``,
        shared with the neighbours, so it costs about two rays a pixel).
        Like a real sensor it integrates the world-anchored radiance over a
        small footprint, which keeps distant high-frequency texture from
        aliasing; without it the colour is the radiance at the centre ray.

        Args:
            T_cam2world (np.ndarray): (4, 4) camera-to-world pose.
            K (np.ndarray): (3, 3) intrinsics (pixels) of this image size;
                the last row must be (0, 0, 1).
            height (int): Image height H.
            width (int): Image width W.
            antialias (bool): Quincunx pixel filter. Defaults to True.

        Returns:
            dict: ``img`` uint8 (H, W, 3) **RGB**; ``depth`` float32 (H, W)
            camera-frame z in metres, 0 for sky; ``label`` uint8 (H, W)
            Cityscapes trainIds.
        """
        T = np.asarray(T_cam2world, dtype=np.float64)
        K = np.asarray(K, dtype=np.float64)
        if T.shape != (4, 4):
            raise ValueError(f'T_cam2world must be (4, 4), got {T.shape}')
        if K.shape != (3, 3) or not np.allclose(K[2], (0, 0, 1)):
            raise ValueError(
                f'K must be (3, 3) with last row (0, 0, 1), got\n{K}')
        if height < 1 or width < 1:
            raise ValueError(f'bad image size {height}x{width}')
        if T[1, 3] >= 0:
            raise ValueError('the camera must be above the road (world y < '
                             f'0), got camera centre {T[:3, 3]}')
        t, colour, label = self._cast(T, K, height, width)
        if antialias:
            colour = quincunx_filter(self._cast, T, K, height, width, colour)
        img = np.clip(np.rint(colour), 0, 255).astype(np.uint8)
        depth = np.where(np.isfinite(t), t, 0.0).astype(np.float32)
        return dict(img=img, depth=depth, label=label)

    def _cast(self, T: np.ndarray, K: np.ndarray, height: int,
              width: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cast the rays of a pixel grid and shade the hits.

        Returns:
            tuple[np.ndarray]: ``t`` (H, W) float64 depth (``inf`` for sky),
            colour (H, W, 3) float64 RGB and label (H, W) uint8.
        """
        R, origin = T[:3, :3], T[:3, 3]
        # Rays with camera-z component 1, so the ray parameter is the depth.
        d, inv = camera_rays(T, K, height, width)

        t_best = np.full((height, width), np.inf)
        obj = np.full((height, width), -1, dtype=np.int32)
        code = np.zeros((height, width), dtype=np.int8)

        # Ground plane y = 0.
        with np.errstate(divide='ignore', invalid='ignore'):
            t_ground = -origin[1] / d[1]
        ground = (d[1] > 1e-12) & (t_ground > _EPS)
        t_best[ground] = t_ground[ground]
        obj[ground] = _GROUND_ID
        code[ground] = 3  # faces up (-y)

        for k, z_min, (v0, v1, u0,
                       u1) in self._visible_rects(R, origin, K, height, width):
            sl = (slice(v0, v1), slice(u0, u1))
            if z_min > t_best[sl].max():
                continue  # entirely behind what is already drawn there
            ds = tuple(c[sl] for c in d)
            kind = self._kind[k]
            if kind == _BOX:
                t = intersect_box(origin, tuple(c[sl] for c in inv),
                                  self._bmin[k], self._bmax[k])
                c = -1  # face codes are found after the loop
            elif kind == _CYLINDER:
                t = intersect_vertical_cylinder(
                    origin, ds, (self._centre[k, 0], self._centre[k, 2]),
                    self._radius[k], (self._bmin[k, 1], self._bmax[k, 1]))
                c = _N_CYLINDER
            else:
                t = intersect_sphere(origin, ds, self._centre[k],
                                     self._radius[k])
                c = _N_SPHERE
            closer = t < t_best[sl]
            if not closer.any():
                continue
            t_best[sl][closer] = t[closer]
            obj[sl][closer] = k
            code[sl][closer] = c

        hit = obj != -1
        colour = np.empty((height, width, 3), dtype=np.float64)
        label = np.full((height, width), SKY, dtype=np.uint8)
        sky = ~hit
        colour[sky] = self._sky_colour(np.stack([c[sky] for c in d], axis=-1))

        idx = np.nonzero(hit)
        tt = t_best[idx]
        points = np.stack([origin[a] + tt * d[a][idx] for a in range(3)],
                          axis=-1)
        codes, ids = code[idx], obj[idx]
        box = codes == -1
        codes[box] = box_face_code(points[box], self._bmin[ids[box]],
                                   self._bmax[ids[box]])
        colour[idx], label[idx] = self._shade(points, codes, ids)
        return t_best, colour, label

    def _visible_rects(self, R: np.ndarray, origin: np.ndarray, K: np.ndarray,
                       height: int, width: int):
        """Yield ``(object index, z_min, (v0, v1, u0, u1))``, near first.

        See :func:`~mmdepthseg.synthetic.raycast.visible_rects`;
        the boxes are the objects' bounding boxes.
        """
        return visible_rects(self._corners, R, origin, K, height, width)

    # ------------------------------------------------------------------
    # Shading: colours depend on the world point and normal only.
    # ------------------------------------------------------------------
    def _normals(self, points: np.ndarray, code: np.ndarray,
                 obj: np.ndarray) -> np.ndarray:
        """Unit outward normals (N, 3) of hit points from their codes."""
        normals = _AXIS_NORMALS[np.minimum(code, 5)]
        cyl = code == _N_CYLINDER
        if cyl.any():
            k = obj[cyl]
            n = points[cyl] - self._centre[k]
            n[:, 1] = 0.0
            normals[cyl] = n / self._radius[k][:, None]
        sph = code == _N_SPHERE
        if sph.any():
            k = obj[sph]
            normals[sph] = (points[sph] - self._centre[k]) / \
                self._radius[k][:, None]
        return normals

    def _shade(self, points: np.ndarray, code: np.ndarray,
               obj: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Colour (N, 3) float RGB and trainId (N,) of hit points."""
        normals = self._normals(points, code, obj)
        axis = np.argmax(np.abs(normals), axis=1)
        x, y, z = points[:, 0], points[:, 1], points[:, 2]
        # Surface coordinates of the dominant plane: x-facing -> (z, y),
        # y-facing -> (x, z), z-facing -> (x, y).
        su = np.where(axis == 0, z, x)
        sv = np.where(axis == 1, z, y)
        material = np.where(obj == _GROUND_ID, _M_GROUND,
                            self._material[np.maximum(obj, 0)])
        label = np.where(obj == _GROUND_ID, ROAD,
                         self._label[np.maximum(obj, 0)]).astype(np.uint8)
        colour = np.zeros_like(points)
        shaders = {
            _M_GROUND: self._tex_ground,
            _M_SIDEWALK: self._tex_sidewalk,
            _M_BUILDING: self._tex_building,
            _M_CAR_BODY: self._tex_car_body,
            _M_CAR_CABIN: self._tex_car_cabin,
            _M_POLE: self._tex_pole,
            _M_FOLIAGE: self._tex_foliage,
            _M_TRUNK: self._tex_trunk,
            _M_PERSON: self._tex_person,
        }
        for m, shader in shaders.items():
            sel = material == m
            if not sel.any():
                continue
            k = np.maximum(obj[sel], 0)  # the ground reads object 0: unused
            colour[sel] = shader(
                _Surface(
                    p=points[sel],
                    su=su[sel],
                    sv=sv[sel],
                    axis=axis[sel],
                    base=self._colour[k],
                    params=self._params[k],
                    seed=self._obj_seed[k] ^ np.uint32(self.texture_seed)))
            if m == _M_GROUND:
                terrain = np.abs(points[sel, 0]) >= self.road_half_width
                label[np.nonzero(sel)[0][terrain]] = TERRAIN
        lambert = np.clip(normals @ self.light_dir, 0.0, None)
        shade = 0.55 + 0.5 * lambert
        return colour * shade[:, None], label

    def _lum(self, s: _Surface, tag: int, wavelengths, weights) -> np.ndarray:
        """Zero-mean noise over the surface coordinates of ``s``."""
        return fbm(s.su, s.sv, s.seed + np.uint32(tag), wavelengths, weights)

    def _tex_ground(self, s: _Surface) -> np.ndarray:
        """Asphalt with repair patches and lane markings; terrain outside."""
        p = s.p
        x, z = p[:, 0], p[:, 2]
        seed = np.uint32(self.texture_seed)
        n = fbm(x, z, seed, (4.0, 1.2, 0.4, 0.15, 0.05), (14, 10, 9, 6, 2))
        patches = np.clip(
            (value_noise(x / 6.0, z / 6.0, seed + np.uint32(5)) - 0.7) / 0.05,
            0.0, 1.0)
        asphalt = (88 + n - 14 * patches)[:, None] * np.array([1.0, 1.0, 1.04])
        # Lane markings: dashed centre line (3 m dashes every 9 m) and solid
        # lines along the parking strips, with 3 cm soft edges.
        hw = self.road_half_width
        centre = _smooth_pulse(x, -0.075, 0.075, 0.03) * _smooth_pulse(
            np.mod(z, 9.0), 3.0, 6.0, 0.03)
        edge = _smooth_pulse(np.abs(x), hw - 2.06, hw - 1.94, 0.03)
        paint = np.maximum(centre, edge)[:, None]
        paint_col = (205 + 0.6 * n)[:, None] * np.array([1.0, 1.0, 0.95])
        road = asphalt * (1 - paint) + paint_col * paint
        dirt = value_noise(x / 2.5, z / 2.5, seed + np.uint32(9))[:, None]
        terrain = (np.array([95, 118, 58]) * (1 - dirt) +
                   np.array([125, 105, 75]) * dirt) * (1 + n[:, None] / 60)
        return np.where((np.abs(x) < hw)[:, None], road, terrain)

    def _tex_sidewalk(self, s: _Surface) -> np.ndarray:
        """Paving tiles in running bond on top, plain concrete curb face."""
        p = s.p
        n = self._lum(s, 1, (2.0, 0.6, 0.2, 0.06), (10, 8, 6, 2))
        ts = self.tile_size
        tz = p[:, 2] / (2 * ts)
        # Running bond: every other row of tiles shifted by half a tile.
        tx = p[:, 0] / ts + 0.5 * (np.floor(tz) % 2)
        dist = np.minimum(
            np.abs(tx - np.round(tx)) * ts,
            np.abs(tz - np.round(tz)) * 2 * ts)  # metres to the grout line
        grout = np.clip((0.02 - dist) / 0.02, 0.0, 1.0)
        tile_lum = 18 * (hash2(np.floor(tx), np.floor(tz), s.seed) - 0.5)
        top = (1 - grout) * tile_lum - 30 * grout
        lum = np.where(s.axis == 1, top, 10.0) + n
        return s.base + lum[:, None]

    def _tex_building(self, s: _Surface) -> np.ndarray:
        """Plaster with noise, floor bands and a grid of framed windows."""
        p = s.p
        spacing, floor_h, win_w, style = s.params.T
        horiz = np.where(s.axis == 0, p[:, 2], p[:, 0])
        up = -p[:, 1]
        fh, fv = horiz / spacing, up / floor_h
        ch, cv = np.floor(fh), np.floor(fv)
        # Position inside the window cell, metres.
        ph, pv = (fh - ch) * spacing, (fv - cv) * floor_h
        half = 0.5 * win_w * spacing
        facade = ((s.axis != 1) & (cv >= 1)).astype(np.float64)
        soft = 0.05
        window = facade * _smooth_pulse(
            ph, 0.5 * spacing - half, 0.5 * spacing + half, soft) * \
            _smooth_pulse(pv, 0.3 * floor_h, 0.85 * floor_h, soft)
        outer = facade * _smooth_pulse(
            ph, 0.5 * spacing - half - 0.08,
            0.5 * spacing + half + 0.08, soft) * _smooth_pulse(
                pv, 0.3 * floor_h - 0.08, 0.85 * floor_h + 0.08, soft)
        frame = np.clip(outer - window, 0.0, 1.0)
        # A band along every floor line, stronger for some styles.
        to_floor = np.minimum(pv, floor_h - pv)
        band = np.clip((0.12 - to_floor) / soft, 0.0, 1.0) * (s.axis != 1)
        n = self._lum(s, 2, (3.0, 0.9, 0.3, 0.1, 0.035), (18, 12, 9, 5, 2))
        wall = s.base * (1 + n / 200.0)[:, None] - \
            (22 * (0.3 + style) * band)[:, None]
        glass_lum = 0.65 + 0.7 * hash2(ch, cv, s.seed)
        glass = np.array([80, 96, 118]) * glass_lum[:, None] + \
            (0.4 * n)[:, None]
        frame_col = (200 + 0.3 * n)[:, None]
        wall_w = np.clip(1 - window - frame, 0.0, 1.0)
        return wall * wall_w[:, None] + glass * window[:, None] + \
            frame_col * frame[:, None]

    def _tex_car_body(self, s: _Surface) -> np.ndarray:
        """Car paint with a trim line, painted wheels and lamps."""
        p = s.p
        zc, length, wheel_r, xc = s.params.T
        n = self._lum(s, 3, (1.0, 0.3, 0.1, 0.04), (9, 6, 3, 1))
        col = s.base + n[:, None]
        side = (s.axis == 0).astype(np.float64)
        to_wheel = np.minimum(
            np.hypot(p[:, 2] - (zc - 0.3 * length), p[:, 1] + wheel_r),
            np.hypot(p[:, 2] - (zc + 0.3 * length), p[:, 1] + wheel_r))
        wheel = side * np.clip((wheel_r - to_wheel) / 0.03 + 0.5, 0.0, 1.0)
        trim = side * _smooth_pulse(p[:, 1], -0.58, -0.52, 0.02)
        lamps = (s.axis == 2) * _smooth_pulse(
            p[:, 1], -0.78, -0.62, 0.03) * _smooth_pulse(
                np.abs(p[:, 0] - xc), 0.45, 0.75, 0.03)
        col = col * (1 - 0.4 * trim)[:, None]
        col = col * (1 - lamps)[:, None] + np.array([230, 200, 120]) * \
            lamps[:, None]
        return col * (1 - wheel)[:, None] + (28 + 0.5 * n)[:, None] * \
            wheel[:, None]

    def _tex_car_cabin(self, s: _Surface) -> np.ndarray:
        """Tinted glass around the cabin, paint on its roof."""
        n = self._lum(s, 4, (0.8, 0.25, 0.08), (8, 5, 3))
        roof = s.axis == 1
        glass = np.array([45, 55, 70]) + n[:, None]
        return np.where(roof[:, None], s.base + n[:, None], glass)

    def _tex_pole(self, s: _Surface) -> np.ndarray:
        """Painted metal with bands every 1.7 m."""
        p = s.p
        n = fbm(p[:, 1],
                np.arctan2(p[:, 0], p[:, 2]) * 0.1, s.seed, (1.0, 0.25, 0.06),
                (10, 6, 3))
        band = _smooth_pulse(np.mod(p[:, 1], 1.7), 0.4, 0.52, 0.03)
        return s.base + (n - 30 * band)[:, None]

    def _tex_foliage(self, s: _Surface) -> np.ndarray:
        """Leaves: strong multi-octave luminance and hue noise."""
        n = self._lum(s, 6, (1.2, 0.4, 0.13, 0.045), (30, 22, 14, 6))
        hue = self._lum(s, 7, (2.0, 0.5), (0.15, 0.1))
        base = s.base * (1 + n / 90.0)[:, None]
        base[:, 0] *= 1 + hue
        return base

    def _tex_trunk(self, s: _Surface) -> np.ndarray:
        """Bark: noise stretched along the trunk."""
        p = s.p
        n = fbm(p[:, 1] / 4.0, (p[:, 0] + p[:, 2]), s.seed, (0.5, 0.15, 0.05),
                (18, 10, 5))
        return s.base + n[:, None]

    def _tex_person(self, s: _Surface) -> np.ndarray:
        """Trousers, shirt and head by height above the sidewalk."""
        p = s.p
        h, r2, g2, b2 = s.params.T
        n = self._lum(s, 8, (0.4, 0.12, 0.04), (12, 6, 3))
        rel = (-p[:, 1] - self.curb_height) / h
        head = rel > 0.87
        shirt = (rel > 0.5) & ~head
        legs = np.stack([r2, g2, b2], axis=1)
        col = np.where(shirt[:, None], s.base, legs)
        col = np.where(head[:, None], np.array([210, 170, 140]), col)
        return col + n[:, None]

    def _sky_colour(self, dirs: np.ndarray) -> np.ndarray:
        """Sky radiance from the world direction only (sky at infinity)."""
        if len(dirs) == 0:
            return np.zeros((0, 3))
        dirs = dirs / np.linalg.norm(dirs, axis=1, keepdims=True)
        elev = np.clip(-dirs[:, 1], 0.0, 1.0)
        t = np.clip(elev * 2.5, 0.0, 1.0)[:, None]
        horizon = np.array([205, 220, 235])
        zenith = np.array([80, 130, 205])
        base = horizon * (1 - t) + zenith * t
        # Clouds painted on a plane at infinity: coordinates from the
        # direction only.
        e = np.maximum(elev, 0.05)
        cu, cv = dirs[:, 0] / e, dirs[:, 2] / e
        cloud = fbm(cu, cv,
                    np.uint32(self.texture_seed) + np.uint32(99),
                    (1.5, 0.5, 0.15), (0.5, 0.3, 0.2))
        cover = np.clip(cloud * 1.6, 0.0, 1.0)[:, None]
        return base * (1 - cover) + np.array([240, 240, 245]) * cover
