# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Verified, key-mapped loading of public ImageNet checkpoints.

A backbone that mixes in :class:`PretrainedInitMixin` handles its own
``init_cfg=dict(type='Pretrained', checkpoint=...)`` instead of MMEngine's
``PretrainedInit``. It accepts MMEngine's keys (``checkpoint``, ``prefix``,
``map_location``) and these:

- ``sha256`` (str): the pinned SHA-256 (full, or a >= 8-digit prefix),
  checked before the file is read (:mod:`mmdepthseg.utils.pretrained`);
- ``layout`` (str): the checkpoint's key layout, e.g. ``'torchvision'``,
  ``'openmmlab'`` or ``'timm'``; each backbone's :meth:`convert_pretrained`
  maps it onto its own module names (None: the backbone's own names, or
  recognised from the keys);
- ``strict`` (bool): stop with an error naming every missing, unexpected
  or mis-shaped key (default True; False only logs them);
- ``cfg_key`` (str): the config key of this ``init_cfg``, named in the
  errors (default: the backbone's :attr:`pretrained_cfg_key`).

The checkpoint's classifier is dropped (and logged); every other tensor
must match one of the module's, one to one, so that a layout error cannot
pass silently as a partly random encoder.
"""
from typing import Dict, List, NamedTuple, Optional, Union

from mmengine.logging import print_log
from torch import Tensor

from mmdepthseg.utils.pretrained import (compare_state_dicts,
                                         load_pretrained_state_dict)

_MMENGINE_KEYS = ('type', 'checkpoint', 'prefix', 'map_location')
_OWN_KEYS = ('sha256', 'layout', 'strict', 'cfg_key')


class ConvertedState(NamedTuple):
    """A checkpoint mapped onto a module's names.

    Attributes:
        state (dict[str, Tensor]): Tensors under the module's key names.
        sources (dict[str, str]): Module key -> checkpoint key, for keys
            that were renamed (error messages name both).
        dropped (list[str]): Checkpoint keys deliberately left out (the
            ImageNet classifier).
    """
    state: Dict[str, Tensor]
    sources: Dict[str, str]
    dropped: List[str]


def split_pretrained_cfg(init_cfg: Union[dict, List[dict], None]):
    """Separate a ``Pretrained`` entry from the other init configs.

    Args:
        init_cfg (dict | list[dict] | None): A module's ``init_cfg``.

    Returns:
        tuple: ``(pretrained, others)``: the ``Pretrained`` dict (or None)
        and the remaining config (None, a dict or a list).

    Raises:
        ValueError: More than one ``Pretrained`` entry, or unknown keys.
    """
    cfgs = init_cfg if isinstance(init_cfg, list) else [init_cfg]
    pretrained = [
        c for c in cfgs
        if isinstance(c, dict) and c.get('type') == 'Pretrained'
    ]
    others = [c for c in cfgs if c is not None and c not in pretrained]
    if not pretrained:
        return None, init_cfg
    if len(pretrained) > 1:
        raise ValueError(f'init_cfg holds {len(pretrained)} Pretrained '
                         f'entries, expected at most one: {init_cfg}')
    cfg = dict(pretrained[0])
    unknown = set(cfg) - set(_MMENGINE_KEYS) - set(_OWN_KEYS)
    if unknown:
        raise ValueError(
            f'Pretrained init_cfg {cfg}: unknown keys {sorted(unknown)}; '
            f'allowed: {list(_MMENGINE_KEYS + _OWN_KEYS)}')
    if not others:
        others = None
    elif not isinstance(init_cfg, list):
        others = others[0]
    return cfg, others


class PretrainedInitMixin:
    """Verified ``Pretrained`` initialisation for a ``BaseModule``.

    Mix in before the ``BaseModule`` class and implement
    :meth:`convert_pretrained`. :meth:`init_weights` first initialises the
    module as without ``Pretrained`` (its other ``init_cfg`` entries and its
    children), then loads the checkpoint over it.
    """

    #: The config key named in the errors; a parent module may set it on
    #: the instance (the pose network does for its encoder).
    pretrained_cfg_key: str = 'model.backbone.init_cfg'

    def convert_pretrained(self, state: Dict[str, Tensor],
                           layout: Optional[str]) -> ConvertedState:
        """Map a checkpoint's keys onto this module's.

        Args:
            state (dict[str, Tensor]): The checkpoint's tensors.
            layout (str, optional): Its layout (``init_cfg['layout']``).

        Returns:
            ConvertedState: The mapped tensors.
        """
        raise NotImplementedError

    def init_weights(self) -> None:
        """Initialise, loading the ``Pretrained`` checkpoint if any."""
        pretrained, others = split_pretrained_cfg(self.init_cfg)
        if pretrained is None or getattr(self, '_is_init', False):
            super().init_weights()
            return
        full_cfg = self.init_cfg
        self.init_cfg = others
        try:
            super().init_weights()
        finally:
            self.init_cfg = full_cfg
        self.load_pretrained(pretrained)
        self._is_init = True

    def load_pretrained(self, cfg: dict) -> ConvertedState:
        """Fetch, verify, convert and load a ``Pretrained`` checkpoint.

        Args:
            cfg (dict): The ``Pretrained`` init config (keys as described
                in :mod:`mmdepthseg.models.backbones.pretrained`).

        Returns:
            ConvertedState: What was loaded.

        Raises:
            KeyError: Missing or unexpected keys (with ``strict``).
            ValueError: Shape mismatches (with ``strict``).
        """
        checkpoint = cfg['checkpoint']
        cfg_key = cfg.get('cfg_key') or self.pretrained_cfg_key
        owner = type(self).__name__
        state = load_pretrained_state_dict(
            checkpoint, cfg.get('sha256'), cfg_key=cfg_key, owner=owner)
        prefix = cfg.get('prefix')
        if prefix:
            state = {
                k[len(prefix):]: v
                for k, v in state.items() if k.startswith(prefix)
            }
            if not state:
                raise KeyError(f'{owner}: no key of {checkpoint} starts with '
                               f'the prefix {prefix!r}')
        converted = self.convert_pretrained(state, cfg.get('layout'))
        report = compare_state_dicts(self.state_dict(), converted.state,
                                     converted.sources)
        if not report.ok:
            msg = (f'{owner}: checkpoint {checkpoint} (layout '
                   f'{cfg.get("layout")!r}) does not fit the module: '
                   f'{len(report.missing)} missing keys '
                   f'{_head(report.missing)}, {len(report.unexpected)} '
                   f'unexpected keys {_head(report.unexpected)}, '
                   f'{len(report.mismatched)} shape mismatches '
                   f'{_head(report.mismatched)}. Check the architecture '
                   f'arguments and the layout, or set `{cfg_key}=None`.')
            if cfg.get('strict', True):
                if report.missing or report.unexpected:
                    raise KeyError(msg)
                raise ValueError(msg)
            print_log(msg, logger='current', level=30)
        own = self.state_dict()
        loadable = {
            k: v
            for k, v in converted.state.items()
            if k in own and v.shape == own[k].shape
        }
        self.load_state_dict(loadable, strict=False)
        print_log(
            f'{owner}: loaded {len(loadable)} tensors from {checkpoint}'
            + (' (SHA-256 verified)' if cfg.get('sha256') else '') +
            (f'; left out the classifier {converted.dropped}'
             if converted.dropped else ''),
            logger='current')
        return converted


def _head(keys: List[str], n: int = 4) -> str:
    return str(keys[:n])[:-1] + (', ...]' if len(keys) > n else ']')


def drop_classifier(state: Dict[str, Tensor], prefixes: tuple):
    """Split off the ImageNet classifier's tensors.

    Args:
        state (dict[str, Tensor]): Checkpoint tensors.
        prefixes (tuple[str]): Key prefixes of the classifier, e.g.
            ``('fc.',)``.

    Returns:
        tuple: ``(kept, dropped_keys)``.
    """
    kept = {k: v for k, v in state.items() if not k.startswith(prefixes)}
    return kept, sorted(k for k in state if k.startswith(prefixes))
