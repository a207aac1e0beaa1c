# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Synthetic aerial city tiles as raw ISPRS Potsdam / Vaihingen tiles
(:func:`write_isprs`), the input of ``tools/dataset_converters/isprs.py``.

Every city gets its own raw tree ``<root>/<city>`` with the files of
:data:`SYNTHETIC_ISPRS_FILES`, rendered at the city's GSD (Potsdam 5 cm,
Vaihingen 9 cm, :data:`~mmdepthseg.synthetic.aerial_scene.CITY_STYLES`) in
its style::

    img    3 x uint8 TIFF, channels (IR, R, G) as the real IRRG tiles
    label  RGB TIFF with the ISPRS class colours
    ndsm   uint8 TIFF, height / 0.1 m (SYNTHETIC_NDSM_STEP)
"""
import os.path as osp
import zlib
from typing import Dict, List, Optional

import numpy as np

from ..aerial_scene import CITY_STYLES, AerialScene, labels_to_colours
from .common import advance, progress_bar, sub_seed, write_tree_image

#: Raw file names of the synthetic ISPRS tiles, relative to
#: ``<root>/<city>``: the names of the real releases (the converter's
#: default patterns), except that the 8-bit nDSM is stored losslessly as
#: TIFF instead of JPEG (the converter tries both extensions).
SYNTHETIC_ISPRS_FILES: Dict[str, Dict[str, str]] = dict(
    potsdam=dict(
        img='3_Ortho_IRRG/top_potsdam_{id}_IRRG.tif',
        label='5_Labels_all/top_potsdam_{id}_label.tif',
        ndsm='1_DSM_normalisation/'
        'dsm_potsdam_{row:02d}_{col:02d}_normalized_lastools.tif'),
    vaihingen=dict(
        img='top/top_mosaic_09cm_{id}.tif',
        label='ground_truth_COMPLETE/top_mosaic_09cm_{id}.tif',
        ndsm='ndsm/dsm_09cm_matching_{id}_normalized.tif'))
#: Metres per grey level of the synthetic 8-bit nDSM tiles (255 = 25.5 m,
#: above every synthetic object), so the converter's default global
#: normalisation (``/ 255``) gives ``height / 25.5 m``.
SYNTHETIC_NDSM_STEP = 0.1


def synthetic_isprs_tile_ids(city: str,
                             counts: Dict[str, int]) -> Dict[str, List[str]]:
    """Tile ids of the synthetic tiles, in the real ids' forms.

    Potsdam: tile ``i`` of the ``k``-th split is ``'<2 + k>_<10 + i>'``
    (``'2_10'``, ``'2_11'``, ..., ``'3_10'``, ...); Vaihingen: areas
    ``'area1'``, ``'area2'``, ... numbered over all splits in order.

    Args:
        city (str): ``'potsdam'`` or ``'vaihingen'``.
        counts (dict): split -> number of tiles.

    Returns:
        dict: split -> tile ids.
    """
    ids: Dict[str, List[str]] = {}
    area = 0
    for k, (split, n) in enumerate(counts.items()):
        if city == 'potsdam':
            ids[split] = [f'{2 + k}_{10 + i}' for i in range(n)]
        else:
            ids[split] = [f'area{area + i + 1}' for i in range(n)]
            area += n
    return ids


def _isprs_fields(tile_id: str) -> dict:
    row_col = tile_id.split('_')
    fields = dict(id=tile_id)
    if len(row_col) == 2 and all(p.isdigit() for p in row_col):
        fields.update(row=int(row_col[0]), col=int(row_col[1]))
    return fields


def encode_ndsm_8bit(ndsm: np.ndarray,
                     step: float = SYNTHETIC_NDSM_STEP) -> np.ndarray:
    """nDSM in metres -> 8-bit grey levels ``clip(round(h / step), 0,
    255)`` (the form of the real 8-bit nDSM releases)."""
    return np.clip(np.rint(np.asarray(ndsm) / step), 0, 255).astype(np.uint8)


def write_isprs(root: str,
                seed: int = 0,
                tiles: Optional[Dict[str, Dict[str, int]]] = None,
                tile_size: float = 40.0,
                progress: bool = False) -> dict:
    """Render aerial city tiles and write them as raw ISPRS tiles.

    The files of a tile are described in this module's docstring
    (:mod:`mmdepthseg.synthetic.writers.isprs`).

    Cut them into patches with ``tools/dataset_converters/isprs.py`` (or
    :func:`mmdepthseg.converters.isprs.convert_isprs`) using the
    ``splits`` of the summary.

    Args:
        root (str): Output root.
        seed (int): Seed of everything. Defaults to 0.
        tiles (dict, optional): city -> split -> number of tiles. Defaults
            to ``{'potsdam': {'train': 4, 'val': 2}, 'vaihingen':
            {'train': 4, 'val': 2}}``.
        tile_size (float): Side of a tile in metres (800 px in Potsdam,
            444 px in Vaihingen for the default 40 m).
        progress (bool): Show an MMEngine progress bar. Defaults to False.

    Returns:
        dict: ``root``, ``tile_size``, ``ndsm_step``, ``cities`` (city ->
        ``raw_root``, ``gsd``, ``tile_shape`` (h, w), ``splits`` (split ->
        tile ids)) and ``scenes`` (``<city>_<id>`` -> :class:`AerialScene`
        arguments).
    """
    if tiles is None:
        tiles = {
            'potsdam': {
                'train': 4,
                'val': 2
            },
            'vaihingen': {
                'train': 4,
                'val': 2
            }
        }
    _check_isprs_args(tiles, tile_size)
    bar = progress_bar(
        sum(n for counts in tiles.values() for n in counts.values()), progress)
    cities: Dict[str, dict] = {}
    scenes: Dict[str, dict] = {}
    for city, counts in tiles.items():
        raw_root = osp.join(root, city)
        ids = synthetic_isprs_tile_ids(city, counts)
        shape = None
        for tile_id in (t for split_ids in ids.values() for t in split_ids):
            scene_args = dict(
                seed=sub_seed(seed, 6, zlib.crc32(city.encode()),
                              zlib.crc32(tile_id.encode())),
                size=(tile_size, tile_size),
                city=city)
            scenes[f'{city}_{tile_id}'] = scene_args
            shape = _write_tile(raw_root, city, tile_id,
                                AerialScene(**scene_args).render())
            advance(bar)
        cities[city] = dict(
            raw_root=raw_root,
            gsd=CITY_STYLES[city].gsd,
            tile_shape=None if shape is None else list(shape),
            splits=ids)
    return dict(
        root=root,
        tile_size=tile_size,
        ndsm_step=SYNTHETIC_NDSM_STEP,
        cities=cities,
        scenes=scenes)


def _check_isprs_args(tiles: Dict[str, Dict[str, int]],
                      tile_size: float) -> None:
    for city, counts in tiles.items():
        if city not in SYNTHETIC_ISPRS_FILES:
            raise ValueError(f'unknown city {city!r}; expected one of '
                             f'{sorted(SYNTHETIC_ISPRS_FILES)}')
        if any(n < 0 for n in counts.values()):
            raise ValueError(f'tile counts must be >= 0, got {counts}')
    if tile_size <= 0:
        raise ValueError(f'tile_size must be > 0 metres, got {tile_size}')


def _write_tile(raw_root: str, city: str, tile_id: str,
                rendered: dict) -> tuple:
    """The image, label and nDSM files of one rendered tile.

    Returns:
        tuple: The tile's shape ``(h, w)``.
    """
    fields = _isprs_fields(tile_id)
    names = {
        k: osp.join(raw_root, v.format(**fields))
        for k, v in SYNTHETIC_ISPRS_FILES[city].items()
    }
    write_tree_image(names['img'], rendered['img'], rgb=True)
    write_tree_image(
        names['label'], labels_to_colours(rendered['label']), rgb=True)
    write_tree_image(names['ndsm'], encode_ndsm_8bit(rendered['ndsm']))
    return rendered['label'].shape
