# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Checks of the files a dataset reads, and the one error they raise.

Every malformed input found where data enters mmdepthseg (dataset classes,
loading transforms, converters, pseudo-label tools, the inferencer) is a
:class:`DatasetError`: a ``ValueError`` whose message names the file, the
key or value at fault and what was expected.

Where a defect can be repaired safely (label ids outside the label table,
NaN in a depth map, a map without a valid pixel, a grey image) the caller
chooses a *policy*:

- ``'error'`` (default for content defects): raise the error;
- ``'ignore'``: repair (unknown labels -> ignore index, NaN/Inf/negative
  depths -> invalid) and log a warning naming the file; the first
  :data:`MAX_LOGGED_PER_KIND` warnings of each kind are logged, every one
  is counted (:func:`defect_counts`), and the process logs a summary when
  it exits.

Inside :func:`collect_defects` (``tools/misc/browse_dataset.py --check``)
every defect is recorded instead, whatever the policy, and loading goes on
as under ``'ignore'``; defects that leave nothing to load (an undecodable
file) still raise, and the scanner records them per loading step. Dataset
classes build each sample under :func:`defect_guard`, which records the
error of one sample and drops that sample when collecting, so one scan
reports every defective file of a tree.

All checks run on whole arrays (vectorised numpy) once per file.
"""
import atexit
import contextlib
import logging
import sys
from collections import Counter
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.logging import print_log

#: Policies for repairable defects.
POLICIES: Tuple[str, ...] = ('error', 'ignore')
#: Warnings logged per kind and process before they are only counted.
MAX_LOGGED_PER_KIND = 10
#: The ignore index of every label map of mmdepthseg.
IGNORE_INDEX = 255


class DatasetError(ValueError):
    """A malformed dataset file.

    The message reads ``<path>[:<line>]: <problem>[; expected <expected>]``.

    Args:
        path (str): The file (or, for configuration values, the argument).
        problem (str): What is wrong, naming the key or value.
        expected (str, optional): What was expected instead.
        kind (str): Class of defect, used to group reports: ``'split'``,
            ``'calibration'``, ``'intrinsics'``, ``'image'``, ``'label'``,
            ``'depth'``, ``'missing'`` or ``'file'`` (default).
        line (int, optional): 1-based line of a text file.
    """

    def __init__(self,
                 path: str,
                 problem: str,
                 expected: Optional[str] = None,
                 kind: str = 'file',
                 line: Optional[int] = None) -> None:
        self.path = str(path)
        self.problem = problem
        self.expected = expected
        self.kind = kind
        self.line = line
        where = self.path if line is None else f'{self.path}:{line}'
        message = f'{where}: {problem}'
        if expected:
            message += f'; expected {expected}'
        super().__init__(message)

    def __reduce__(self):
        # picklable across worker processes (multiprocessing.Pool)
        return (type(self), (self.path, self.problem, self.expected, self.kind,
                             self.line))


def check_policy(name: str, policy: str) -> str:
    """Validate a policy argument (``'error'`` or ``'ignore'``)."""
    if policy not in POLICIES:
        raise ValueError(f'{name} must be one of {POLICIES}, got {policy!r}')
    return policy


# ---------------------------------------------------------------------------
# Recording and reporting defects
# ---------------------------------------------------------------------------
class DefectRecord:
    """One defect found by a scan: the error and how often it recurred."""

    def __init__(self, error: BaseException, path: Optional[str]) -> None:
        self.error = error
        self.kind = getattr(error, 'kind', None) or _kind_of(error)
        self.path = getattr(error, 'path', None) or path or '?'
        self.count = 1

    @property
    def message(self) -> str:
        text = str(self.error)
        if isinstance(self.error, KeyError) and len(self.error.args) == 1:
            text = str(self.error.args[0])  # no quotes
        if self.path not in text:
            text = f'{self.path}: {type(self.error).__name__}: {text}'
        return text


def _kind_of(error: BaseException) -> str:
    if isinstance(error, FileNotFoundError):
        return 'missing'
    if isinstance(error, OSError):
        return 'file'
    return 'other'


class DefectCollector:
    """Defects of one scan, in the order found; identical ones merged."""

    def __init__(self) -> None:
        self._records: Dict[Tuple[str, str], DefectRecord] = {}

    def add(self, error: BaseException, path: Optional[str] = None) -> None:
        """Record ``error`` (``path``: the file, if the error names none)."""
        record = DefectRecord(error, path)
        key = (record.kind, record.message)
        if key in self._records:
            self._records[key].count += 1
        else:
            self._records[key] = record

    @property
    def records(self) -> List[DefectRecord]:
        return list(self._records.values())

    def __len__(self) -> int:
        return len(self._records)

    def counts(self) -> Dict[str, int]:
        """Number of distinct defects per kind."""
        return dict(Counter(r.kind for r in self._records.values()))

    def files(self) -> List[str]:
        """The defective files, in the order found."""
        return list(dict.fromkeys(r.path for r in self._records.values()))

    def report(self) -> str:
        """Every defect, one per line, grouped by kind, then a summary."""
        lines = []
        for kind in sorted(self.counts()):
            lines.append(f'[{kind}]')
            for r in self._records.values():
                if r.kind == kind:
                    again = f' (x{r.count})' if r.count > 1 else ''
                    lines.append(f'  {r.message}{again}')
        lines.append(self.summary())
        return '\n'.join(lines)

    def summary(self) -> str:
        if not self._records:
            return 'no defect found'
        per_kind = ', '.join(f'{k}: {n}'
                             for k, n in sorted(self.counts().items()))
        return (f'{len(self._records)} defect(s) in {len(self.files())} '
                f'file(s) ({per_kind})')


_COLLECTORS: List[DefectCollector] = []


@contextlib.contextmanager
def collect_defects() -> Iterator[DefectCollector]:
    """Record every defect found inside the block instead of raising.

    Yields:
        DefectCollector: The defects found.
    """
    collector = DefectCollector()
    _COLLECTORS.append(collector)
    try:
        yield collector
    finally:
        _COLLECTORS.remove(collector)


def active_collector() -> Optional[DefectCollector]:
    """The innermost :func:`collect_defects` collector, or None."""
    return _COLLECTORS[-1] if _COLLECTORS else None


_WARNED: Counter = Counter()
_SUMMARY_REGISTERED = [False]


def defect_counts() -> Dict[str, int]:
    """Defects repaired under ``'ignore'`` in this process, per kind."""
    return dict(_WARNED)


def defect_summary() -> Optional[str]:
    """One line counting the defects repaired with a warning in this
    process, or None if there were none."""
    if not _WARNED:
        return None
    per_kind = ', '.join(f'{k}: {n}' for k, n in sorted(_WARNED.items()))
    return (f'dataset defects repaired in this process (policy '
            f"'ignore'): {per_kind}; run tools/misc/browse_dataset.py "
            '--check to list them all')


def _summary_at_exit() -> None:
    # logging's streams may be closed by now: plain stderr
    summary = defect_summary()
    if summary is not None:
        try:
            print(summary, file=sys.stderr)
        except Exception:
            pass


def _log(message: str) -> None:
    try:
        print_log(message, logger='current', level=logging.WARNING)
    except Exception:  # logging torn down at interpreter exit
        pass


def warn_defect(error: DatasetError) -> None:
    """Log ``error`` as a warning (repaired, not raised) and count it."""
    _WARNED[error.kind] += 1
    n = _WARNED[error.kind]
    if not _SUMMARY_REGISTERED[0]:
        _SUMMARY_REGISTERED[0] = True
        atexit.register(_summary_at_exit)
    if n <= MAX_LOGGED_PER_KIND:
        more = (f' (further {error.kind} defects are counted, not logged)'
                if n == MAX_LOGGED_PER_KIND else '')
        _log(f'{error} [repaired; {error.kind} defect #{n} of this '
             f'process]{more}')


def handle_defect(error: DatasetError, policy: str) -> None:
    """Raise, record or log a repairable defect.

    Under :func:`collect_defects` the defect is recorded; otherwise it is
    raised for ``policy='error'`` and logged (:func:`warn_defect`) for
    ``'ignore'``. When this returns, the caller repairs the data.
    """
    collector = active_collector()
    if collector is not None:
        collector.add(error)
    elif policy == 'error':
        raise error
    else:
        warn_defect(error)


@contextlib.contextmanager
def defect_guard(path: Optional[str] = None) -> Iterator[None]:
    """Skip the rest of a block whose file is bad, when collecting.

    Outside :func:`collect_defects` this does nothing (the error rises).
    Inside, a :class:`DatasetError` or ``OSError`` (missing or unreadable
    file) is recorded and swallowed, so the rest of the block is skipped
    (e.g. the statement that appends a sample to a dataset's list) and the
    scan goes on with the next one.

    Args:
        path (str, optional): The sample's file, for errors naming none.
    """
    try:
        yield
    except (DatasetError, OSError) as err:
        collector = active_collector()
        if collector is None:
            raise
        collector.add(err, path)


def load_each(load, paths: Sequence[str]) -> List[Optional[np.ndarray]]:
    """``[load(p) for p in paths]``; when collecting, a file that fails
    is recorded and gives None (the caller drops that field)."""
    collector = active_collector()
    if collector is None:
        return [load(p) for p in paths]
    out: List[Optional[np.ndarray]] = []
    for p in paths:
        try:
            out.append(load(p))
        except (DatasetError, OSError) as err:
            collector.add(err, p)
            out.append(None)
    return out


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------
def check_intrinsics(k, path: str, key: str = 'intrinsics') -> np.ndarray:
    """Check a pinhole camera matrix.

    Expected: finite, ``fx > 0``, ``fy > 0``, principal point ``cx, cy >=
    0`` (pixels of the image, or its fraction for normalised intrinsics)
    and last row ``(0, 0, 1)``, i.e. an invertible upper-triangular ``K``.

    Args:
        k (array-like): ``(3, 3)`` matrix (or ``(3, 4)``: its first three
            columns are checked, as in KITTI's ``P_rect``).
        path (str): The file (or argument) it comes from, for the message.
        key (str): Its key in the file, for the message.

    Returns:
        np.ndarray: The ``(3, 3)`` float64 matrix.

    Raises:
        DatasetError: naming ``path``, ``key`` and the offending values.
    """
    arr = np.asarray(k, dtype=np.float64)
    if arr.shape not in ((3, 3), (3, 4)):
        raise DatasetError(path, f'{key} has shape {arr.shape}',
                           'a 3x3 camera matrix', 'intrinsics')
    m = arr[:, :3]
    fx, fy, cx, cy = m[0, 0], m[1, 1], m[0, 2], m[1, 2]
    problems = []
    if not np.isfinite(arr).all():
        problems.append('non-finite values')
    else:
        if fx <= 0 or fy <= 0:
            problems.append(f'focal lengths fx={fx:g}, fy={fy:g}')
        if cx < 0 or cy < 0:
            problems.append(f'principal point cx={cx:g}, cy={cy:g}')
        if m[1, 0] != 0 or m[2, 0] != 0 or m[2, 1] != 0 or m[2, 2] != 1:
            problems.append(f'rows 2-3 {m[1:].tolist()}')
    if problems:
        raise DatasetError(
            path, f'{key} {m.tolist()} is singular or negative: '
            f'{", ".join(problems)}',
            'fx > 0, fy > 0, cx >= 0, cy >= 0 and the form '
            '[[fx, s, cx], [0, fy, cy], [0, 0, 1]]', 'intrinsics')
    return m


def check_positive(value: float,
                   path: str,
                   key: str,
                   kind: str = 'intrinsics') -> float:
    """``value`` must be a finite number > 0 (a baseline, a GSD ...)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise DatasetError(path, f'{key} is {value!r}', 'a number > 0',
                           kind) from None
    if not np.isfinite(v) or v <= 0:
        raise DatasetError(path, f'{key} is {v:g}', 'a finite number > 0',
                           kind)
    return v


def check_map_format(arr: np.ndarray,
                     path: str,
                     dtype,
                     what: str,
                     hint: str = '') -> np.ndarray:
    """A stored map must be single-channel of the given dtype.

    Args:
        arr (np.ndarray): The decoded file.
        path (str): The file.
        dtype: Expected numpy dtype (e.g. ``np.uint16``), or ``'float'``
            for any floating type.
        what (str): e.g. ``'depth PNG'``.
        hint (str): Appended to the expectation (the encoding).
    """
    ok_dtype = np.issubdtype(arr.dtype, np.floating) if dtype == 'float' \
        else arr.dtype == dtype
    if arr.ndim != 2 or not ok_dtype:
        bits = 'float' if dtype == 'float' else np.dtype(dtype).name
        raise DatasetError(
            path, f'{what} is {_describe_array(arr)}',
            f'a single-channel {bits} {what}' + (f' ({hint})' if hint else ''),
            _map_kind(what))
    return arr


def check_map_size(arr: np.ndarray,
                   path: str,
                   results: dict,
                   what: str = 'map',
                   hint: str = '') -> np.ndarray:
    """A per-pixel map must have the size of its sample's images.

    Args:
        arr (np.ndarray): ``(H, W)`` map.
        path (str): Its file.
        results (dict): The sample; its ``ori_shape`` (the loaded images'
            ``(H, W)``) is the expected size (no check without it).
        what (str): e.g. ``'label map'``, for the message and the kind.
        hint (str): Appended to the size in the message.
    """
    expected = results.get('ori_shape')
    if expected is not None and tuple(arr.shape[:2]) != tuple(expected[:2]):
        raise DatasetError(
            path, f'{what} size {arr.shape[1]}x{arr.shape[0]}{hint} differs '
            f'from the image size {expected[1]}x{expected[0]} (w x h) of '
            f'{results.get("img_path")}', 'maps of the size of their image',
            _map_kind(what))
    return arr


def _describe_array(arr: np.ndarray) -> str:
    channels = 1 if arr.ndim == 2 else (
        arr.shape[2] if arr.ndim == 3 else None)
    if channels is None:
        return f'shaped {arr.shape}'
    return (f'{channels}-channel {arr.dtype.itemsize * 8}-bit '
            f'{arr.dtype.name} ({arr.shape[1]}x{arr.shape[0]})')


def _map_kind(what: str) -> str:
    return 'label' if 'label' in what or 'class' in what else 'depth'


def check_depth_values(depth: np.ndarray,
                       path: str,
                       what: str = 'depth map',
                       policy: str = 'error') -> np.ndarray:
    """Check a decoded depth-like map (metres; 0 = invalid).

    Two defects, both under ``policy``:

    - NaN, Inf or negative values (only float files can hold them): with
      ``'ignore'`` they become 0 (invalid);
    - no valid pixel (nothing ``> 0``): with ``'ignore'`` the map is kept
      (the sample gives no depth supervision).

    Args:
        depth (np.ndarray): ``(H, W)`` float map.
        path (str): Its file.
        what (str): e.g. ``'depth map'``, ``'pseudo depth map'``.
        policy (str): ``'error'`` or ``'ignore'``.

    Returns:
        np.ndarray: ``depth``, repaired where needed.
    """
    if np.issubdtype(depth.dtype, np.floating):
        bad = ~np.isfinite(depth)
        bad |= depth < 0  # NaN compares False
        if bad.any():
            n_nan = int(np.isnan(depth).sum())
            n_inf = int(np.isinf(depth).sum())
            n_neg = int(bad.sum()) - n_nan - n_inf
            handle_defect(
                DatasetError(
                    path, f'{what} holds {n_nan} NaN, {n_inf} Inf and '
                    f'{n_neg} negative values', 'finite values >= 0 '
                    "(0 = invalid); invalid_depth='ignore' marks them "
                    'invalid', 'depth'), policy)
            depth = np.where(bad, 0, depth).astype(depth.dtype)
    if not (depth > 0).any():
        handle_defect(
            DatasetError(
                path, f'{what} has no valid pixel (all {depth.size} are 0 '
                'or invalid)', "at least one value > 0; invalid_depth="
                "'ignore' keeps it (no supervision from this map)", 'depth'),
            policy)
    return depth


def check_label_ids(label_map: np.ndarray,
                    path: str,
                    lut: Optional[np.ndarray],
                    domain: Optional[np.ndarray],
                    num_classes: Optional[int],
                    fmt: str,
                    policy: str = 'error') -> np.ndarray:
    """Check a stored uint8 label map and map it to training labels.

    One histogram of the map (``np.bincount``) answers both questions:

    - ids the label table ``fmt`` does not know (``domain[id]`` False, e.g.
      a Cityscapes labelId of 200): mapped to the ignore index;
    - resulting training labels outside ``[0, num_classes)`` other than the
      ignore index 255 (e.g. 40 in a 19-class trainId map): set to 255.

    Both are defects under ``policy``.

    Args:
        label_map (np.ndarray): ``(H, W)`` uint8 stored ids.
        path (str): Its file.
        lut (np.ndarray, optional): 256-entry uint8 table stored id ->
            training label; None for maps stored as training labels.
        domain (np.ndarray, optional): 256-entry bool table of the stored
            ids the format defines; None accepts every id.
        num_classes (int, optional): Number of training classes; None
            skips the range check.
        fmt (str): Name of the format, for the message.
        policy (str): ``'error'`` or ``'ignore'``.

    Returns:
        np.ndarray: uint8 training labels (255 = ignore).
    """
    hist = np.bincount(label_map.ravel(), minlength=256)
    present = np.flatnonzero(hist)
    mapped_ids = present if lut is None else lut[present]
    bad = np.zeros(256, dtype=bool)
    problems = []
    if domain is not None:
        unknown = present[~domain[present]]
        if unknown.size:
            bad[unknown] = True
            problems.append(
                f'ids {_id_list(unknown)} ({int(hist[unknown].sum())} '
                f'pixels) that {fmt!r} does not define')
    if num_classes is not None:
        out = (mapped_ids >= num_classes) & (mapped_ids != IGNORE_INDEX)
        if out.any():
            ids = present[out]
            bad[ids] = True
            mapped = '' if lut is None else \
                f' (mapped to {_id_list(mapped_ids[out])})'
            problems.append(
                f'ids {_id_list(ids)}{mapped} ({int(hist[ids].sum())} '
                f'pixels) outside the {num_classes} classes')
    labels = label_map if lut is None else lut[label_map]
    if problems:
        handle_defect(
            DatasetError(
                path, f'label map holds {" and ".join(problems)}',
                f'{_expected_ids(domain, num_classes, lut)}; '
                "invalid_label='ignore' maps them to the ignore index 255",
                'label'), policy)
        labels = np.where(bad[label_map], IGNORE_INDEX,
                          labels).astype(np.uint8)
    return labels


def _id_list(ids: np.ndarray, limit: int = 10) -> str:
    text = ', '.join(str(int(i)) for i in ids[:limit])
    return '[' + text + (', ...' if len(ids) > limit else '') + ']'


def _expected_ids(domain: Optional[np.ndarray], num_classes: Optional[int],
                  lut: Optional[np.ndarray]) -> str:
    parts = []
    if domain is not None:
        parts.append(f'stored ids in {_runs(np.flatnonzero(domain))}')
    if num_classes is not None:
        what = 'ids' if lut is None else 'classes'
        parts.append(f'{what} 0..{num_classes - 1} or {IGNORE_INDEX} '
                     '(ignore)')
    return ' mapping to '.join(parts) if lut is not None else ', '.join(parts)


def _runs(ids: np.ndarray) -> str:
    """``[0, 1, 2, 5, 255]`` -> ``'0..2, 5, 255'``."""
    parts, start = [], None
    for i, v in enumerate(ids):
        if start is None:
            start = v
        if i + 1 == len(ids) or ids[i + 1] != v + 1:
            parts.append(f'{start}' if start == v else f'{start}..{v}')
            start = None
    return ', '.join(parts)


# ---------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------
#: JPEG start-of-frame markers (baseline, progressive, lossless, ...).
_JPEG_SOF = {
    0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE,
    0xCF
}


def jpeg_num_components(data: bytes) -> Optional[int]:
    """Number of colour components of a JPEG (4 = CMYK / YCCK), read from
    its start-of-frame header; None if ``data`` is not a JPEG."""
    if len(data) < 4 or data[0] != 0xFF or data[1] != 0xD8:
        return None
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2:pos + 4], 'big')
        if marker in _JPEG_SOF:
            return data[pos + 9] if pos + 9 < len(data) else None
        if marker == 0xDA:  # start of scan before any frame header
            return None
        pos += 2 + length
    return None


