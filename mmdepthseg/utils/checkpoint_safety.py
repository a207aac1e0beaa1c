# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Safe loading of MMEngine checkpoints on torch >= 2.6.

Since torch 2.6 ``torch.load`` defaults to ``weights_only=True`` and refuses
every global that is not allow-listed. MMEngine 0.10.7 checkpoints carry a few
such globals in their ``message_hub`` state: ``HistoryBuffer`` objects holding
numpy arrays, numpy scalars and dtypes. Without them on the allow-list,
``--resume`` fails. This module allow-lists **exactly** those globals (it never
turns ``weights_only`` off), and replaces MMEngine's local-file checkpoint
loader with one that turns torch's refusal of any other global into an error
that names the file and the refused global.
"""
import pickle
from typing import Any, Callable, List, Tuple, Union

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

SafeGlobal = Union[Callable, type, Tuple[Any, str]]


def _numpy_reconstructors() -> List[SafeGlobal]:
    """numpy's pickle helpers under both of their historical module paths.

    numpy 2 pickles arrays through ``numpy._core.multiarray._reconstruct``;
    files written with numpy 1.x name ``numpy.core.multiarray._reconstruct``.
    Both names must be allowed for the same function.
    """
    try:
        from numpy._core import multiarray  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core import multiarray
    globs: List[SafeGlobal] = []
    for name in ('_reconstruct', 'scalar'):
        func = getattr(multiarray, name)
        globs.append((func, f'numpy._core.multiarray.{name}'))
        globs.append((func, f'numpy.core.multiarray.{name}'))
    return globs


#: numpy dtypes that appear in MMEngine's message hub (log scalars, counts,
#: runtime info such as ``iter``/``epoch`` when they were numpy scalars).
_NUMPY_DTYPES = (np.float64, np.float32, np.float16, np.int64, np.int32,
                 np.int16, np.int8, np.uint8, np.bool_)


def _history_buffer_method(owner: Any, name: str) -> Callable:
    """A ``getattr`` restricted to ``HistoryBuffer``'s statistics methods.

    ``HistoryBuffer`` keeps its statistics functions (``HistoryBuffer.min``,
    ``.max``, ``.current``, ``.mean`` and registered ones) in its state;
    pickle stores such a function as ``builtins.getattr(HistoryBuffer,
    'min')``. Allow-listing the real ``getattr`` would hand every attribute
    of every allowed object to a checkpoint, so this stand-in is registered
    under that name instead and resolves only those methods.
    """
    if owner is HistoryBuffer and (name in HistoryBuffer._statistics_methods or
                                   name in ('min', 'max', 'current', 'mean')):
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'getattr({owner!r}, {name!r}) is not allowed in a checkpoint: '
        'only HistoryBuffer statistics methods are.')


def _safe_globals() -> List[SafeGlobal]:
    """The globals found in checkpoints that MMEngine's Runner writes."""
    globs: List[SafeGlobal] = [
        HistoryBuffer, np.ndarray, np.dtype,
        (_history_buffer_method, 'builtins.getattr'),
        (_history_buffer_method, '__builtin__.getattr')
    ]
    globs += _numpy_reconstructors()
    # numpy >= 1.25 pickles a dtype through its class, e.g.
    # ``numpy.dtypes.Float64DType``.
    globs += [type(np.dtype(t)) for t in _NUMPY_DTYPES]
    return globs


SAFE_CHECKPOINT_GLOBALS: List[SafeGlobal] = _safe_globals()


class UnsafeCheckpointError(pickle.UnpicklingError):
    """Raised when a checkpoint holds a global outside the allow-list."""


def load_checkpoint_from_local(filename: str, map_location=None) -> Any:
    """Load a local checkpoint with ``weights_only=True``.

    Replaces MMEngine's loader for local paths (scheme prefix ``''``). It
    loads with the allow-list of :data:`SAFE_CHECKPOINT_GLOBALS` only.

    Args:
        filename (str): Path of the checkpoint file.
        map_location (str | torch.device, optional): As for ``torch.load``.

    Returns:
        Any: The loaded checkpoint (usually a dict).

    Raises:
        FileNotFoundError: If ``filename`` does not exist.
        UnsafeCheckpointError: If the pickle names a global that is not on
            the allow-list (e.g. a code-executing ``__reduce__``).
    """
    import os.path as osp
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file "{filename}" does not exist')
    try:
        return torch.load(
            filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        try:
            refused = torch.serialization.get_unsafe_globals_in_checkpoint(
                filename)
        except Exception:  # pragma: no cover - unreadable archive
            refused = []
        raise UnsafeCheckpointError(
            f'Refused to load checkpoint "{filename}": it contains globals '
            f'outside mmdepthseg\'s allow-list {sorted(refused)}. Only '
            'tensors, containers and the MMEngine/numpy types in '
            '`mmdepthseg.utils.SAFE_CHECKPOINT_GLOBALS` are accepted; a '
            'checkpoint that needs more may execute code when unpickled. '
            f'(torch said: {str(err).splitlines()[0]})') from err


def register_safe_checkpoint_globals() -> None:
    """Allow-list MMEngine's checkpoint globals and install the local loader.

    Idempotent; called when :mod:`mmdepthseg` is imported.
    """
    torch.serialization.add_safe_globals(SAFE_CHECKPOINT_GLOBALS)
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_checkpoint_from_local, force=True)
