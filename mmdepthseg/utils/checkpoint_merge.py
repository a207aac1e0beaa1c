# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Merge parts of several checkpoints into one initialisation.

Pseudo-MTL (Sec. 4.2) trains the depth network ``E + D_d`` and the
segmentation network ``E + D_s`` separately (stage 1) and fine-tunes the
whole network "after initializing it with the pretrained weight parameters
of the monocular depth network E + D_d and semantic segmentation network
D_s" (stage 2): the encoder and depth decoder come from the depth network,
the segmentation decoder from the segmentation network. The stage-2 config
loads the merged file with ``load_from``.
"""
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.runner import CheckpointLoader

from .io import atomic_torch_save

#: A source: (checkpoint path, module prefixes to take from it).
Source = Tuple[str, Sequence[str]]


def _state_dict(ckpt: dict, path: str) -> Dict[str, torch.Tensor]:
    if not isinstance(ckpt, dict):
        raise TypeError(f'{path}: expected a checkpoint dict, got '
                        f'{type(ckpt).__name__}')
    state = ckpt.get('state_dict', ckpt)
    # strip the wrapper prefix of checkpoints saved from a DDP model
    return OrderedDict(
        (k[len('module.'):] if k.startswith('module.') else k, v)
        for k, v in state.items())


def _matches(key: str, prefix: str) -> bool:
    """Whole dotted components: 'seg_head' matches 'seg_head.conv.weight'
    but not 'seg_head2.x'."""
    return key == prefix or key.startswith(prefix.rstrip('.') + '.')


def merge_state_dicts(
    parts: Sequence[Tuple[str, Dict[str, torch.Tensor], Sequence[str]]]
) -> Tuple['OrderedDict[str, torch.Tensor]', Dict[str, List[str]]]:
    """Take the parameters under given prefixes from each state dict.

    Args:
        parts (Sequence[tuple]): ``(name, state_dict, prefixes)`` per source;
            ``name`` appears in error messages.

    Returns:
        tuple: The merged state dict and ``{name: [keys taken]}``.

    Raises:
        KeyError: A prefix matches no key of its source, or two sources
            provide the same key.
    """
    merged: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
    origin: Dict[str, str] = dict()
    taken: Dict[str, List[str]] = dict()
    for name, state, prefixes in parts:
        if not prefixes:
            raise ValueError(f'{name}: give at least one module prefix')
        keys = []
        for prefix in prefixes:
            hits = [k for k in state if _matches(k, prefix)]
            if not hits:
                tops = sorted({k.split('.')[0] for k in state})
                raise KeyError(f'{name}: no parameter under {prefix!r}; its '
                               f'top-level modules are {tops}')
            keys += hits
        for key in keys:
            if key in origin and origin[key] != name:
                raise KeyError(f'{key!r} is provided by both {origin[key]} '
                               f'and {name}; give each prefix to one source')
            merged[key] = state[key]
            origin[key] = name
        taken[name] = keys
    return merged, taken


def merge_checkpoints(sources: Sequence[Source],
                      out_file: str,
                      model: Optional[torch.nn.Module] = None) -> dict:
    """Merge checkpoint parts and write the result atomically.

    Args:
        sources (Sequence[tuple[str, Sequence[str]]]): ``(path, prefixes)``
            per checkpoint, e.g. ``[('depth.pth', ['backbone',
            'depth_head']), ('seg.pth', ['seg_head'])]``.
        out_file (str): Output checkpoint (``{'state_dict', 'meta'}``).
        model (nn.Module, optional): If given, the merged weights must load
            into it with ``strict=True`` (same keys and shapes); checked
            before anything is written.

    Returns:
        dict: The written checkpoint.
    """
    parts = []
    for path, prefixes in sources:
        ckpt = CheckpointLoader.load_checkpoint(path, map_location='cpu')
        parts.append((path, _state_dict(ckpt, path), list(prefixes)))
    merged, taken = merge_state_dicts(parts)
    if model is not None:
        result = model.load_state_dict(merged, strict=False)
        if result.missing_keys or result.unexpected_keys:
            raise KeyError(
                'the merged weights do not match the model: missing '
                f'{result.missing_keys[:8]} ({len(result.missing_keys)}), '
                f'unexpected {result.unexpected_keys[:8]} '
                f'({len(result.unexpected_keys)})')
    ckpt = dict(
        state_dict=merged,
        meta=dict(
            merged_from={
                path: sorted({k.split('.')[0]
                              for k in keys})
                for path, keys in taken.items()
            }))
    atomic_torch_save(ckpt, out_file)
    return ckpt
