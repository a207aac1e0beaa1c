# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Mixed precision (``torch.autocast``: bfloat16 on the CPU, float16 with
loss scaling on CUDA) and building a config's optimizer wrapper for the
benchmark.
"""
import copy
from contextlib import contextmanager
from typing import Any, Iterator, Tuple, Union

import torch
from mmengine.config import Config
from mmengine.optim import (AmpOptimWrapper, OptimWrapper, OptimWrapperDict,
                            build_optim_wrapper)
from torch import nn


class AutocastOptimWrapper(OptimWrapper):
    """An ``OptimWrapper`` whose ``optim_context`` runs under autocast.

    MMEngine's ``AmpOptimWrapper`` needs a GPU; this one gives the CPU the
    same mixed precision: the forward inside ``optim_context`` runs under
    ``torch.autocast(device_type, dtype)`` (bfloat16 needs no loss
    scaling), the backward and the update outside it as usual.

    Args:
        dtype (str | torch.dtype): Autocast type. Defaults to 'bfloat16'.
        device_type (str): ``'cpu'`` or ``'cuda'``. Defaults to 'cpu'.
        **kwargs: ``OptimWrapper``'s arguments (``optimizer``, ...).
    """

    def __init__(self,
                 dtype: Union[str, torch.dtype] = 'bfloat16',
                 device_type: str = 'cpu',
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.cast_dtype = getattr(torch, dtype) if isinstance(dtype,
                                                              str) else dtype
        self.device_type = device_type

    @contextmanager
    def optim_context(self, model: nn.Module) -> Iterator[None]:
        with super().optim_context(model), torch.autocast(
                device_type=self.device_type, dtype=self.cast_dtype):
            yield


def amp_dtype(device: Any) -> torch.dtype:
    """Autocast type of ``--amp``: float16 on CUDA, bfloat16 on the CPU."""
    return torch.float16 if torch.device(device).type == 'cuda' \
        else torch.bfloat16


def amp_support(device: Any) -> Tuple[bool, str]:
    """Whether the device runs :func:`amp_dtype` natively.

    CUDA: float16 always. CPU: bfloat16 where oneDNN has native bfloat16
    kernels (AVX512-BF16 / AMX); elsewhere it would be emulated, slower
    than fp32, so the setting is not measured.

    Returns:
        tuple[bool, str]: Supported, and why not (empty when supported).
    """
    device = torch.device(device)
    if device.type == 'cuda':
        return True, ''
    if device.type != 'cpu':
        return False, f'no autocast setting known for {device.type}'
    try:
        native = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        native = False
    if not native:
        return False, 'this CPU has no native bfloat16 matmul (oneDNN)'
    return True, ''


def _amp_optim_wrapper_cfg(optim_cfg: dict, device: torch.device) -> dict:
    """``optim_cfg`` with every wrapper (a dict with an ``optimizer``) made
    a mixed-precision one: ``AmpOptimWrapper`` (float16, dynamic loss
    scaling) on CUDA, :class:`AutocastOptimWrapper` (bfloat16) on the CPU.
    Works for a plain wrapper and for the sub-wrappers of a constructor
    (``generator`` / ``discriminator``)."""
    optim_cfg = copy.deepcopy(optim_cfg)

    def visit(node: Any) -> None:
        if not isinstance(node, dict):
            return
        if 'optimizer' in node:
            if device.type == 'cuda':
                node.update(type=AmpOptimWrapper, dtype='float16')
            else:
                node.update(
                    type=AutocastOptimWrapper,
                    dtype='bfloat16',
                    device_type=device.type)
            return
        for value in node.values():
            visit(value)

    visit(optim_cfg)
    return optim_cfg


def build_optim_wrapper_or_adam(
        model: nn.Module,
        cfg: Config,
        lr: float = 1e-4,
        amp: bool = False,
        device: Any = 'cpu') -> Union[OptimWrapper, OptimWrapperDict]:
    """The optimizer wrapper of ``cfg.optim_wrapper``, else plain Adam.

    Args:
        model (nn.Module): The model to optimise.
        cfg (Config): Config; its ``optim_wrapper`` is used when present
            (a constructor may return an ``OptimWrapperDict``, e.g. SemiMTL's
            generator / discriminator wrappers).
        lr (float): Learning rate of the Adam fallback.
        amp (bool): Mixed precision (see :func:`amp_dtype`). Defaults to
            False.
        device (torch.device | str): The training device (for ``amp``).

    Returns:
        OptimWrapper | OptimWrapperDict: The wrapper.
    """
    device = torch.device(device)
    optim_cfg = cfg.get('optim_wrapper', None)
    if not optim_cfg:
        optim_cfg = dict(
            type='OptimWrapper', optimizer=dict(type='Adam', lr=lr))
    optim_cfg = copy.deepcopy(optim_cfg)
    if amp:
        optim_cfg = _amp_optim_wrapper_cfg(optim_cfg, device)
    return build_optim_wrapper(model, optim_cfg)


def optimizer_names(optim_wrapper: OptimWrapper) -> Union[str, dict]:
    """The optimizer's class name, or a dict of them for an
    ``OptimWrapperDict`` (one per sub-model)."""
    if isinstance(optim_wrapper, OptimWrapperDict):
        return {
            key: type(wrapper.optimizer).__name__
            for key, wrapper in optim_wrapper.items()
        }
    return type(optim_wrapper.optimizer).__name__
