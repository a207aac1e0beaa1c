# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Peak memory growth of a block of work (:class:`PeakMemoryMeter`): CUDA's
peak allocator statistics on a GPU, the process's resident set on the CPU.
"""
import ctypes
import gc
import os
import resource
import sys
from typing import Any, Dict, Optional

import torch

_MIB = 1024.0**2


def _current_rss_bytes() -> Optional[int]:
    """Resident set size now (Linux ``/proc/self/statm``), else None."""
    try:
        with open('/proc/self/statm') as f:
            resident_pages = int(f.read().split()[1])
        return resident_pages * os.sysconf('SC_PAGE_SIZE')
    except (OSError, ValueError, IndexError):
        return None


def _peak_rss_bytes() -> int:
    """The process's peak resident set (``getrusage`` ``ru_maxrss``)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # kilobytes on Linux, bytes on macOS
    return int(peak) if sys.platform == 'darwin' else int(peak) * 1024


def _release_free_heap() -> None:
    """Give memory freed by earlier work back to the OS (glibc only).

    Without it, memory the allocator kept from an earlier mode would be
    counted in the next mode's baseline and hide that mode's growth.
    """
    try:
        ctypes.CDLL('libc.so.6').malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (Linux >= 4.0), if permitted.

    Writing ``5`` to ``/proc/self/clear_refs`` resets the high-water mark
    that ``ru_maxrss`` reports, so each mode gets its own peak.

    Returns:
        bool: Whether the mark was reset.
    """
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


class PeakMemoryMeter:
    """Peak memory of the code run inside ``with`` (CPU or CUDA).

    - CUDA: ``torch.cuda.reset_peak_memory_stats`` on entry;
      ``baseline_mib`` = ``memory_allocated`` on entry, ``peak_mib`` =
      ``max_memory_allocated`` on exit (tensors only, not the caching
      allocator's reserve, which is reported as ``peak_reserved_mib``).
    - CPU: the resident set. On entry, freed heap memory is returned to the
      OS (glibc ``malloc_trim``) and ``baseline_mib`` is the current RSS;
      ``peak_mib`` is the process's peak RSS (``ru_maxrss``) on exit. The
      peak mark is reset on entry where Linux allows it (``peak_reset`` True);
      otherwise ``peak_mib`` is the peak of the whole process so far and may
      come from earlier work.

    ``growth_mib`` = ``peak_mib - baseline_mib`` (>= 0) is the memory the
    measured code needed on top of what was resident before it (the model,
    and for a later mode what earlier modes left), i.e. the step's own
    activations, gradients, optimizer state and workspace.

    Args:
        device (torch.device | str): The device whose memory is measured.
    """

    def __init__(self, device: Any) -> None:
        self.device = torch.device(device)
        self.result: Dict[str, Any] = {}

    def __enter__(self) -> 'PeakMemoryMeter':
        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._baseline = torch.cuda.memory_allocated(self.device)
        else:
            gc.collect()
            _release_free_heap()
            self._peak_reset = _reset_peak_rss()
            current = _current_rss_bytes()
            self._baseline = current if current is not None \
                else _peak_rss_bytes()
        return self

    def __exit__(self, *exc_info) -> None:
        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)
            peak = torch.cuda.max_memory_allocated(self.device)
            self.result = dict(
                kind='cuda_max_memory_allocated',
                baseline_mib=self._baseline / _MIB,
                peak_mib=peak / _MIB,
                growth_mib=max(0, peak - self._baseline) / _MIB,
                peak_reserved_mib=torch.cuda.max_memory_reserved(self.device) /
                _MIB)
        else:
            peak = _peak_rss_bytes()
            self.result = dict(
                kind='cpu_peak_rss',
                baseline_mib=self._baseline / _MIB,
                peak_mib=peak / _MIB,
                growth_mib=max(0, peak - self._baseline) / _MIB,
                peak_reset=self._peak_reset)
