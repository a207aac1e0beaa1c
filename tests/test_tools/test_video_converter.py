# Copyright (c) mmdepthseg contributors. All rights reserved.
"""tools/dataset_converters/video.py: import, motion test, split files,
resuming; pseudo labels for the imported frames."""
import glob
import json
import os
import os.path as osp
import runpy

import cv2
import numpy as np
import pytest
from _helpers import REPO_ROOT
from mmengine.config import Config

import mmdepthseg.converters.video_motion as video_motion
from mmdepthseg.converters.video import prepare_own_video
from mmdepthseg.converters.video_motion import (median_flow, motion_image,
                                                select_samples,
                                                split_train_val)
from mmdepthseg.datasets.camera_files import read_camera_file
from mmdepthseg.registry import DATASETS
from mmdepthseg.synthetic.video import write_street_video

TOOL = osp.join(REPO_ROOT, 'tools', 'dataset_converters', 'video.py')
H, W = 48, 160


def _tool_main(argv):
    return runpy.run_path(TOOL)['main'](argv)


def _lines(path):
    with open(path) as f:
        return [line.split() for line in f.read().splitlines() if line]


@pytest.fixture(scope='module')
def footage(tmp_path_factory):
    """24 frames at 48x160; the camera stands still from frame 7 to 12
    (pairs 7..11 have no motion)."""
    root = str(tmp_path_factory.mktemp('footage'))
    return write_street_video(
        root, num_frames=24, still=((8, 5), ), height=H, width=W)


# ---------------------------------------------------------------------------
# The motion test and the sample selection (hand-computed cases)
# ---------------------------------------------------------------------------
def test_median_flow_measures_a_shift_in_pixels():
    rng = np.random.RandomState(0)
    texture = cv2.GaussianBlur(
        rng.randint(0, 256, (120, 300), dtype=np.uint8), (0, 0), 2)
    a = texture[20:100, 20:276]
    b = texture[20:100, 17:273]  # the content moved 3 px to the right
    assert motion_image(a).shape == (80, 256)
    assert median_flow(a, b) == pytest.approx(3.0, abs=0.15)
    noisy = np.clip(a + rng.normal(0, 2, a.shape), 0, 255).astype(np.uint8)
    assert median_flow(a, noisy) < 0.1


def test_select_samples_drops_ends_and_still_neighbours():
    motion = {1: [5.0] * 9}
    motion[1][3] = motion[1][4] = 0.01  # pairs (3, 4) and (4, 5) still
    kept, ends, still = select_samples(10, (0, -1, 1), motion, 0.5)
    assert ends == [0, 9]
    assert still == [3, 4, 5]
    assert kept == [1, 2, 6, 7, 8]
    # frame ids +-2: pairs (t, t + 2); only its own offset matters
    motion = {2: [5.0] * 8}
    motion[2][4] = 0.0  # pair (4, 6)
    kept, ends, still = select_samples(10, (0, -2, 2), motion, 0.5)
    assert ends == [0, 1, 8, 9] and still == [4, 6]
    # stereo only: no neighbours, no motion test
    assert select_samples(4, (0, 's'), {}, 0.5) == ([0, 1, 2, 3], [], [])


def test_validation_tail_shares_no_frame_with_training():
    train, val, gap = split_train_val(list(range(1, 21)), 0.2, 1)
    assert val == [17, 18, 19, 20]
    assert train == list(range(1, 15)) and gap == 2  # 15, 16 use 16, 17


# ---------------------------------------------------------------------------
# The tool on generated footage
# ---------------------------------------------------------------------------
def test_video_to_splits_drops_the_still_stretch(footage, tmp_path):
    out = str(tmp_path / 'ds')
    summary = _tool_main([
        footage['video'], '--out-dir', out, '--val-fraction', '0',
        '--no-progress'
    ])
    stats = summary['sequences']['drive']
    # frames 7..12 share a pose: samples 7..12 have a still neighbour;
    # 0 and 23 lack one
    assert footage['still_pairs'] == [7, 8, 9, 10, 11]
    assert (stats['frames'], stats['dropped_end'], stats['dropped_still'],
            stats['train']) == (24, 2, 6, 16)
    expected = [i for i in range(1, 23) if not 7 <= i <= 12]
    assert _lines(summary['train_file']) == [['drive', str(i), 'l']
                                             for i in expected]
    assert _lines(summary['val_file']) == []
    frames = sorted(os.listdir(osp.join(out, 'drive', 'image_02')))
    assert frames == [f'{i:010d}.jpg' for i in range(24)]
    # the camera file of the video (beside it) describes the stored frames
    cam = read_camera_file(osp.join(out, 'drive', 'intrinsics.json'))
    np.testing.assert_allclose(cam.K, footage['K'])
    assert cam.size == (W, H)
    assert not glob.glob(osp.join(out, '**', '*.tmp'), recursive=True)
    with open(osp.join(out, 'splits', 'summary.json')) as f:
        assert json.load(f)['sequences']['drive'] == stats
    ds = DATASETS.build(
        dict(
            type='OwnVideoDataset',
            data_root=out,
            split_file='splits/train_files.txt',
            frame_ids=(0, -1, 1)))
    assert len(ds) == 16


