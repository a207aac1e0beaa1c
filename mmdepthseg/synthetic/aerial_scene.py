# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Procedural top-down city tiles in the style of ISPRS Potsdam / Vaihingen.

An :class:`AerialScene` is a square piece of a town seen by a nadir
colour-infrared camera (a true orthophoto): a road grid with sidewalks,
lane markings and parked cars; blocks cut into parcels holding houses
(flat or gabled roofs) with yards and trees, parks with tree clusters,
parking lots and construction sites with bare soil and containers. It
renders, at any ground sample distance,

- ``label``: the 6 ISPRS classes (:data:`IMPERVIOUS` .. :data:`CLUTTER`,
  the order of :data:`ISPRS_CLASS_NAMES`) of the topmost surface;
- ``ndsm``: the height of that surface above the ground (metres; ground
  = 0, a flat roof = its height, a gabled roof rises linearly from the
  eaves to the ridge, tree crowns are domes between crown base and top);
- ``img``: IRRG reflectance (channels infrared, red, green) with
  vegetation bright in the infrared channel, world-anchored textures,
  sun shading and cast shadows computed from the height map, and the
  colour balance of the city's style (:data:`CITY_STYLES`).

The two styles differ the way the real cities do: Potsdam is shot at
5 cm with large blocks of flat- and gable-roofed buildings, Vaihingen at
9 cm with small detached gable-roofed houses, more vegetation, another
sun position and a warmer, hazier colour balance. Rendering is
vectorised over pixels (loops run over objects and shadow steps only)
and deterministic per seed.

Coordinates: x to the right (east, image columns), y down (south, image
rows), metres from the tile's top-left corner; pixel ``(r, c)`` at GSD
``g`` samples the world point ``((c + 0.5) g, (r + 0.5) g)``.
"""
from typing import Dict, List, NamedTuple, Optional, Tuple

import cv2
import numpy as np

from .raycast import fbm, value_noise

#: Class indices of :attr:`AerialScene.render`'s ``label`` (the ISPRS
#: order, as MMSegmentation's ``PotsdamDataset``).
IMPERVIOUS, BUILDING, LOW_VEGETATION, TREE, CAR, CLUTTER = range(6)
ISPRS_CLASS_NAMES = ('impervious_surface', 'building', 'low_vegetation',
                     'tree', 'car', 'clutter')
#: Colour (RGB) of each class in the ISPRS label tiles.
ISPRS_LABEL_COLOURS = ((255, 255, 255), (0, 0, 255), (0, 255, 255),
                       (0, 255, 0), (255, 255, 0), (255, 0, 0))

Albedo = Tuple[float, float, float]  # (IR, R, G) reflectance in [0, 1]


class Box(NamedTuple):
    """An oriented box standing on the ground (building, car, container).

    The top is flat at ``height`` when ``ridge == height``; otherwise it
    is a gabled roof whose ridge runs along the length axis at ``ridge``
    and whose eaves (the long sides) are at ``height``.
    """
    cx: float
    cy: float
    half_length: float
    half_width: float
    angle: float  # radians, length axis from +x towards +y
    height: float
    ridge: float
    label: int
    albedo: Albedo


class Crown(NamedTuple):
    """A tree crown: a dome of radius ``radius`` from ``base`` (its rim)
    up to ``top`` (its centre), with a noisy outline."""
    cx: float
    cy: float
    radius: float
    top: float
    base: float
    albedo: Albedo


class GroundPatch(NamedTuple):
    """A flat (height 0) axis-aligned rectangle of ground cover."""
    x0: float
    y0: float
    x1: float
    y1: float
    label: int
    albedo: Albedo
    texture: float  # relative amplitude of the world-anchored texture


class AerialStyle(NamedTuple):
    """What distinguishes one city's tiles (sizes in metres)."""
    gsd: float
    block_size: Tuple[float, float]
    road_width: Tuple[float, float]
    sidewalk_width: float
    parcel_size: Tuple[float, float]
    parcel_weights: Tuple[float, float, float, float]  # house/park/lot/site
    building_fill: Tuple[float, float]
    flat_height: Tuple[float, float]
    eave_height: Tuple[float, float]
    ridge_rise: Tuple[float, float]
    gable_fraction: float
    crown_radius: Tuple[float, float]
    tree_height: Tuple[float, float]
    tree_density: float  # crowns per 100 m2 of yard / park
    street_tree_gap: float
    car_gap: float
    paved_yard: float
    lawn: Albedo
    roofs: Tuple[Albedo, ...]
    gain: Albedo
    bias: Albedo
    gamma: float
    sun_azimuth: float  # degrees clockwise from north (-y)
    sun_elevation: float  # degrees
    noise: float


