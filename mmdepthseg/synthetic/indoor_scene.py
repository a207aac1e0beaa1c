# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Procedural indoor rooms in the style of NYU Depth v2, ray-cast with numpy.

An :class:`IndoorScene` is one furnished room: a floor, four walls and a
ceiling (the inside of a box), furniture built from axis-aligned boxes
(bed with headboard and pillows, tables, chairs, sofa, cabinets, dressers,
night stands, bookshelves, desks, cardboard boxes) and thin wall-mounted
boxes (pictures, windows, a door). The room type (``'bedroom'``,
``'living_room'``, ``'dining_room'`` or ``'study'``, names MMSegmentation's
NYU scene categories use) decides the furniture. :meth:`IndoorScene.render`
casts one ray per pixel through the pixel centre and returns the RGB image,
the exact depth and the **NYUv2-40 label ids** (1 = wall ... 40 =
otherprop, see :data:`NYU40_IDS`; the renderer never outputs 0,
"unlabelled").

World frame (metres): **x right**, **y down**, **z forward** into the room,
as the OpenCV axes of a camera that looks at the front wall. The floor is
the plane ``y = 0``, the ceiling ``y = -room_height``; the room spans
``|x| <= room_width / 2`` and ``0 <= z <= room_depth``. Cameras stand near
the back wall (``z = 0``) at a person's height and look into the room
(:meth:`IndoorScene.camera_poses`), so the back wall is never seen and no
furniture stands where a camera may be.