def test_rerun_reuses_frames_and_motion(footage, tmp_path, monkeypatch):
    out = str(tmp_path / 'ds')
    args = [footage['video'], '--out-dir', out, '--no-progress']
    first = _tool_main(args)
    frame = osp.join(out, 'drive', 'image_02', '0000000005.jpg')
    stamp = os.stat(frame).st_mtime_ns

    def no_decoding(*args, **kwargs):
        raise AssertionError('motion measured again')

    monkeypatch.setattr(video_motion, 'compute_motion', no_decoding)
    again = _tool_main(args + ['--val-fraction', '0.25'])
    assert os.stat(frame).st_mtime_ns == stamp
    # 16 samples: 2 (round(1.6)) then 4 held out, 2 dropped between
    assert (first['num_train'], first['num_val']) == (12, 2)
    assert (again['num_train'], again['num_val']) == (10, 4)
    # an interrupted import: the marker says unfinished, frames missing
    marker = osp.join(out, 'drive', '.import_02.json')
    with open(marker) as f:
        settings = json.load(f)['settings']
    with open(marker, 'w') as f:
        json.dump(dict(settings=settings, done=False), f)
    os.remove(osp.join(out, 'drive', 'image_02', '0000000020.jpg'))
    monkeypatch.undo()
    _tool_main(args)
    assert os.stat(frame).st_mtime_ns == stamp  # kept
    assert osp.isfile(osp.join(out, 'drive', 'image_02', '0000000020.jpg'))
    # other settings into the same folder are refused
    with pytest.raises(ValueError, match='other settings'):
        _tool_main(args + ['--stride', '2'])


def test_stride_and_target_fps_pick_the_same_frames(footage, tmp_path):
    by_stride = str(tmp_path / 'stride')
    by_fps = str(tmp_path / 'fps')
    _tool_main([
        footage['video'], '--out-dir', by_stride, '--stride', '2',
        '--no-progress', '--ext', '.png'
    ])
    _tool_main([
        footage['video'], '--out-dir', by_fps, '--fps', '5', '--no-progress',
        '--ext', '.png'
    ])  # the video runs at 10 fps
    names = sorted(os.listdir(osp.join(by_stride, 'drive', 'image_02')))
    assert names == [f'{i:010d}.png' for i in range(12)]
    capture = cv2.VideoCapture(footage['video'])
    decoded = [capture.read()[1] for _ in range(24)]
    for k, name in enumerate(names):
        a = cv2.imread(osp.join(by_stride, 'drive', 'image_02', name))
        b = cv2.imread(osp.join(by_fps, 'drive', 'image_02', name))
        np.testing.assert_array_equal(a, decoded[2 * k])
        np.testing.assert_array_equal(a, b)


def test_frame_folder_input_and_missing_camera_file(footage, tmp_path):
    out = str(tmp_path / 'ds')
    summary = prepare_own_video([footage['frames_dir']],
                                out,
                                progress=False,
                                ext='.png')
    assert summary['sequences']['drive']['frames'] == 24
    # frames keep their bytes (PNG in, PNG out), in natural order
    src = cv2.imread(osp.join(footage['frames_dir'], 'frame_000011.png'))
    dst = cv2.imread(osp.join(out, 'drive', 'image_02', '0000000010.png'))
    np.testing.assert_array_equal(src, dst)
    bare = tmp_path / 'bare.mp4'
    bare.write_bytes(open(footage['video'], 'rb').read())
    with pytest.raises(FileNotFoundError, match=str(tmp_path / 'bare.json')):
        prepare_own_video([str(bare)], str(tmp_path / 'x'), progress=False)


def test_undistorting_import_writes_the_new_camera(footage, tmp_path):
    dist = [-0.2, 0.05, 0.0, 0.0, 0.0]
    k = np.array(footage['K'])
    text = dict(
        fx=k[0, 0], fy=k[1, 1], cx=k[0, 2], cy=k[1, 2], distortion=dist)
    cam_path = tmp_path / 'cam.json'
    cam_path.write_text(json.dumps(text))
    out = str(tmp_path / 'ds')
    prepare_own_video([footage['frames_dir']],
                      out,
                      progress=False,
                      intrinsics=str(cam_path),
                      undistort=True,
                      ext='.png')
    new_k, _ = cv2.getOptimalNewCameraMatrix(k, np.array(dist), (W, H), 0,
                                             (W, H))
    written = read_camera_file(osp.join(out, 'drive', 'intrinsics.json'))
    assert written.distortion is None
    np.testing.assert_allclose(written.K, new_k, rtol=1e-9)
    raw = cv2.imread(osp.join(footage['frames_dir'], 'frame_000004.png'))
    got = cv2.imread(osp.join(out, 'drive', 'image_02', '0000000003.png'))
    expected = cv2.undistort(raw, k, np.array(dist), None, new_k)
    assert np.abs(got.astype(int) - expected).mean() < 1.0


