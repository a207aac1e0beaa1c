# Copyright (c) mmdepthseg contributors. All rights reserved.
"""demo/image_demo.py and demo/video_demo.py on the real KITTI sample frame
with a randomly initialised FSRE-Depth (network input shrunk to 64x192)."""
import os.path as osp
import runpy
import subprocess
import sys

import cv2
import numpy as np
import pytest
from _helpers import REPO_ROOT, SAMPLE_IMAGE
from mmseg.utils import get_palette

from mmdepthseg.apis.pointcloud import read_ply

SAMPLE = SAMPLE_IMAGE
SAMPLE_HW = (235, 638)


@pytest.fixture(scope='module')
def small_config(tmp_path_factory) -> str:
    """fsre_r18_kitti with its test resize at 64x192 (fast on CPU)."""
    path = tmp_path_factory.mktemp('cfg') / 'fsre_small.py'
    base = osp.join(REPO_ROOT, 'configs', 'fsre', 'fsre_r18_kitti.py')
    path.write_text(f'_base_ = [{base!r}]\n'
                    'test_pipeline = [\n'
                    "    dict(type='LoadMultiViewImages'),\n"
                    "    dict(type='MultiViewResize', scale=(192, 64)),\n"
                    "    dict(type='PackMultiViewInputs')]\n")
    return str(path)


def _demo(name: str) -> dict:
    """The demo script's functions (``main``, ``parse_args``...)."""
    return runpy.run_path(osp.join(REPO_ROOT, 'demo', name))


def test_image_demo_cli_writes_picture_and_class_coloured_ply(
        small_config, tmp_path):
    out_dir = tmp_path / 'out'
    proc = subprocess.run([
        sys.executable,
        osp.join(REPO_ROOT, 'demo',
                 'image_demo.py'), SAMPLE, small_config, '--out-dir',
        str(out_dir), '--device', 'cpu', '--intrinsics', '300', '310', '318.5',
        '117', '--save-ply', '--ply-color', 'class', '--stride', '4',
        '--max-depth', '50', '--save-pred'
    ],
                          cwd=REPO_ROOT,
                          capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'relative' in proc.stdout  # FSRE: self-supervised note

    stem = osp.splitext(osp.basename(SAMPLE))[0]
    vis = cv2.imread(str(out_dir / 'vis' / f'{stem}.png'))
    assert vis.shape[1] == 3 * SAMPLE_HW[1] and vis.shape[0] > SAMPLE_HW[0]
    depth = np.load(out_dir / 'pred' / f'{stem}_depth.npy')
    seg = cv2.imread(
        str(out_dir / 'pred' / f'{stem}_seg.png'), cv2.IMREAD_UNCHANGED)
    assert depth.shape == SAMPLE_HW and seg.shape == SAMPLE_HW

    points, colors = read_ply(str(out_dir / 'ply' / f'{stem}.ply'))
    kept = depth[::4, ::4]
    assert len(points) == int(((kept > 0) & (kept <= 50)).sum()) > 0
    # class colours: the palette entries of the strided class map
    valid = (kept > 0) & (kept <= 50)
    expected = np.asarray(get_palette('cityscapes'),
                          np.uint8)[seg[::4, ::4][valid]]
    np.testing.assert_array_equal(colors, expected)


def test_image_demo_names_missing_files(small_config, tmp_path, capsys):
    parse_args = _demo('image_demo.py')['parse_args']
    with pytest.raises(SystemExit):
        parse_args(
            [str(tmp_path / 'nope.jpg'), small_config, '--out-dir', 'x'])
    assert 'input not found' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_args([SAMPLE, small_config, 'no.pth', '--out-dir', 'x'])
    assert 'checkpoint not found: no.pth' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_args([SAMPLE, 'no_cfg.py', '--out-dir', 'x'])
    assert 'config file not found: no_cfg.py' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_args([SAMPLE, small_config, '--out-dir', 'x', '--save-ply'])
    assert '--intrinsics' in capsys.readouterr().err


def test_video_demo_on_a_video_file(small_config, tmp_path):
    """3 frames through OpenCV, every 2nd kept: frames 0 and 2 (the
    script's ``main`` with command-line arguments, in this process)."""
    video = str(tmp_path / 'clip.avi')
    frame = cv2.imread(SAMPLE)
    writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*'MJPG'), 5,
                             (frame.shape[1], frame.shape[0]))
    assert writer.isOpened()
    for shift in range(3):
        writer.write(np.roll(frame, 10 * shift, axis=1))
    writer.release()

    demo = _demo('video_demo.py')
    out_dir = tmp_path / 'out'
    demo['main']([
        video, small_config, '--out-dir',
        str(out_dir), '--device', 'cpu', '--frame-step', '2', '--batch-size',
        '2'
    ])
    written = sorted(p.name for p in (out_dir / 'vis').iterdir())
    assert written == ['clip_000000.png', 'clip_000002.png']
    vis = cv2.imread(str(out_dir / 'vis' / written[0]))
    assert vis.shape[1] == 3 * SAMPLE_HW[1] and vis.shape[0] > SAMPLE_HW[0]


def test_video_demo_reads_a_folder_of_frames_in_name_order(
        small_config, tmp_path, capsys):
    demo = _demo('video_demo.py')
    read_frames = demo['read_frames']
    frames = tmp_path / 'frames'
    frames.mkdir()
    for value, name in ((2, 'f2.png'), (1, 'f1.png'), (3, 'f3.png')):
        cv2.imwrite(str(frames / name), np.full((4, 6, 3), value, np.uint8))
    (frames / 'list.txt').write_text('f1 f2 f3')
    got = list(read_frames(str(frames), 1))
    assert [n for n, _ in got] == ['f1', 'f2', 'f3']
    assert [int(f[0, 0, 0]) for _, f in got] == [1, 2, 3]
    assert [n for n, _ in read_frames(str(frames), 2)] == ['f1', 'f3']
    with pytest.raises(FileNotFoundError, match='no image'):
        list(read_frames(str(tmp_path), 1))
    with pytest.raises(SystemExit):
        demo['parse_args'](
            [str(tmp_path / 'no.mp4'), small_config, '--out-dir', 'x'])
    err = capsys.readouterr().err
    assert 'video or frame folder not found' in err and 'no.mp4' in err
