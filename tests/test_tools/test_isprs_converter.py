# Copyright (c) mmdepthseg contributors. All rights reserved.
"""tools/dataset_converters/isprs.py and its logic
(mmdepthseg.converters.isprs) on hand-made and generated tiles."""
import json
import os
import os.path as osp
import runpy
import sys

import cv2
import numpy as np
import pytest

from mmdepthseg.converters import isprs as converter
from mmdepthseg.datasets.isprs import decode_ndsm_png, encode_ndsm_png

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# Class colours (RGB) in ISPRS order: impervious, building, low vegetation,
# tree, car, clutter (FORMATS.md).
COLOURS = [(255, 255, 255), (0, 0, 255), (0, 255, 255), (0, 255, 0),
           (255, 255, 0), (255, 0, 0)]
# File names of the default Potsdam / Vaihingen patterns.
POTSDAM = dict(
    img='3_Ortho_IRRG/top_potsdam_{id}_IRRG.tif',
    label='5_Labels_all/top_potsdam_{id}_label.tif',
    ndsm='1_DSM_normalisation/dsm_potsdam_{rc}_normalized_lastools.jpg')
VAIHINGEN = dict(
    img='top/top_mosaic_09cm_{id}.tif',
    label='ground_truth_COMPLETE/top_mosaic_09cm_{id}.tif',
    ndsm='ndsm/dsm_09cm_matching_{id}_normalized.tif')