#: The two cities of SemiMTL's remote-sensing setting.
CITY_STYLES: Dict[str, AerialStyle] = dict(
    potsdam=AerialStyle(
        gsd=0.05,
        block_size=(45.0, 70.0),
        road_width=(7.0, 10.0),
        sidewalk_width=2.5,
        parcel_size=(16.0, 30.0),
        parcel_weights=(0.7, 0.12, 0.1, 0.08),
        building_fill=(0.65, 0.9),
        flat_height=(9.0, 20.0),
        eave_height=(8.0, 14.0),
        ridge_rise=(3.0, 6.0),
        gable_fraction=0.4,
        crown_radius=(2.0, 4.5),
        tree_height=(7.0, 16.0),
        tree_density=0.5,
        street_tree_gap=9.0,
        car_gap=7.0,
        paved_yard=0.3,
        lawn=(0.70, 0.17, 0.31),
        roofs=((0.60, 0.55, 0.30), (0.42, 0.43, 0.44), (0.22, 0.23, 0.24),
               (0.56, 0.53, 0.50), (0.45, 0.40, 0.33)),
        gain=(1.0, 1.0, 1.0),
        bias=(0.0, 0.0, 0.0),
        gamma=1.0,
        sun_azimuth=150.0,
        sun_elevation=50.0,
        noise=0.012),
    vaihingen=AerialStyle(
        gsd=0.09,
        block_size=(36.0, 55.0),
        road_width=(5.0, 7.5),
        sidewalk_width=1.5,
        parcel_size=(11.0, 18.0),
        parcel_weights=(0.62, 0.25, 0.06, 0.07),
        building_fill=(0.5, 0.75),
        flat_height=(4.0, 8.0),
        eave_height=(3.5, 6.5),
        ridge_rise=(2.0, 4.0),
        gable_fraction=0.8,
        crown_radius=(1.5, 5.0),
        tree_height=(5.0, 15.0),
        tree_density=1.0,
        street_tree_gap=14.0,
        car_gap=11.0,
        paved_yard=0.2,
        lawn=(0.78, 0.20, 0.29),
        roofs=((0.66, 0.60, 0.33), (0.60, 0.52, 0.32), (0.40, 0.40, 0.40),
               (0.55, 0.55, 0.50)),
        gain=(1.12, 0.88, 0.85),
        bias=(0.05, 0.03, 0.06),
        gamma=0.85,
        sun_azimuth=200.0,
        sun_elevation=38.0,
        noise=0.02),
)

# Fixed albedos (IR, R, G) of the ground covers and objects. Clay-tile roofs
# reflect about as much infrared as red (orange in IRRG false colour),
# vegetation much more (red).
ASPHALT = (0.27, 0.26, 0.27)
SIDEWALK = (0.45, 0.44, 0.44)
PAVING = (0.50, 0.48, 0.45)
MARKING = (0.85, 0.85, 0.85)
SOIL = (0.42, 0.40, 0.32)
DRY_GRASS = (0.58, 0.30, 0.33)
TREE_ALBEDO = (0.60, 0.11, 0.22)
#: True-colour car paints (R, G, B); the infrared reflectance of paint
#: roughly follows its brightness.
CAR_PAINTS = ((0.85, 0.85, 0.85), (0.1, 0.1, 0.1), (0.45, 0.46, 0.48),
              (0.6, 0.1, 0.1), (0.1, 0.2, 0.5), (0.7, 0.7, 0.72), (0.2, 0.35,
                                                                   0.25))
CONTAINER_PAINTS = ((0.5, 0.25, 0.2), (0.2, 0.3, 0.5), (0.55, 0.5, 0.2),
                    (0.4, 0.4, 0.42))
#: Texture amplitude per class (relative albedo variation).
TEXTURE = {
    IMPERVIOUS: 0.08,
    BUILDING: 0.06,
    LOW_VEGETATION: 0.25,
    TREE: 0.35,
    CAR: 0.03,
    CLUTTER: 0.3
}
CAR_SIZE = (4.5, 1.85, 1.5)  # length, width, height (metres)
AMBIENT = 0.35  # fraction of light that reaches shadows


