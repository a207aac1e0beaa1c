# Copyright (c) mmdepthseg contributors. All rights reserved.
"""OwnVideoDataset: camera files, frame folders / videos, KITTI-raw
semantics of frame ids, undistortion."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmdepthseg.datasets import KittiRawDataset
from mmdepthseg.datasets.camera_files import read_camera_file
from mmdepthseg.datasets.utils import read_image
from mmdepthseg.datasets.video_frames import (FrameSource, read_uri,
                                              undistort_spec)
from mmdepthseg.registry import DATASETS
from mmdepthseg.synthetic.video import open_video_writer, write_street_video

H, W = 96, 320
# the camera of the hand-computed case, in pixels of the stored 320x96
# frames
FX, FY, CX, CY = 179.2, 179.2, 161.6, 47.04


def _noise_frames(folder, num, names=None, seed=0, size=(H, W)):
    rng = np.random.RandomState(seed)
    os.makedirs(folder, exist_ok=True)
    names = names or [f'{i:010d}.png' for i in range(num)]
    frames = []
    for name in names:
        img = cv2.GaussianBlur(
            rng.randint(0, 256, size + (3, ), dtype=np.uint8), (5, 5), 0)
        cv2.imwrite(osp.join(folder, name), img)
        frames.append(img)
    return frames


def _write(path, text):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)
    return path


def _sequence(root, name='seq', num=6, camera=None, names=None, right=False):
    seq = osp.join(root, name)
    _noise_frames(osp.join(seq, 'image_02'), num, names)
    if right:
        _noise_frames(osp.join(seq, 'image_03'), num, names, seed=1)
    if camera is not None:
        _write(osp.join(seq, 'intrinsics.json'), json.dumps(camera))
    return seq


def _pipeline(scale=(192, 64)):
    return [
        dict(type='LoadMultiViewImages'),
        dict(type='LoadDepthSegAnnotations'),
        dict(type='MultiViewResize', scale=scale, keep_ratio=False),
        dict(type='PackMultiViewInputs')
    ]


def _dataset(root, lines, **kwargs):
    _write(osp.join(root, 'splits', 'train_files.txt'), '\n'.join(lines))
    kwargs.setdefault('pipeline', _pipeline())
    return DATASETS.build(
        dict(
            type='OwnVideoDataset',
            data_root=root,
            split_file='splits/train_files.txt',
            **kwargs))


# ---------------------------------------------------------------------------
# Intrinsics: pixels and normalised, the same K at the network's input size
# ---------------------------------------------------------------------------
# 320x96 -> 192x64 (sx = 0.6, sy = 2/3), pixel centres at integers:
# fx' = 179.2 * 0.6, fy' = 179.2 * 2/3, cx' = (161.6 + 0.5) * 0.6 - 0.5,
# cy' = (47.04 + 0.5) * 2/3 - 0.5
K_INPUT = np.array([[107.52, 0, 96.76], [0, 119.466667, 31.193333], [0, 0, 1]])

CAMERAS = {
    'pixels':
    dict(fx=FX, fy=FY, cx=CX, cy=CY),
    'pixels_explicit_units_yaml':
    'fx: 179.2\nfy: 179.2\ncx: 161.6\n'
    'cy: 47.04\nunits: pixels\n',
    'normalised':
    dict(fx=FX / W, fy=FY / H, cx=CX / W, cy=CY / H),
    'normalised_K':
    dict(K=[[FX / W, 0, CX / W], [0, FY / H, CY / H], [0, 0, 1]]),
    # calibrated at twice the stored size: c_640 = (c_320 + 0.5) * 2 - 0.5
    'pixels_at_640x192':
    dict(
        fx=2 * FX,
        fy=2 * FY,
        cx=(CX + 0.5) * 2 - 0.5,
        cy=(CY + 0.5) * 2 - 0.5,
        width=640,
        height=192),
    # a ROS camera_info YAML
    'ros_yaml': ('image_width: 320\nimage_height: 96\ncamera_name: cam\n'
                 'camera_matrix:\n  rows: 3\n  cols: 3\n  data: [179.2, 0, '
                 '161.6, 0, 179.2, 47.04, 0, 0, 1]\ndistortion_model: '
                 'plumb_bob\ndistortion_coefficients:\n  rows: 1\n  cols: 5\n'
                 '  data: [0, 0, 0, 0, 0]\n'),
}


@pytest.mark.parametrize('kind', sorted(CAMERAS))
def test_pixel_and_normalised_intrinsics_agree_at_input_size(tmp_path, kind):
    root = str(tmp_path)
    seq = _sequence(root)
    camera = CAMERAS[kind]
    if isinstance(camera, str):
        _write(osp.join(seq, 'intrinsics.yaml'), camera)
    else:
        _write(osp.join(seq, 'intrinsics.json'), json.dumps(camera))
    ds = _dataset(root, ['seq 1 l'])
    meta = ds[0]['data_samples'].metainfo
    np.testing.assert_allclose(meta['intrinsics'], K_INPUT, atol=1e-4)


def test_normalised_intrinsics_travel_normalised(tmp_path):
    root = str(tmp_path)
    _sequence(root, camera=CAMERAS['normalised'])
    info = _dataset(root, ['seq 1 l']).get_data_info(0)
    assert info['intrinsics_normalised'] is True
    np.testing.assert_allclose(info['intrinsics'][0], [0.56, 0, 0.505])


def test_opencv_calibration_yaml(tmp_path):
    """The YAML OpenCV's calibration sample writes (!!opencv-matrix)."""
    path = str(tmp_path / 'cam.yaml')
    fs = cv2.FileStorage(path, cv2.FILE_STORAGE_WRITE)
    fs.write('image_width', 320)
    fs.write('image_height', 96)
    fs.write('camera_matrix',
             np.array([[FX, 0, CX], [0, FY, CY], [0, 0, 1]], np.float64))
    fs.write('distortion_coefficients',
             np.array([[-0.1, 0.01, 0.001, 0.002, 0.0]], np.float64))
    fs.release()
    cam = read_camera_file(path)
    assert not cam.normalised and cam.size == (320, 96)
    np.testing.assert_allclose(cam.K, [[FX, 0, CX], [0, FY, CY], [0, 0, 1]])
    np.testing.assert_allclose(cam.distortion, [-0.1, 0.01, 0.001, 0.002, 0])


