# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The process's random generator states, as checkpoint-safe data.

The states are held in tensors, ints and floats only, so a checkpoint that
carries them still loads with ``torch.load(weights_only=True)`` and
mmdepthseg's allow-list (:mod:`mmdepthseg.utils.checkpoint_safety`).
"""
import random
from contextlib import contextmanager
from typing import Iterator

import numpy as np
import torch


def get_rng_state() -> dict:
    """The states of ``torch`` (CPU and CUDA), ``numpy`` and ``random``.

    Returns:
        dict: ``torch`` (uint8 tensor), ``numpy`` and ``python`` (dicts of
        tensors and numbers) and, with CUDA, ``cuda`` (list of tensors).
    """
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    version, words, py_gauss = random.getstate()
    state = dict(
        torch=torch.get_rng_state(),
        numpy=dict(
            kind=str(kind),
            keys=torch.from_numpy(keys.astype(np.int64)),
            pos=int(pos),
            has_gauss=int(has_gauss),
            gauss=float(gauss)),
        python=dict(
            version=int(version),
            words=torch.tensor(words, dtype=torch.int64),
            gauss=py_gauss))
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore states written by :func:`get_rng_state`.

    Args:
        state (dict): From :func:`get_rng_state` (possibly loaded from a
            checkpoint).
    """
    torch.set_rng_state(state['torch'].cpu().to(torch.uint8))
    np_state = state['numpy']
    np.random.set_state(
        (np_state['kind'], np_state['keys'].cpu().numpy().astype(np.uint32),
         int(np_state['pos']), int(np_state['has_gauss']),
         float(np_state['gauss'])))
    py = state['python']
    random.setstate((int(py['version']),
                     tuple(int(w) for w in py['words'].tolist()), py['gauss']))
    cuda = state.get('cuda')
    if cuda is not None and torch.cuda.is_available() and \
            len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([s.cpu() for s in cuda])


@contextmanager
def preserved_rng_state() -> Iterator[None]:
    """Run a block without changing the process's random streams."""
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
