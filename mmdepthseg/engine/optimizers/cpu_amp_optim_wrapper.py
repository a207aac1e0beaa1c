# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Mixed precision on a CPU: bfloat16 autocast through an optim wrapper."""
from contextlib import contextmanager
from typing import Union

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper

from mmdepthseg.registry import OPTIM_WRAPPERS


def cpu_supports_bfloat16() -> bool:
    """Whether this CPU runs bfloat16 natively (oneDNN's check: AVX512-BF16,
    AMX or AVX512 core instructions); elsewhere bfloat16 is emulated and
    slower than float32."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward pass runs under CPU autocast.

    MMEngine's ``AmpOptimWrapper`` refuses to run without a GPU (and its
    float16 loss scaling does not apply to bfloat16). This wrapper enters
    ``torch.autocast('cpu', dtype=torch.bfloat16)`` around the forward pass
    and the losses (``optim_context``, as ``AmpOptimWrapper`` does); the
    parameters, gradients and optimizer state stay float32, and bfloat16's
    float32-sized exponent needs no loss scaling. ``tools/train.py --amp``
    selects it on a machine without CUDA.

    Args:
        dtype (str | torch.dtype): Autocast dtype; only bfloat16 (float16
            on a CPU would need loss scaling). Defaults to 'bfloat16'.
        **kwargs: ``OptimWrapper``'s arguments (``optimizer``,
            ``accumulative_counts``, ``clip_grad``).
    """

    def __init__(self,
                 dtype: Union[str, torch.dtype] = 'bfloat16',
                 **kwargs) -> None:
        if isinstance(dtype, str):
            dtype = getattr(torch, dtype, None)
        if dtype is not torch.bfloat16:
            raise ValueError(
                'CPUAmpOptimWrapper supports dtype=bfloat16 only (float16 '
                f'on a CPU needs loss scaling), got {dtype}')
        super().__init__(**kwargs)
        self.cast_dtype = dtype

    @contextmanager
    def optim_context(self, model: nn.Module):
        """Gradient-accumulation context of ``OptimWrapper`` plus CPU
        autocast to ``dtype``.

        Args:
            model (nn.Module): The trained model.
        """
        with super().optim_context(model), torch.autocast(
                device_type='cpu', dtype=self.cast_dtype):
            yield
