# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The interface between a multi-level decoder and the heads built on it."""
from abc import ABCMeta, abstractmethod
from typing import List, Optional, Sequence

import torch.nn as nn
from mmengine.model import BaseModule
from mmseg.utils import ConfigType
from torch import Tensor

from mmdepthseg.registry import MODELS


class BaseDecoder(BaseModule, metaclass=ABCMeta):
    """A decoder that turns multi-level encoder features into dense maps.

    Heads that take their decoder as config (``DisparityDepthHead``,
    ``DecoderSegHead``) rely on this interface only:

    - ``in_channels`` (tuple[int]): channels of the encoder features it
      reads, fine to coarse;
    - ``num_scales`` (int): number of output maps; output ``s`` has
      1/2^s of the resolution of output 0 (the finest);
    - :meth:`out_channels_at`: channels of output ``s``;
    - :meth:`forward_scales`: the outputs, finest first.

    ``forward`` stays the decoder's own (a list by scale for
    :class:`UNetDecoder`, one map for :class:`SymmetricDecoder`).
    """

    in_channels: tuple
    num_scales: int

    @abstractmethod
    def out_channels_at(self, scale: int) -> int:
        """Channels of the output at ``scale`` (0 = finest)."""

    @abstractmethod
    def forward_scales(self, feats: Sequence[Tensor]) -> List[Tensor]:
        """Decode encoder features.

        Args:
            feats (Sequence[Tensor]): Encoder features, fine to coarse, with
                ``in_channels`` channels.

        Returns:
            list[Tensor]: ``num_scales`` maps, finest first; element ``s``
            has ``out_channels_at(s)`` channels.
        """


def build_decoder(cfg: ConfigType, in_channels: Optional[Sequence[int]],
                  owner: str) -> nn.Module:
    """Build a head's decoder from its config.

    Args:
        cfg (dict): Decoder config (``type`` a registered :class:`BaseDecoder`
            or the class itself).
        in_channels (Sequence[int], optional): The head's encoder channels;
            filled into ``cfg`` when it has none, and checked against it
            when it has. None leaves ``cfg`` as it is.
        owner (str): The head's name, for errors.

    Returns:
        BaseDecoder: The decoder.

    Raises:
        ValueError: ``cfg['in_channels']`` differs from ``in_channels``.
        TypeError: The built module is not a :class:`BaseDecoder`.
    """
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise TypeError(f'{owner}: decoder must be a config dict with a '
                        f"'type' (e.g. dict(type='UNetDecoder')), got {cfg!r}")
    cfg = cfg.copy()
    if in_channels is not None:
        given = cfg.setdefault('in_channels', list(in_channels))
        if tuple(given) != tuple(in_channels):
            raise ValueError(
                f'{owner}: decoder in_channels {tuple(given)} differ from '
                f'the head in_channels {tuple(in_channels)}')
    decoder = MODELS.build(cfg)
    if not isinstance(decoder, BaseDecoder):
        raise TypeError(
            f'{owner}: decoder {type(decoder).__name__} is not a BaseDecoder '
            '(mmdepthseg.models.decoders), which gives outputs by scale '
            '(forward_scales) and their channels (out_channels_at)')
    return decoder
