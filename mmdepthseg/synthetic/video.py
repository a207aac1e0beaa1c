# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Generated street footage as a user would record it: a video file, the
same frames as a folder of images, and a camera file.

:func:`write_street_video` renders one drive of a :class:`StreetScene` with
stretches where the camera stands still (a car waiting at a light) and
sensor noise on every frame, and writes it either as *footage* (what the
split tool ``tools/dataset_converters/video.py`` takes in) or directly in
the *dataset* layout that :class:`~mmdepthseg.datasets.OwnVideoDataset`
reads (for held-out evaluation with exact depth).

Video codec: OpenCV's ``VideoWriter`` with FourCC ``'mp4v'`` (MPEG-4 part 2)
into ``.mp4``, which OpenCV's FFmpeg backend writes and reads back frame-
exactly (checked in the tests); where that codec is missing, ``'MJPG'`` into
``.avi`` is used instead (the returned summary names the file).

Layouts of a sequence ``<name>`` under the output root:

``layout='footage'`` (input of ``tools/dataset_converters/video.py``)::

    <name>.mp4                  the video ('mp4v'; '.avi' MJPG where mp4v
                                cannot be written)
    <name>.json                 camera file (pixels), found next to the
                                video by the split tool
    <name>/frame_<i+1:06d>.png  the same frames as images (1-based names),
                                + intrinsics.json
    <name>_right.mp4, <name>_right/   with ``stereo``
    <name>_labels/frame_<i+1:06d>.png trainIds (left camera)
    <name>_depth/frame_<i+1:06d>.png  depth, uint16 m * 256

``layout='dataset'`` (read by ``OwnVideoDataset``)::

    <name>/intrinsics.json
    <name>/image_02/<i:010d>.png (+ image_03 with ``stereo``)
    <name>/semantic_02/<i:010d>.png (+ semantic_03)
    <name>/depth_02/<i:010d>.png    uint16 m * 256 (0 = sky)
    <name>/image_02.mp4             with ``write_video`` (the dataset reads
                                    the folder when both exist: pass
                                    ``write_frames=False`` to train on the
                                    video)
