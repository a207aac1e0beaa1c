# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Move the datasets of a config: ``--data-root`` of the tools.

A config names its data folder in a variable (``data_root =
'data/cityscapes'``) that MMEngine substitutes into every dataset when the
file is parsed, so overriding the variable afterwards
(``--cfg-options data_root=...``) reaches no dataset. The functions here
rewrite the ``data_root`` of every dataset config below the dataloaders
instead, sources of a ``MultiSourceDataset`` included, and keep the
config's top-level ``*root`` variables in step.

A config may read several roots (SemiMTL's Cityscapes + Synscapes, ISPRS
Potsdam + Vaihingen). One new root then is ambiguous: each root is moved
separately with ``OLD=NEW`` pairs, ``OLD`` being the root's current path or
the name of the config variable holding it (``synscapes_root=/data/syn``).
"""
import copy
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from mmengine.config import Config

#: Dataloaders whose datasets the tools move.
DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _walk(node: Any, path: str) -> Iterator[Tuple[str, dict]]:
    """Every dict below ``node`` that has a ``data_root`` key."""
    if isinstance(node, dict):
        if 'data_root' in node:
            yield path, node
        for key, value in node.items():
            yield from _walk(value, f'{path}.{key}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _walk(value, f'{path}[{i}]')


def dataset_roots(cfg: Config,
                  loaders: Sequence[str] = DATALOADERS
                  ) -> List[Tuple[str, str]]:
    """The ``data_root`` of every dataset (and transform) of the loaders.

    Args:
        cfg (Config): The config.
        loaders (Sequence[str]): Dataloader keys to look in (missing ones
            are skipped).

    Returns:
        list[tuple[str, str]]: ``(key path, data_root)`` pairs, e.g.
        ``('train_dataloader.dataset.sources[0].dataset', 'data/cs')``.
    """
    found = []
    for loader in loaders:
        node = cfg.get(loader, None)
        if node is None:
            continue
        for path, item in _walk(node, loader):
            if isinstance(item['data_root'], str):
                found.append((path, item['data_root']))
    return found


def root_variables(cfg: Config) -> Dict[str, str]:
    """Top-level string variables of the config named ``*root``."""
    return {
        key: value
        for key, value in cfg.items()
        if key.endswith('root') and isinstance(value, str)
    }


def parse_root_spec(cfg: Config,
                    spec: Sequence[str],
                    loaders: Sequence[str] = DATALOADERS) -> Dict[str, str]:
    """``--data-root`` arguments -> ``{old root: new root}``.

    Args:
        cfg (Config): The config.
        spec (Sequence[str]): Either one folder (every dataset moves there;
            only when the datasets read a single root), or ``OLD=NEW`` pairs
            where ``OLD`` is a current root or the name of a config variable
            ending in ``root`` (``data_root``, ``synscapes_root``).
        loaders (Sequence[str]): Dataloaders considered.

    Returns:
        dict[str, str]: New root of each current root.

    Raises:
        ValueError: Ambiguous or unknown roots, with the roots the config
        reads.
    """
    spec = [spec] if isinstance(spec, str) else list(spec)
    current = sorted({root for _, root in dataset_roots(cfg, loaders)})
    variables = root_variables(cfg)
    listing = ', '.join(current) or 'none'
    if not current:
        raise ValueError(
            f'no dataset of {", ".join(loaders)} has a data_root to move')
    if len(spec) == 1 and '=' not in spec[0]:
        if len(current) > 1:
            pairs = ' '.join(
                f'{_variable_of(root, variables) or root}=NEW' for root in
                current)
            raise ValueError(
                f'the datasets read {len(current)} data roots ({listing}); '
                f'move each one: --data-root {pairs}')
        return {current[0]: spec[0]}
    mapping = {}
    for item in spec:
        if '=' not in item:
            raise ValueError(
                f'--data-root {item!r}: with several values each must be '
                f'OLD=NEW (roots read: {listing})')
        old, new = item.split('=', 1)
        old = variables.get(old, old)
        if old not in current:
            raise ValueError(
                f'--data-root {item!r}: no dataset reads {old!r} (roots '
                f'read: {listing}; variables: '
                f'{", ".join(sorted(variables)) or "none"})')
        mapping[old] = new
    return mapping


def _variable_of(root: str, variables: Dict[str, str]) -> Optional[str]:
    names = [k for k, v in variables.items() if v == root]
    return 'data_root' if 'data_root' in names else (
        names[0] if names else None)


def move_data_roots(cfg: Config,
                    mapping: Dict[str, str],
                    loaders: Sequence[str] = DATALOADERS) -> List[str]:
    """Rewrite every ``data_root`` found in ``mapping``, in place.

    The top-level ``*root`` variables holding a moved root are updated too,
    so that the dumped config says where the data were read.

    Args:
        cfg (Config): The config (changed in place).
        mapping (dict[str, str]): ``{old root: new root}``.
        loaders (Sequence[str]): Dataloaders whose datasets move.

    Returns:
        list[str]: Key paths of the moved datasets.
    """
    moved = []
    for loader in loaders:
        node = cfg.get(loader, None)
        if node is None:
            continue
        for path, item in _walk(node, loader):
            root = item['data_root']
            if isinstance(root, str) and root in mapping:
                item['data_root'] = mapping[root]
                moved.append(path)
    for key, value in root_variables(cfg).items():
        if value in mapping:
            cfg[key] = mapping[value]
    return moved


def set_data_root(cfg: Config,
                  spec: Sequence[str],
                  loaders: Sequence[str] = DATALOADERS) -> List[str]:
    """``--data-root``: :func:`parse_root_spec` then
    :func:`move_data_roots`.

    Returns:
        list[str]: Key paths of the moved datasets.
    """
    return move_data_roots(cfg, parse_root_spec(cfg, spec, loaders), loaders)


def pop_root_options(cfg: Config, cfg_options: Optional[dict],
                     loaders: Sequence[str] = DATALOADERS
                     ) -> Tuple[Optional[dict], Dict[str, str]]:
    """Take root variables out of ``--cfg-options``.

    ``--cfg-options data_root=X`` would only change the variable, which no
    dataset reads any more. Such an option (a top-level key ending in
    ``root`` whose current value is a string) is turned into a move of the
    datasets that read the variable's value; when none does, the option is
    refused.

    Args:
        cfg (Config): The config, before the options are merged.
        cfg_options (dict, optional): Parsed ``--cfg-options``.
        loaders (Sequence[str]): Dataloaders considered.

    Returns:
        tuple[dict | None, dict[str, str]]: The remaining options and the
        ``{old root: new root}`` moves.

    Raises:
        ValueError: A root option that would move no dataset.
    """
    if not cfg_options:
        return cfg_options, {}
    variables = root_variables(cfg)
    current = {root for _, root in dataset_roots(cfg, loaders)}
    rest, mapping = {}, {}
    for key, value in cfg_options.items():
        if key in variables and isinstance(value, str):
            old = variables[key]
            if old not in current:
                raise ValueError(
                    f'--cfg-options {key}={value}: no dataset reads '
                    f'{key} ({old!r}; the datasets read '
                    f'{", ".join(sorted(current)) or "nothing"}), so the '
                    'option would change nothing. Use --data-root to move '
                    'the datasets.')
            mapping[old] = value
        else:
            rest[key] = value
    return rest, mapping


def apply_data_root_args(cfg: Config,
                         cfg_options: Optional[dict],
                         data_root: Optional[Sequence[str]],
                         loaders: Sequence[str] = DATALOADERS) -> List[str]:
    """Merge ``--cfg-options`` and ``--data-root`` into ``cfg`` (in place).

    Root variables in ``cfg_options`` move the datasets
    (:func:`pop_root_options`); the other options are merged; then
    ``data_root`` (``--data-root``) moves the datasets of ``loaders``.

    Returns:
        list[str]: Key paths of the moved datasets.
    """
    cfg_options = copy.deepcopy(cfg_options)
    rest, mapping = pop_root_options(cfg, cfg_options, loaders)
    moved = move_data_roots(cfg, mapping, loaders) if mapping else []
    if rest:
        cfg.merge_from_dict(rest)
    if data_root:
        moved += set_data_root(cfg, data_root, loaders)
    return moved