# ---------------------------------------------------------------------------
# Missing and malformed camera files: clear errors naming the file
# ---------------------------------------------------------------------------
def test_missing_camera_file_names_the_paths_tried(tmp_path):
    root = str(tmp_path)
    seq = _sequence(root)
    with pytest.raises(FileNotFoundError) as e:
        _dataset(root, ['seq 1 l'])
    assert osp.join(seq, 'intrinsics.json') in str(e.value)
    assert osp.join(seq, 'intrinsics.yaml') in str(e.value)
    with pytest.raises(FileNotFoundError, match='elsewhere.json'):
        _dataset(root, ['seq 1 l'], intrinsics_file='elsewhere.json')


@pytest.mark.parametrize(
    'text, words',
    [
        ('{"fx": 179.2, "fy": 179.2, "cx": 161.6', 'cannot parse'),
        ('{"fx": 179.2, "cx": 161.6, "cy": 47.04}', 'missing fy'),
        ('{"fx": -1, "fy": 179.2, "cx": 161.6, "cy": 47.04}', 'must be > 0'),
        ('{"fx": "a", "fy": 179.2, "cx": 161.6, "cy": 47.04}', 'fx must'),
        # pixel focal lengths with a normalised principal point
        ('{"fx": 179.2, "fy": 179.2, "cx": 0.5, "cy": 0.5}', 'units'),
        ('{"fx": 179.2, "fy": 179.2, "cx": 161.6, "cy": 47.04, '
         '"distortion": [0.1, 0.2, 0.3]}', 'distortion must hold 4 or 5'),
        ('{"K": [1, 2, 3], "fx": 1}', 'K must hold 9'),
        ('{"fx": 179.2, "fy": 179.2, "cx": 161.6, "cy": 47.04, "width": '
         '100, "height": 96}', 'outside'),
        ('[1, 2, 3]', 'expected a mapping'),
    ])
def test_malformed_camera_file_is_a_clear_error(tmp_path, text, words):
    root = str(tmp_path)
    seq = _sequence(root)
    path = _write(osp.join(seq, 'intrinsics.json'), text)
    with pytest.raises(ValueError) as e:
        _dataset(root, ['seq 1 l'])
    assert path in str(e.value) and words in str(e.value)


# ---------------------------------------------------------------------------
# Frame ids, neighbours, stereo partner: exactly KittiRawDataset's
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('frame_ids', [(0, ), (0, -1, 1), (0, 's'),
                                       (0, -1, 1, 's'), (0, 2, -2)])
