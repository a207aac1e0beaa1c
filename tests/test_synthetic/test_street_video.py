# Copyright (c) mmdepthseg contributors. All rights reserved.
"""``write_street_video`` writes its videos atomically: an interrupted run
leaves neither a truncated video nor its temporary file."""
import os
import os.path as osp

import cv2
import pytest

from mmdepthseg.synthetic import video

VIDEO_ENDINGS = tuple(ext for _, ext in video.VIDEO_CODECS)
SMALL = dict(num_frames=5, still=(), height=24, width=64, stereo=True)


def _videos(root):
    return sorted(n for n in os.listdir(root) if n.endswith(VIDEO_ENDINGS))


def test_interrupted_run_leaves_no_video(tmp_path, monkeypatch):
    real = video._write_frame_files
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 5:  # third frame: both videos hold frames already
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(video, '_write_frame_files', interrupted)
    with pytest.raises(KeyboardInterrupt):
        video.write_street_video(str(tmp_path), **SMALL)
    assert _videos(tmp_path) == []  # no final file, no hidden temporary one
    assert osp.isfile(tmp_path / 'drive' / 'frame_000002.png')


def test_finished_run_renames_the_videos(tmp_path):
    summary = video.write_street_video(str(tmp_path), **SMALL)
    ext = osp.splitext(summary['video'])[1]
    assert _videos(tmp_path) == [f'drive{ext}', f'drive_right{ext}']
    assert summary['video'] == osp.join(str(tmp_path), f'drive{ext}')
    assert summary['video_right'] == osp.join(
        str(tmp_path), f'drive_right{ext}')
    capture = cv2.VideoCapture(summary['video'])
    frames = 0
    while capture.grab():
        frames += 1
    capture.release()
    assert frames == SMALL['num_frames']
