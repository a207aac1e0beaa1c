# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The synthetic aerial (ISPRS-style) generator and its raw-tile writer.

Heights are checked against the roof / crown formulas evaluated here from
the scene's object lists; the file formats (IRRG TIFF, colour labels,
8-bit nDSM) are decoded with plain OpenCV.
"""
import importlib.util
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmdepthseg.synthetic.aerial_scene import (CITY_STYLES,
                                               ISPRS_LABEL_COLOURS,
                                               AerialScene, labels_to_colours)
from mmdepthseg.synthetic.writers import SYNTHETIC_ISPRS_FILES, write_isprs

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
GSD = 0.2  # coarse rendering keeps the tests fast
# The ISPRS classes in training-label order (MMSegmentation's metainfo).
IMPERVIOUS, BUILDING, LOW_VEGETATION, TREE, CAR, CLUTTER = range(6)


@pytest.fixture(scope='module')
def scenes():
    """Three Potsdam-style and two Vaihingen-style 48 m tiles at 20 cm."""
    out = []
    for city, seeds in (('potsdam', (0, 1, 2)), ('vaihingen', (0, 1))):
        for seed in seeds:
            scene = AerialScene(seed=seed, size=(48.0, 48.0), city=city)
            out.append((scene, scene.render(gsd=GSD)))
    return out


def pixel_centres(shape, gsd):
    h, w = shape
    x = (np.arange(w) + 0.5) * gsd
    y = (np.arange(h) + 0.5) * gsd
    return np.meshgrid(x, y)


def local_coords(box, x, y):
    """Coordinates along (u) and across (v) the box's length axis."""
    c, s = np.cos(box.angle), np.sin(box.angle)
    return (x - box.cx) * c + (y - box.cy) * s, \
        -(x - box.cx) * s + (y - box.cy) * c


def test_deterministic_per_seed():
    a = AerialScene(seed=5, size=(20.0, 24.0), city='vaihingen').render()
    b = AerialScene(seed=5, size=(20.0, 24.0), city='vaihingen').render()
    c = AerialScene(seed=6, size=(20.0, 24.0), city='vaihingen').render()
    for key in ('img', 'label', 'ndsm'):
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.array_equal(a['label'], c['label'])
    # 20 x 24 m at Vaihingen's 9 cm.
    assert a['img'].shape == (222, 267, 3) and a['img'].dtype == np.uint8
    assert a['label'].shape == a['ndsm'].shape == (222, 267)
    assert a['ndsm'].dtype == np.float32 and a['gsd'] == 0.09


def test_building_pixels_have_the_roof_height(scenes):
    flat = gabled = 0
    for scene, out in scenes:
        x, y = pixel_centres(out['label'].shape, GSD)
        for box in scene.boxes:
            if box.label != BUILDING:
                continue
            u, v = local_coords(box, x, y)
            inside = (np.abs(u) < box.half_length - 1e-6) & (
                np.abs(v) < box.half_width - 1e-6)
            if not inside.any():
                continue
            # Flat roofs: the roof height; gabled: linear from the eaves
            # (|v| = half width) to the ridge (v = 0).
            roof = box.height + (box.ridge -
                                 box.height) * (1 - np.abs(v) / box.half_width)
            seen = inside & (out['label'] == BUILDING)
            np.testing.assert_allclose(
                out['ndsm'][seen], roof[seen], rtol=1e-5)
            # Where something else is seen, it is higher than the roof.
            hidden = inside & (out['label'] != BUILDING)
            assert (out['ndsm'][hidden] > roof[hidden]).all()
            if box.ridge == box.height:
                flat += 1
                assert (out['ndsm'][seen] == np.float32(box.height)).all()
            else:
                gabled += 1
                assert box.ridge > box.height
    assert flat > 0 and gabled > 0


def test_ground_is_zero_and_objects_stand_on_it(scenes):
    for scene, out in scenes:
        label, ndsm = out['label'], out['ndsm']
        ground = (label == IMPERVIOUS) | (label == LOW_VEGETATION)
        assert ground.mean() > 0.2
        assert (ndsm[ground] == 0).all()
        for cls in (BUILDING, TREE, CAR):
            assert (ndsm[label == cls] > 0).all()
        # Clutter: bare soil (0) or boxes (containers, bins) up to 2.6 m.
        assert (ndsm[label == CLUTTER] <= 2.6 + 1e-6).all()
        cars = [b for b in scene.boxes if b.label == CAR]
        assert cars and all(1.35 < b.height < 1.65 for b in cars)
        car_h = ndsm[label == CAR]
        assert ((car_h > 1.35) & (car_h < 1.65)).all()
        # Tree crowns: between the lowest crown base and the highest top.
        tree_h = ndsm[label == TREE]
        assert tree_h.min() >= min(c.base for c in scene.crowns) - 1e-5
        assert tree_h.max() <= max(c.top for c in scene.crowns) + 1e-5