def test_same_samples_as_kitti_raw(kitti_root, tmp_path, frame_ids):
    """An own-video tree linking a KITTI drive's frames gives the same
    samples, views, names, drops and stereo transform."""
    drive = osp.join(kitti_root, '2011_09_26', '2011_09_26_drive_0001_sync')
    root = str(tmp_path / 'own')
    seq = osp.join(root, 'drive')
    os.makedirs(seq)
    for cam in (2, 3):
        os.symlink(
            osp.join(drive, f'image_0{cam}', 'data'),
            osp.join(seq, f'image_0{cam}'))
    _write(
        osp.join(seq, 'intrinsics.json'),
        json.dumps(dict(fx=0.58, fy=1.92, cx=0.5, cy=0.5, baseline=0.1)))
    with open(osp.join(kitti_root, 'splits', 'train.txt')) as f:
        kitti_lines = f.read().split('\n')
    own_lines = [
        line.replace('2011_09_26/2011_09_26_drive_0001_sync', 'drive')
        for line in kitti_lines if line
    ]
    kitti = KittiRawDataset(
        split_file='splits/train.txt',
        data_root=kitti_root,
        frame_ids=frame_ids)
    own = _dataset(root, own_lines, frame_ids=frame_ids, pipeline=[])
    assert len(own) == len(kitti) > 0
    for i in range(len(own)):
        a, b = kitti.get_data_info(i), own.get_data_info(i)
        for key in ('view_names', 'frame_index', 'side',
                    'intrinsics_normalised', 'baseline'):
            assert a.get(key) == b.get(key), key
        np.testing.assert_allclose(a['intrinsics'], b['intrinsics'])
        if 'stereo_T' in a:
            np.testing.assert_array_equal(a['stereo_T'], b['stereo_T'])
        # the same frames of the same cameras
        assert [p.split('/image_0')[1][0] for p in a['img_paths']] == \
            [p.split('/image_0')[1][0] for p in b['img_paths']]
        assert [osp.basename(p) for p in a['img_paths']] == \
            [osp.basename(p) for p in b['img_paths']]


def test_frames_are_indexed_in_natural_order(tmp_path):
    root = str(tmp_path)
    names = [f'frame_{i}.jpg' for i in (1, 2, 10, 11, 9)]
    _sequence(root, names=names, camera=CAMERAS['pixels'])
    info = _dataset(root, ['seq 2 l'], frame_ids=(0, -1, 1)).get_data_info(0)
    assert [osp.basename(p) for p in info['img_paths']] == \
        ['frame_9.jpg', 'frame_2.jpg', 'frame_10.jpg']


def test_stereo_needs_a_right_camera_and_a_baseline(tmp_path):
    root = str(tmp_path)
    seq = _sequence(root, camera=CAMERAS['pixels'])
    with pytest.raises(FileNotFoundError, match='image_03'):
        _dataset(root, ['seq 1 l'], frame_ids=(0, 's'))
    _noise_frames(osp.join(seq, 'image_03'), 6, seed=3)
    with pytest.raises(ValueError, match='baseline') as e:
        _dataset(root, ['seq 1 l'], frame_ids=(0, 's'))
    assert osp.join(seq, 'intrinsics.json') in str(e.value)
    info = _dataset(
        root, ['seq 1 l', 'seq 1 r'], frame_ids=(0, 's'),
        baseline=0.3).get_data_info(1)
    assert info['view_names'] == ('r', 'l')
    assert info['img_paths'][0].endswith('image_03/0000000001.png')
    assert info['stereo_T'][0, 3] == pytest.approx(0.3)


def test_labels_pseudo_depth_and_depth_follow_frame_names(tmp_path):
    root = str(tmp_path)
    seq = _sequence(
        root,
        names=[f'f{i}.jpg' for i in range(4)],
        camera=dict(CAMERAS['pixels'], baseline=0.5),
        right=True)
    for tree, value, dtype in (('semantic_02', 7, np.uint8), ('depth_02', 2560,
                                                              np.uint16)):
        os.makedirs(osp.join(seq, tree))
        cv2.imwrite(
            osp.join(seq, tree, 'f2.png'), np.full((H, W), value, dtype))
    ds = _dataset(
        root, ['seq 2 l'],
        frame_ids=(0, 's'),
        seg_dir='semantic_{cam:02d}',
        depth_dir='depth_{cam:02d}',
        depth_scale=256,
        pseudo_depth_dir='pseudo_depth_{cam:02d}',
        pseudo_conf_dir='pseudo_conf_{cam:02d}',
        pipeline=[
            dict(type='LoadMultiViewImages'),
            dict(type='LoadDepthSegAnnotations')
        ])
    info = ds.get_data_info(0)
    assert info['pseudo_depth_paths'] == [
        osp.join(seq, 'pseudo_depth_02', 'f2.png'),
        osp.join(seq, 'pseudo_depth_03', 'f2.png')
    ]
    out = ds[0]
    assert out['gt_seg_map'].shape == (1, H, W)
    assert (out['gt_seg_map'] == 7).all()
    np.testing.assert_allclose(out['gt_depth_map'], 10.0)
    with pytest.raises(FileNotFoundError, match='semantic_02'):
        _dataset(root, ['seq 1 l'], seg_dir='semantic_{cam:02d}')


