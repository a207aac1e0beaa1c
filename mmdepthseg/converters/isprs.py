# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Cut ISPRS Potsdam / Vaihingen tiles into 512x512 patches (SemiMTL).

SemiMTL (Sec. 4.1) resamples Potsdam from 5 cm to Vaihingen's 9 cm ground
sample distance, normalises the nDSM to [0, 1] and extracts 512x512
patches with a 50 % overlapping sliding window along rows and columns.
:func:`convert_isprs` does this for one city and writes::

    <out>/img_dir/<split>/<tile>_<r>_<c>.png   IRRG / NIRRG, 3 x uint8
    <out>/ann_dir/<split>/<tile>_<r>_<c>.png   uint8: 0 ignore, 1..6 classes
    <out>/ndsm_dir/<split>/<tile>_<r>_<c>.png  uint16 nDSM (see below)
    <out>/.converted/<split>/<tile>.json       resume marker of each tile
    <out>/isprs_conversion.json                parameters and patch counts

``<tile>`` is ``<city>_<id>`` (``potsdam_2_10``, ``vaihingen_area1``),
``<r>`` / ``<c>`` the zero-padded row / column of the patch's top-left
pixel in the resampled tile. The command-line front end is
``tools/dataset_converters/isprs.py``; the formats are described in
``docs/en/dataset_formats.md``.

Conventions:

- Images: the 3 stored channels pass through unchanged (Potsdam
  ``3_Ortho_IRRG`` and Vaihingen ``top`` both hold (IR, R, G)); resampled
  with area averaging (``img_interp='area'``) or bilinear interpolation.