def test_every_class_occurs(scenes):
    counts = np.zeros(6)
    for _, out in scenes:
        counts += np.bincount(out['label'].ravel(), minlength=6)
    assert (counts > 0).all()
    assert (counts / counts.sum() > 0.01).all()


def test_irrg_colours_vegetation_bright_in_infrared(scenes):
    for _, out in scenes:
        img = out['img'].astype(np.float64)  # (IR, R, G)
        label = out['label']
        veg = (label == LOW_VEGETATION) | (label == TREE)
        paved = label == IMPERVIOUS
        ir_minus_r = img[..., 0] - img[..., 1]
        # Grey surfaces reflect infrared about as red (up to the sensor's
        # colour balance), vegetation far more.
        assert ir_minus_r[veg].mean() > ir_minus_r[paved].mean() + 50
        assert img[veg, 0].mean() > img[paved, 0].mean()


def test_cities_differ_in_gsd_and_colour_balance():
    assert CITY_STYLES['potsdam'].gsd == 0.05
    assert CITY_STYLES['vaihingen'].gsd == 0.09
    means = {}
    for city in ('potsdam', 'vaihingen'):
        imgs, labels = [], []
        for seed in range(3):
            out = AerialScene(
                seed=seed, size=(30.0, 30.0), city=city).render(gsd=GSD)
            imgs.append(out['img'].reshape(-1, 3))
            labels.append(out['label'].ravel())
        img, label = np.concatenate(imgs), np.concatenate(labels)
        means[city] = img[label == IMPERVIOUS].mean(0)
    # Vaihingen's sensor: more infrared, less red and green, hazier.
    p, v = means['potsdam'], means['vaihingen']
    assert v[0] - v[2] > p[0] - p[2] + 10


def test_rendering_is_resolution_independent():
    """Pixel centres shared by two GSDs see the same surface."""
    scene = AerialScene(seed=3, size=(30.0, 30.0), city='potsdam')
    fine, coarse = scene.render(gsd=0.1), scene.render(gsd=0.3)
    assert fine['label'].shape == (300, 300)
    assert coarse['label'].shape == (100, 100)
    # coarse pixel r: centre (r + 0.5) 0.3 = (3r + 1.5) 0.1 -> fine 3r + 1
    same = fine['label'][1::3, 1::3] == coarse['label']
    assert same.mean() > 0.995
    np.testing.assert_allclose(
        fine['ndsm'][1::3, 1::3][same], coarse['ndsm'][same], atol=1e-4)


def test_labels_to_colours():
    label = np.array([[0, 1, 2], [3, 4, 5]], dtype=np.uint8)
    rgb = labels_to_colours(label)
    assert rgb.shape == (2, 3, 3) and rgb.dtype == np.uint8
    assert rgb.reshape(-1,
                       3).tolist() == [list(c) for c in ISPRS_LABEL_COLOURS]
    assert ISPRS_LABEL_COLOURS[BUILDING] == (0, 0, 255)
    assert ISPRS_LABEL_COLOURS[CLUTTER] == (255, 0, 0)
    # The generator's class ids and colours are the datasets' (and
    # MMSegmentation's PotsdamDataset's) classes and palette.
    from mmdepthseg.datasets.isprs import ISPRS_CLASSES, ISPRS_COLOURS
    from mmdepthseg.synthetic import aerial_scene
    assert ISPRS_LABEL_COLOURS == ISPRS_COLOURS
    assert aerial_scene.ISPRS_CLASS_NAMES == ISPRS_CLASSES
    assert (aerial_scene.IMPERVIOUS, aerial_scene.BUILDING,
            aerial_scene.LOW_VEGETATION, aerial_scene.TREE, aerial_scene.CAR,
            aerial_scene.CLUTTER) == (IMPERVIOUS, BUILDING, LOW_VEGETATION,
                                      TREE, CAR, CLUTTER)


def list_files(root):
    return sorted(
        osp.relpath(osp.join(d, f), root) for d, _, files in os.walk(root)
        for f in files)