def to_bgr_uint8(img: np.ndarray,
                 path: str,
                 jpeg_components: Optional[int] = None) -> np.ndarray:
    """Bring a decoded colour image into the form the models take.

    The conversions, as documented for ``LoadMultiViewImages``:

    - 8-bit, 3 channels (BGR): unchanged;
    - 8-bit grey (1 channel): repeated into 3 channels, with a logged
      warning naming the file (a grey frame in a colour dataset is usually
      a mistake, e.g. KITTI's ``image_00``);
    - 8-bit with alpha (4 channels): the alpha channel is dropped (OpenCV's
      colour decoding drops it before this is reached);
    - 16-bit or float images: refused (a depth or disparity map in the
      image folder, or Cityscapes' ``leftImg16bit``): convert them to
      8-bit first;
    - CMYK JPEGs: refused (without the file's colour profile the
      conversion to RGB is a guess): convert them to RGB first.

    Args:
        img (np.ndarray): As decoded with ``IMREAD_ANYCOLOR |
            IMREAD_ANYDEPTH``.
        path (str): The file.
        jpeg_components (int, optional): Components of the JPEG's frame
            header (:func:`jpeg_num_components`).

    Returns:
        np.ndarray: uint8 ``(H, W, 3)`` BGR.

    Raises:
        DatasetError: For the refused kinds.
    """
    if jpeg_components == 4:
        raise DatasetError(
            path, 'is a CMYK JPEG', 'an RGB or grey image (convert it, e.g. '
            '`convert in.jpg -colorspace sRGB out.jpg`)', 'image')
    if img.dtype != np.uint8:
        raise DatasetError(
            path, f'is a {_describe_array(img)} image',
            'an 8-bit colour image (a depth / disparity map in the image '
            'folder? convert 16-bit images to 8 bits first)', 'image')
    if img.ndim == 3 and img.shape[2] == 4:
        img = np.ascontiguousarray(img[..., :3])
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.ndim == 2:
        handle_defect(
            DatasetError(
                path, 'is a grey (1-channel) image, repeated into 3 '
                'channels', 'a colour image', 'image'), 'ignore')
        img = np.repeat(img[..., None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] != 3:
        raise DatasetError(path, f'is a {_describe_array(img)} image',
                           'an 8-bit BGR or grey image', 'image')
    return img
