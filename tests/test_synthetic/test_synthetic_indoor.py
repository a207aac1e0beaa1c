# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The synthetic indoor generator and its NYUv2-layout writer.

Depths are checked against ray / plane distances worked out by hand or
recomputed here from the room's planes and the objects' boxes; the file
formats (uint16 millimetres, NYUv2-40 ids) are decoded with plain OpenCV.
"""
import importlib.util
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmdepthseg.datasets.nyu_depth import NYU40_CLASSES
from mmdepthseg.synthetic.indoor_scene import (NYU40_IDS, ROOM_TYPES,
                                               IndoorScene)
from mmdepthseg.synthetic.writers import nyu_intrinsics, write_nyu

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
WALL, FLOOR, CEILING = 1, 2, 22  # NYUv2-40 ids

# The Kinect colour camera of NYU Depth v2 at 640x480.
KINECT = np.array([[518.857901, 0, 325.582449], [0, 519.469611, 253.736166],
                   [0, 0, 1.0]])
H, W = 60, 80


def small_K():
    """The Kinect's intrinsics scaled to 80x60 (row 0 by 1/8, row 1 by
    1/8)."""
    return KINECT * np.array([[1 / 8], [1 / 8], [1]])


def list_files(root):
    return sorted(
        osp.relpath(osp.join(d, f), root) for d, _, files in os.walk(root)
        for f in files)


def world_rays(pose, K, v, u):
    """World directions (3, N) with camera z = 1 of pixels (u, v)."""
    rays = np.linalg.inv(K) @ np.stack([u, v, np.ones_like(u)]).astype(float)
    return pose[:3, :3] @ rays


@pytest.fixture(scope='module')
def scene():
    return IndoorScene(seed=3)


@pytest.fixture(scope='module')
def frames(scene):
    poses = scene.camera_poses(3)
    return poses, [scene.render(p, small_K(), H, W) for p in poses]


# ---------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------
def test_empty_room_depth_at_hand_picked_pixels():
    """Room 4 m wide, 5 m deep, 2.6 m high; camera 1.5 m above the floor
    at (x, z) = (0.5, 1), looking straight along +z; f = 40, principal
    point at pixel (32, 24) of a 64x48 image."""
    room = IndoorScene(seed=0, room_size=(4.0, 5.0, 2.6), furnish=False)
    pose = np.eye(4)
    pose[:3, 3] = (0.5, -1.5, 1.0)
    K = np.array([[40.0, 0, 32], [0, 40.0, 24], [0, 0, 1]])
    out = room.render(pose, K, 48, 64)
    depth, label = out['depth'], out['label']
    cases = {
        # (u, v): (depth, label)
        (32, 24): (5.0 - 1.0, WALL),  # optical axis -> front wall
        (32, 47): (1.5 / (23 / 40), FLOOR),  # floor ahead: 2.61 m < 4 m
        (32, 0): ((2.6 - 1.5) / (24 / 40), CEILING),  # 1.83 m
        (63, 24): ((2.0 - 0.5) / (31 / 40), WALL),  # right wall, 1.94 m
        (0, 24): ((2.0 + 0.5) / (32 / 40), WALL),  # left wall, 3.125 m
    }
    for (u, v), (d, lab) in cases.items():
        assert depth[v, u] == pytest.approx(d, rel=1e-6), (u, v)
        assert label[v, u] == lab, (u, v)
    assert depth.dtype == np.float32 and (depth > 0).all()
    assert set(np.unique(label).tolist()) == {WALL, FLOOR, CEILING}


def test_floor_and_ceiling_depth_are_the_plane_distances(scene, frames):
    poses, outs = frames
    seen = set()
    for pose, out in zip(poses, outs):
        for lab, plane_y in ((FLOOR, 0.0), (CEILING, -scene.room_height)):
            v, u = np.nonzero(out['label'] == lab)
            if not len(v):
                continue
            seen.add(lab)
            d = world_rays(pose, small_K(), v, u)
            t = (plane_y - pose[1, 3]) / d[1]
            np.testing.assert_allclose(out['depth'][v, u], t, rtol=1e-5)
            # floor below the horizon (rays point down, +y), ceiling above
            assert np.all(d[1] > 0) if lab == FLOOR else np.all(d[1] < 0)
    assert seen == {FLOOR, CEILING}


def test_every_hit_lies_on_a_surface_of_its_label(scene, frames):
    """Wall pixels lie on a wall plane; object pixels on the boundary of a
    box of their own label."""
    poses, outs = frames
    boxes = scene.boxes
    lo, hi = scene.room_min, scene.room_max
    for pose, out in zip(poses, outs):
        v, u = np.nonzero(np.ones((H, W), dtype=bool))
        p = pose[:3, 3:4] + world_rays(pose, small_K(), v, u) * \
            out['depth'][v, u].astype(np.float64)
        label = out['label'][v, u]
        wall = label == WALL
        to_wall = np.min(
            np.abs(np.stack([p[0] - lo[0], hi[0] - p[0], hi[2] - p[2], p[2]])),
            axis=0)
        assert np.all(to_wall[wall] < 1e-4)
        objects = ~np.isin(label, (WALL, FLOOR, CEILING))
        assert objects.mean() > 0.05
        on_box = np.zeros(p.shape[1], dtype=bool)
        for box in boxes:
            inside = np.all(
                (p >= box['bmin'][:, None] - 1e-4)
                & (p <= box['bmax'][:, None] + 1e-4),
                axis=0)
            on_face = np.any(
                (np.abs(p - box['bmin'][:, None]) < 1e-4)
                | (np.abs(p - box['bmax'][:, None]) < 1e-4),
                axis=0)
            on_box |= inside & on_face & (label == box['label'])
        assert np.all(on_box[objects])


def test_labels_are_nyu40_ids_of_the_scene(scene, frames):
    for name, idx in NYU40_IDS.items():
        assert NYU40_CLASSES[idx - 1] == name
    _, outs = frames
    present = set()
    for out in outs:
        present |= set(np.unique(out['label']).tolist())
    assert present <= set(scene.labels) <= set(range(1, 41))
    assert len(present - {WALL, FLOOR, CEILING}) >= 3  # furniture in view


def test_colours_are_anchored_in_the_world(scene):
    """A surface point has the same radiance from another camera (pixel
    filter off; a 1x1 camera whose pixel centre sees the same point)."""
    K = small_K()
    poses = scene.camera_poses(2)
    tgt = scene.render(poses[0], K, H, W, antialias=False)
    rng = np.random.default_rng(0)
    checked = 0
    for i in rng.choice(H * W, 40, replace=False):
        v, u = divmod(int(i), W)
        X = poses[0] @ np.append(
            tgt['depth'][v, u] * np.linalg.inv(K) @ (u, v, 1.0), 1.0)
        x_cam = np.linalg.solve(poses[1], X)[:3]
        if x_cam[2] <= 0.1:
            continue
        K1 = K.copy()
        K1[:2, 2] = -K[:2, :2] @ x_cam[:2] / x_cam[2]
        one = scene.render(poses[1], K1, 1, 1, antialias=False)
        if abs(one['depth'][0, 0] - x_cam[2]) > 1e-4 * x_cam[2]:
            continue  # occluded in the other view
        checked += 1
        assert one['label'][0, 0] == tgt['label'][v, u]
        diff = np.abs(one['img'][0, 0].astype(int) -
                      tgt['img'][v, u].astype(int))
        assert diff.max() <= 1
    assert checked > 15


def test_textures_carry_signal(frames):
    _, outs = frames
    grey = np.concatenate([o['img'].astype(float).mean(axis=2) for o in outs])
    label = np.concatenate([o['label'] for o in outs])
    for lab in (WALL, FLOOR):
        assert grey[label == lab].std() > 3, lab


# ---------------------------------------------------------------------------
# Determinism, room layout and cameras
# ---------------------------------------------------------------------------
def test_render_is_deterministic_for_a_seed(scene, frames):
    poses, outs = frames
    again = IndoorScene(seed=3).render(poses[1], small_K(), H, W)
    for key in ('img', 'depth', 'label'):
        assert again[key].tobytes() == outs[1][key].tobytes(), key
    other = IndoorScene(seed=4)
    assert other.camera_poses(1).tobytes() != poses[:1].tobytes()
    # a view does not depend on how many views are asked for
    np.testing.assert_array_equal(scene.camera_poses(5)[:3], poses)
    np.testing.assert_array_equal(scene.camera_poses(1, start=2)[0], poses[2])


def test_cameras_stand_free_and_never_see_the_back_wall():
    corners = np.array([[0, 0, 1], [639, 0, 1], [0, 479, 1], [639, 479, 1]],
                       dtype=float).T
    rays = np.linalg.inv(KINECT) @ corners
    types = set()
    for seed in range(24):
        room = IndoorScene(seed)
        types.add(room.room_type)
        for pose in room.camera_poses(6):
            c = pose[:3, 3]
            assert np.all((room.room_min < c) & (c < room.room_max))
            assert -1.65 <= c[1] <= -1.35  # standing height
            for box in room.boxes:
                # at least 0.3 m from every object's footprint
                gap = np.maximum(box['bmin'] - c, c - box['bmax'])[[0, 2]]
                assert gap.max() > 0.3
            assert np.all((pose[:3, :3] @ rays)[2] > 0)  # looks into the room
        for box in room.boxes:
            assert np.all(box['bmin'] >= room.room_min - 1e-9)
            assert np.all(box['bmax'] <= room.room_max + 1e-9)
    assert types == set(ROOM_TYPES)


def test_render_rejects_bad_cameras(scene):
    pose = scene.camera_poses(1)[0]
    outside = pose.copy()
    outside[2, 3] = -0.5  # behind the back wall
    with pytest.raises(ValueError, match='outside the room'):
        scene.render(outside, small_K(), 8, 8)
    box = scene.boxes[0]
    inside = pose.copy()
    inside[:3, 3] = (box['bmin'] + box['bmax']) / 2
    with pytest.raises(ValueError, match='inside object'):
        scene.render(inside, small_K(), 8, 8)
    with pytest.raises(ValueError, match='room_type'):
        IndoorScene(0, room_type='garage')


# ---------------------------------------------------------------------------
# NYUv2-layout writer and the command line
# ---------------------------------------------------------------------------
@pytest.fixture(scope='module')
def nyu(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('nyu'))
    summary = write_nyu(
        root,
        seed=0,
        rooms={
            'train': 1,
            'test': 1
        },
        views_per_room=2,
        height=H,
        width=W)
    return root, summary


def test_nyu_tree_names_and_formats(nyu):
    root, summary = nyu
    files = list_files(root)
    assert len(files) == 4 * 3
    assert not [f for f in files if '.tmp' in f]
    (train_room, ), (test_room, ) = [
        sorted({s[:-6]
                for s in summary['splits'][k]}) for k in ('train', 'test')
    ]
    assert train_room.endswith('_0001') and test_room.endswith('_0002')
    for split, stems in summary['splits'].items():
        assert len(stems) == 2
        for stem in stems:
            assert stem[:stem.index('_0')] in ROOM_TYPES
            assert f'images/{split}/{stem}.jpg' in files
            depth = cv2.imread(
                osp.join(root, 'annotations', split, stem + '.png'),
                cv2.IMREAD_UNCHANGED)
            label = cv2.imread(
                osp.join(root, 'labels40', split, stem + '.png'),
                cv2.IMREAD_UNCHANGED)
            img = cv2.imread(osp.join(root, 'images', split, stem + '.jpg'))
            assert depth.dtype == np.uint16 and depth.shape == (H, W)
            assert label.dtype == np.uint8 and label.shape == (H, W)
            assert img.shape == (H, W, 3)
    np.testing.assert_allclose(summary['K'], small_K())
    np.testing.assert_allclose(nyu_intrinsics(480, 640), KINECT)


def test_nyu_files_hold_the_rendered_depth_in_mm_and_labels(nyu):
    root, summary = nyu
    stem = summary['splits']['test'][1]
    room = IndoorScene(**summary['scenes'][stem[:-6]])
    pose = room.camera_poses(summary['views_per_room'])[1]
    truth = room.render(pose, small_K(), H, W)
    depth_mm = cv2.imread(
        osp.join(root, 'annotations', 'test', stem + '.png'),
        cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(depth_mm,
                                  np.rint(truth['depth'].astype(float) * 1000))
    label = cv2.imread(
        osp.join(root, 'labels40', 'test', stem + '.png'),
        cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(label, truth['label'])
    img = cv2.imread(osp.join(root, 'images', 'test', stem + '.jpg'))
    diff = np.abs(img[..., ::-1].astype(int) - truth['img'].astype(int))
    assert diff.mean() < 4  # JPEG quality 92


def test_nyu_writer_is_deterministic(nyu, tmp_path):
    root, summary = nyu
    again = write_nyu(
        str(tmp_path),
        seed=0,
        rooms={'train': 1},
        views_per_room=2,
        height=H,
        width=W)
    assert again['splits']['train'] == summary['splits']['train']
    for sub in ('images', 'annotations', 'labels40'):
        for name in os.listdir(osp.join(root, sub, 'train')):
            with open(osp.join(root, sub, 'train', name), 'rb') as f:
                a = f.read()
            with open(osp.join(str(tmp_path), sub, 'train', name), 'rb') as f:
                assert f.read() == a, name


def test_cli_writes_the_nyu_layout(tmp_path):
    spec = importlib.util.spec_from_file_location(
        'make_synthetic_dataset',
        osp.join(REPO, 'tools', 'misc', 'make_synthetic_dataset.py'))
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    out = str(tmp_path / 'nyu')
    summary = cli.main([
        '--layout', 'nyu', '--out', out, '--height', '96', '--width', '128',
        '--train-rooms', '1', '--test-rooms', '1', '--views-per-room', '2'
    ])
    assert (summary['height'], summary['width']) == (96, 128)
    images = [f for f in list_files(out) if f.startswith('images')]
    assert len(images) == 4 and all(f.endswith('.jpg') for f in images)
    img = cv2.imread(osp.join(out, images[0]))
    assert img.shape == (96, 128, 3)
    depth = cv2.imread(
        osp.join(
            out, images[0].replace('images',
                                   'annotations').replace('.jpg', '.png')),
        cv2.IMREAD_UNCHANGED)
    assert depth.dtype == np.uint16 and depth.shape == (96, 128)
    assert 300 < np.median(depth) < 10000  # millimetres