# ---------------------------------------------------------------------------
# Hand-made raw tiles
# ---------------------------------------------------------------------------
def band_labels(h, w, band):
    """RGB label tile whose horizontal bands of ``band`` rows cycle through
    the 6 classes (band k has class k % 6)."""
    cls = (np.arange(h) // band) % 6
    rgb = np.array(COLOURS, dtype=np.uint8)[cls]  # (h, 3)
    return np.repeat(rgb[:, None], w, axis=1)


def write_tile(root, files, tile_id, h, w, seed=0, ndsm=None, band=18):
    """Write one raw tile: random image, band labels, uint8 nDSM (JPEG
    only for the Potsdam name; tests that check nDSM values use TIFF)."""
    rng = np.random.RandomState(seed)
    rc = tile_id.split('_')
    fields = dict(id=tile_id)
    if len(rc) == 2 and all(p.isdigit() for p in rc):
        fields['rc'] = f'{int(rc[0]):02d}_{int(rc[1]):02d}'
    paths = {k: osp.join(root, v.format(**fields)) for k, v in files.items()}
    for p in paths.values():
        os.makedirs(osp.dirname(p), exist_ok=True)
    img = rng.randint(0, 256, (h, w, 3), dtype=np.uint8)
    cv2.imwrite(paths['img'], img)
    cv2.imwrite(paths['label'], band_labels(h, w, band)[..., ::-1])
    if ndsm is None:
        ndsm = np.full((h, w), 51, dtype=np.uint8)
    cv2.imwrite(paths['ndsm'], ndsm)
    return paths, img


@pytest.fixture
def vaihingen_raw(tmp_path):
    """Two Vaihingen-like tiles (9 cm, no resampling): area1 40x50 (train)
    and area2 30x30 (val); nDSM TIFF: 0 in the left half, 255 right."""
    root = str(tmp_path / 'raw')
    imgs = {}
    for tile_id, (h, w) in (('area1', (40, 50)), ('area2', (30, 30))):
        ndsm = np.zeros((h, w), dtype=np.uint8)
        ndsm[:, w // 2:] = 255
        _, imgs[tile_id] = write_tile(
            root, VAIHINGEN, tile_id, h, w, seed=len(imgs), ndsm=ndsm, band=7)
    return root, imgs


SPLITS = dict(train=['area1'], val=['area2'])


def list_patches(out, folder='img_dir'):
    return {
        split: sorted(os.listdir(osp.join(out, folder, split)))
        for split in os.listdir(osp.join(out, folder))
    }


# ---------------------------------------------------------------------------
# Sliding window
# ---------------------------------------------------------------------------
def test_patch_starts_by_hand():
    # 50 % of 512: stride 256; the last window is flush with the border.
    assert converter.patch_stride(512, 0.5) == 256
    assert converter.patch_starts(1000, 512, 256).tolist() == [0, 256, 488]
    assert converter.patch_starts(768, 512,
                                  256).tolist() == [0, 256]  # fits exactly
    assert converter.patch_starts(512, 512, 256).tolist() == [0]
    assert converter.patch_starts(300, 512, 256).tolist() == [0]  # padded tile
    assert converter.patch_starts(1025, 512,
                                  256).tolist() == [0, 256, 512, 513]
    # A Potsdam tile resampled to 9 cm: 6000 px -> 3333 px.
    expected = [256 * i for i in range(12)] + [3333 - 512]
    assert converter.patch_starts(3333, 512, 256).tolist() == expected
    # Every pixel is covered and neighbours overlap by at least half.
    starts = np.array(expected)
    assert starts[-1] + 512 == 3333
    assert (np.diff(starts) <= 256).all()


def test_patch_grid_rows_and_columns():
    ys, xs = converter.patch_grid(600, 1000, 512, 0.5)
    assert ys.tolist() == [0, 88]
    assert xs.tolist() == [0, 256, 488]
    ys, xs = converter.patch_grid(64, 64, 32, 0.25)  # stride 24
    assert ys.tolist() == [0, 24, 32]
    with pytest.raises(ValueError, match='overlap'):
        converter.patch_grid(64, 64, 32, 1.0)


def test_extract_patches_equals_slicing():
    arr = np.arange(20 * 30 * 2).reshape(20, 30, 2)
    ys, xs = [0, 5, 12], [0, 7, 22]
    out = converter.extract_patches(arr, ys, xs, 8)
    assert out.shape == (3, 3, 8, 8, 2)
    for i, y in enumerate(ys):
        for j, x in enumerate(xs):
            np.testing.assert_array_equal(out[i, j], arr[y:y + 8, x:x + 8])


def test_resampled_size_5cm_to_9cm():
    assert converter.resampled_size(6000, 6000, 0.05, 0.09) == (3333, 3333)
    assert converter.resampled_size(90, 45, 0.05, 0.09) == (50, 25)
    assert converter.resampled_size(2557, 1887, 0.09, 0.09) == (2557, 1887)


# ---------------------------------------------------------------------------
# Labels and nDSM
# ---------------------------------------------------------------------------
def test_rgb_labels_to_index_mapping():
    colours = COLOURS + [(0, 0, 0), (255, 0, 255), (128, 128, 128),
                         (250, 255, 252)]
    rgb = np.array(colours, dtype=np.uint8)[None]  # (1, 10, 3)
    out = converter.rgb_labels_to_index(rgb)
    # 1..6 for the classes (MMSegmentation's convention), 0 for black
    # boundaries, magenta, grey and the inexact white.
    assert out.tolist() == [[1, 2, 3, 4, 5, 6, 0, 0, 0, 0]]
    out = converter.rgb_labels_to_index(rgb, tolerance=10)
    assert out.tolist() == [[1, 2, 3, 4, 5, 6, 0, 0, 0, 1]]
    with pytest.raises(ValueError, match='colour label'):
        converter.rgb_labels_to_index(np.zeros((4, 4), dtype=np.uint8))


def test_normalise_ndsm_global_and_tile():
    h, valid = converter.normalise_ndsm(
        np.array([[0, 51, 255]], dtype=np.uint8))
    np.testing.assert_allclose(h, [[0, 0.2, 1]], atol=1e-7)
    assert valid.all()
    # 3-channel grey JPEGs: the channels are averaged.
    grey = np.repeat(np.array([[0, 51, 255]], dtype=np.uint8)[..., None], 3, 2)
    np.testing.assert_allclose(
        converter.normalise_ndsm(grey)[0], [[0, 0.2, 1]])
    metres = np.array([[-1.0, 5.0, 25.0, np.nan, -9999.0]], np.float32)
    with pytest.raises(ValueError, match='ndsm_range'):
        converter.normalise_ndsm(metres, name='dsm.tif')
    h, valid = converter.normalise_ndsm(
        metres, value_range=(0, 20), nodata=-9999)
    np.testing.assert_allclose(h, [[0, 0.25, 1, 0, 0]])
    assert valid.tolist() == [[True, True, True, False, False]]
    h, valid = converter.normalise_ndsm(
        np.array([[2.0, 4.0, 6.0, np.nan]]), mode='tile')
    np.testing.assert_allclose(h, [[0, 0.5, 1, 0]])
    with pytest.raises(ValueError, match="'global' or 'tile'"):
        converter.normalise_ndsm(metres, mode='minmax')


def test_ndsm_png_encoding_keeps_ground_valid():
    h = np.array([[0.0, 0.5, 1.0, 0.25]])
    valid = np.array([[True, True, True, False]])
    png = encode_ndsm_png(h, valid)
    # p = round((h + 1) * 32767), 0 = invalid.
    assert png.dtype == np.uint16
    assert png.tolist() == [[32767, 49150, 65534, 0]]
    # What LoadDepthSegAnnotations returns (p / depth_scale) is h + 1.
    np.testing.assert_allclose(png / 32767.0, [[1, 1.5, 2, 0]], atol=2e-5)
    dec = decode_ndsm_png(png)
    np.testing.assert_allclose(dec[0, :3], [0, 0.5, 1], atol=2e-5)
    assert np.isnan(dec[0, 3])


def test_resize_ndsm_ignores_invalid_pixels():
    ndsm = np.full((18, 18), 0.5, dtype=np.float32)
    valid = np.ones((18, 18), dtype=bool)
    ndsm[:6, :6], valid[:6, :6] = 123.0, False  # garbage under the hole
    out, ok = converter.resize_ndsm(ndsm, valid, (10, 10))
    assert out.shape == ok.shape == (10, 10)
    np.testing.assert_allclose(out[ok], 0.5, atol=1e-6)
    assert not ok[0, 0] and ok[-1, -1]


# ---------------------------------------------------------------------------
# Conversion
# ---------------------------------------------------------------------------
def test_convert_vaihingen_patches_labels_and_ndsm(vaihingen_raw, tmp_path):
    raw, imgs = vaihingen_raw
    out = str(tmp_path / 'out')
    summary = converter.convert_isprs(
        raw,
        out,
        'vaihingen',
        splits=SPLITS,
        patch_size=32,
        overlap=0.5,
        progress=False)
    # area1 40x50 at 9 cm: rows 0, 8; columns 0, 16, 18 (stride 16).
    names = {
        f'vaihingen_area1_{y:04d}_{x:04d}.png'
        for y in (0, 8)
        for x in (0, 16, 18)
    }
    # area2 30x30 is smaller than a patch: one padded patch.
    assert list_patches(out) == {
        'train': sorted(names),
        'val': ['vaihingen_area2_0000_0000.png']
    }
    for folder in ('ann_dir', 'ndsm_dir'):
        assert list_patches(out, folder) == list_patches(out)
    assert summary['num_patches'] == dict(train=6, val=1)
    assert summary['splits'] == dict(
        train=['vaihingen_area1'], val=['vaihingen_area2'])

    img = imgs['area1']
    bands = (np.arange(40) // 7) % 6 + 1  # label of each row
    for y in (0, 8):
        for x in (0, 16, 18):
            stem = f'vaihingen_area1_{y:04d}_{x:04d}.png'
            patch = cv2.imread(osp.join(out, 'img_dir', 'train', stem))
            np.testing.assert_array_equal(patch, img[y:y + 32, x:x + 32])
            ann = cv2.imread(
                osp.join(out, 'ann_dir', 'train', stem), cv2.IMREAD_UNCHANGED)
            assert ann.dtype == np.uint8
            np.testing.assert_array_equal(
                ann, np.repeat(bands[y:y + 32, None], 32, axis=1))
            ndsm = cv2.imread(
                osp.join(out, 'ndsm_dir', 'train', stem), cv2.IMREAD_UNCHANGED)
            assert ndsm.dtype == np.uint16
            # uint8 0 -> h = 0 (ground, PNG 32767); 255 -> h = 1 (65534).
            expect = np.where(np.arange(x, x + 32) >= 25, 65534, 32767)
            np.testing.assert_array_equal(ndsm, np.tile(expect, (32, 1)))
    # The padded patch: image 0, label 0 (ignore), nDSM 0 (invalid).
    stem = 'vaihingen_area2_0000_0000.png'
    ann = cv2.imread(osp.join(out, 'ann_dir', 'val', stem), 0)
    ndsm = cv2.imread(
        osp.join(out, 'ndsm_dir', 'val', stem), cv2.IMREAD_UNCHANGED)
    patch = cv2.imread(osp.join(out, 'img_dir', 'val', stem))
    assert (ann[30:] == 0).all() and (ann[:, 30:] == 0).all()
    assert (ndsm[30:] == 0).all() and (ndsm[:30, :30] > 0).all()
    np.testing.assert_array_equal(patch[:30, :30], imgs['area2'])
    assert (patch[30:] == 0).all()
    with open(osp.join(out, 'isprs_conversion.json')) as f:
        assert json.load(f)['ndsm_png'] == dict(scale=32767.0, offset=1.0)


def test_convert_potsdam_resamples_5cm_to_9cm(tmp_path):
    raw = str(tmp_path / 'raw')
    # 90x72 px at 5 cm -> 50x40 px at 9 cm; label bands of 18 rows (0.9 m)
    # become bands of 10 rows. nDSM: left 36 columns 51 (h = 0.2), right
    # 255 (h = 1).
    ndsm = np.full((90, 72), 51, dtype=np.uint8)
    ndsm[:, 36:] = 255
    files = dict(POTSDAM, ndsm=POTSDAM['ndsm'].replace('.jpg', '.tif'))
    _, img = write_tile(raw, files, '2_10', 90, 72, ndsm=ndsm, band=18)
    out = str(tmp_path / 'out')
    summary = converter.convert_isprs(
        raw,
        out,
        'potsdam',
        splits=dict(train=['2_10']),
        patch_size=32,
        progress=False)
    # 50 x 40 at 9 cm: rows 0, 16, 18; columns 0, 8.
    assert list_patches(out)['train'] == sorted(
        f'potsdam_2_10_{y:04d}_{x:04d}.png' for y in (0, 16, 18)
        for x in (0, 8))
    assert summary['num_patches'] == dict(train=6)
    with open(osp.join(out, '.converted', 'train', 'potsdam_2_10.json')) as f:
        assert json.load(f)['size'] == [50, 40]

    stem = 'potsdam_2_10_0016_0008.png'
    ann = cv2.imread(osp.join(out, 'ann_dir', 'train', stem), 0)
    rows = np.arange(16, 48)
    np.testing.assert_array_equal(ann[:, 0], (rows // 10) % 6 + 1)
    assert (ann == ann[:, :1]).all()
    patch = cv2.imread(osp.join(out, 'img_dir', 'train', stem))
    area = cv2.resize(img, (40, 50), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(patch, area[16:48, 8:40])
    ndsm = decode_ndsm_png(
        cv2.imread(
            osp.join(out, 'ndsm_dir', 'train', stem), cv2.IMREAD_UNCHANGED))
    # Bilinear: constant away from the step at 20 px (9 cm) = 1.8 m.
    np.testing.assert_allclose(ndsm[:, :10], 0.2, atol=3e-5)  # cols 8..17
    np.testing.assert_allclose(ndsm[:, 14:], 1.0, atol=3e-5)  # cols >= 22
    assert ((ndsm >= 0.2 - 1e-4) & (ndsm <= 1 + 1e-4)).all()


def test_resume_skips_finished_tiles(vaihingen_raw, tmp_path):
    raw, _ = vaihingen_raw
    out = str(tmp_path / 'out')
    kwargs = dict(splits=SPLITS, patch_size=32, progress=False)
    first = converter.convert_isprs(raw, out, 'vaihingen', **kwargs)
    assert sorted(first['converted']) == ['vaihingen_area1', 'vaihingen_area2']
    patch = osp.join(out, 'img_dir', 'train', 'vaihingen_area1_0000_0000.png')
    stamp = os.stat(patch).st_mtime_ns

    second = converter.convert_isprs(raw, out, 'vaihingen', **kwargs)
    assert second['converted'] == []
    assert sorted(second['skipped']) == first['converted']
    assert second['num_patches'] == first['num_patches']
    assert os.stat(patch).st_mtime_ns == stamp

    # An interrupted tile (no marker) is converted again, the other not.
    os.remove(osp.join(out, '.converted', 'val', 'vaihingen_area2.json'))
    third = converter.convert_isprs(raw, out, 'vaihingen', **kwargs)
    assert third['converted'] == ['vaihingen_area2']
    assert third['skipped'] == ['vaihingen_area1']
    # A finished tile whose patch went missing is converted again.
    os.remove(patch)
    assert converter.convert_isprs(
        raw, out, 'vaihingen', **kwargs)['converted'] == ['vaihingen_area1']
    assert osp.isfile(patch)

    # Other parameters: converted again, patches of the old grid removed.
    fourth = converter.convert_isprs(
        raw, out, 'vaihingen', splits=SPLITS, patch_size=40, progress=False)
    assert sorted(fourth['converted']) == sorted(first['converted'])
    assert list_patches(out)['train'] == [
        'vaihingen_area1_0000_0000.png', 'vaihingen_area1_0000_0010.png'
    ]
    assert list_patches(out, 'ndsm_dir') == list_patches(out)


def test_missing_files_are_named_before_anything_is_written(
        vaihingen_raw, tmp_path):
    raw, _ = vaihingen_raw
    label = osp.join(raw, 'ground_truth_COMPLETE', 'top_mosaic_09cm_area2.tif')
    os.remove(label)
    out = str(tmp_path / 'out')
    splits = dict(train=['area1', 'area9'], val=['area2'])
    with pytest.raises(FileNotFoundError) as e:
        converter.convert_isprs(
            raw, out, 'vaihingen', splits=splits, progress=False)
    msg = str(e.value)
    assert label in msg and 'area2 (val) label' in msg
    assert osp.join(raw, 'top', 'top_mosaic_09cm_area9.tif') in msg
    assert '4 raw ISPRS file(s) not found' in msg  # area9: 3, area2: 1
    # The nDSM names both alternative extensions it tried.
    assert 'dsm_09cm_matching_area9_normalized.jpg or' in msg
    assert not osp.exists(out)
    with pytest.raises(FileNotFoundError, match='raw root not found'):
        converter.check_isprs_tiles(
            str(tmp_path / 'nowhere'), 'vaihingen', SPLITS,
            dict(img='top/{id}.tif'))


def test_default_tile_lists_and_patterns(tmp_path):
    # The official contest split: 24 + 14 Potsdam, 16 + 17 Vaihingen tiles.
    assert [len(v)
            for v in converter.ISPRS_SPLITS['potsdam'].values()] == [24, 14]
    assert [len(v)
            for v in converter.ISPRS_SPLITS['vaihingen'].values()] == [16, 17]
    for city in ('potsdam', 'vaihingen'):
        tiles = [t for v in converter.ISPRS_SPLITS[city].values() for t in v]
        assert len(set(tiles)) == len(tiles)
    with pytest.raises(FileNotFoundError) as e:
        converter.convert_isprs(str(tmp_path), str(tmp_path / 'o'), 'potsdam')
    msg = str(e.value)
    assert '114 raw ISPRS file(s)' in msg  # 38 tiles x 3 files
    assert osp.join(
        str(tmp_path), '3_Ortho_IRRG', 'top_potsdam_2_10_IRRG.tif') in msg
    assert 'and 94 more' in msg  # the first 20 are listed
    assert 'dsm_potsdam_02_10_normalized_lastools.jpg' in msg
    with pytest.raises(ValueError, match='does not fit tile id'):
        converter.convert_isprs(
            str(tmp_path),
            str(tmp_path / 'o'),
            'potsdam',
            splits=dict(train=['area1']))


def test_cli(vaihingen_raw, tmp_path):
    raw, _ = vaihingen_raw
    out = str(tmp_path / 'cli')
    tool = osp.join(REPO_ROOT, 'tools', 'dataset_converters', 'isprs.py')
    argv = [
        tool, 'vaihingen', raw, '-o', out, '--train-tiles', 'area1',
        '--val-tiles', 'area2', '--patch-size', '32', '--no-ndsm'
    ]
    old_argv = sys.argv
    sys.argv = argv
    try:
        runpy.run_path(tool, run_name='__main__')
    finally:
        sys.argv = old_argv
    assert len(list_patches(out)['train']) == 6
    assert len(list_patches(out, 'ann_dir')['val']) == 1
    assert not osp.exists(osp.join(out, 'ndsm_dir'))


def test_end_to_end_on_generated_tiles(tmp_path):
    """Synthetic raw tiles -> converter with its default patterns."""
    from mmdepthseg.synthetic.aerial_scene import AerialScene
    from mmdepthseg.synthetic.writers import write_isprs
    tiles = dict(potsdam=dict(train=1), vaihingen=dict(train=1, val=1))
    summary = write_isprs(
        str(tmp_path / 'raw'), seed=1, tiles=tiles, tile_size=7.2)
    for city, info in summary['cities'].items():
        out = str(tmp_path / city)
        result = converter.convert_isprs(
            info['raw_root'],
            out,
            city,
            splits=info['splits'],
            patch_size=40,
            progress=False)
        # 7.2 m at 9 cm = 80 px for both cities: patches at 0, 20, 40.
        assert result['num_patches']['train'] == 9
        assert summary['cities'][city]['tile_shape'] == (
            [144, 144] if city == 'potsdam' else [80, 80])
    # Vaihingen is not resampled: the patches hold the rendered tile.
    tile_id = summary['cities']['vaihingen']['splits']['train'][0]
    rendered = AerialScene(
        **summary['scenes'][f'vaihingen_{tile_id}']).render()
    stem = f'vaihingen_{tile_id}_0020_0040.png'
    root = str(tmp_path / 'vaihingen')
    img = cv2.imread(osp.join(root, 'img_dir', 'train', stem))
    # Channels (IR, R, G) kept in the file's order through the TIFF.
    np.testing.assert_array_equal(img[..., ::-1], rendered['img'][20:60,
                                                                  40:80])
    ann = cv2.imread(osp.join(root, 'ann_dir', 'train', stem), 0)
    np.testing.assert_array_equal(ann, rendered['label'][20:60, 40:80] + 1)
    ndsm = decode_ndsm_png(
        cv2.imread(
            osp.join(root, 'ndsm_dir', 'train', stem), cv2.IMREAD_UNCHANGED))
    # Written with 0.1 m per grey level, normalised by / 255.
    expect = np.clip(np.rint(rendered['ndsm'][20:60, 40:80] / 0.1), 0,
                     255) / 255
    np.testing.assert_allclose(ndsm, expect, atol=3e-5)
