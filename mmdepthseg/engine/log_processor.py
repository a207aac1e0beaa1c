# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Log lines that show small loss terms."""
import re
from typing import Tuple

from mmengine.runner import LogProcessor

from mmdepthseg.registry import LOG_PROCESSORS

_FIXED = re.compile(r'\.(\d+)f')


def format_significant(value: float, digits: int = 4) -> str:
    """``value`` with ``digits`` decimals, or in scientific notation when
    that would hide it.

    MMEngine prints every scalar with ``digits`` decimals, so a smoothness
    loss of 4.8e-05 reads ``0.0000``. Values of magnitude at least
    ``10 ** -(digits - 1)`` (0.001 for 4 digits, which still shows two
    significant digits) keep the fixed format; smaller non-zero values get
    ``digits - 2`` decimals of scientific notation (``4.80e-05``).

    Args:
        value (float): The value.
        digits (int): Decimals of the fixed format. Defaults to 4.

    Returns:
        str: The text.
    """
    if value == 0 or abs(value) >= 10**-(digits - 1) or value != value:
        return f'{value:.{digits}f}'
    return f'{value:.{max(digits - 2, 1)}e}'


class _LogValue(float):
    """A float whose fixed-point formats go through
    :func:`format_significant`."""

    def __format__(self, spec: str) -> str:
        match = _FIXED.fullmatch(spec)
        if match is None:
            return format(float(self), spec)
        return format_significant(float(self), int(match.group(1)))


def _plain(tag: dict) -> dict:
    return {
        k: float(v) if isinstance(v, _LogValue) else v
        for k, v in tag.items()
    }


@LOG_PROCESSORS.register_module()
class DepthSegLogProcessor(LogProcessor):
    """MMEngine's ``LogProcessor`` with small values readable.

    The text of the log lines formats every scalar with
    :func:`format_significant` (``loss_smooth: 4.80e-05`` instead of
    ``0.0000``); the values recorded for the visualizer backends
    (``vis_data/scalars.json``) are unchanged. Takes MMEngine's arguments
    (``window_size``, ``by_epoch``, ``custom_cfg``, ``num_digits``, ...).
    """

    def _collect_scalars(self, *args, **kwargs) -> dict:
        tag = super()._collect_scalars(*args, **kwargs)
        return {
            k: _LogValue(v) if isinstance(v, float) else v
            for k, v in tag.items()
        }

    def get_log_after_iter(self, runner, batch_idx: int,
                           mode: str) -> Tuple[dict, str]:
        tag, log_str = super().get_log_after_iter(runner, batch_idx, mode)
        return _plain(tag), log_str

    def get_log_after_epoch(self,
                            runner,
                            batch_idx: int,
                            mode: str,
                            with_non_scalar: bool = False) -> Tuple[dict, str]:
        tag, log_str = super().get_log_after_epoch(runner, batch_idx, mode,
                                                   with_non_scalar)
        return _plain(tag), log_str