- Labels: colour-coded tiles are mapped to MMSegmentation's ISPRS
  convention, 1..6 = impervious surfaces, building, low vegetation, tree,
  car, clutter and 0 = any other colour (the black boundary of the eroded
  ground truth): ignored (``reduce_zero_label``). A pixel takes a class
  when every channel lies within ``label_tolerance`` of the class colour
  (0 = exact match, as MMSegmentation's converters). Resampled with
  nearest neighbour (OpenCV's nearest-exact).
- nDSM: normalised to [0, 1] with a global constant range by default
  (``ndsm_norm='global'``): ``h = clip((v - lo) / (hi - lo), 0, 1)`` with
  ``(lo, hi) = ndsm_range``, by default ``(0, 255)`` for the 8-bit nDSM
  releases (``(0, dtype max)`` for integer files) so that one value means
  one height in every tile; float files (metres) need an explicit range.
  ``ndsm_norm='tile'`` stretches every tile's own valid min..max to
  [0, 1] instead. Non-finite values and ``ndsm_nodata`` are invalid.
  Resampled bilinearly, invalid pixels excluded (normalised
  convolution). Stored as ``p = round((h + 1) * 32767)``, 0 = invalid
  (:func:`mmdepthseg.datasets.isprs.encode_ndsm_png`).
- Tiles smaller than a patch are padded at the bottom / right (image 0,
  label 0 = ignore, nDSM invalid).
"""
import json
import logging
import os
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from mmengine.logging import print_log
from mmengine.utils import track_parallel_progress, track_progress

from mmdepthseg.datasets.isprs import (NDSM_PNG_OFFSET, NDSM_PNG_SCALE,
                                       encode_ndsm_png)
from mmdepthseg.datasets.utils import DATASET_PREP_HINT
from mmdepthseg.utils.io import atomic_write_text, write_image
from .isprs_arrays import (extract_patches, normalise_ndsm, pad_to_patch,
                           patch_grid, patch_starts, patch_stride,
                           resampled_size, resize_ndsm, rgb_labels_to_index)

#: Ground sample distance (metres) of each city's tiles.
ISPRS_GSD: Dict[str, float] = dict(potsdam=0.05, vaihingen=0.09)

#: The official train / test tiles of the ISPRS 2D semantic labelling
#: contest (24 + 14 Potsdam tiles, 16 + 17 Vaihingen areas), as in
#: MMSegmentation's converters; the test tiles form the ``val`` split.
POTSDAM_SPLITS: Dict[str, Tuple[str, ...]] = dict(
    train=('2_10', '2_11', '2_12', '3_10', '3_11', '3_12', '4_10', '4_11',
           '4_12', '5_10', '5_11', '5_12', '6_7', '6_8', '6_9', '6_10', '6_11',
           '6_12', '7_7', '7_8', '7_9', '7_10', '7_11', '7_12'),
    val=('2_13', '2_14', '3_13', '3_14', '4_13', '4_14', '4_15', '5_13',
         '5_14', '5_15', '6_13', '6_14', '6_15', '7_13'))
VAIHINGEN_SPLITS: Dict[str, Tuple[str, ...]] = dict(
    train=tuple(f'area{i}' for i in (1, 3, 5, 7, 11, 13, 15, 17, 21, 23, 26,
                                     28, 30, 32, 34, 37)),
    val=tuple(f'area{i}' for i in (2, 4, 6, 8, 10, 12, 14, 16, 20, 22, 24, 27,
                                   29, 31, 33, 35, 38)))
ISPRS_SPLITS = dict(potsdam=POTSDAM_SPLITS, vaihingen=VAIHINGEN_SPLITS)

#: File patterns of the raw tiles, relative to the raw root, per city and
#: modality. Exact names differ between releases, so every pattern is
#: configurable; a tuple lists alternatives tried in order. Fields:
#: ``{id}`` (the tile id), ``{row}`` / ``{col}`` (ints of ids ``<row>_<col>``,
#: e.g. ``{row:02d}``) and ``{area}`` (int of ids ``area<N>``).
ISPRS_RAW_PATTERNS: Dict[str, Dict[str, Tuple[str, ...]]] = dict(
    potsdam=dict(
        img=('3_Ortho_IRRG/top_potsdam_{id}_IRRG.tif', ),
        label=('5_Labels_all/top_potsdam_{id}_label.tif', ),
        ndsm=('1_DSM_normalisation/'
              'dsm_potsdam_{row:02d}_{col:02d}_normalized_lastools.jpg',
              '1_DSM_normalisation/'
              'dsm_potsdam_{row:02d}_{col:02d}_normalized_lastools.tif')),
    vaihingen=dict(
        img=('top/top_mosaic_09cm_{id}.tif', ),
        label=('ground_truth_COMPLETE/top_mosaic_09cm_{id}.tif', ),
        ndsm=('ndsm/dsm_09cm_matching_{id}_normalized.jpg',
              'ndsm/dsm_09cm_matching_{id}_normalized.tif')))

MODALITIES = ('img', 'label', 'ndsm')
#: Output folder of each modality.
OUT_DIRS = dict(img='img_dir', label='ann_dir', ndsm='ndsm_dir')
MARKER_DIR = '.converted'
SUMMARY_FILE = 'isprs_conversion.json'
_INTERP = dict(area=cv2.INTER_AREA, bilinear=cv2.INTER_LINEAR)

PatternSpec = Union[str, Sequence[str]]


# ---------------------------------------------------------------------------
# Raw files
# ---------------------------------------------------------------------------
def tile_fields(tile_id: str) -> dict:
    """Pattern fields of a tile id: ``id`` and, where they apply, ``row``
    / ``col`` (ids ``<row>_<col>``) and ``area`` (ids ``area<N>``)."""
    fields = dict(id=tile_id)
    m = re.fullmatch(r'(\d+)_(\d+)', tile_id)
    if m:
        fields.update(row=int(m.group(1)), col=int(m.group(2)))
    m = re.fullmatch(r'area(\d+)', tile_id)
    if m:
        fields.update(area=int(m.group(1)))
    return fields


def _as_patterns(spec: PatternSpec) -> Tuple[str, ...]:
    return (spec, ) if isinstance(spec, str) else tuple(spec)


def resolve_tile_files(raw_root: str, city: str, tile_id: str,
                       patterns: Dict[str, PatternSpec]) -> Dict[str, object]:
    """Find the raw files of one tile.

    Args:
        raw_root (str): Root the patterns are relative to.
        city (str): City name (for messages).
        tile_id (str): e.g. ``'2_10'`` or ``'area1'``.
        patterns (dict): modality -> pattern or tuple of alternatives.

    Returns:
        dict: modality -> existing path, or -> list of the paths tried
        (str list) when none exists.
    """
    fields = tile_fields(tile_id)
    found: Dict[str, object] = {}
    for modality, spec in patterns.items():
        tried = []
        for pattern in _as_patterns(spec):
            try:
                rel = pattern.format(**fields)
            except (KeyError, IndexError, ValueError) as e:
                raise ValueError(
                    f'{city} {modality} pattern {pattern!r} does not fit tile '
                    f'id {tile_id!r} (fields {sorted(fields)}): {e!r}') from e
            path = osp.join(raw_root, rel)
            tried.append(path)
            if osp.isfile(path):
                found[modality] = path
                break
        else:
            found[modality] = tried
    return found


def check_isprs_tiles(
        raw_root: str, city: str, splits: Dict[str, Sequence[str]],
        patterns: Dict[str,
                       PatternSpec]) -> Dict[str, Dict[str, Dict[str, str]]]:
    """Check that every tile of every split has all its raw files.

    Args:
        raw_root (str): Root of the raw tiles.
        city (str): City name.
        splits (dict): split -> tile ids.
        patterns (dict): modality -> pattern(s).

    Returns:
        dict: split -> tile id -> modality -> path.

    Raises:
        FileNotFoundError: naming every missing file (tile, modality and
            the paths tried).
    """
    if not osp.isdir(raw_root):
        raise FileNotFoundError(f'ISPRS {city} raw root not found: {raw_root} '
                                f'({DATASET_PREP_HINT})')
    files: Dict[str, Dict[str, Dict[str, str]]] = {}
    missing = []
    for split, tile_ids in splits.items():
        files[split] = {}
        for tile_id in tile_ids:
            found = resolve_tile_files(raw_root, city, tile_id, patterns)
            for modality, value in found.items():
                if isinstance(value, list):
                    missing.append(f'{city} tile {tile_id} ({split}) '
                                   f'{modality}: ' + ' or '.join(value))
            files[split][tile_id] = found
    if missing:
        listing = '\n  '.join(missing[:20])
        more = f'\n  ... and {len(missing) - 20} more' \
            if len(missing) > 20 else ''
        raise FileNotFoundError(
            f'{len(missing)} raw ISPRS file(s) not found:\n  {listing}{more}'
            '\n(file names differ between releases: adapt the patterns, '
            f'e.g. --{{img,label,ndsm}}-pattern; {DATASET_PREP_HINT})')
    return files


def _read(path: str) -> np.ndarray:
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise OSError(f'cannot decode image file {path}: it is empty, '
                      'truncated or not an image')
    return img


def read_image_tile(path: str) -> np.ndarray:
    """Read a 3-channel 8-bit image tile, channels in the file's order
    reversed (OpenCV's BGR convention; written back the same way)."""
    img = _read(path)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise ValueError(f'{path}: expected a 3-channel 8-bit IRRG / NIRRG '
                         f'tile, got shape {img.shape} {img.dtype}')
    return img


def read_label_tile(path: str, tolerance: int = 0) -> np.ndarray:
    """Read a colour-coded label tile as 0..6 indices
    (:func:`rgb_labels_to_index`)."""
    img = _read(path)
    if img.ndim == 3 and img.shape[2] == 4:
        img = img[..., :3]  # drop an alpha channel
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise ValueError(f'{path}: expected a colour-coded 8-bit RGB label '
                         f'tile, got shape {img.shape} {img.dtype}')
    return rgb_labels_to_index(img[..., ::-1], tolerance)


# ---------------------------------------------------------------------------
# Conversion
# ---------------------------------------------------------------------------
def _marker_path(out_dir: str, split: str, tile: str) -> str:
    return osp.join(out_dir, MARKER_DIR, split, tile + '.json')


def _load_marker(path: str) -> Optional[dict]:
    if not osp.isfile(path):
        return None
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (OSError, ValueError):
        return None  # unreadable marker: convert the tile again


def _tile_done(marker: Optional[dict], params: dict, out_dir: str,
               split: str) -> bool:
    if marker is None or marker.get('params') != params:
        return False
    return all(
        osp.isfile(osp.join(out_dir, OUT_DIRS[m], split, name + '.png'))
        for name in marker.get('patches', [])
        for m in marker.get('modalities', ['img']))


def convert_tile(task: dict) -> dict:
    """Convert one raw tile into patches (one task of :func:`convert_isprs`).

    Args:
        task (dict): ``out_dir``, ``split``, ``tile`` (output tile name),
            ``files`` (modality -> raw path) and ``params`` (see
            :func:`convert_isprs`).

    Returns:
        dict: ``tile``, ``split``, ``patches`` (names), ``size`` (h, w of
        the resampled tile), ``skipped`` (True if an earlier run had
        finished it with the same parameters) and ``warnings`` (messages
        naming a label tile without any class colour or an nDSM tile
        without any valid pixel).
    """
    out_dir, split, tile = task['out_dir'], task['split'], task['tile']
    files, params = task['files'], task['params']
    marker_path = _marker_path(out_dir, split, tile)
    old = _load_marker(marker_path)
    if not task.get('overwrite') and _tile_done(old, params, out_dir, split):
        return dict(
            tile=tile,
            split=split,
            patches=old['patches'],
            size=old['size'],
            skipped=True,
            warnings=[])
    img, maps, valid, warnings = _read_tile(files, params)
    size = resampled_size(img.shape[0], img.shape[1], params['src_gsd'],
                          params['dst_gsd'])
    img, maps = _resample_tile(img, maps, valid, size, params['img_interp'])
    patch = params['patch_size']
    arrays = dict(img=pad_to_patch(img, patch, 0))
    arrays.update({m: pad_to_patch(a, patch, 0) for m, a in maps.items()})
    names = _write_patches(arrays, size, patch, params['overlap'], out_dir,
                           split, tile)
    if old is not None:
        _remove_stale_patches(old, names, out_dir, split)
    marker = dict(
        tile=tile,
        split=split,
        files=files,
        modalities=sorted(arrays),
        params=params,
        size=list(size),
        patches=names)
    atomic_write_text(marker_path, json.dumps(marker, indent=1) + '\n')
    return dict(
        tile=tile,
        split=split,
        patches=names,
        size=list(size),
        skipped=False,
        warnings=warnings)


def _read_tile(files: Dict[str, str], params: dict) -> tuple:
    """Read and check the raw files of a tile.

    Returns:
        tuple: The image ``(h, w, 3)`` uint8, the maps (``label``: 0..6
        indices, ``ndsm``: normalised heights, those in ``files``), the
        nDSM's valid mask (None without an nDSM) and warnings about a
        label tile without class colours / an nDSM without valid pixels.
    """
    img = read_image_tile(files['img'])
    h, w = img.shape[:2]
    maps, valid = {}, None
    if 'label' in files:
        maps['label'] = read_label_tile(files['label'],
                                        params['label_tolerance'])
    if 'ndsm' in files:
        maps['ndsm'], valid = normalise_ndsm(
            _read(files['ndsm']),
            params['ndsm_norm'],
            params['ndsm_range'],
            params['ndsm_nodata'],
            name=files['ndsm'])
    warnings = []  # converted all the same: reported and counted
    if 'label' in maps and not maps['label'].any():
        warnings.append(
            f'{files["label"]}: no pixel has an ISPRS class colour (all '
            'boundary or unknown colours): its label patches are all ignored')
    if 'ndsm' in maps and not valid.any():
        warnings.append(f'{files["ndsm"]}: no valid nDSM pixel (all nodata or '
                        'non-finite): its height patches are all invalid')
    for modality, m in maps.items():
        if m.shape[:2] != (h, w):
            raise ValueError(
                f'{files[modality]}: {modality} size {m.shape[1]}x'
                f'{m.shape[0]} differs from the image tile {files["img"]} '
                f'({w}x{h}, w x h)')
    return img, maps, valid, warnings


def _resample_tile(img: np.ndarray, maps: Dict[str, np.ndarray],
                   valid: Optional[np.ndarray], size: Tuple[int, int],
                   img_interp: str) -> Tuple[np.ndarray, dict]:
    """Resample a tile to ``size`` ``(h, w)`` (labels: nearest) and encode
    its nDSM as PNG values (:func:`encode_ndsm_png`)."""
    maps = dict(maps)
    if size != img.shape[:2]:
        dsize = (size[1], size[0])
        img = cv2.resize(img, dsize, interpolation=_INTERP[img_interp])
        if 'label' in maps:
            maps['label'] = cv2.resize(
                maps['label'], dsize, interpolation=cv2.INTER_NEAREST_EXACT)
        if 'ndsm' in maps:
            maps['ndsm'], valid = resize_ndsm(maps['ndsm'], valid, size)
    if 'ndsm' in maps:
        maps['ndsm'] = encode_ndsm_png(maps['ndsm'], valid)
    return img, maps


def _write_patches(arrays: Dict[str, np.ndarray], size: Tuple[int, int],
                   patch: int, overlap: float, out_dir: str, split: str,
                   tile: str) -> List[str]:
    """Cut the padded ``arrays`` (modality -> array) of a tile of ``size``
    into patches and write them as PNG files
    (``<out_dir>/<modality's folder>/<split>/<name>.png``).

    Returns:
        list[str]: The patch names ``<tile>_<y>_<x>``.
    """
    ys, xs = patch_grid(size[0], size[1], patch, overlap)
    digits = max(4, len(str(max(size))))
    names = []
    for y in ys:  # one vectorised gather per row of patches
        rows = {
            m: extract_patches(a, [y], xs, patch)[0]
            for m, a in arrays.items()
        }
        for j, x in enumerate(xs):
            name = f'{tile}_{y:0{digits}d}_{x:0{digits}d}'
            for m, patches in rows.items():
                write_image(
                    osp.join(out_dir, OUT_DIRS[m], split, name + '.png'),
                    np.ascontiguousarray(patches[j]))
            names.append(name)
    return names


def _remove_stale_patches(old: dict, names: List[str], out_dir: str,
                          split: str) -> None:
    """Remove the patches of an earlier run (``old`` marker) with other
    parameters that this run did not write."""
    for name in set(old.get('patches', [])) - set(names):
        for m in OUT_DIRS:
            stale = osp.join(out_dir, OUT_DIRS[m], split, name + '.png')
            if osp.isfile(stale):
                os.remove(stale)


def convert_isprs(raw_root: str,
                  out_dir: str,
                  city: str,
                  splits: Optional[Dict[str, Sequence[str]]] = None,
                  patterns: Optional[Dict[str, PatternSpec]] = None,
                  src_gsd: Optional[float] = None,
                  dst_gsd: float = 0.09,
                  patch_size: int = 512,
                  overlap: float = 0.5,
                  ndsm_norm: str = 'global',
                  ndsm_range: Optional[Tuple[float, float]] = None,
                  ndsm_nodata: Optional[float] = None,
                  label_tolerance: int = 0,
                  img_interp: str = 'area',
                  with_labels: bool = True,
                  with_ndsm: bool = True,
                  overwrite: bool = False,
                  nproc: int = 1,
                  progress: bool = True) -> dict:
    """Convert the raw tiles of one ISPRS city into 512x512 patches.

    Resumable: a tile is skipped when its marker
    (``.converted/<split>/<tile>.json``, written after all its patches)
    records the same parameters and all its patches exist; an interrupted
    tile is converted again. Every file is written atomically. All raw
    files are checked before anything is converted.

    Args:
        raw_root (str): Root of the extracted archives of the city.
        out_dir (str): Output root (``img_dir``, ``ann_dir``, ``ndsm_dir``).
        city (str): ``'potsdam'`` or ``'vaihingen'`` (selects default
            splits, patterns and GSD); another name needs all three.
        splits (dict, optional): split -> tile ids. Defaults to the
            official train / test tiles (:data:`ISPRS_SPLITS`).
        patterns (dict, optional): Overrides of
            :data:`ISPRS_RAW_PATTERNS` (modality -> pattern or tuple).
        src_gsd (float, optional): Metres per pixel of the raw tiles.
            Defaults to the city's (:data:`ISPRS_GSD`).
        dst_gsd (float): Metres per pixel of the patches. Defaults to 0.09
            (Vaihingen's; Potsdam is resampled by 5/9).
        patch_size (int): Patch size. Defaults to 512.
        overlap (float): Overlap of neighbouring patches. Defaults to 0.5.
        ndsm_norm (str): ``'global'`` (default) or ``'tile'``, see
            :func:`normalise_ndsm`.
        ndsm_range (tuple[float, float], optional): ``(lo, hi)`` of the
            global normalisation (stored units). Defaults to ``(0, dtype
            max)`` of integer nDSM files (``(0, 255)`` for the 8-bit
            releases).
        ndsm_nodata (float, optional): Stored nDSM value marking no data.
        label_tolerance (int): Colour tolerance of the label mapping.
            Defaults to 0 (exact).
        img_interp (str): ``'area'`` (default) or ``'bilinear'``.
        with_labels (bool): Convert the label tiles. Defaults to True.
        with_ndsm (bool): Convert the nDSM tiles. Defaults to True.
        overwrite (bool): Convert finished tiles again. Defaults to False.
        nproc (int): Worker processes (one tile per task). Defaults to 1.
        progress (bool): Show a progress bar over tiles. Defaults to True.

    Returns:
        dict: ``city``, ``out_dir``, ``params``, ``splits`` (split -> tile
        names), ``num_patches`` (split -> count), ``converted`` and
        ``skipped`` (tile names), ``warnings`` (tiles converted although
        they hold no class colour / no valid nDSM pixel, each also logged)
        and ``ndsm_png`` (``scale``, ``offset``).
    """
    splits, src_gsd = _city_defaults(city, splits, src_gsd)
    _check_conversion_args(img_interp, patch_size, overlap, ndsm_norm)
    wanted = ['img'] + (['label'] if with_labels else []) + (['ndsm'] if
                                                             with_ndsm else [])
    use_patterns = _modality_patterns(city, patterns, wanted)
    files = check_isprs_tiles(raw_root, city, splits, use_patterns)
    params = _conversion_params(src_gsd, dst_gsd, patch_size, overlap,
                                ndsm_norm, ndsm_range, ndsm_nodata,
                                label_tolerance, img_interp, wanted)
    tasks = [
        dict(
            out_dir=out_dir,
            split=split,
            tile=f'{city}_{tile_id}',
            files=files[split][tile_id],
            params=params,
            overwrite=overwrite) for split, tile_ids in splits.items()
        for tile_id in tile_ids
    ]
    if nproc > 1 and len(tasks) > 1:
        results = track_parallel_progress(
            convert_tile, tasks, nproc, keep_order=True)
    else:
        results = track_progress(convert_tile, tasks) if progress else [
            convert_tile(t) for t in tasks
        ]
    summary = _conversion_summary(city, out_dir, params, splits, results)
    for warning in summary['warnings']:
        print_log(warning, logger='current', level=logging.WARNING)
    atomic_write_text(
        osp.join(out_dir, SUMMARY_FILE),
        json.dumps(summary, indent=1) + '\n')
    return summary


def _conversion_params(src_gsd: float, dst_gsd: float, patch_size: int,
                       overlap: float, ndsm_norm: str,
                       ndsm_range: Optional[Tuple[float, float]],
                       ndsm_nodata: Optional[float], label_tolerance: int,
                       img_interp: str, modalities: Sequence[str]) -> dict:
    """The parameters of a conversion as its markers record them (plain
    JSON types: a rerun with equal parameters resumes)."""
    return dict(
        src_gsd=float(src_gsd),
        dst_gsd=float(dst_gsd),
        patch_size=int(patch_size),
        overlap=float(overlap),
        ndsm_norm=ndsm_norm,
        ndsm_range=None
        if ndsm_range is None else [float(v) for v in ndsm_range],
        ndsm_nodata=None if ndsm_nodata is None else float(ndsm_nodata),
        label_tolerance=int(label_tolerance),
        img_interp=img_interp,
        modalities=modalities)


def _city_defaults(
    city: str, splits: Optional[Dict[str, Sequence[str]]],
    src_gsd: Optional[float]
) -> Tuple[Dict[str, Sequence[str]], float]:
    """``splits`` and ``src_gsd``, the city's defaults where not given."""
    if splits is None:
        if city not in ISPRS_SPLITS:
            raise ValueError(f'no default tile lists for city {city!r}: give '
                             'splits=dict(train=[...], val=[...])')
        splits = ISPRS_SPLITS[city]
    if src_gsd is None:
        if city not in ISPRS_GSD:
            raise ValueError(f'no default GSD for city {city!r}: give src_gsd')
        src_gsd = ISPRS_GSD[city]
    return splits, src_gsd


def _check_conversion_args(img_interp: str, patch_size: int, overlap: float,
                           ndsm_norm: str) -> None:
    if img_interp not in _INTERP:
        raise ValueError(f'img_interp must be one of {sorted(_INTERP)}, got '
                         f'{img_interp!r}')
    if patch_size <= 0:
        raise ValueError(f'patch_size must be > 0, got {patch_size}')
    patch_stride(patch_size, overlap)  # validates the overlap
    if ndsm_norm not in ('global', 'tile'):
        raise ValueError(
            f"ndsm_norm must be 'global' or 'tile', got {ndsm_norm!r}")


def _modality_patterns(city: str, patterns: Optional[Dict[str, PatternSpec]],
                       wanted: Sequence[str]) -> Dict[str, PatternSpec]:
    """The raw file pattern of every ``wanted`` modality: the city's
    defaults (:data:`ISPRS_RAW_PATTERNS`) updated by ``patterns``."""
    all_patterns = dict(ISPRS_RAW_PATTERNS.get(city, {}))
    all_patterns.update(patterns or {})
    missing = [m for m in wanted if m not in all_patterns]
    if missing:
        raise ValueError(f'no file pattern for {missing} of city {city!r}: '
                         'give patterns=dict(img=..., label=..., ndsm=...)')
    return {m: all_patterns[m] for m in wanted}


def _conversion_summary(city: str, out_dir: str, params: dict,
                        splits: Dict[str, Sequence[str]],
                        results: List[dict]) -> dict:
    """The summary of :func:`convert_isprs` from the results of
    :func:`convert_tile`."""
    return dict(
        city=city,
        out_dir=out_dir,
        params=params,
        splits={
            split: [f'{city}_{t}' for t in tile_ids]
            for split, tile_ids in splits.items()
        },
        num_patches={
            split:
            sum(len(r['patches']) for r in results if r['split'] == split)
            for split in splits
        },
        converted=[r['tile'] for r in results if not r['skipped']],
        skipped=[r['tile'] for r in results if r['skipped']],
        warnings=[w for r in results for w in r['warnings']],
        ndsm_png=dict(scale=NDSM_PNG_SCALE, offset=NDSM_PNG_OFFSET))


__all__ = [
    'ISPRS_GSD', 'POTSDAM_SPLITS', 'VAIHINGEN_SPLITS', 'ISPRS_SPLITS',
    'ISPRS_RAW_PATTERNS', 'MODALITIES', 'OUT_DIRS', 'MARKER_DIR',
    'SUMMARY_FILE', 'PatternSpec', 'tile_fields', 'resolve_tile_files',
    'check_isprs_tiles', 'read_image_tile', 'read_label_tile',
    'convert_tile', 'convert_isprs', 'patch_starts', 'patch_stride',
    'patch_grid', 'extract_patches', 'rgb_labels_to_index', 'normalise_ndsm',
    'resize_ndsm', 'resampled_size'
]