"""
import json
import os
import os.path as osp
from contextlib import contextmanager
from typing import (Callable, Dict, Iterator, NamedTuple, Optional, Sequence,
                    Tuple)

import cv2
import numpy as np

from mmdepthseg.datasets.png_codecs import encode_depth_png
from mmdepthseg.utils.io import atomic_write_text, write_image
from .street_scene import StreetScene, stereo_right_pose
from .writers.common import RenderCamera, advance, progress_bar, sub_seed

#: (FourCC, file ending) tried in this order by :func:`open_video_writer`.
VIDEO_CODECS: Tuple[Tuple[str, str],
                    ...] = (('mp4v', '.mp4'), ('MJPG', '.avi'))
#: Depth PNG units per metre of the written depth maps (KITTI's 256).
DEPTH_SCALE = 256.0


def open_video_writer(stem: str, fps: float, width: int,
                      height: int) -> Tuple[cv2.VideoWriter, str]:
    """Open an OpenCV video writer, trying :data:`VIDEO_CODECS` in order.

    Args:
        stem (str): Output path without extension.
        fps (float): Frame rate.
        width (int): Frame width.
        height (int): Frame height.

    Returns:
        tuple: The opened writer and the file path it writes.

    Raises:
        OSError: No codec could be opened.
    """
    for fourcc, ext in VIDEO_CODECS:
        path = stem + ext
        writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*fourcc),
                                 float(fps), (int(width), int(height)))
        if writer.isOpened():
            return writer, path
        writer.release()
    raise OSError(f'OpenCV cannot write any of {VIDEO_CODECS} videos here')


def street_video_positions(num_frames: int, step: float,
                           still: Sequence[Tuple[int, int]]) -> np.ndarray:
    """Camera positions along the street, standing still where asked.

    Frame ``i`` moves ``step`` metres past frame ``i - 1``, except inside a
    still stretch ``(start, length)``: frames ``start .. start + length -
    1`` stay where frame ``start - 1`` is, so frames ``start - 1 .. start +
    length - 1`` share one pose (``length`` consecutive pairs without
    motion).

    Returns:
        np.ndarray: (num_frames,) positions ``z`` (m), starting at 0.
    """
    moving = np.ones(num_frames, dtype=bool)
    moving[0] = False
    for start, length in still:
        if start < 1 or length < 1 or start + length > num_frames:
            raise ValueError(f'still stretch {(start, length)} must lie in '
                             f'frames 1..{num_frames - 1}')
        moving[start:start + length] = False
    return np.cumsum(moving) * float(step)


class _SequencePaths(NamedTuple):
    """Where the files of one sequence go (camera 2 = left, 3 = right)."""
    seq_dir: Optional[str]
    frames_dirs: Dict[int, str]
    labels_dirs: Dict[int, str]
    depth_dir: str
    video_stems: Dict[int, str]
    camera_file: str
    frame_name: Callable[[int], str]  # frame index -> file stem


def _footage_paths(root: str, name: str,
                   cams: Sequence[int]) -> _SequencePaths:
    suffix = {2: '', 3: '_right'}
    return _SequencePaths(
        seq_dir=None,
        frames_dirs={c: osp.join(root, name + suffix[c])
                     for c in cams},
        labels_dirs={2: osp.join(root, f'{name}_labels')},
        depth_dir=osp.join(root, f'{name}_depth'),
        video_stems={c: osp.join(root, name + suffix[c])
                     for c in cams},
        camera_file=osp.join(root, f'{name}.json'),
        frame_name=lambda i: f'frame_{i + 1:06d}')


def _dataset_paths(root: str, name: str,
                   cams: Sequence[int]) -> _SequencePaths:
    seq_dir = osp.join(root, name)
    return _SequencePaths(
        seq_dir=seq_dir,
        frames_dirs={c: osp.join(seq_dir, f'image_{c:02d}')
                     for c in cams},
        labels_dirs={c: osp.join(seq_dir, f'semantic_{c:02d}')
                     for c in cams},
        depth_dir=osp.join(seq_dir, 'depth_02'),
        video_stems={c: osp.join(seq_dir, f'image_{c:02d}')
                     for c in cams},
        camera_file=osp.join(seq_dir, 'intrinsics.json'),
        frame_name=lambda i: f'{i:010d}')


def default_video_intrinsics(height: int, width: int) -> np.ndarray:
    """The synthetic footage's camera: ``fx = fy = 0.56 W``, principal
    point off the centre at ``(0.505 W, 0.49 H)``.

    Returns:
        np.ndarray: (3, 3) pixel intrinsics.
    """
    return np.array([[0.56 * width, 0.0, 0.505 * width],
                     [0.0, 0.56 * width, 0.49 * height], [0.0, 0.0, 1.0]])


def _camera_file_text(K: np.ndarray, width: int, height: int,
                      baseline: Optional[float]) -> str:
    """The JSON camera file (pixels; ``baseline`` with stereo)."""
    camera = dict(
        fx=float(K[0, 0]),
        fy=float(K[1, 1]),
        cx=float(K[0, 2]),
        cy=float(K[1, 2]),
        width=int(width),
        height=int(height),
        units='pixels')
    if baseline is not None:
        camera['baseline'] = float(baseline)
    return json.dumps(camera, indent=2) + '\n'


def write_street_video(root: str,
                       name: str = 'drive',
                       seed: int = 0,
                       num_frames: int = 40,
                       still: Sequence[Tuple[int, int]] = ((15, 8), ),
                       height: int = 96,
                       width: int = 320,
                       K: Optional[np.ndarray] = None,
                       fps: float = 10.0,
                       step: float = 1.0,
                       noise_std: float = 2.0,
                       stereo: bool = False,
                       baseline: float = 0.54,
                       layout: str = 'footage',
                       write_video: bool = True,
                       write_frames: bool = True,
                       antialias: bool = True,
                       progress: bool = False) -> dict:
    """Render a drive and write it as footage or in the own-video layout.

    The two layouts are described in this module's docstring
    (:mod:`mmdepthseg.synthetic.video`). Every frame gets seeded Gaussian
    sensor noise (``noise_std`` grey levels), so frames of a still stretch
    differ as a real camera's do.

    Args:
        root (str): Output folder.
        name (str): Sequence name. Defaults to 'drive'.
        seed (int): Seed of the street and the noise. Defaults to 0.
        num_frames (int): Frames N. Defaults to 40.
        still (Sequence[tuple[int, int]]): ``(start, length)`` stretches
            without motion, see :func:`street_video_positions`. Defaults to
            one stretch ``(15, 8)``.
        height (int): Frame height. Defaults to 96.
        width (int): Frame width. Defaults to 320.
        K (np.ndarray, optional): (3, 3) pixel intrinsics; defaults to
            :func:`default_video_intrinsics`.
        fps (float): Frame rate of the video. Defaults to 10.
        step (float): Metres driven per moving frame. Defaults to 1.0.
        noise_std (float): Sensor noise (grey levels). Defaults to 2.
        stereo (bool): Also render the right camera (``+baseline`` along
            x). Defaults to False.
        baseline (float): Stereo baseline (m), written to the camera file
            with ``stereo``. Defaults to 0.54.
        layout (str): ``'footage'`` or ``'dataset'``. Defaults to
            'footage'.
        write_video (bool): Write the video file(s). Defaults to True.
        write_frames (bool): Write the frames as images. Defaults to True.
        antialias (bool): The renderer's pixel filter. Defaults to True.
        progress (bool): Show a progress bar. Defaults to False.

    Returns:
        dict: ``name``, ``num_frames``, ``K`` (3x3 list), ``height``,
        ``width``, ``fps``, ``still`` (list of ``(start, length)``),
        ``still_pairs`` (indices ``i`` whose pair ``(i, i + 1)`` has no
        motion), ``positions`` (z per frame), ``video`` / ``video_right``
        (paths or None), ``frames_dir`` / ``frames_dir_right``,
        ``camera_file``, ``labels_dir``, ``depth_dir``, ``seq_dir``
        (dataset layout).
    """
    _check_video_args(layout, num_frames)
    K = np.asarray(
        default_video_intrinsics(height, width) if K is None else K,
        dtype=np.float64)
    positions = street_video_positions(num_frames, step, still)
    scene = StreetScene(
        seed=sub_seed(seed, 31), length=max(50.0, positions[-1] + 10.0))
    cams = (2, 3) if stereo else (2, )
    paths = (_footage_paths if layout == 'footage' else _dataset_paths)(
        root, name, cams)
    camera_text = _camera_file_text(K, width, height,
                                    baseline if stereo else None)
    atomic_write_text(paths.camera_file, camera_text)
    if layout == 'footage' and write_frames:
        atomic_write_text(
            osp.join(paths.frames_dirs[2], 'intrinsics.json'), camera_text)
    videos = _render_sequence(
        scene, positions, paths, RenderCamera(K, height, width, antialias),
        baseline, np.random.default_rng(sub_seed(seed, 37)), noise_std,
        fps if write_video else None, write_frames,
        progress_bar(num_frames, progress))
    summary = dict(
        name=name,
        num_frames=num_frames,
        K=K.tolist(),
        height=height,
        width=width,
        fps=fps,
        still=[tuple(s) for s in still])
    summary.update(_sequence_summary(positions, paths, videos))
    return summary


def _check_video_args(layout: str, num_frames: int) -> None:
    if layout not in ('footage', 'dataset'):
        raise ValueError(f"layout must be 'footage' or 'dataset', got "
                         f'{layout!r}')
    if num_frames < 3:
        raise ValueError(f'num_frames must be >= 3, got {num_frames}')


def _sequence_summary(positions: np.ndarray, paths: _SequencePaths,
                      videos: Dict[int, str]) -> dict:
    """The part of :func:`write_street_video`'s summary that describes the
    motion and the files written."""
    return dict(
        still_pairs=[
            i for i in range(len(positions) - 1)
            if positions[i + 1] == positions[i]
        ],
        positions=positions.tolist(),
        video=videos.get(2),
        video_right=videos.get(3),
        frames_dir=paths.frames_dirs[2],
        frames_dir_right=paths.frames_dirs.get(3),
        camera_file=paths.camera_file,
        labels_dir=paths.labels_dirs[2],
        depth_dir=paths.depth_dir,
        seq_dir=paths.seq_dir)


def _render_sequence(scene: StreetScene, positions: np.ndarray,
                     paths: _SequencePaths, camera: RenderCamera,
                     baseline: float, rng: np.random.Generator,
                     noise_std: float, fps: Optional[float],
                     write_frames: bool, bar) -> Dict[int, str]:
    """Render every frame of every camera of ``paths`` and write it.

    A still frame (same position as the one before) reuses the rendering
    of its predecessor; its noise is drawn anew.

    Returns:
        dict: camera -> the video file written (none without ``fps``).
    """
    cams = sorted(paths.frames_dirs)
    poses = np.concatenate(
        [scene.camera_trajectory(1, start=float(z)) for z in positions])
    stems = {c: paths.video_stems[c] for c in cams} if fps is not None else {}
    rendered: Dict[int, dict] = {}  # camera -> frame at this position
    with _atomic_videos(stems, fps, camera.width,
                        camera.height) as (writers, videos):
        for i, pose in enumerate(poses):
            if i == 0 or positions[i] != positions[i - 1]:
                rendered = {}  # moved: render again (still frames: once)
            for c in cams:
                if c not in rendered:
                    cam_pose = pose if c == 2 else stereo_right_pose(
                        pose, baseline)
                    rendered[c] = scene.render(
                        cam_pose,
                        camera.K,
                        camera.height,
                        camera.width,
                        antialias=camera.antialias)
                bgr = _noisy_bgr(rendered[c]['img'], rng, noise_std)
                _write_frame_files(paths, c, paths.frame_name(i), bgr,
                                   rendered[c], write_frames)
                if c in writers:
                    writers[c].write(bgr)
            advance(bar)
    return videos


@contextmanager
def _atomic_videos(
    stems: Dict[int, str], fps: Optional[float], width: int, height: int
) -> Iterator[Tuple[Dict[int, cv2.VideoWriter], Dict[int, str]]]:
    """Video writers (:func:`open_video_writer`) of every camera's
    ``stems`` that write hidden temporary files (``.<name>.tmp<ext>``,
    the ending chooses the container), renamed to ``<stem><ext>`` when the
    block ends and removed if it raises: an interrupted run leaves no
    truncated video, as :mod:`mmdepthseg.utils.io` does for other files.

    Yields:
        tuple: camera -> writer, and camera -> the video's final path.
    """
    writers: Dict[int, cv2.VideoWriter] = {}
    temps: Dict[int, str] = {}
    try:
        for c, stem in stems.items():
            hidden = osp.join(
                osp.dirname(stem), f'.{osp.basename(stem)}.tmp')
            writers[c], temps[c] = open_video_writer(hidden, fps, width,
                                                     height)
        yield writers, {
            c: stems[c] + osp.splitext(t)[1]
            for c, t in temps.items()
        }
    except BaseException:
        for c, writer in writers.items():
            writer.release()
            if osp.exists(temps[c]):
                os.remove(temps[c])
        raise
    for c, writer in writers.items():
        writer.release()
        os.replace(temps[c], stems[c] + osp.splitext(temps[c])[1])


def _noisy_bgr(img: np.ndarray, rng: np.random.Generator,
               noise_std: float) -> np.ndarray:
    """RGB ``img`` plus Gaussian sensor noise, as a BGR uint8 image."""
    noisy = img.astype(np.float64) + rng.normal(0.0, noise_std, img.shape)
    img = np.clip(np.rint(noisy), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(img[..., ::-1])


def _write_frame_files(paths: _SequencePaths, cam: int, stem: str,
                       bgr: np.ndarray, frame: dict,
                       write_frames: bool) -> None:
    """The image, label map and depth PNG of one camera's frame (those the
    layout has)."""
    if write_frames:
        write_image(osp.join(paths.frames_dirs[cam], stem + '.png'), bgr)
    if cam in paths.labels_dirs:
        write_image(
            osp.join(paths.labels_dirs[cam], stem + '.png'), frame['label'])
    if cam == 2:
        write_image(
            osp.join(paths.depth_dir, stem + '.png'),
            encode_depth_png(frame['depth'], DEPTH_SCALE))
