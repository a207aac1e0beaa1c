# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The device's measured fp32 matmul throughput (:func:`measure_matmul_peak`)
and the utilisation of achieved FLOP/s against it (:func:`utilisation`).
"""
from typing import Any, Dict

import torch

from .timing import summarise_times, time_step

#: Side of the square matrices of the matmul peak.
PEAK_MATMUL_SIZE = 2048


def measure_matmul_peak(device: Any = 'cpu',
                        size: int = PEAK_MATMUL_SIZE,
                        repeat: int = 10,
                        dtype: torch.dtype = torch.float32,
                        via: str = 'mm') -> Dict[str, Any]:
    """The device's matrix-multiply throughput, best of ``repeat`` runs.

    Times one ``size x size`` by ``size x size`` product (``2 size^3``
    FLOPs, the same convention as :func:`count_flops`) with the current
    thread count, after one untimed run, computed

    - ``via='mm'``: by ``torch.mm`` (the BLAS library: MKL on x86 CPUs,
      cuBLAS on CUDA), the reference of :func:`utilisation`;
    - ``via='conv1x1'``: as a 1x1 convolution of ``size`` channels over
      ``size`` pixels (oneDNN on the CPU, cuDNN on CUDA), the library the
      networks' convolutions run on. The two can differ a lot: on AMD CPUs
      MKL's sgemm may use narrower vector code than oneDNN, and a
      convolutional network then exceeds 100 % of the ``mm`` peak.

    Args:
        device (torch.device | str): Where to multiply.
        size (int): Matrix side. Defaults to 2048.
        repeat (int): Timed runs. Defaults to 10.
        dtype (torch.dtype): Element type. Defaults to float32.
        via (str): ``'mm'`` or ``'conv1x1'``. Defaults to 'mm'.

    Returns:
        dict: ``dtype``, ``via``, ``size``, ``flops`` (of one product),
        ``time_s`` (:func:`summarise_times`) and ``flops_per_s`` (from the
        fastest run).
    """
    if via not in ('mm', 'conv1x1'):
        raise ValueError(f"via must be 'mm' or 'conv1x1', got {via!r}")
    device = torch.device(device)
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(size, size, generator=gen).to(device=device, dtype=dtype)
    b = torch.randn(size, size, generator=gen).to(device=device, dtype=dtype)
    if via == 'mm':
        out = torch.empty(size, size, device=device, dtype=dtype)

        def product(_: Any) -> torch.Tensor:
            return torch.mm(a, b, out=out)
    else:
        # (1, C_in = size, size, 1) pixels by a (C_out = size, C_in) filter
        pixels = a.t().contiguous().view(1, size, size, 1)
        weight = b.t().contiguous().view(size, size, 1, 1)

        def product(_: Any) -> torch.Tensor:
            return torch.nn.functional.conv2d(pixels, weight)

    with torch.no_grad():
        times = time_step(
            product, lambda: None, warmup=1, repeat=repeat, device=device)
    flops = 2 * size**3
    return dict(
        dtype=str(dtype).replace('torch.', ''),
        via=via,
        size=size,
        flops=flops,
        time_s=summarise_times(times),
        flops_per_s=flops / min(times))


def utilisation(flops: float, seconds: float,
                peak_flops_per_s: float) -> float:
    """Achieved FLOP/s as a fraction of the peak: ``flops / seconds / peak``.

    Args:
        flops (float): FLOPs of one step.
        seconds (float): Wall time of that step.
        peak_flops_per_s (float): The device's peak FLOP/s.

    Returns:
        float: The utilisation (1.0 = the peak).
    """
    if seconds <= 0 or peak_flops_per_s <= 0:
        raise ValueError(f'utilisation needs a positive time and peak, got '
                         f'{seconds} s and {peak_flops_per_s} FLOP/s')
    return flops / seconds / peak_flops_per_s