def test_write_isprs_raw_tiles(tmp_path):
    tiles = dict(potsdam=dict(train=2, val=1), vaihingen=dict(train=1, val=1))
    root = str(tmp_path / 'a')
    summary = write_isprs(root, seed=2, tiles=tiles, tile_size=6.0)
    assert summary['cities']['potsdam']['splits'] == dict(
        train=['2_10', '2_11'], val=['3_10'])
    assert summary['cities']['vaihingen']['splits'] == dict(
        train=['area1'], val=['area2'])
    assert list_files(root) == sorted([
        'potsdam/3_Ortho_IRRG/top_potsdam_2_10_IRRG.tif',
        'potsdam/3_Ortho_IRRG/top_potsdam_2_11_IRRG.tif',
        'potsdam/3_Ortho_IRRG/top_potsdam_3_10_IRRG.tif',
        'potsdam/5_Labels_all/top_potsdam_2_10_label.tif',
        'potsdam/5_Labels_all/top_potsdam_2_11_label.tif',
        'potsdam/5_Labels_all/top_potsdam_3_10_label.tif',
        'potsdam/1_DSM_normalisation/'
        'dsm_potsdam_02_10_normalized_lastools.tif',
        'potsdam/1_DSM_normalisation/'
        'dsm_potsdam_02_11_normalized_lastools.tif',
        'potsdam/1_DSM_normalisation/'
        'dsm_potsdam_03_10_normalized_lastools.tif',
        'vaihingen/top/top_mosaic_09cm_area1.tif',
        'vaihingen/top/top_mosaic_09cm_area2.tif',
        'vaihingen/ground_truth_COMPLETE/top_mosaic_09cm_area1.tif',
        'vaihingen/ground_truth_COMPLETE/top_mosaic_09cm_area2.tif',
        'vaihingen/ndsm/dsm_09cm_matching_area1_normalized.tif',
        'vaihingen/ndsm/dsm_09cm_matching_area2_normalized.tif',
    ])
    assert set(SYNTHETIC_ISPRS_FILES) == {'potsdam', 'vaihingen'}
    # The files decode to the rendered tile: (IR, R, G), colours, 0.1 m.
    scene = AerialScene(**summary['scenes']['potsdam_2_11'])
    out = scene.render()
    assert out['label'].shape == (120, 120)  # 6 m at 5 cm
    img = cv2.imread(
        osp.join(root, 'potsdam/3_Ortho_IRRG/top_potsdam_2_11_IRRG.tif'))
    np.testing.assert_array_equal(img[..., ::-1], out['img'])
    label = cv2.imread(
        osp.join(root, 'potsdam/5_Labels_all/top_potsdam_2_11_label.tif'))
    np.testing.assert_array_equal(label[..., ::-1],
                                  labels_to_colours(out['label']))
    ndsm = cv2.imread(
        osp.join(
            root, 'potsdam/1_DSM_normalisation/'
            'dsm_potsdam_02_11_normalized_lastools.tif'), cv2.IMREAD_UNCHANGED)
    assert ndsm.dtype == np.uint8 and ndsm.ndim == 2
    np.testing.assert_array_equal(
        ndsm,
        np.clip(np.rint(out['ndsm'] / 0.1), 0, 255).astype(np.uint8))
    assert summary['cities']['vaihingen']['tile_shape'] == [67, 67]
    # Same seed, same bytes.
    again = str(tmp_path / 'b')
    write_isprs(again, seed=2, tiles=tiles, tile_size=6.0)
    for rel in list_files(root):
        with open(osp.join(root, rel), 'rb') as f1, \
                open(osp.join(again, rel), 'rb') as f2:
            assert f1.read() == f2.read(), rel
    with pytest.raises(ValueError, match='unknown city'):
        write_isprs(root, tiles=dict(berlin=dict(train=1)))


def test_make_synthetic_dataset_isprs_layout(tmp_path):
    spec = importlib.util.spec_from_file_location(
        'make_synthetic_dataset',
        osp.join(REPO, 'tools', 'misc', 'make_synthetic_dataset.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = str(tmp_path / 'isprs')
    summary = tool.main([
        '--layout', 'isprs', '--out', out, '--tile-size', '5.4',
        '--isprs-train-tiles', '1', '--isprs-val-tiles', '1', '--patch-size',
        '32'
    ])
    # 5.4 m at 9 cm = 60 px: patches at 0, 16 and 28 along each axis.
    assert summary['patches'] == dict(
        potsdam=dict(train=9, val=9), vaihingen=dict(train=9, val=9))
    for city in ('potsdam', 'vaihingen'):
        for folder in ('img_dir', 'ann_dir', 'ndsm_dir'):
            assert len(os.listdir(osp.join(out, city, folder, 'val'))) == 9
        assert osp.isdir(osp.join(out, 'raw', city))