def _paint_to_irrg(rgb: Tuple[float, float, float]) -> Albedo:
    r, g, b = rgb
    return (0.15 + 0.6 * (r + g + b) / 3, r, g)


def labels_to_colours(label: np.ndarray) -> np.ndarray:
    """Class indices -> ISPRS label colours.

    Args:
        label (np.ndarray): (H, W) uint8 class indices 0..5 (others black).

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB.
    """
    lut = np.zeros((256, 3), dtype=np.uint8)
    lut[:len(ISPRS_LABEL_COLOURS)] = ISPRS_LABEL_COLOURS
    return lut[label]


def _uniform(rng: np.random.Generator, bounds: Tuple[float, float]) -> float:
    return float(rng.uniform(bounds[0], bounds[1]))


def _jitter(rng: np.random.Generator,
            albedo: Albedo,
            amount: float = 0.05) -> Albedo:
    """An albedo with a little per-object variation."""
    scale = 1.0 + rng.uniform(-amount, amount, 3)
    return tuple(float(np.clip(a * s, 0, 1)) for a, s in zip(albedo, scale))


class AerialScene:
    """A procedural ISPRS-like city tile (see the module docstring).

    Args:
        seed (int): Seed of the layout and textures. Defaults to 0.
        size (tuple[float, float]): (height, width) of the tile, metres.
            Defaults to (40, 40).
        city (str): A key of :data:`CITY_STYLES`. Defaults to 'potsdam'.
        style (AerialStyle, optional): Overrides the city's style.

    Attributes:
        ground (list[GroundPatch]): Ground covers, painted in order over
            the style's lawn.
        boxes (list[Box]): Buildings (label ``BUILDING``), cars and
            clutter boxes.
        crowns (list[Crown]): Tree crowns.
    """

    def __init__(self,
                 seed: int = 0,
                 size: Tuple[float, float] = (40.0, 40.0),
                 city: str = 'potsdam',
                 style: Optional[AerialStyle] = None) -> None:
        if style is None:
            if city not in CITY_STYLES:
                raise KeyError(f'unknown city style {city!r}; expected one '
                               f'of {sorted(CITY_STYLES)}')
            style = CITY_STYLES[city]
        if min(size) <= 0:
            raise ValueError(f'size must be > 0 metres, got {size}')
        self.seed = int(seed)
        self.city = city
        self.style = style
        self.size = (float(size[0]), float(size[1]))
        self.ground: List[GroundPatch] = []
        self.boxes: List[Box] = []
        self.crowns: List[Crown] = []
        self._layout(np.random.default_rng(self.seed))

    # -----------------------------------------------------------------
    # Layout
    # -----------------------------------------------------------------
    def _road_lines(self, rng: np.random.Generator,
                    extent: float) -> List[Tuple[float, float]]:
        """(centre, width) of parallel roads crossing an axis of length
        ``extent`` (the grid starts before 0 and ends after ``extent``)."""
        st = self.style
        pos = -rng.uniform(0.2, 0.8) * st.block_size[1]
        lines = []
        while pos < extent + st.block_size[1]:
            lines.append((pos, _uniform(rng, st.road_width)))
            pos += _uniform(rng, st.block_size)
        return lines

    def _layout(self, rng: np.random.Generator) -> None:
        st = self.style
        h, w = self.size
        cols = self._road_lines(rng, w)  # vertical roads: x = const
        rows = self._road_lines(rng, h)  # horizontal roads: y = const
        lo_x, hi_x = cols[0][0], cols[-1][0]
        lo_y, hi_y = rows[0][0], rows[-1][0]
        # Blocks between the roads: parcels first, roads painted on top.
        for (xa, wa), (xb, wb) in zip(cols[:-1], cols[1:]):
            for (ya, ha), (yb, hb) in zip(rows[:-1], rows[1:]):
                x0 = xa + wa / 2 + st.sidewalk_width
                x1 = xb - wb / 2 - st.sidewalk_width
                y0 = ya + ha / 2 + st.sidewalk_width
                y1 = yb - hb / 2 - st.sidewalk_width
                if x1 - x0 > 4 and y1 - y0 > 4 and x1 > 0 and y1 > 0 \
                        and x0 < w and y0 < h:
                    self._block(rng, x0, y0, x1, y1)
        for axis, lines, lo, hi, crossings in ((0, cols, lo_y, hi_y, rows),
                                               (1, rows, lo_x, hi_x, cols)):
            for centre, width in lines:
                self._road(rng, axis, centre, width, lo, hi, crossings)

    def _rect(self, axis: int, c0: float, c1: float, a0: float,
              a1: float) -> Tuple[float, float, float, float]:
        """(x0, y0, x1, y1) of a rectangle given across (``c``) and along
        (``a``) a road; ``axis`` 0 = vertical road (across = x)."""
        return (c0, a0, c1, a1) if axis == 0 else (a0, c0, a1, c1)

    def _road(self, rng: np.random.Generator, axis: int, centre: float,
              width: float, lo: float, hi: float,
              crossings: List[Tuple[float, float]]) -> None:
        """Paint one road (sidewalks, asphalt, centre line) and place its
        parked and driving cars and street trees; ``crossings`` are the
        (centre, width) of the perpendicular roads (kept free)."""
        st = self.style
        half = width / 2
        sw = st.sidewalk_width

        def free(a: float) -> bool:
            return all(abs(a - c) > cw / 2 + sw + 3.0 for c, cw in crossings)

        for side in (-1, 1):  # sidewalks
            c0, c1 = sorted(
                (centre + side * half, centre + side * (half + sw)))
            self.ground.append(
                GroundPatch(*self._rect(axis, c0, c1, lo, hi), IMPERVIOUS,
                            _jitter(rng, SIDEWALK), TEXTURE[IMPERVIOUS]))
        self.ground.append(
            GroundPatch(
                *self._rect(axis, centre - half, centre + half, lo, hi),
                IMPERVIOUS, _jitter(rng, ASPHALT), TEXTURE[IMPERVIOUS]))
        # Dashed centre line.
        for a in np.arange(lo, hi, 6.0):
            self.ground.append(
                GroundPatch(
                    *self._rect(axis, centre - 0.07, centre + 0.07, a,
                                a + 3.0), IMPERVIOUS, MARKING, 0.02))
        angle = np.pi / 2 if axis == 0 else 0.0
        length = CAR_SIZE[0]
        # Parked cars along both kerbs, a few driving in the lanes.
        for side in (-1, 1):
            a = lo + rng.uniform(0, st.car_gap)
            while a < hi:
                if rng.random() < 0.6 and free(a):
                    self._car(rng,
                              *self._xy(axis, centre + side * (half - 1.2), a),
                              angle)
                a += length + rng.exponential(st.car_gap)
        for _ in range(rng.poisson(0.02 * (hi - lo))):
            lane = centre + rng.choice((-1, 1)) * width / 4
            a = rng.uniform(lo, hi)
            if free(a):
                self._car(rng, *self._xy(axis, lane, a), angle)
        # Street trees on the sidewalks.
        for side in (-1, 1):
            a = lo + rng.uniform(0, st.street_tree_gap)
            while a < hi:
                if rng.random() < 0.5 and free(a):
                    self._tree(
                        rng, *self._xy(axis, centre + side * (half + sw / 2),
                                       a))
                a += st.street_tree_gap * rng.uniform(0.7, 1.3)

    @staticmethod
    def _xy(axis: int, across: float, along: float) -> Tuple[float, float]:
        return (across, along) if axis == 0 else (along, across)

    def _car(self, rng: np.random.Generator, cx: float, cy: float,
             angle: float) -> None:
        length, width, height = CAR_SIZE
        paint = CAR_PAINTS[rng.integers(len(CAR_PAINTS))]
        length *= rng.uniform(0.93, 1.07)
        height *= rng.uniform(0.95, 1.05)
        self.boxes.append(
            Box(cx, cy, length / 2, width / 2, angle, height, height, CAR,
                _jitter(rng, _paint_to_irrg(paint))))

    def _tree(self,
              rng: np.random.Generator,
              cx: float,
              cy: float,
              scale: float = 1.0) -> None:
        st = self.style
        top = _uniform(rng, st.tree_height) * scale
        radius = min(_uniform(rng, st.crown_radius) * scale, 0.45 * top)
        base = top * rng.uniform(0.35, 0.6)
        self.crowns.append(
            Crown(cx, cy, radius, top, base, _jitter(rng, TREE_ALBEDO, 0.1)))

    def _block(self, rng: np.random.Generator, x0: float, y0: float, x1: float,
               y1: float) -> None:
        parcels: List[Tuple[float, float, float, float]] = []
        max_side = _uniform(rng, self.style.parcel_size)
        self._split(rng, (x0, y0, x1, y1), max_side, parcels)
        weights = np.asarray(self.style.parcel_weights, dtype=np.float64)
        builders = (self._house, self._park, self._parking, self._site)
        for rect in parcels:
            kind = rng.choice(len(builders), p=weights / weights.sum())
            builders[kind](rng, *rect)

    def _split(self, rng: np.random.Generator, rect: Tuple[float, ...],
               max_side: float, out: list) -> None:
        x0, y0, x1, y1 = rect
        w, h = x1 - x0, y1 - y0
        if max(w, h) <= max_side:
            out.append(rect)
            return
        t = rng.uniform(0.35, 0.65)
        if w >= h:
            cut = x0 + t * w
            halves = ((x0, y0, cut, y1), (cut, y0, x1, y1))
        else:
            cut = y0 + t * h
            halves = ((x0, y0, x1, cut), (x0, cut, x1, y1))
        for half in halves:
            self._split(rng, half, max_side, out)

    def _free_spot(self, rng: np.random.Generator, rect: Tuple[float, ...],
                   avoid: Optional[Box],
                   margin: float) -> Optional[Tuple[float, float]]:
        """A random point of ``rect`` at least ``margin`` outside the
        (axis-aligned) box ``avoid``; None after a few failed tries."""
        x0, y0, x1, y1 = rect
        for _ in range(8):
            x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
            if avoid is None:
                return x, y
            hx, hy = ((avoid.half_length,
                       avoid.half_width) if abs(np.sin(avoid.angle)) < 0.5 else
                      (avoid.half_width, avoid.half_length))
            if abs(x - avoid.cx) > hx + margin or \
                    abs(y - avoid.cy) > hy + margin:
                return x, y
        return None

    def _house(self, rng: np.random.Generator, x0: float, y0: float, x1: float,
               y1: float) -> None:
        st = self.style
        w, h = x1 - x0, y1 - y0
        if rng.random() < st.paved_yard:
            self.ground.append(
                GroundPatch(x0 + 0.3, y0 + 0.3, x1 - 0.3, y1 - 0.3, IMPERVIOUS,
                            _jitter(rng, PAVING), TEXTURE[IMPERVIOUS]))
        bw = max(3.0, w * _uniform(rng, st.building_fill))
        bh = max(3.0, h * _uniform(rng, st.building_fill))
        bw, bh = min(bw, w - 1.0), min(bh, h - 1.0)
        if bw < 3.0 or bh < 3.0:
            self._park(rng, x0, y0, x1, y1)
            return
        cx = rng.uniform(x0 + 0.5 + bw / 2, x1 - 0.5 - bw / 2)
        cy = rng.uniform(y0 + 0.5 + bh / 2, y1 - 0.5 - bh / 2)
        half_l, half_w = max(bw, bh) / 2, min(bw, bh) / 2
        angle = 0.0 if bw >= bh else np.pi / 2
        roof = st.roofs[rng.integers(len(st.roofs))]
        if rng.random() < st.gable_fraction:
            eave = _uniform(rng, st.eave_height)
            ridge = eave + min(_uniform(rng, st.ridge_rise), half_w)
        else:
            eave = ridge = _uniform(rng, st.flat_height)
        house = Box(cx, cy, half_l, half_w, angle, eave, ridge, BUILDING,
                    _jitter(rng, roof))
        self.boxes.append(house)
        rect = (x0, y0, x1, y1)
        for _ in range(rng.poisson(st.tree_density * w * h / 200)):
            spot = self._free_spot(rng, rect, house, 1.0)
            if spot is not None:
                self._tree(rng, *spot, scale=0.8)
        if rng.random() < 0.4:
            spot = self._free_spot(rng, rect, house, 2.5)
            if spot is not None:
                self._car(rng, *spot, angle=rng.choice((0.0, np.pi / 2)))
        if rng.random() < 0.3:
            spot = self._free_spot(rng, rect, house, 1.5)
            if spot is not None:
                self._clutter_box(rng, *spot, small=True)

    def _park(self, rng: np.random.Generator, x0: float, y0: float, x1: float,
              y1: float) -> None:
        st = self.style
        w, h = x1 - x0, y1 - y0
        if rng.random() < 0.5:  # dry meadow
            self.ground.append(
                GroundPatch(x0, y0, x1, y1, LOW_VEGETATION,
                            _jitter(rng, DRY_GRASS), TEXTURE[LOW_VEGETATION]))
        if rng.random() < 0.6:  # footpath
            if w >= h:
                y = rng.uniform(y0, y1)
                self.ground.append(
                    GroundPatch(x0, y - 0.9, x1, y + 0.9, IMPERVIOUS,
                                _jitter(rng, PAVING), TEXTURE[IMPERVIOUS]))
            else:
                x = rng.uniform(x0, x1)
                self.ground.append(
                    GroundPatch(x - 0.9, y0, x + 0.9, y1, IMPERVIOUS,
                                _jitter(rng, PAVING), TEXTURE[IMPERVIOUS]))
        for _ in range(rng.integers(1, 4)):  # clusters: blobs of crowns
            cx, cy = rng.uniform(x0, x1), rng.uniform(y0, y1)
            for _ in range(rng.poisson(st.tree_density * 4) + 1):
                self._tree(rng, cx + rng.normal(0, 2.5),
                           cy + rng.normal(0, 2.5))
        for _ in range(rng.poisson(st.tree_density * w * h / 300)):
            self._tree(rng, rng.uniform(x0, x1), rng.uniform(y0, y1))

    def _parking(self, rng: np.random.Generator, x0: float, y0: float,
                 x1: float, y1: float) -> None:
        self.ground.append(
            GroundPatch(x0 + 0.3, y0 + 0.3, x1 - 0.3, y1 - 0.3, IMPERVIOUS,
                        _jitter(rng, ASPHALT), TEXTURE[IMPERVIOUS]))
        length = CAR_SIZE[0]
        # Rows of bays: cars side by side, 2.6 m apart, noses to the row.
        vertical = (x1 - x0) >= (y1 - y0)  # bays along x, cars along y
        across = np.arange(x0 + 1.8, x1 - 1.3, 2.6) if vertical else \
            np.arange(y0 + 1.8, y1 - 1.3, 2.6)
        span = (y0, y1) if vertical else (x0, x1)
        rows = np.arange(span[0] + 0.5 + length / 2,
                         span[1] - 0.5 - length / 2, 2 * length + 6.0)
        for r in rows:
            for a in across:
                if rng.random() < 0.7:
                    cx, cy = (a, r) if vertical else (r, a)
                    self._car(rng, cx, cy, np.pi / 2 if vertical else 0.0)

    def _site(self, rng: np.random.Generator, x0: float, y0: float, x1: float,
              y1: float) -> None:
        self.ground.append(
            GroundPatch(x0 + 0.5, y0 + 0.5, x1 - 0.5, y1 - 0.5, CLUTTER,
                        _jitter(rng, SOIL, 0.1), TEXTURE[CLUTTER]))
        for _ in range(rng.integers(1, 5)):
            self._clutter_box(rng, rng.uniform(x0 + 2, x1 - 2),
                              rng.uniform(y0 + 2, y1 - 2))

    def _clutter_box(self,
                     rng: np.random.Generator,
                     cx: float,
                     cy: float,
                     small: bool = False) -> None:
        if small:  # bins, sheds
            length, width = rng.uniform(1.0, 3.0), rng.uniform(1.0, 2.0)
            height = rng.uniform(1.0, 2.3)
        else:  # containers, piles
            length, width = rng.uniform(4.0, 6.1), rng.uniform(2.0, 2.5)
            height = rng.uniform(1.0, 2.6)
        paint = CONTAINER_PAINTS[rng.integers(len(CONTAINER_PAINTS))]
        self.boxes.append(
            Box(cx, cy, length / 2, width / 2, rng.choice((0.0, np.pi / 2)),
                height, height, CLUTTER, _jitter(rng, _paint_to_irrg(paint))))

    # -----------------------------------------------------------------
    # Rendering
    # -----------------------------------------------------------------
    def grid_size(self, gsd: Optional[float] = None) -> Tuple[int, int]:
        """(H, W) of the tile rendered at ``gsd`` (default: the style's):
        ``round(size / gsd)``."""
        gsd = float(gsd or self.style.gsd)
        return (max(1, int(round(self.size[0] / gsd))),
                max(1, int(round(self.size[1] / gsd))))

    @staticmethod
    def _window(x0: float, y0: float, x1: float, y1: float, gsd: float,
                height: int, width: int) -> Tuple[int, int, int, int]:
        """Pixel rows [r0, r1) and columns [c0, c1) whose centres lie in
        ``[x0, x1) x [y0, y1)``."""
        c0 = int(np.clip(np.ceil(x0 / gsd - 0.5), 0, width))
        c1 = int(np.clip(np.ceil(x1 / gsd - 0.5), 0, width))
        r0 = int(np.clip(np.ceil(y0 / gsd - 0.5), 0, height))
        r1 = int(np.clip(np.ceil(y1 / gsd - 0.5), 0, height))
        return r0, r1, c0, c1

    def box_height(self, box: Box, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Top height of ``box`` at world points, NaN outside it.

        Args:
            box (Box): The box.
            x (np.ndarray): World x (metres), broadcastable with ``y``.
            y (np.ndarray): World y (metres).

        Returns:
            np.ndarray: Heights (metres).
        """
        cos, sin = np.cos(box.angle), np.sin(box.angle)
        dx, dy = x - box.cx, y - box.cy
        u = dx * cos + dy * sin  # along the length (ridge)
        v = -dx * sin + dy * cos  # across
        inside = (np.abs(u) <= box.half_length) & (np.abs(v) <= box.half_width)
        top = box.height + (box.ridge -
                            box.height) * (1.0 - np.abs(v) / box.half_width)
        return np.where(inside, top, np.nan)

    def crown_height(self, crown: Crown, x: np.ndarray,
                     y: np.ndarray) -> np.ndarray:
        """Height of a tree crown at world points, NaN outside it.

        A dome ``base + (top - base) * sqrt(1 - (r / R')^2)`` whose outline
        radius ``R'`` varies between 0.8 and 1.15 times the crown's radius
        with world-anchored noise (blob-shaped crowns).
        """
        x, y = np.broadcast_arrays(x, y)
        dx, dy = x - crown.cx, y - crown.cy
        r = np.sqrt(dx * dx + dy * dy)
        wobble = value_noise(x / 1.2 + 17.3, y / 1.2 - 5.1,
                             (self.seed * 7 + 3) & 0xFFFFFFFF)
        radius = crown.radius * (0.8 + 0.35 * wobble)
        inside = r < radius
        dome = np.sqrt(np.clip(1.0 - (r / radius)**2, 0.0, 1.0))
        return np.where(inside, crown.base + (crown.top - crown.base) * dome,
                        np.nan)

    def render(self, gsd: Optional[float] = None) -> Dict[str, np.ndarray]:
        """Render the tile as a true orthophoto at ``gsd``.

        Args:
            gsd (float, optional): Metres per pixel. Defaults to the
                style's (Potsdam 0.05, Vaihingen 0.09).

        Returns:
            dict: ``img`` (H, W, 3) uint8 with channels (IR, R, G),
            ``label`` (H, W) uint8 class indices 0..5, ``ndsm`` (H, W)
            float32 height above ground (metres) and ``gsd``.
        """
        gsd = float(gsd or self.style.gsd)
        height, width = self.grid_size(gsd)
        xs = (np.arange(width) + 0.5) * gsd
        ys = (np.arange(height) + 0.5) * gsd
        label = np.full((height, width), LOW_VEGETATION, dtype=np.uint8)
        ndsm = np.zeros((height, width), dtype=np.float64)
        albedo = np.empty((height, width, 3), dtype=np.float64)
        albedo[:] = self.style.lawn
        texture = np.full((height, width), TEXTURE[LOW_VEGETATION])

        for g in self.ground:
            r0, r1, c0, c1 = self._window(g.x0, g.y0, g.x1, g.y1, gsd, height,
                                          width)
            label[r0:r1, c0:c1] = g.label
            albedo[r0:r1, c0:c1] = g.albedo
            texture[r0:r1, c0:c1] = g.texture

        objects = [(b, b.label, max(b.height, b.ridge),
                    np.hypot(b.half_length, b.half_width), self.box_height)
                   for b in self.boxes]
        objects += [(c, TREE, c.top, 1.15 * c.radius, self.crown_height)
                    for c in self.crowns]
        for obj, cls, _, reach, height_fn in objects:
            r0, r1, c0, c1 = self._window(obj.cx - reach, obj.cy - reach,
                                          obj.cx + reach, obj.cy + reach, gsd,
                                          height, width)
            if r1 <= r0 or c1 <= c0:
                continue
            top = height_fn(obj, xs[None, c0:c1], ys[r0:r1, None])
            win = ndsm[r0:r1, c0:c1]
            upd = np.isfinite(top) & (top > win)
            win[upd] = top[upd]
            label[r0:r1, c0:c1][upd] = cls
            albedo[r0:r1, c0:c1][upd] = obj.albedo
            texture[r0:r1, c0:c1][upd] = TEXTURE[cls]

        img = self._shade(albedo, texture, ndsm, xs, ys, gsd)
        return dict(
            img=img, label=label, ndsm=ndsm.astype(np.float32), gsd=gsd)

    def _shadow(self, ndsm: np.ndarray, gsd: float) -> np.ndarray:
        """Cast-shadow fraction (H, W) in [0, 1] of the height map.

        Marched on a grid of about 0.25 m cells: a cell is shadowed when
        some cell towards the sun rises above the sun ray through it.
        Loops over march steps; each step is one array comparison.
        """
        st = self.style
        step = max(1, int(round(0.25 / gsd)))
        coarse = ndsm[::step, ::step]
        cell = step * gsd
        az, el = np.deg2rad(st.sun_azimuth), np.deg2rad(st.sun_elevation)
        to_sun = np.array([np.sin(az), -np.cos(az)])  # (x, y), y down
        rise = np.tan(el) * cell  # sun ray height gain per cell
        n_steps = int(np.ceil(coarse.max() / rise)) if coarse.max() > 0 \
            else 0
        hc, wc = coarse.shape
        coarse = coarse.astype(np.float32)
        shadow = np.zeros(coarse.shape, dtype=bool)
        for k in range(1, n_steps + 1):
            ox, oy = k * to_sun  # cells towards the sun (sub-cell)
            if abs(ox) >= wc or abs(oy) >= hc:
                break
            # occluder[r, c] = coarse[r + oy, c + ox], bilinear, 0 outside
            occluder = cv2.warpAffine(
                coarse,
                np.float32([[1, 0, ox], [0, 1, oy]]), (wc, hc),
                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=0)
            shadow |= occluder > coarse + k * rise + 0.05
        full = cv2.resize(
            shadow.astype(np.float32), (ndsm.shape[1], ndsm.shape[0]),
            interpolation=cv2.INTER_LINEAR)
        return np.clip(full, 0.0, 1.0)

    def _shade(self, albedo: np.ndarray, texture: np.ndarray, ndsm: np.ndarray,
               xs: np.ndarray, ys: np.ndarray, gsd: float) -> np.ndarray:
        st = self.style
        seed = (self.seed * 2654435761 + 11) & 0xFFFFFFFF
        x, y = np.meshgrid(xs, ys)
        grain = fbm(x, y, seed, (3.0, 0.8, 0.2), (0.5, 0.3, 0.2))
        refl = albedo * (1.0 + texture * grain)[..., None]

        # Sun shading of roof and crown slopes; walls (steps) stay flat.
        gy, gx = np.gradient(ndsm, gsd)
        steep = np.hypot(gx, gy) > 1.5
        gx, gy = np.where(steep, 0, gx), np.where(steep, 0, gy)
        az, el = np.deg2rad(st.sun_azimuth), np.deg2rad(st.sun_elevation)
        sun = np.array(
            [np.sin(az) * np.cos(el), -np.cos(az) * np.cos(el),
             np.sin(el)])
        diffuse = np.clip((-gx * sun[0] - gy * sun[1] + sun[2]) /
                          np.sqrt(gx * gx + gy * gy + 1.0), 0.0, 1.0) / sun[2]
        light = AMBIENT + (1 - AMBIENT) * np.clip(
            diffuse, 0, 1.3) * (1.0 - 0.85 * self._shadow(ndsm, gsd))
        radiance = np.clip(refl * light[..., None], 0.0, 1.0)

        # The city's sensor: colour balance, tone curve, optics, noise.
        radiance = np.clip(radiance * st.gain + st.bias, 0.0, 1.0)**st.gamma
        radiance = cv2.GaussianBlur(radiance, (0, 0), 0.6)
        rng = np.random.default_rng([self.seed, 0xA3])
        radiance = radiance + rng.normal(0.0, st.noise, radiance.shape)
        return np.clip(np.rint(radiance * 255), 0, 255).astype(np.uint8)
