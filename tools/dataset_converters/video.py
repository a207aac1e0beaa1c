# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Make an own-video dataset (frames + camera file + split files).

Import videos or frame folders (every ``--stride``-th frame, or about
``--fps`` frames per second; optionally undistorted) into
``OUT_DIR/<name>/image_02/<k:010d>.jpg`` with ``OUT_DIR/<name>/
intrinsics.json``, then measure the motion between neighbouring frames,
drop the samples where the camera stands still (median optical flow below
``--min-motion`` pixels at 256 px wide) or that lack neighbours (sequence
ends), and write ``OUT_DIR/splits/{train,val}_files.txt`` (monodepth2
format) and ``OUT_DIR/splits/summary.json``. Finished frames, imports and
motion measurements are reused, so an interrupted run is simply started
again; every file is written atomically. See ``docs/en/own_video.md``::

    # one camera, a camera file drive1.json next to drive1.mp4
    python tools/dataset_converters/video.py drive1.mp4 drive2.mp4 \
        --out-dir data/my_video --fps 10
    # a stereo rig (rectified), the camera file gives the baseline
    python tools/dataset_converters/video.py left.mp4 --right right.mp4 \
        --intrinsics rig.yaml --out-dir data/my_stereo --frame-ids 0 s
    # sequences already laid out (frame folders or videos read directly):
    # only measure motion and write the splits
    python tools/dataset_converters/video.py --out-dir data/my_video \
        --frame-ids 0 -3 3
"""
import argparse
import json
from typing import List, Optional, Sequence, Union

from mmdepthseg.converters.video import DEFAULT_MIN_MOTION, prepare_own_video


def _frame_id(text: str) -> Union[int, str]:
    if text == 's':
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"frame ids are integers or 's', got {text!r}") from None


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Import videos / frame folders and write monodepth2-'
        'style split files without standing-still frames (resumable, '
        'atomic writes).')
    parser.add_argument(
        'sources',
        nargs='*',
        help='videos or frame folders, one sequence each (named after the '
        'file / folder); none: write the splits of the sequences already '
        'in --out-dir')
    parser.add_argument('--out-dir', required=True, help='dataset root')
    parser.add_argument(
        '--right',
        nargs='+',
        default=None,
        help='right camera of each source (rectified stereo), same order')
    parser.add_argument(
        '--intrinsics',
        default=None,
        help='camera file (JSON/YAML) for every source; default: '
        '<source>.json|yaml next to a video, intrinsics.json inside a folder')
    parser.add_argument(
        '--baseline', type=float, default=None, help='stereo baseline (m)')
    step = parser.add_mutually_exclusive_group()
    step.add_argument(
        '--stride', type=int, default=None, help='keep every N-th frame')
    step.add_argument(
        '--fps', type=float, default=None, help='keep about F frames per s')
    parser.add_argument(
        '--source-fps',
        type=float,
        default=None,
        help='frame rate of frame folders (needed with --fps)')
    parser.add_argument(
        '--ext', default='.jpg', help='ending of written frames (.jpg, .png)')
    parser.add_argument(
        '--undistort',
        action='store_true',
        help='write undistorted frames (default: keep them, the dataset '
        'undistorts while loading)')
    parser.add_argument(
        '--undistort-alpha',
        type=float,
        default=0.0,
        help='0: only valid pixels (default), 1: every source pixel')
    parser.add_argument(
        '--frame-ids',
        nargs='+',
        type=_frame_id,
        default=[0, -1, 1],
        help="the dataset's frame_ids (default: 0 -1 1; stereo only: 0 s)")
    parser.add_argument(
        '--min-motion',
        type=float,
        default=DEFAULT_MIN_MOTION,
        help='drop samples whose median optical flow to a neighbour is '
        'below this many pixels at 256 px wide (default: %(default)s; 0 '
        'keeps all)')
    parser.add_argument(
        '--val-fraction',
        type=float,
        default=0.1,
        help='tail of each sequence held out for validation')
    parser.add_argument(
        '--sides',
        choices=['l', 'r', 'lr'],
        default='l',
        help='camera(s) of the split lines (lr: one line each)')
    parser.add_argument('--no-progress', action='store_true')
    args = parser.parse_args(argv)
    if args.stride is not None and args.stride < 1:
        parser.error('--stride must be >= 1')
    if args.fps is not None and args.fps <= 0:
        parser.error('--fps must be > 0')
    if args.right and not args.sources:
        parser.error('--right needs sources')
    return args


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    summary = prepare_own_video(
        args.sources,
        args.out_dir,
        frame_ids=args.frame_ids,
        min_motion=args.min_motion,
        val_fraction=args.val_fraction,
        sides=args.sides,
        progress=not args.no_progress,
        right_sources=args.right,
        intrinsics=args.intrinsics,
        baseline=args.baseline,
        stride=args.stride,
        target_fps=args.fps,
        source_fps=args.source_fps,
        ext=args.ext,
        undistort=args.undistort,
        undistort_alpha=args.undistort_alpha)
    for name, stats in summary['sequences'].items():
        print(f'{name}: {json.dumps(stats)}')
    print(f'{summary["num_train"]} train / {summary["num_val"]} val samples '
          f'-> {summary["train_file"]}, {summary["val_file"]}')
    return summary


if __name__ == '__main__':
    main()