def test_splits_in_place_for_videos_read_directly(tmp_path):
    root = str(tmp_path)
    write_street_video(
        root,
        name='seq',
        num_frames=10,
        still=((4, 2), ),
        height=H,
        width=W,
        layout='dataset',
        write_frames=False)
    assert osp.isfile(osp.join(root, 'seq', 'image_02.mp4'))
    summary = _tool_main([
        '--out-dir', root, '--frame-ids', '0', '-2', '2', '--val-fraction',
        '0', '--no-progress'
    ])
    # pairs (t, t + 2) without motion: frames 3..5 share a pose -> (3, 5)
    stats = summary['sequences']['seq']
    assert (stats['dropped_end'], stats['dropped_still']) == (4, 2)
    assert [int(x[1]) for x in _lines(summary['train_file'])] == \
        [2, 4, 6, 7]  # t = 3 and 5 have the still pair (3, 5)
    with pytest.raises(ValueError, match='frame-ids'):
        _tool_main(['--out-dir', root, '--stride', '2', '--no-progress'])


# ---------------------------------------------------------------------------
# Pseudo labels for the imported frames (the documented commands)
# ---------------------------------------------------------------------------
def test_pseudo_seg_lands_where_the_dataset_reads_it(footage, tmp_path):
    from mmdepthseg.apis import generate_pseudo_seg, init_segmentor
    out = str(tmp_path / 'ds')
    prepare_own_video([footage['video']], out, progress=False)
    # mmdepthseg's baseline segmentor, segmentation only, thin decoder
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', '_base_', 'models',
                 'baseline_r18_unet.py'))
    cfg.default_scope = 'mmdepthseg'
    cfg.model.depth_head = None
    cfg.model.seg_head.decoder_channels = (16, 16, 16, 16, 16)
    cfg.test_pipeline = [
        dict(type='LoadMultiViewImages'),
        dict(type='PackMultiViewInputs')
    ]
    model = init_segmentor(cfg, None)
    counts = generate_pseudo_seg(
        model,
        out,
        out,
        img_suffix='.jpg',
        dir_map=[('image_0', 'semantic_0')],
        progress=False)
    assert counts['written'] == 24
    ds = DATASETS.build(
        dict(
            type='OwnVideoDataset',
            data_root=out,
            split_file='splits/train_files.txt',
            frame_ids=(0, -1, 1),
            seg_dir='semantic_{cam:02d}',
            pipeline=[
                dict(type='LoadMultiViewImages'),
                dict(type='LoadDepthSegAnnotations')
            ]))
    assert ds[0]['gt_seg_map'].shape == (1, H, W)


def test_stereo_footage_pseudo_depth_is_metric(tmp_path):
    from mmdepthseg.stereo.pseudo_depth import decode_depth_png
    foot = write_street_video(
        str(tmp_path / 'f'),
        num_frames=4,
        still=(),
        height=96,
        width=320,
        stereo=True,
        baseline=0.54,
        noise_std=0.0)
    out = str(tmp_path / 'ds')
    summary = _tool_main([
        foot['frames_dir'], '--right', foot['frames_dir_right'], '--out-dir',
        out, '--frame-ids', '0', 's', '--sides', 'lr', '--ext', '.png',
        '--val-fraction', '0', '--no-progress'
    ])
    assert summary['num_train'] == 8  # 4 frames x 2 sides, no motion test
    runpy.run_path(osp.join(REPO_ROOT, 'tools',
                            'generate_pseudo_depth.py'))['main']([
                                out, '--dataset', 'own_video', '--no-progress'
                            ])
    pseudo = decode_depth_png(
        cv2.imread(
            osp.join(out, 'drive', 'pseudo_depth_02', '0000000002.png'),
            cv2.IMREAD_UNCHANGED))
    gt = cv2.imread(
        osp.join(foot['depth_dir'], 'frame_000003.png'),
        cv2.IMREAD_UNCHANGED) / 256.0
    valid = (pseudo > 0) & (gt > 0) & (gt < 40)
    assert valid.mean() > 0.3
    # fx (pixels of the stored frames) * baseline (m) from the camera file
    assert np.median(pseudo[valid] / gt[valid]) == pytest.approx(1.0, abs=0.05)
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'pseudo_mtl',
                 'pseudo_mtl_vgg16_own-video.py'))
    dataset = cfg.train_dataloader.dataset
    dataset.data_root = out
    dataset.seg_dir = None  # no pseudo segmentation in this test
    ds = DATASETS.build(dataset)
    info = ds.get_data_info(4)  # 'drive 0 r'
    assert info['view_names'] == ('r', 'l')
    assert info['stereo_T'][0, 3] == pytest.approx(0.54)
    assert info['pseudo_depth_paths'] == [
        osp.join(out, 'drive', f'pseudo_depth_0{c}', '0000000000.png')
        for c in (3, 2)
    ]
    sample = ds[4]['data_samples']
    assert sample.gt_pseudo_depth.data.shape == (2, 192, 480)
    assert sample.metainfo['baseline'] == pytest.approx(0.54)