# ---------------------------------------------------------------------------
# Videos read directly, undistortion
# ---------------------------------------------------------------------------
def test_video_frames_read_directly_in_any_order(tmp_path):
    root = str(tmp_path)
    seq = osp.join(root, 'seq')
    frames = _noise_frames(str(tmp_path / 'src'), 12)
    os.makedirs(seq)
    writer, path = open_video_writer(osp.join(seq, 'image_02'), 10, W, H)
    for f in frames:
        writer.write(f)
    writer.release()
    assert path.endswith('.mp4')  # mp4v works with this OpenCV
    _write(osp.join(seq, 'intrinsics.json'), json.dumps(CAMERAS['pixels']))
    capture = cv2.VideoCapture(path)
    decoded = [capture.read()[1] for _ in range(12)]
    capture.release()
    ds = _dataset(
        root, [f'seq {i} l' for i in (11, 3, 4, 0, 8)],
        frame_ids=(0, -1, 1),
        pipeline=[dict(type='LoadMultiViewImages')])
    assert len(ds) == 3  # frames 0 and 11 lack a neighbour
    for i, ref in enumerate((3, 4, 8)):
        out = ds[i]
        assert out['img_paths'][0].startswith('ownvideo://')
        for v, index in enumerate((ref, ref - 1, ref + 1)):
            np.testing.assert_array_equal(out['img'][..., 3 * v:3 * v + 3],
                                          decoded[index])
    # mp4v is lossy but close to the source frames
    assert np.abs(decoded[5].astype(float) - frames[5]).mean() < 8


