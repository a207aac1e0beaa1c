# Copyright (c) mmdepthseg contributors. All rights reserved.
"""What the numbers were measured on: CPU / GPU names, thread counts, load
(:func:`hardware_info`).
"""
import datetime
import os
import platform
from typing import Any, Dict, Optional

import torch


def device_name(device: torch.device) -> str:
    """The GPU's name on CUDA, else the CPU's model name (or machine)."""
    if device.type == 'cuda':
        return torch.cuda.get_device_name(device)
    return cpu_model_name() or platform.machine()


def cpu_model_name() -> Optional[str]:
    """The CPU's ``model name`` from ``/proc/cpuinfo`` (Linux), else
    ``platform.processor()`` (None when both are empty)."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.lower().startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def hardware_info(device: Any = 'cpu') -> Dict[str, Any]:
    """What the numbers were measured on.

    Returns:
        dict: ``cpu`` (model name), ``logical_cpus`` (``os.cpu_count``),
        ``usable_cpus`` (this process's CPU affinity), ``torch``,
        ``num_threads`` (``torch.get_num_threads``), ``device``,
        ``python``, ``time`` (ISO, local), ``load_avg`` (the 1, 5 and 15
        minute load averages: other work on a shared machine makes the
        times noisy) and, on CUDA, ``gpu`` and ``cuda``.
    """
    device = torch.device(device)
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count()
    info = dict(
        cpu=cpu_model_name() or platform.machine(),
        logical_cpus=os.cpu_count(),
        usable_cpus=usable,
        torch=torch.__version__,
        num_threads=torch.get_num_threads(),
        device=str(device),
        python=platform.python_version(),
        time=datetime.datetime.now().isoformat(timespec='seconds'),
        load_avg=list(os.getloadavg()) if hasattr(os, 'getloadavg') else None)
    if device.type == 'cuda':
        info.update(
            gpu=torch.cuda.get_device_name(device), cuda=torch.version.cuda)
    return info