Photometric consistency: as in :mod:`.street_scene`, every colour is a
function of the 3D hit point and the surface normal only (procedural
textures at world coordinates, Lambertian shading by a fixed key light and a
lamp below the ceiling), so a surface point has the same radiance from every
camera and texture scale is a depth cue. Rendering is vectorised over
pixels; the loops run over boxes and materials.
"""
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from .raycast import (AXIS_NORMALS, box_corners, box_face_code, camera_rays,
                      euler_to_rotation, fbm, hash2, intersect_box,
                      quincunx_filter, smooth_pulse, visible_rects)

# NYUv2-40 label ids (Gupta et al.'s 40 classes, 1-based; 0 = unlabelled)
# of the classes the generator builds.
WALL, FLOOR, CABINET, BED, CHAIR, SOFA, TABLE, DOOR, WINDOW, BOOKSHELF, \
    PICTURE = range(1, 12)
DESK, DRESSER, PILLOW, CEILING, BOX, NIGHT_STAND = 14, 17, 18, 22, 29, 32
#: Class name (as in the NYUv2-40 list) -> NYUv2-40 id, for the classes the
#: generator can produce.
NYU40_IDS: Dict[str, int] = {
    'wall': WALL,
    'floor': FLOOR,
    'cabinet': CABINET,
    'bed': BED,
    'chair': CHAIR,
    'sofa': SOFA,
    'table': TABLE,
    'door': DOOR,
    'window': WINDOW,
    'bookshelf': BOOKSHELF,
    'picture': PICTURE,
    'desk': DESK,
    'dresser': DRESSER,
    'pillow': PILLOW,
    'ceiling': CEILING,
    'box': BOX,
    'night stand': NIGHT_STAND,
}

#: Room types (the file-name prefixes of the NYU layout).
ROOM_TYPES = ('bedroom', 'living_room', 'dining_room', 'study')

# Materials (texture functions).
_M_FLOOR, _M_WALL, _M_CEILING, _M_WOOD, _M_FABRIC, _M_PANELS, \
    _M_BOOKSHELF, _M_PICTURE, _M_WINDOW, _M_DOOR, _M_CARDBOARD = range(11)
_ROOM_ID = -1  # object id of the room's own surfaces

# Sides of a footprint (x0, z0, x1, z1) where the back of a piece of
# furniture is (against a wall: left 'x-', right 'x+', front 'z+'), and the
# normal code of the face opposite to it (the front).
_FRONT_CODE = {'x-': 0, 'x+': 1, 'z-': 4, 'z+': 5}
_WALL_SIDES = ('x-', 'x+', 'z+')

_WALL_PAINTS = ((225, 220, 205), (200, 210, 215), (230, 215, 190),
                (190, 200, 180), (215, 190, 180), (240, 238, 230),
                (170, 180, 195), (205, 200, 225))
_FLOOR_COLOURS = (((160, 115, 75), (125, 85, 55), (190, 150, 105)),
                  ((200, 195, 185), (150, 150, 150), (210, 200, 170)),
                  ((120, 100, 90), (90, 100, 120), (140, 130, 110)))
_WOODS = ((120, 80, 50), (160, 120, 80), (90, 60, 40), (200, 170, 130),
          (230, 225, 215), (60, 50, 45))
_FABRICS = ((170, 40, 40), (60, 90, 150), (200, 190, 170), (90, 120, 80),
            (140, 110, 150), (210, 210, 215), (80, 80, 85), (190, 140, 60))

Rect = Tuple[float, float, float, float]


class _Hits(NamedTuple):
    """Hit points of one material handed to its texture function.

    Attributes:
        p (np.ndarray): (N, 3) world points.
        su (np.ndarray): (N,) first coordinate of the face plane (z for
            x-facing faces, else x).
        sv (np.ndarray): (N,) second coordinate (z for y-facing faces,
            else y).
        axis (np.ndarray): (N,) normal axis (0 = x, 1 = y, 2 = z).
        code (np.ndarray): (N,) normal code (0..5 = +x, -x, +y, -y, +z, -z).
        base (np.ndarray): (N, 3) base RGB colour of the hit object.
        params (np.ndarray): (N, 4) material parameters of the hit object.
        seed (np.ndarray): (N,) uint32 texture seed of the hit object.
        lo (np.ndarray): (N, 3) lower corner of the hit object's box.
        hi (np.ndarray): (N, 3) upper corner of the hit object's box.
    """
    p: np.ndarray
    su: np.ndarray
    sv: np.ndarray
    axis: np.ndarray
    code: np.ndarray
    base: np.ndarray
    params: np.ndarray
    seed: np.ndarray
    lo: np.ndarray
    hi: np.ndarray

    def face_coords(self) -> Tuple[np.ndarray, np.ndarray]:
        """Position on a vertical face relative to the box (metres).

        Returns:
            tuple[np.ndarray]: ``h``, the horizontal offset from the box's
            lower x (z-facing) or z (x-facing) corner, and ``up``, the
            height above the box's bottom.
        """
        lo_h = np.where(self.axis == 0, self.lo[:, 2], self.lo[:, 0])
        return self.su - lo_h, self.hi[:, 1] - self.p[:, 1]

    def face_size(self) -> Tuple[np.ndarray, np.ndarray]:
        """Width and height (metres) of the vertical face that was hit."""
        ext = self.hi - self.lo
        return np.where(self.axis == 0, ext[:, 2], ext[:, 0]), ext[:, 1]


def _strip(rect: Rect, side: str, t: float) -> Rect:
    """The part of ``rect`` within ``t`` of its ``side``."""
    x0, z0, x1, z1 = rect
    return {
        'x-': (x0, z0, x0 + t, z1),
        'x+': (x1 - t, z0, x1, z1),
        'z-': (x0, z0, x1, z0 + t),
        'z+': (x0, z1 - t, x1, z1)
    }[side]


def _along(side: str) -> int:
    """World axis (0 = x, 2 = z) along a wall / back at ``side``."""
    return 2 if side[0] == 'x' else 0


def _overlap(a: Rect, b: Rect, gap: float = 0.0) -> bool:
    return (a[0] < b[2] + gap and b[0] < a[2] + gap and a[1] < b[3] + gap
            and b[1] < a[3] + gap)


class IndoorScene:
    """A procedural, furnished room rendered by ray casting.

    Args:
        seed (int): Seed of the layout, colours and textures.
        room_type (str, optional): One of :data:`ROOM_TYPES`. Defaults to a
            seeded choice.
        room_size (tuple[float, float, float], optional): ``(width, depth,
            height)`` in metres (x, z and y extents). Defaults to seeded
            values in [3.4, 5.5] x [4.0, 6.5] x [2.5, 2.9].
        furnish (bool): Add furniture and wall items. False gives an empty
            room (floor, walls, ceiling). Defaults to True.
    """

    def __init__(self,
                 seed: int,
                 room_type: Optional[str] = None,
                 room_size: Optional[Tuple[float, float, float]] = None,
                 furnish: bool = True) -> None:
        self.seed = int(seed)
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, 23]))
        self._rng = rng
        if room_type is None:
            room_type = ROOM_TYPES[int(rng.integers(len(ROOM_TYPES)))]
        if room_type not in ROOM_TYPES:
            raise ValueError(f'room_type must be one of {ROOM_TYPES}, got '
                             f'{room_type!r}')
        if room_size is None:
            room_size = (rng.uniform(3.4, 5.5), rng.uniform(4.0, 6.5),
                         rng.uniform(2.5, 2.9))
        width, depth, height = (float(v) for v in room_size)
        if width < 2.5 or depth < 2.5 or not 2.0 <= height <= 5.0:
            raise ValueError('IndoorScene room_size (width, depth, height) '
                             'needs width, depth >= 2.5 m and height in '
                             f'[2, 5] m, got {room_size}')
        self.room_type = room_type
        self.room_width, self.room_depth, self.room_height = (width, depth,
                                                              height)
        self.room_min = np.array([-width / 2, -height, 0.0])
        self.room_max = np.array([width / 2, 0.0, depth])
        self.texture_seed = int(rng.integers(1, 2**31))
        # Surfaces of the room.
        self.wall_colour = np.array(_WALL_PAINTS[rng.integers(
            len(_WALL_PAINTS))]) * rng.uniform(0.9, 1.05)
        self.wall_style = int(rng.integers(3))  # plain, stripes, wainscot
        self.stripe_period = rng.uniform(0.12, 0.3)
        self.floor_style = int(rng.integers(3))  # planks, tiles, carpet
        choices = _FLOOR_COLOURS[self.floor_style]
        self.floor_colour = np.array(
            choices[rng.integers(len(choices))], dtype=np.float64)
        self.plank_width = rng.uniform(0.1, 0.2)
        self.plank_length = rng.uniform(1.0, 2.0)
        self.tile_size = rng.uniform(0.3, 0.6)
        self.ceiling_tiles = room_type == 'study' and rng.random() < 0.7
        # Lighting: a key light direction (towards the light) and a lamp.
        light = np.array(
            [rng.uniform(-0.6, 0.6), -1.0,
             rng.uniform(-0.7, 0.3)])
        self.light_dir = light / np.linalg.norm(light)
        self.lamp = np.array([
            rng.uniform(-0.2, 0.2) * width, -height + 0.35,
            depth * rng.uniform(0.35, 0.65)
        ])
        # Where cameras may stand (x, z ranges): no furniture there.
        self.camera_x = (-0.22 * width, 0.22 * width)
        self.camera_z = (0.3, 0.85)
        self._keep_out: Rect = (self.camera_x[0] - 0.35, 0.0,
                                self.camera_x[1] + 0.35, 1.3)
        self._objects: List[dict] = []
        self._footprints: List[Rect] = []
        if furnish:
            self._build()
        self._finalise()

    # ------------------------------------------------------------------
    # Scene construction
    # ------------------------------------------------------------------
    def _add_box(
        self,
        label: int,
        material: int,
        bmin: Sequence[float],
        bmax: Sequence[float],
        colour: Sequence[float],
        params: Sequence[float] = (0.0, 0.0, 0.0, 0.0)
    ) -> None:
        bmin = np.asarray(bmin, dtype=np.float64)
        bmax = np.asarray(bmax, dtype=np.float64)
        assert np.all(bmin < bmax), (bmin, bmax)
        self._objects.append(
            dict(
                label=label,
                material=material,
                bmin=bmin,
                bmax=bmax,
                colour=np.asarray(colour, dtype=np.float64),
                params=np.asarray(params, dtype=np.float64),
                seed=int(self._rng.integers(0, 2**32, dtype=np.uint64))))

    def _add_slab(self,
                  label: int,
                  material: int,
                  rect: Rect,
                  y_top: float,
                  y_bottom: float,
                  colour,
                  params=(0.0, 0.0, 0.0, 0.0)) -> None:
        """A box over the footprint ``rect`` between two heights (m)."""
        x0, z0, x1, z1 = rect
        self._add_box(label, material, (x0, -y_top, z0), (x1, -y_bottom, z1),
                      colour, params)

    def _free(self, rect: Rect, gap: float = 0.08) -> bool:
        """Whether ``rect`` is inside the room and clear of everything."""
        x0, z0, x1, z1 = rect
        lo, hi = self.room_min, self.room_max
        if x0 < lo[0] - 1e-9 or x1 > hi[0] + 1e-9 or z0 < lo[2] - 1e-9 \
                or z1 > hi[2] + 1e-9:
            return False
        if _overlap(rect, self._keep_out):
            return False
        return not any(_overlap(rect, r, gap) for r in self._footprints)

    def _place_against(self, side: str, along: float,
                       out: float) -> Optional[Rect]:
        """A free footprint of ``along`` x ``out`` m against a wall."""
        lo, hi = self.room_min, self.room_max
        a = _along(side)
        if hi[a] - lo[a] - 0.1 < along:
            return None
        for _ in range(25):
            s = self._rng.uniform(lo[a] + 0.05, hi[a] - 0.05 - along)
            if side == 'x-':
                rect = (lo[0], s, lo[0] + out, s + along)
            elif side == 'x+':
                rect = (hi[0] - out, s, hi[0], s + along)
            else:
                rect = (s, hi[2] - out, s + along, hi[2])
            if self._free(rect):
                self._footprints.append(rect)
                return rect
        return None

    def _place_free(self,
                    size_x: float,
                    size_z: float,
                    margin: float = 0.5) -> Optional[Rect]:
        """A free footprint of ``size_x`` x ``size_z`` m in the room."""
        lo, hi = self.room_min, self.room_max
        if hi[0] - lo[0] - 2 * margin < size_x or \
                hi[2] - 1.3 - 2 * margin < size_z:
            return None
        for _ in range(25):
            x = self._rng.uniform(lo[0] + margin, hi[0] - margin - size_x)
            z = self._rng.uniform(1.3 + margin, hi[2] - margin - size_z)
            rect = (x, z, x + size_x, z + size_z)
            if self._free(rect):
                self._footprints.append(rect)
                return rect
        return None

    def _random_wall(self) -> str:
        return _WALL_SIDES[int(self._rng.integers(len(_WALL_SIDES)))]

    def _build(self) -> None:
        rng = self._rng
        self._add_door()
        for _ in range(int(rng.integers(1, 3))):
            self._add_window()
        getattr(self, f'_furnish_{self.room_type}')()
        if rng.random() < 0.5:
            self._add_cabinet(CABINET, self._random_wall())
        for _ in range(int(rng.integers(1, 4))):
            self._add_picture()
        for _ in range(int(rng.integers(0, 3))):
            self._add_cardboard_box()

    def _furnish_bedroom(self) -> None:
        rng = self._rng
        side = self._random_wall()
        bed = self._add_bed(side)
        for _ in range(int(rng.integers(1, 3))):
            self._add_cabinet(NIGHT_STAND,
                              side if bed else self._random_wall(),
                              (0.4, 0.55), (0.4, 0.5), (0.45, 0.6))
        self._add_cabinet(DRESSER, self._random_wall(), (0.8, 1.5),
                          (0.45, 0.6), (0.75, 1.05))

    def _furnish_living_room(self) -> None:
        rng = self._rng
        self._add_sofa(self._random_wall())
        table = self._place_free(rng.uniform(0.8, 1.3), rng.uniform(0.5, 0.8))
        if table:
            self._add_table(TABLE, table, rng.uniform(0.4, 0.5))
        for _ in range(int(rng.integers(1, 3))):
            rect = self._place_free(0.5, 0.5, margin=0.3)
            if rect:
                self._add_chair(rect, ('x-', 'x+', 'z+')[rng.integers(3)])
        if rng.random() < 0.6:
            self._add_bookshelf(self._random_wall())

    def _furnish_dining_room(self) -> None:
        rng = self._rng
        size = (rng.uniform(0.9, 1.8), rng.uniform(0.8, 1.1))
        if rng.random() < 0.5:
            size = size[::-1]
        table = self._place_free(*size, margin=0.7)
        if table:
            self._add_table(TABLE, table, rng.uniform(0.72, 0.78))
            self._add_chairs_around(table)
        self._add_cabinet(CABINET, self._random_wall(), (0.8, 1.6),
                          (0.4, 0.55), (0.8, 2.0))

    def _furnish_study(self) -> None:
        rng = self._rng
        side = self._random_wall()
        desk = self._place_against(side, rng.uniform(1.0, 1.6),
                                   rng.uniform(0.6, 0.75))
        if desk:
            self._add_table(DESK, desk, rng.uniform(0.72, 0.76))
            self._add_chair_in_front(desk, side)
        for _ in range(int(rng.integers(1, 3))):
            self._add_bookshelf(self._random_wall())

    def _add_bed(self, side: str) -> Optional[Rect]:
        rng = self._rng
        width, length = rng.uniform(1.0, 1.8), rng.uniform(1.9, 2.1)
        rect = self._place_against(side, width, length)
        if rect is None:
            return None
        wood = np.array(_WOODS[rng.integers(len(_WOODS))])
        cover = np.array(_FABRICS[rng.integers(len(_FABRICS))])
        top = rng.uniform(0.45, 0.6)
        head = _strip(rect, side, 0.06)
        self._add_slab(BED, _M_WOOD, head, rng.uniform(0.9, 1.2), 0.0, wood)
        body = self._shrink(rect, side, 0.06)
        self._add_slab(BED, _M_FABRIC, body, top, 0.0, cover,
                       self._fabric_params())
        # One or two pillows side by side along the headboard.
        n = 1 if width < 1.3 else 2
        a = _along(side)
        lo = rect[0] if a == 0 else rect[1]
        slot = width / n
        for i in range(n):
            s0, s1 = lo + i * slot + 0.08, lo + (i + 1) * slot - 0.08
            strip = _strip(body, side, 0.4)
            strip = self._shrink(strip, side, 0.03)
            if a == 0:
                pillow = (s0, strip[1], s1, strip[3])
            else:
                pillow = (strip[0], s0, strip[2], s1)
            self._add_slab(PILLOW, _M_FABRIC, pillow, top + 0.13, top,
                           (225, 225, 220), self._fabric_params(0.0))
        return rect

    def _add_table(self, label: int, rect: Rect, height: float) -> None:
        wood = np.array(_WOODS[self._rng.integers(len(_WOODS))])
        self._add_slab(label, _M_WOOD, rect, height, height - 0.04, wood)
        x0, z0, x1, z1 = rect
        leg = 0.05
        for lx in (x0, x1 - leg):
            for lz in (z0, z1 - leg):
                self._add_slab(label, _M_WOOD, (lx, lz, lx + leg, lz + leg),
                               height - 0.04, 0.0, wood * 0.85)

    def _add_chair(self, rect: Rect, back: str) -> None:
        rng = self._rng
        wood = np.array(_WOODS[rng.integers(len(_WOODS))])
        seat = rng.uniform(0.43, 0.48)
        self._add_slab(CHAIR, _M_WOOD, rect, seat, seat - 0.04, wood)
        x0, z0, x1, z1 = rect
        leg = 0.04
        for lx in (x0, x1 - leg):
            for lz in (z0, z1 - leg):
                self._add_slab(CHAIR, _M_WOOD, (lx, lz, lx + leg, lz + leg),
                               seat - 0.04, 0.0, wood * 0.85)
        self._add_slab(CHAIR, _M_WOOD, _strip(rect, back, 0.04),
                       seat + rng.uniform(0.4, 0.5), seat, wood)

    def _add_chairs_around(self, table: Rect) -> None:
        """Chairs next to the sides of a table, backs away from it."""
        rng = self._rng
        x0, z0, x1, z1 = table
        size, gap = 0.45, 0.06
        xm, zm = (x0 + x1 - size) / 2, (z0 + z1 - size) / 2
        candidates = [((x0 - gap - size, zm, x0 - gap, zm + size), 'x-'),
                      ((x1 + gap, zm, x1 + gap + size, zm + size), 'x+'),
                      ((xm, z1 + gap, xm + size, z1 + gap + size), 'z+'),
                      ((xm, z0 - gap - size, xm + size, z0 - gap), 'z-')]
        for rect, back in candidates:
            if rng.random() < 0.8 and self._free(rect, gap=0.02):
                self._footprints.append(rect)
                self._add_chair(rect, back)

    def _add_chair_in_front(self, desk: Rect, side: str) -> None:
        size, gap = 0.45, 0.05
        x0, z0, x1, z1 = desk
        xm, zm = (x0 + x1 - size) / 2, (z0 + z1 - size) / 2
        opposite = {'x-': 'x+', 'x+': 'x-', 'z+': 'z-'}[side]
        rect = {
            'x-': (x1 + gap, zm, x1 + gap + size, zm + size),
            'x+': (x0 - gap - size, zm, x0 - gap, zm + size),
            'z+': (xm, z0 - gap - size, xm + size, z0 - gap)
        }[side]
        if self._free(rect, gap=0.02):
            self._footprints.append(rect)
            self._add_chair(rect, opposite)

    def _add_sofa(self, side: str) -> None:
        rng = self._rng
        rect = self._place_against(side, rng.uniform(1.6, 2.4),
                                   rng.uniform(0.8, 0.95))
        if rect is None:
            return
        colour = np.array(_FABRICS[rng.integers(len(_FABRICS))])
        params = self._fabric_params(0.0)
        self._add_slab(SOFA, _M_FABRIC, rect, 0.42, 0.0, colour, params)
        self._add_slab(SOFA, _M_FABRIC, _strip(rect, side, 0.2),
                       rng.uniform(0.8, 0.9), 0.0, colour, params)
        ends = ('z-', 'z+') if side[0] == 'x' else ('x-', 'x+')
        for end in ends:
            self._add_slab(SOFA, _M_FABRIC, _strip(rect, end, 0.15),
                           rng.uniform(0.58, 0.65), 0.0, colour * 0.92, params)

    def _add_cabinet(
        self,
        label: int,
        side: str,
        along: Tuple[float, float] = (0.6, 1.4),
        out: Tuple[float, float] = (0.45, 0.6),
        height: Tuple[float, float] = (1.6, 2.1)
    ) -> None:
        """A box with door / drawer seams on its front (cabinets, dressers,
        night stands)."""
        rng = self._rng
        size = rng.uniform(*along)
        rect = self._place_against(side, size, rng.uniform(*out))
        if rect is None:
            return
        h = rng.uniform(*height)
        cols = max(1, int(round(size / rng.uniform(0.4, 0.6))))
        row_h = h if label == CABINET else h / max(
            1, int(round(h / rng.uniform(0.2, 0.3))))
        wood = np.array(_WOODS[rng.integers(len(_WOODS))])
        self._add_slab(label, _M_PANELS, rect, h, 0.0, wood,
                       (size / cols, row_h, _FRONT_CODE[side], 0.0))

    def _add_bookshelf(self, side: str) -> None:
        rng = self._rng
        rect = self._place_against(side, rng.uniform(0.7, 1.2),
                                   rng.uniform(0.3, 0.4))
        if rect is None:
            return
        wood = np.array(_WOODS[rng.integers(len(_WOODS))])
        self._add_slab(BOOKSHELF, _M_BOOKSHELF, rect, rng.uniform(1.5, 2.1),
                       0.0, wood,
                       (_FRONT_CODE[side], rng.uniform(0.3, 0.4), 0.0, 0.0))

    def _add_cardboard_box(self) -> None:
        rng = self._rng
        sx, sz = rng.uniform(0.25, 0.5, size=2)
        rect = self._place_free(sx, sz, margin=0.15)
        if rect is not None:
            self._add_slab(BOX, _M_CARDBOARD, rect, rng.uniform(0.2, 0.45),
                           0.0, (175, 135, 90) * rng.uniform(0.85, 1.1, 3))

    def _wall_item(self,
                   side: str,
                   along: float,
                   y_bottom: float,
                   y_top: float,
                   thickness: float,
                   floor_clearance: float = 0.0) -> Optional[Tuple]:
        """Place a thin box on a wall clear of furniture and other items.

        Returns:
            tuple | None: ``(bmin, bmax)`` or None if no place was found.
        """
        lo, hi = self.room_min, self.room_max
        a = _along(side)
        if hi[a] - lo[a] - 0.3 < along:
            return None
        for _ in range(25):
            s = self._rng.uniform(lo[a] + 0.15, hi[a] - 0.15 - along)
            if a == 2 and s < 1.4:
                continue  # keep side-wall items in front of the cameras
            if side == 'x-':
                rect = (lo[0], s, lo[0] + thickness, s + along)
            elif side == 'x+':
                rect = (hi[0] - thickness, s, hi[0], s + along)
            else:
                rect = (s, hi[2] - thickness, s + along, hi[2])
            bmin = np.array([rect[0], -y_top, rect[1]])
            bmax = np.array([rect[2], -y_bottom, rect[3]])
            if any(
                    np.all(bmin < o['bmax'] + 0.05) and np.all(o['bmin'] -
                                                               0.05 < bmax)
                    for o in self._objects):
                continue
            if floor_clearance > 0:
                # Keep the floor in front of the item free (a door's swing).
                clear = _strip(rect, side, floor_clearance)
                if not self._free(clear):
                    continue
                self._footprints.append(clear)
            return bmin, bmax
        return None

    def _add_door(self) -> None:
        rng = self._rng
        side = self._random_wall()
        width = rng.uniform(0.8, 0.95)
        box = self._wall_item(
            side,
            width,
            0.0,
            rng.uniform(2.0, 2.1),
            0.035,
            floor_clearance=0.8)
        if box is not None:
            colour = _WOODS[rng.integers(len(_WOODS))]
            self._add_box(
                DOOR, _M_DOOR, *box, colour,
                (_FRONT_CODE[side], float(rng.random() < 0.5), 0.0, 0.0))

    def _add_window(self) -> None:
        rng = self._rng
        side = self._random_wall()
        bottom = rng.uniform(0.8, 1.1)
        top = min(self.room_height - 0.25, bottom + rng.uniform(1.0, 1.4))
        box = self._wall_item(side, rng.uniform(0.8, 1.6), bottom, top, 0.03)
        if box is not None:
            self._add_box(WINDOW, _M_WINDOW, *box, (235, 235, 230),
                          (_FRONT_CODE[side], 0.0, 0.0, 0.0))

    def _add_picture(self) -> None:
        rng = self._rng
        side = self._random_wall()
        h = rng.uniform(0.3, 0.8)
        bottom = rng.uniform(1.2, max(1.25, self.room_height - 0.35 - h))
        box = self._wall_item(side, rng.uniform(0.35, 1.0), bottom, bottom + h,
                              0.025)
        if box is not None:
            frame = ((40, 30, 25), (180, 150, 80), (235, 235, 230),
                     (110, 75, 45))[rng.integers(4)]
            self._add_box(
                PICTURE, _M_PICTURE, *box, frame,
                (_FRONT_CODE[side], rng.uniform(0.02, 0.06), 0.0, 0.0))

    def _fabric_params(self, stripes: Optional[float] = None) -> tuple:
        """(stripe period or 0, second RGB colour) of a fabric."""
        rng = self._rng
        if stripes is None:
            stripes = rng.uniform(0.05, 0.25) if rng.random() < 0.5 else 0.0
        return (stripes, ) + tuple(rng.uniform(40, 230, size=3))

    @staticmethod
    def _shrink(rect: Rect, side: str, t: float) -> Rect:
        """``rect`` without the part within ``t`` of its ``side``."""
        x0, z0, x1, z1 = rect
        return {
            'x-': (x0 + t, z0, x1, z1),
            'x+': (x0, z0, x1 - t, z1),
            'z-': (x0, z0 + t, x1, z1),
            'z+': (x0, z0, x1, z1 - t)
        }[side]

    def _finalise(self) -> None:
        """Pack the object list into arrays for vectorised lookups."""
        objs = self._objects
        self.num_objects = len(objs)
        self._material = np.array([o['material'] for o in objs], dtype=np.int8)
        self._label = np.array([o['label'] for o in objs], dtype=np.uint8)
        self._bmin = np.array([o['bmin'] for o in objs]).reshape(-1, 3)
        self._bmax = np.array([o['bmax'] for o in objs]).reshape(-1, 3)
        self._colour = np.array([o['colour'] for o in objs]).reshape(-1, 3)
        self._params = np.array([o['params'] for o in objs]).reshape(-1, 4)
        self._obj_seed = np.array([o['seed'] for o in objs],
                                  dtype=np.uint64).astype(np.uint32)
        self._corners = box_corners(self._bmin, self._bmax)
        # Points cameras may aim at: above the middle of every footprint
        # (furniture, and the floor in front of the door).
        self.anchors = np.array([((r[0] + r[2]) / 2, -0.6, (r[1] + r[3]) / 2)
                                 for r in self._footprints]).reshape(-1, 3)

    @property
    def labels(self) -> Tuple[int, ...]:
        """Sorted NYUv2-40 ids of everything in the room."""
        return tuple(
            sorted({WALL, FLOOR, CEILING} | set(self._label.tolist())))

    @property
    def boxes(self) -> List[dict]:
        """The room's objects: ``label`` (NYUv2-40 id), ``bmin``, ``bmax``
        (world corners, metres)."""
        return [
            dict(
                label=int(o['label']),
                bmin=o['bmin'].copy(),
                bmax=o['bmax'].copy()) for o in self._objects
        ]

    # ------------------------------------------------------------------
    # Cameras
    # ------------------------------------------------------------------
    def camera_poses(self, num_views: int, start: int = 0) -> np.ndarray:
        """Poses of hand-held cameras standing near the back wall.

        View ``i`` is drawn from its own seed (``[seed, 29, i]``), so view
        ``i`` is the same whatever ``num_views``. The camera stands at
        ``x`` in :attr:`camera_x`, ``z`` in :attr:`camera_z`, 1.35-1.65 m
        above the floor, with up to 2 degrees of roll. Like a person
        photographing a room, it mostly (3 in 4 views) aims, give or take
        9 degrees, at one of the :attr:`anchors` (above a piece of
        furniture), otherwise it looks about ahead; yaw stays within 34
        degrees of the room's axis (so the back wall stays out of view),
        pitch within 3 degrees up and 23 degrees down.

        Args:
            num_views (int): Number of poses N.
            start (int): Index of the first view. Defaults to 0.

        Returns:
            np.ndarray: (N, 4, 4) float64 ``T_cam2world`` (OpenCV camera).
        """
        if num_views < 1 or start < 0:
            raise ValueError('camera_poses needs num_views >= 1 and start >= '
                             f'0, got {num_views} and {start}')
        poses = np.tile(np.eye(4), (num_views, 1, 1))
        for i in range(num_views):
            rng = np.random.default_rng(
                np.random.SeedSequence([self.seed, 29, start + i]))
            x = rng.uniform(*self.camera_x)
            z = rng.uniform(*self.camera_z)
            y = -rng.uniform(1.35, 1.65)
            yaw = rng.uniform(-0.35, 0.35)
            pitch = rng.uniform(-0.05, 0.16)
            roll = rng.uniform(-0.035, 0.035)
            if len(self.anchors) and rng.random() < 0.75:
                target = self.anchors[rng.integers(len(self.anchors))]
                dx, dy, dz = target - (x, y, z)
                yaw = np.arctan2(dx, dz) + rng.uniform(-0.15, 0.15)
                pitch = np.arctan2(dy, np.hypot(dx, dz)) + rng.uniform(
                    -0.15, 0.15)
            yaw = float(np.clip(yaw, -0.6, 0.6))
            pitch = float(np.clip(pitch, -0.05, 0.4))
            poses[i, :3, :3] = euler_to_rotation(yaw, pitch, roll)
            poses[i, :3, 3] = (x, y, z)
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
        ``R @ K^-1 @ (u, v, 1)``; ``depth`` and ``label`` are exact for
        that ray. With ``antialias`` the colour is the sensor's quincunx
        filter (see
        :func:`~mmdepthseg.synthetic.raycast.quincunx_filter`).
        The room is closed, so every pixel has a valid depth.

        Args:
            T_cam2world (np.ndarray): (4, 4) camera-to-world pose; the
                camera must be inside the room and outside every object.
            K (np.ndarray): (3, 3) intrinsics (pixels) of this image size;
                the last row must be (0, 0, 1).
            height (int): Image height H.
            width (int): Image width W.
            antialias (bool): Quincunx pixel filter. Defaults to True.

        Returns:
            dict: ``img`` uint8 (H, W, 3) **RGB**; ``depth`` float32 (H, W)
            camera-frame z in metres (> 0 everywhere); ``label`` uint8
            (H, W) NYUv2-40 ids (1..40).
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
        c = T[:3, 3]
        if not np.all((self.room_min < c) & (c < self.room_max)):
            raise ValueError(f'the camera centre {c} is outside the room '
                             f'{self.room_min} .. {self.room_max}')
        inside = np.all((self._bmin <= c) & (c <= self._bmax), axis=1)
        if inside.any():
            raise ValueError(f'the camera centre {c} is inside object '
                             f'{int(np.argmax(inside))} (label '
                             f'{self._label[inside][0]})')
        t, colour, label = self._cast(T, K, height, width)
        if antialias:
            colour = quincunx_filter(self._cast, T, K, height, width, colour)
        img = np.clip(np.rint(colour), 0, 255).astype(np.uint8)
        return dict(img=img, depth=t.astype(np.float32), label=label)

    def _cast(self, T: np.ndarray, K: np.ndarray, height: int,
              width: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cast the rays of a pixel grid and shade the hits.

        Returns:
            tuple[np.ndarray]: ``t`` (H, W) float64 depth, colour (H, W, 3)
            float64 RGB and label (H, W) uint8 NYUv2-40 ids.
        """
        R, origin = T[:3, :3], T[:3, 3]
        d, inv = camera_rays(T, K, height, width)
        # The room: the ray leaves the box [room_min, room_max] through the
        # nearest of the three planes it moves towards. Leaving through the
        # max plane of axis a, the surface faces -a (code 2a + 1).
        t_best = np.full((height, width), np.inf)
        code = np.zeros((height, width), dtype=np.int8)
        for a in range(3):
            towards_max = d[a] > 0
            moving = np.abs(d[a]) > 1e-12
            plane = np.where(towards_max, self.room_max[a], self.room_min[a])
            with np.errstate(divide='ignore', invalid='ignore'):
                t = np.where(moving, (plane - origin[a]) / d[a], np.inf)
            closer = t < t_best
            t_best[closer] = t[closer]
            code[closer] = np.where(towards_max, 2 * a + 1, 2 * a)[closer]
        obj = np.full((height, width), _ROOM_ID, dtype=np.int32)

        for k, z_min, (v0, v1, u0,
                       u1) in visible_rects(self._corners, R, origin, K,
                                            height, width):
            sl = (slice(v0, v1), slice(u0, u1))
            if z_min > t_best[sl].max():
                continue  # entirely behind what is already drawn there
            t = intersect_box(origin, tuple(c[sl] for c in inv), self._bmin[k],
                              self._bmax[k])
            closer = t < t_best[sl]
            if not closer.any():
                continue
            t_best[sl][closer] = t[closer]
            obj[sl][closer] = k

        points = np.stack([origin[a] + t_best * d[a] for a in range(3)],
                          axis=-1).reshape(-1, 3)
        obj, code = obj.reshape(-1), code.reshape(-1)
        box = obj >= 0
        code[box] = box_face_code(points[box], self._bmin[obj[box]],
                                  self._bmax[obj[box]])
        colour, label = self._shade(points, code, obj)
        return (t_best, colour.reshape(height, width,
                                       3), label.reshape(height, width))

    # ------------------------------------------------------------------
    # Shading: colours depend on the world point and normal only.
    # ------------------------------------------------------------------
    def _shade(self, points: np.ndarray, code: np.ndarray,
               obj: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Colour (N, 3) float RGB and NYUv2-40 id (N,) of hit points."""
        normals = AXIS_NORMALS[code]
        axis = code // 2
        x, y, z = points[:, 0], points[:, 1], points[:, 2]
        su = np.where(axis == 0, z, x)
        sv = np.where(axis == 1, z, y)
        room = obj == _ROOM_ID
        k = np.maximum(obj, 0)
        # Room surfaces by normal: code 3 faces up (floor), 2 down (ceiling).
        room_material = np.select([code == 3, code == 2],
                                  [_M_FLOOR, _M_CEILING], _M_WALL)
        room_label = np.select([code == 3, code == 2], [FLOOR, CEILING], WALL)
        if self.num_objects:
            material = np.where(room, room_material, self._material[k])
            label = np.where(room, room_label, self._label[k])
        else:
            material, label = room_material, room_label
        shaders = {
            _M_FLOOR: self._tex_floor,
            _M_WALL: self._tex_wall,
            _M_CEILING: self._tex_ceiling,
            _M_WOOD: self._tex_wood,
            _M_FABRIC: self._tex_fabric,
            _M_PANELS: self._tex_panels,
            _M_BOOKSHELF: self._tex_bookshelf,
            _M_PICTURE: self._tex_picture,
            _M_WINDOW: self._tex_window,
            _M_DOOR: self._tex_door,
            _M_CARDBOARD: self._tex_cardboard,
        }
        room_base = {
            _M_FLOOR: self.floor_colour,
            _M_WALL: self.wall_colour,
            _M_CEILING: np.array([238.0, 237.0, 232.0])
        }
        colour = np.zeros_like(points)
        for m, shader in shaders.items():
            sel = material == m
            if not sel.any():
                continue
            n = int(sel.sum())
            if m in room_base:
                base = np.broadcast_to(room_base[m], (n, 3))
                params = np.zeros((n, 4))
                seed = np.full(n, self.texture_seed, dtype=np.uint32)
                lo = np.broadcast_to(self.room_min, (n, 3))
                hi = np.broadcast_to(self.room_max, (n, 3))
            else:
                ks = k[sel]
                base, params = self._colour[ks], self._params[ks]
                seed = self._obj_seed[ks] ^ np.uint32(self.texture_seed)
                lo, hi = self._bmin[ks], self._bmax[ks]
            colour[sel] = shader(
                _Hits(
                    p=points[sel],
                    su=su[sel],
                    sv=sv[sel],
                    axis=axis[sel],
                    code=code[sel],
                    base=base,
                    params=params,
                    seed=seed,
                    lo=lo,
                    hi=hi))
        # Lambertian key light, plus a lamp below the ceiling with a soft
        # inverse-square fall-off, plus ambient light.
        key = np.clip(normals @ self.light_dir, 0.0, None)
        to_lamp = self.lamp - points
        dist = np.linalg.norm(to_lamp, axis=1)
        cos = np.clip(np.sum(normals * to_lamp, axis=1) / dist, 0.0, None)
        lamp = (0.3 + 0.7 * cos) / (1.0 + (dist / 3.5)**2)
        shade = 0.5 + 0.22 * key + 0.4 * lamp
        return colour * shade[:, None], label.astype(np.uint8)

    @staticmethod
    def _lum(s: _Hits, tag: int, wavelengths, weights) -> np.ndarray:
        """Zero-mean noise over the surface coordinates of ``s``."""
        return fbm(s.su, s.sv, s.seed + np.uint32(tag), wavelengths, weights)

    def _tex_floor(self, s: _Hits) -> np.ndarray:
        """Wooden planks, tiles with grout, or carpet (by the scene)."""
        x, z = s.p[:, 0], s.p[:, 2]
        seed = np.uint32(self.texture_seed)
        n = fbm(x, z, seed + np.uint32(1), (1.5, 0.5, 0.15, 0.05),
                (10, 7, 5, 2))
        if self.floor_style == 0:
            pw, pl = self.plank_width, self.plank_length
            ix = np.floor(x / pw)
            zz = z + hash2(ix, 0, seed + np.uint32(2)) * pl
            iz = np.floor(zz / pl)
            lum = 36 * (hash2(ix, iz, seed + np.uint32(3)) - 0.5)
            # Grain: noise stretched along the planks (z).
            grain = fbm(x, z * 0.15, seed + np.uint32(4), (0.05, 0.02),
                        (12, 6))
            fx, fz = x / pw - ix, zz / pl - iz
            to_seam = np.minimum(
                np.minimum(fx, 1 - fx) * pw,
                np.minimum(fz, 1 - fz) * pl)
            seam = np.clip((0.006 - to_seam) / 0.004, 0.0, 1.0)
            return self.floor_colour * (1 +
                                        (lum + grain + n) / 160.0)[:, None] - (
                                            45 * seam)[:, None]
        if self.floor_style == 1:
            ts = self.tile_size
            tx, tz = x / ts, z / ts
            to_grout = np.minimum(
                np.abs(tx - np.round(tx)), np.abs(tz - np.round(tz))) * ts
            grout = np.clip((0.008 - to_grout) / 0.005, 0.0, 1.0)
            lum = 20 * (hash2(np.floor(tx), np.floor(tz), seed) - 0.5)
            return self.floor_colour + (lum + 0.7 * n - 55 * grout)[:, None]
        pile = fbm(x, z, seed + np.uint32(5), (0.12, 0.04, 0.015), (10, 8, 6))
        return self.floor_colour * (1 + (1.4 * n + pile) / 120.0)[:, None]

    def _tex_wall(self, s: _Hits) -> np.ndarray:
        """Paint with smudges; optional wallpaper stripes or a wainscot;
        a skirting board."""
        n = self._lum(s, 1, (2.0, 0.6, 0.2, 0.07, 0.025), (9, 7, 5, 3, 2))
        up = -s.p[:, 1]
        col = self.wall_colour * (1 + n / 150.0)[:, None]
        if self.wall_style == 1:
            phase = np.mod(s.su / self.stripe_period, 1.0)
            stripe = smooth_pulse(phase, 0.0, 0.5, 0.04)
            col = col * (1 - 0.1 * stripe)[:, None]
        elif self.wall_style == 2:
            lower = up < 0.9
            rail = smooth_pulse(up, 0.9, 0.95, 0.01)
            col = np.where(lower[:, None], col * 0.8, col)
            col = col * (1 - 0.25 * rail)[:, None]
        skirting = up < 0.09
        board = np.array([235.0, 232.0, 225.0]) + (0.4 * n)[:, None]
        col = np.where(skirting[:, None], board, col)
        edge = smooth_pulse(up, 0.085, 0.1, 0.005)
        return col * (1 - 0.3 * edge)[:, None]

    def _tex_ceiling(self, s: _Hits) -> np.ndarray:
        """White plaster or suspended tiles (studies)."""
        n = self._lum(s, 2, (1.5, 0.5, 0.15), (4, 3, 2))
        lum = n
        if self.ceiling_tiles:
            tx, tz = s.p[:, 0] / 0.6, s.p[:, 2] / 0.6
            to_grid = np.minimum(
                np.abs(tx - np.round(tx)), np.abs(tz - np.round(tz))) * 0.6
            lum = lum - 60 * np.clip((0.012 - to_grid) / 0.006, 0.0, 1.0)
            lum = lum + self._lum(s, 3, (0.05, 0.02), (6, 4))
        return s.base + lum[:, None]

    def _tex_wood(self, s: _Hits) -> np.ndarray:
        """Wood: grain stretched along the face's first coordinate."""
        grain = fbm(s.su * 0.2, s.sv, s.seed, (0.06, 0.02), (14, 7))
        n = self._lum(s, 4, (0.8, 0.25, 0.08), (8, 5, 3))
        return s.base * (1 + (grain + n) / 140.0)[:, None]

    def _tex_fabric(self, s: _Hits) -> np.ndarray:
        """Cloth: folds, fine weave noise and optional stripes."""
        n = self._lum(s, 5, (0.5, 0.15, 0.05, 0.02), (14, 9, 6, 3))
        col = s.base * (1 + n / 110.0)[:, None]
        period = s.params[:, 0]
        striped = period > 0
        if striped.any():
            phase = np.mod((s.su + s.sv)[striped] / period[striped], 1.0)
            w = smooth_pulse(phase, 0.0, 0.35, 0.05)[:, None]
            col[striped] = col[striped] * (1 - w) + \
                s.params[striped, 1:4] * (1 + n[striped, None] / 110.0) * w
        return col

    def _tex_panels(self, s: _Hits) -> np.ndarray:
        """Wood with door / drawer seams and knobs on the front face."""
        col = self._tex_wood(s)
        col_w, row_h, front = s.params[:, 0], s.params[:, 1], s.params[:, 2]
        h, up = s.face_coords()
        fh, fv = h / col_w, up / row_h
        ph = (fh - np.floor(fh)) * col_w  # metres inside the panel
        pv = (fv - np.floor(fv)) * row_h
        to_seam = np.minimum(
            np.minimum(ph, col_w - ph), np.minimum(pv, row_h - pv))
        seam = np.clip((0.008 - to_seam) / 0.004, 0.0, 1.0)
        knob_v = np.minimum(row_h - 0.08, 1.0)
        knob_h = np.where(col_w > 0.5, 0.5 * col_w, col_w - 0.07)
        to_knob = np.hypot(ph - knob_h, pv - knob_v)
        knob = np.clip((0.018 - to_knob) / 0.004, 0.0, 1.0)
        on = (s.code == front) & (up > 0.04)
        dark = on * np.maximum(0.45 * seam, 0.7 * knob)
        return col * (1 - dark)[:, None]

    def _tex_bookshelf(self, s: _Hits) -> np.ndarray:
        """Shelves of books with hashed colours and heights on the front."""
        col = self._tex_wood(s)
        front, spacing = s.params[:, 0], s.params[:, 1]
        h, up = s.face_coords()
        width, height = s.face_size()
        row = np.floor(up / spacing)
        pv = up - row * spacing
        book_w = 0.025 + 0.025 * hash2(row, 7, s.seed)
        book = np.floor(h / book_w)
        book_h = spacing * (0.55 + 0.35 * hash2(book, row, s.seed))
        rgb = np.stack(
            [hash2(book, row, s.seed + np.uint32(c + 1)) for c in range(3)],
            axis=1)
        books = 40 + 170 * rgb
        books = books * (
            1 - 0.3 * smooth_pulse(h - book * book_w, 0.0, 0.003, 0.002))[:,
                                                                          None]
        back = np.array([55.0, 45.0, 40.0])
        inner = (pv > 0.025) & (h > 0.025) & (h < width - 0.025) & (
            up < height - 0.03)
        content = np.where((pv < book_h)[:, None], books, back)
        on = (s.code == front) & inner
        return np.where(on[:, None], content, col)

    def _tex_picture(self, s: _Hits) -> np.ndarray:
        """A frame around abstract colourful art."""
        front, frame_w = s.params[:, 0], s.params[:, 1]
        h, up = s.face_coords()
        width, height = s.face_size()
        n = self._lum(s, 6, (0.3, 0.1, 0.03), (8, 5, 3))
        frame = s.base + n[:, None]
        art = np.stack([
            128 + 200 * fbm(h, up, s.seed + np.uint32(10 + c),
                            (0.25, 0.09, 0.03), (0.5, 0.3, 0.15))
            for c in range(3)
        ],
                       axis=1)
        inner = (h > frame_w) & (h < width - frame_w) & (up > frame_w) & (
            up < height - frame_w) & (
                s.code == front)
        return np.where(inner[:, None], art, frame)

    def _tex_window(self, s: _Hits) -> np.ndarray:
        """White frame and a cross mullion around a bright sky view."""
        front = s.params[:, 0]
        h, up = s.face_coords()
        width, height = s.face_size()
        n = self._lum(s, 7, (0.3, 0.08), (4, 2))
        frame = s.base + n[:, None]
        rel = up / height
        sky = np.array([200.0, 220.0, 240.0]) * (1 - 0.25 * rel)[:, None] + \
            np.array([50.0, 35.0, 15.0]) * rel[:, None]
        cloud = np.clip(
            fbm(h, up, s.seed + np.uint32(20), (0.4, 0.15, 0.05),
                (0.6, 0.3, 0.15)) * 1.5, 0.0, 1.0)[:, None]
        glass = sky * (1 - cloud) + np.array([245.0, 245.0, 248.0]) * cloud
        fw, mw = 0.05, 0.02
        inner = (h > fw) & (h < width - fw) & (up > fw) & (up < height - fw)
        mullion = (np.abs(h - width / 2) < mw) | (np.abs(up - height / 2) < mw)
        on = (s.code == front) & inner & ~mullion
        return np.where(on[:, None], glass, frame)

    def _tex_door(self, s: _Hits) -> np.ndarray:
        """Wooden or painted door with two recessed panels and a handle."""
        col = self._tex_wood(s)
        front, handle_left = s.params[:, 0], s.params[:, 1]
        h, up = s.face_coords()
        width, height = s.face_size()
        mid = 0.5 * height
        in_h = (h > 0.12) & (h < width - 0.12)
        lower = in_h & (up > 0.15) & (up < mid - 0.08)
        upper = in_h & (up > mid + 0.08) & (up < height - 0.15)
        panel = lower | upper
        # Distance to the panels' outlines (metres).
        to_side = np.minimum(np.abs(h - 0.12), np.abs(h - (width - 0.12)))
        to_rail = np.min(
            np.abs(up[:, None] - np.stack([
                np.full_like(mid, 0.15), mid - 0.08, mid + 0.08, height - 0.15
            ],
                                          axis=1)),
            axis=1)
        outline = ((to_side < 0.012) & (up > 0.15) & (up < height - 0.15)) \
            | ((to_rail < 0.012) & in_h)
        hx = np.where(handle_left > 0.5, 0.08, width - 0.08)
        handle = np.hypot(h - hx, up - 1.0) < 0.03
        dark = np.where(handle, 0.75,
                        np.where(outline, 0.35, np.where(panel, 0.08, 0.0)))
        dark = dark * (s.code == front)
        return col * (1 - dark)[:, None]

    def _tex_cardboard(self, s: _Hits) -> np.ndarray:
        """Corrugated board with a strip of tape across the top."""
        n = self._lum(s, 8, (0.3, 0.1, 0.03), (10, 6, 4))
        col = s.base + n[:, None]
        xm = 0.5 * (s.lo[:, 0] + s.hi[:, 0])
        tape = (s.axis == 1) & (np.abs(s.p[:, 0] - xm) < 0.025)
        tape_col = np.array([205.0, 180.0, 130.0]) + (0.5 * n)[:, None]
        return np.where(tape[:, None], tape_col, col)