def test_distorted_frames_are_undistorted_while_loading(tmp_path):
    root = str(tmp_path)
    dist = [-0.25, 0.08, 0.001, -0.002, 0.0]
    seq = _sequence(
        root, camera=dict(CAMERAS['pixels'], distortion=dist), num=3)
    # 8 px blocks of 0 and 200: any blend would give other values
    yy, xx = np.mgrid[0:H, 0:W]
    seg = np.where((yy // 8 + xx // 8) % 2 == 0, 0, 200).astype(np.uint8)
    os.makedirs(osp.join(seq, 'semantic_02'))
    cv2.imwrite(osp.join(seq, 'semantic_02', '0000000001.png'), seg)
    ds = _dataset(
        root, ['seq 1 l'],
        seg_dir='semantic_{cam:02d}',
        pipeline=[
            dict(type='LoadMultiViewImages'),
            dict(type='LoadDepthSegAnnotations')
        ])
    k = np.array([[FX, 0, CX], [0, FY, CY], [0, 0, 1]])
    new_k, _ = cv2.getOptimalNewCameraMatrix(k, np.array(dist), (W, H), 0,
                                             (W, H))
    info = ds.get_data_info(0)
    assert info['intrinsics_normalised'] is False
    np.testing.assert_allclose(info['intrinsics'], new_k, rtol=1e-6)
    out = ds[0]
    raw = cv2.imread(osp.join(seq, 'image_02', '0000000001.png'))
    expected = cv2.undistort(raw, k, np.array(dist), None, new_k)
    diff = np.abs(out['img'].astype(int) - expected)
    assert diff.mean() < 1.0 and np.median(diff) == 0
    # labels: nearest neighbour (only values of the map, no blends)
    assert set(np.unique(out['gt_seg_map'])) == {0, 200}
    assert np.abs(out['img'].astype(int) - raw).mean() > 5  # it moved


def test_uri_round_trip_and_exists(tmp_path):
    frames = _noise_frames(str(tmp_path / 'f'), 3)
    src = FrameSource(str(tmp_path / 'f'))
    assert src.uri(1) == str(tmp_path / 'f' / '0000000001.png')
    k = np.array([[FX, 0, CX], [0, FY, CY], [0, 0, 1]])
    spec = undistort_spec(k, np.zeros(5), k)
    uri = src.uri(2, spec)
    assert uri.startswith('ownvideo://') and osp.basename(uri) == \
        '0000000002.png'
    # zero distortion, same camera: the identity remap
    np.testing.assert_array_equal(read_uri(uri), frames[2])
    np.testing.assert_array_equal(read_image(uri), frames[2])
    with pytest.raises(FileNotFoundError, match='0000000009.png'):
        read_image(src.uri(2, spec).replace('0000000002', '0000000009'))


def test_synthetic_footage_has_a_still_stretch(tmp_path):
    out = write_street_video(
        str(tmp_path), num_frames=8, still=((3, 2), ), height=32, width=96)
    assert out['still_pairs'] == [2, 3]
    assert out['video'].endswith('.mp4')
    capture = cv2.VideoCapture(out['video'])
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 8
    capture.release()
    frames = [
        cv2.imread(osp.join(out['frames_dir'], f'frame_{i + 1:06d}.png'))
        for i in range(8)
    ]
    # frames 2..4 share a pose: they differ by sensor noise only
    still = np.abs(frames[3].astype(float) - frames[2]).mean()
    moving = np.abs(frames[2].astype(float) - frames[1]).mean()
    assert still < 3 < moving
    assert read_camera_file(out['camera_file']).size == (96, 32)


def test_stereo_pairs_write_pseudo_labels_where_the_dataset_reads(tmp_path):
    from mmdepthseg.datasets.own_video import list_own_video_stereo_pairs
    root = str(tmp_path)
    seq = _sequence(
        root,
        names=[f'left_{i}.png' for i in range(4)],
        camera=dict(CAMERAS['normalised'], baseline=0.5))
    _noise_frames(
        osp.join(seq, 'image_03'), 4, [f'right_{i}.png' for i in range(4)])
    pairs = list_own_video_stereo_pairs(root)
    assert len(pairs) == 4
    # fx in pixels of the stored frames (normalised 0.56 x 320) x baseline
    assert pairs[2]['fx_baseline'] == pytest.approx(FX * 0.5)
    ds = _dataset(
        root, ['seq 2 l', 'seq 2 r'],
        frame_ids=(0, 's'),
        pseudo_depth_dir='pseudo_depth_{cam:02d}',
        pseudo_conf_dir='pseudo_conf_{cam:02d}')
    outputs = pairs[2]['outputs']
    assert ds.get_data_info(0)['pseudo_depth_paths'] == [
        outputs['depth_left'], outputs['depth_right']
    ]
    assert ds.get_data_info(1)['pseudo_conf_paths'] == [
        outputs['conf_right'], outputs['conf_left']
    ]
    assert osp.basename(outputs['depth_right']) == 'right_2.png'


def test_browse_dataset_prints_intrinsics_at_input_size(tmp_path, capsys):
    """The check of docs/en/own_video.md, section 4."""
    import runpy
    root = str(tmp_path / 'my_video')
    seq = _sequence(root, camera=CAMERAS['pixels'])
    os.makedirs(osp.join(seq, 'semantic_02'))
    for i in range(6):
        cv2.imwrite(
            osp.join(seq, 'semantic_02', f'{i:010d}.png'),
            np.zeros((H, W), np.uint8))
    _write(osp.join(root, 'splits', 'train_files.txt'), 'seq 2 l\n')
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    status = runpy.run_path(
        osp.join(repo, 'tools', 'misc', 'browse_dataset.py'))['main']([
            osp.join(repo, 'configs', 'fsre',
                     'fsre_r18_own-video.py'), '--data-root', root,
            '--not-show', '--max-samples', '1', '--output-dir',
            str(tmp_path / 'browse')
        ])
    assert status == 0
    text = capsys.readouterr().out
    assert "view_names: ('t', 't-1', 't+1')" in text
    rows = text.split('intrinsics (3x3, pixels of the inputs):')[1]
    k = np.array([[float(v) for v in line.strip(' []').split()]
                  for line in rows.strip().splitlines()[:3]])
    # 320x96 -> 640x192: f' = 2 f, c' = (c + 0.5) * 2 - 0.5; a random flip
    # mirrors cx to 639 - cx
    np.testing.assert_allclose(
        k[[0, 1, 1], [0, 1, 2]], [358.4, 358.4, 94.58], atol=0.01)
    assert min(abs(k[0, 2] - 323.7), abs(k[0, 2] - 315.3)) < 0.01
