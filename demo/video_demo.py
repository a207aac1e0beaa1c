# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Depth + segmentation of the frames of a video or a folder of frames.

Frames come from OpenCV's ``VideoCapture`` (any file it can decode) or from
a folder of images (sorted by name); every ``--frame-step``-th frame is run,
``--batch-size`` at a time, and drawn side by side (input | depth with a
colour bar | segmentation with a legend) into ``OUT_DIR/vis/<name>.png``:
``<video stem>_<frame index, 6 digits>`` for a video, the image's name for a
folder::

    python demo/video_demo.py drive.mp4 configs/fsre/fsre_r18_kitti.py \
        fsre_r18_kitti.pth --out-dir outputs --device cuda:0 --batch-size 8

Only a batch of frames is held in memory at a time.
"""
import argparse
import os
import os.path as osp
import sys
from typing import Iterator, List, Tuple

import cv2
import numpy as np
from mmengine.utils import ProgressBar

from mmdepthseg.apis import DepthSegInferencer
from mmdepthseg.apis.inference_io import IMG_EXTENSIONS

Frame = Tuple[str, np.ndarray]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Predict depth and segmentation of video frames and draw '
        'them side by side.')
    parser.add_argument('video', help='a video file or a folder of frames')
    parser.add_argument(
        'config', help='config file or a model name of configs/*/metafile')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        default=None,
        help='checkpoint file; "random" (or nothing, with a config file) '
        'for a randomly initialised model')
    parser.add_argument(
        '--out-dir', required=True, help='folder for the pictures')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument(
        '--frame-step', type=int, default=1, help='run every N-th frame')
    parser.add_argument(
        '--max-frames',
        type=int,
        default=None,
        help='stop after this many processed frames')
    parser.add_argument(
        '--opacity',
        type=float,
        default=0.6,
        help='weight of the class colours over the image')
    args = parser.parse_args(argv)
    if not osp.exists(args.video):
        parser.error(f'video or frame folder not found: {args.video}')
    if args.config.endswith('.py') and not osp.isfile(args.config):
        parser.error(f'config file not found: {args.config}')
    if args.checkpoint not in (None, 'random') \
            and '://' not in args.checkpoint \
            and not osp.isfile(args.checkpoint):
        parser.error(f'checkpoint not found: {args.checkpoint}')
    if args.frame_step < 1 or args.batch_size < 1:
        parser.error('--frame-step and --batch-size must be >= 1')
    return args


def folder_frames(folder: str) -> List[str]:
    """Images of a folder, sorted by name."""
    files = sorted(
        f for f in os.listdir(folder)
        if f.lower().endswith(IMG_EXTENSIONS) and not f.startswith('.'))
    if not files:
        raise FileNotFoundError(f'no image ({", ".join(IMG_EXTENSIONS)}) in '
                                f'folder {folder}')
    return [osp.join(folder, f) for f in files]


def read_frames(source: str, frame_step: int = 1) -> Iterator[Frame]:
    """``(name, BGR frame)`` of every ``frame_step``-th frame.

    Args:
        source (str): A video file or a folder of images.
        frame_step (int): Keep frames ``0, step, 2 step, ...``.

    Yields:
        tuple[str, np.ndarray]: Output name and uint8 ``(H, W, 3)`` frame.
    """
    if osp.isdir(source):
        for path in folder_frames(source)[::frame_step]:
            frame = cv2.imread(path, cv2.IMREAD_COLOR)
            if frame is None:
                raise OSError(f'cannot decode image {path}')
            yield osp.splitext(osp.basename(path))[0], frame
        return
    capture = cv2.VideoCapture(source)
    if not capture.isOpened():
        raise OSError(f'OpenCV cannot open video {source}')
    stem = osp.splitext(osp.basename(source))[0]
    index = 0
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if index % frame_step == 0:
                yield f'{stem}_{index:06d}', frame
            index += 1
    finally:
        capture.release()


def count_frames(source: str, frame_step: int) -> int:
    """Frames to process (0 when the container does not say)."""
    if osp.isdir(source):
        return -(-len(folder_frames(source)) // frame_step)
    capture = cv2.VideoCapture(source)
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    capture.release()
    return max(0, -(-total // frame_step))


def main(argv=None) -> None:
    args = parse_args(argv)
    inferencer = DepthSegInferencer(
        args.config,
        args.checkpoint,
        device=args.device,
        batch_size=args.batch_size)
    total = count_frames(args.video, args.frame_step)
    if args.max_frames is not None:
        total = min(total, args.max_frames) if total else args.max_frames
    bar = ProgressBar(total)
    done = 0
    batch: List[Frame] = []

    def flush() -> None:
        inferencer([f for _, f in batch],
                   names=[n for n, _ in batch],
                   out_dir=args.out_dir,
                   show_progress=False,
                   return_seg_probs=False,
                   opacity=args.opacity)
        for _ in batch:
            bar.update()
        batch.clear()

    for name, frame in read_frames(args.video, args.frame_step):
        if args.max_frames is not None and done >= args.max_frames:
            break
        batch.append((name, frame))
        done += 1
        if len(batch) == args.batch_size:
            flush()
    if batch:
        flush()
    print(f'\n{done} frames: pictures in {osp.join(args.out_dir, "vis")}')


if __name__ == '__main__':
    sys.exit(main())
