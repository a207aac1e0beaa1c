# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Wall times of a step over repeated runs (:func:`time_step`) and their
summary (:func:`summarise_times`).
"""
import statistics
import time
from typing import Any, Callable, Dict, List, Sequence

import torch


def _synchronize(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def time_step(step: Callable[[Any], Any],
              make_input: Callable[[], Any],
              warmup: int,
              repeat: int,
              device: Any = 'cpu') -> List[float]:
    """Wall times of ``step(make_input())``; ``make_input`` is not timed.

    Args:
        step (Callable): The work to time, called with one input.
        make_input (Callable): Makes a fresh input for every call.
        warmup (int): Untimed calls first.
        repeat (int): Timed calls (>= 1).
        device (torch.device | str): Synchronised around each timed call
            when it is a CUDA device.

    Returns:
        list[float]: ``repeat`` durations in seconds.
    """
    if warmup < 0 or repeat < 1:
        raise ValueError(f'need warmup >= 0 and repeat >= 1, got warmup='
                         f'{warmup} and repeat={repeat}')
    device = torch.device(device)
    for _ in range(warmup):
        step(make_input())
    times = []
    for _ in range(repeat):
        data = make_input()
        _synchronize(device)
        start = time.perf_counter()
        step(data)
        _synchronize(device)
        times.append(time.perf_counter() - start)
    return times


def summarise_times(times: Sequence[float]) -> Dict[str, Any]:
    """Median / min / max / mean of durations (seconds)."""
    return dict(
        median=statistics.median(times),
        min=min(times),
        max=max(times),
        mean=statistics.fmean(times),
        runs=list(times))
