# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Check a config before the Runner starts (``tools/train.py``,
``tools/test.py``).

MMEngine builds most hooks, loops and schedulers only when it needs them, so
a misspelt argument (``default_hooks.checkpoint.intervl=1``) surfaces hours
into a run, when the first checkpoint is saved. :func:`check_arguments`
looks the classes up in the registries (the config's default scope) and
compares the keys given with the arguments their constructors accept
(``inspect.signature``, following ``**kwargs`` up the class hierarchy);
unknown keys are reported with the nearest valid name (``difflib``).
:func:`check_paths` makes sure the checkpoint and the data roots exist,
before the work directory and the log are created.
"""
import difflib
import inspect
import os.path as osp
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmdepthseg.registry import (HOOKS, LOG_PROCESSORS, LOOPS, OPTIM_WRAPPERS,
                                 OPTIMIZERS, PARAM_SCHEDULERS, VISUALIZERS)
from .data_root import dataset_roots


class ConfigCheckError(ValueError):
    """A config asks for something its classes or files cannot give."""


#: Classes whose ``**kwargs`` go somewhere that accepts only these names
#: (``CheckpointHook`` passes them to ``Runner.save_checkpoint`` next to
#: every argument that method has, so no further name is valid).
KWARGS_ACCEPT: Dict[str, Tuple[str, ...]] = {
    'CheckpointHook': (),
}


def accepted_arguments(cls) -> Optional[Set[str]]:
    """The keyword arguments a class's constructor accepts.

    ``**kwargs`` of a constructor are assumed to go to the next constructor
    up the method resolution order (``super().__init__(**kwargs)``), whose
    names are added; :data:`KWARGS_ACCEPT` closes known exceptions.

    Args:
        cls (type): The class.

    Returns:
        set[str] | None: The names, or None when the set is open (a
        ``**kwargs`` that reaches ``object``, or not a class).
    """
    if not inspect.isclass(cls):
        return None
    names: Set[str] = set()
    for klass in cls.__mro__:
        if klass is object:
            return None
        init = klass.__dict__.get('__init__')
        if init is None:
            continue
        try:
            params = list(inspect.signature(init).parameters.values())[1:]
        except (TypeError, ValueError):
            return None
        open_kwargs = False
        for param in params:
            if param.kind is inspect.Parameter.VAR_KEYWORD:
                open_kwargs = True
            elif param.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                inspect.Parameter.KEYWORD_ONLY):
                names.add(param.name)
        if not open_kwargs:
            return names
        if klass.__name__ in KWARGS_ACCEPT:
            return names | set(KWARGS_ACCEPT[klass.__name__])
    return None


def _unknown_keys(where: str, cls, given: Iterable[str],
                  passed_by_runner: Sequence[str] = (),
                  extra: Sequence[str] = ('type', )) -> List[str]:
    """Problems of one component: keys its class does not accept."""
    accepted = accepted_arguments(cls)
    if accepted is None:
        return []
    # ``_scope_``: MMEngine's scope of a dict inherited through ``mmseg::``
    accepted = (accepted - set(passed_by_runner)) | set(extra) | {'_scope_'}
    problems = []
    for key in given:
        if key in accepted:
            continue
        if key in passed_by_runner:
            problems.append(f'{where}: {key!r} is set by the runner, not by '
                            'the config')
            continue
        near = difflib.get_close_matches(key, sorted(accepted), n=1)
        hint = f"; did you mean '{near[0]}'?" if near else \
            f' (it accepts: {", ".join(sorted(accepted))})'
        problems.append(f'{where}: {cls.__name__} has no argument '
                        f'{key!r}{hint}')
    return problems


def _lookup(registry, type_name, where: str, problems: List[str]):
    """The class of ``type_name`` (a name or a class), or None."""
    if not isinstance(type_name, str):
        return type_name
    cls = registry.get(type_name)
    if cls is None:
        known = sorted(_registry_names(registry))
        near = difflib.get_close_matches(type_name, known, n=1)
        hint = f"; did you mean '{near[0]}'?" if near else ''
        problems.append(f'{where}: {type_name!r} is not a registered '
                        f'{registry.name}{hint}')
    return cls


def _registry_names(registry) -> Set[str]:
    """Names reachable from ``registry`` (itself, its parents and their
    children)."""
    names: Set[str] = set()
    root = registry
    while root.parent is not None:
        root = root.parent
    stack = [root]
    while stack:
        reg = stack.pop()
        names.update(reg.module_dict)
        stack.extend(reg.children.values())
    return names


def _check_component(cfg: dict, registry, where: str, problems: List[str],
                     default_type=None,
                     passed_by_runner: Sequence[str] = (),
                     extra: Sequence[str] = ('type', )) -> None:
    if not isinstance(cfg, dict):
        return
    cls = _lookup(registry, cfg.get('type', default_type), where, problems)
    if cls is not None:
        problems.extend(
            _unknown_keys(where, cls, cfg.keys(), passed_by_runner, extra))


def _check_hooks(cfg: Config, problems: List[str]) -> None:
    for name, hook in (cfg.get('default_hooks') or {}).items():
        _check_component(
            hook, HOOKS, f'default_hooks.{name}', problems,
            extra=('type', 'priority'))
    for i, hook in enumerate(cfg.get('custom_hooks') or []):
        _check_component(
            hook, HOOKS, f'custom_hooks[{i}]', problems,
            extra=('type', 'priority'))


def _check_loops(cfg: Config, problems: List[str]) -> None:
    from mmengine.runner import (EpochBasedTrainLoop, IterBasedTrainLoop,
                                 TestLoop, ValLoop)
    train_cfg = cfg.get('train_cfg')
    if isinstance(train_cfg, dict) and train_cfg:
        if 'type' in train_cfg:
            default, extra = None, ('type', )
        else:
            default = EpochBasedTrainLoop if train_cfg.get(
                'by_epoch', True) else IterBasedTrainLoop
            extra = ('by_epoch', )
        _check_component(
            train_cfg,
            LOOPS,
            'train_cfg',
            problems,
            default_type=default,
            passed_by_runner=('runner', 'dataloader'),
            extra=extra)
    for key, default in (('val_cfg', ValLoop), ('test_cfg', TestLoop)):
        loop = cfg.get(key)
        if isinstance(loop, dict) and loop:
            _check_component(
                loop,
                LOOPS,
                key,
                problems,
                default_type=default,
                passed_by_runner=('runner', 'dataloader', 'evaluator'))


def _check_optim_wrapper(wrapper: dict, where: str,
                         problems: List[str]) -> None:
    """One optimizer wrapper built by MMEngine's default constructor."""
    _check_component(
        wrapper,
        OPTIM_WRAPPERS,
        where,
        problems,
        default_type='OptimWrapper',
        passed_by_runner=('optimizer', ),
        extra=('type', 'optimizer', 'paramwise_cfg', 'constructor'))
    optimizer = wrapper.get('optimizer')
    if isinstance(optimizer, dict):
        _check_component(
            optimizer,
            OPTIMIZERS,
            f'{where}.optimizer',
            problems,
            passed_by_runner=('params', ))


def _check_optimizers(cfg: Config, problems: List[str]) -> None:
    wrapper = cfg.get('optim_wrapper')
    if not isinstance(wrapper, dict) or not wrapper:
        return
    constructor = wrapper.get('constructor', 'DefaultOptimWrapperConstructor')
    if constructor == 'DefaultOptimWrapperConstructor':
        _check_optim_wrapper(wrapper, 'optim_wrapper', problems)
        return
    # a custom constructor: check the wrappers it is given, one per key
    for key, value in wrapper.items():
        if isinstance(value, dict) and 'optimizer' in value:
            _check_optim_wrapper(value, f'optim_wrapper.{key}', problems)


def _check_schedulers(cfg: Config, problems: List[str]) -> None:
    schedulers = cfg.get('param_scheduler')
    if schedulers is None:
        return
    groups = schedulers.items() if isinstance(schedulers, dict) and \
        'type' not in schedulers else [('', schedulers)]
    for group, items in groups:
        items = [items] if isinstance(items, dict) else list(items or [])
        for i, item in enumerate(items):
            where = 'param_scheduler' + (f'.{group}' if group else '') + \
                f'[{i}]'
            _check_component(
                item,
                PARAM_SCHEDULERS,
                where,
                problems,
                passed_by_runner=('optimizer', ),
                extra=('type', 'convert_to_iter_based'))


def _check_runtime(cfg: Config, problems: List[str]) -> None:
    log_processor = cfg.get('log_processor')
    if isinstance(log_processor, dict):
        _check_component(
            log_processor,
            LOG_PROCESSORS,
            'log_processor',
            problems,
            default_type='LogProcessor')
    visualizer = cfg.get('visualizer')
    if isinstance(visualizer, dict) and 'type' in visualizer:
        _check_component(visualizer, VISUALIZERS, 'visualizer', problems)
    randomness = cfg.get('randomness')
    if isinstance(randomness, dict):
        problems.extend(
            _unknown_keys('randomness', _Randomness, randomness.keys(),
                          extra=()))


class _Randomness:
    """The keys ``Runner.set_randomness`` takes (``randomness=dict(...)``)."""

    def __init__(self,
                 seed=None,
                 deterministic: bool = False,
                 diff_rank_seed: bool = False) -> None:
        pass


def check_arguments(cfg: Config) -> None:
    """Check the arguments of hooks, loops, optimizers, schedulers, the log
    processor, the visualizer and ``randomness`` against their classes.

    Args:
        cfg (Config): The merged config.

    Raises:
        ConfigCheckError: Every unknown key and type, one per line, with the
        nearest valid name.
    """
    problems: List[str] = []
    scope = cfg.get('default_scope', 'mmdepthseg')
    with DefaultScope.overwrite_default_scope(scope):
        _check_hooks(cfg, problems)
        _check_loops(cfg, problems)
        _check_optimizers(cfg, problems)
        _check_schedulers(cfg, problems)
        _check_runtime(cfg, problems)
    if problems:
        name = getattr(cfg, 'filename', None) or 'the config'
        raise ConfigCheckError(f'{name}:\n  ' + '\n  '.join(problems))


def _is_remote(path: str) -> bool:
    return '://' in path


def check_paths(cfg: Config,
                loaders: Sequence[str] = (),
                checkpoint: Optional[str] = None) -> None:
    """Files and folders the run will read exist.

    Args:
        cfg (Config): The merged config (its ``load_from`` is checked when
            set).
        loaders (Sequence[str]): Dataloaders whose ``data_root`` folders
            must exist.
        checkpoint (str, optional): A checkpoint that must exist.

    Raises:
        FileNotFoundError: Every missing path, one per line.
    """
    missing = []
    for what, path in (('checkpoint', checkpoint), ('load_from',
                                                    cfg.get('load_from'))):
        if path and not _is_remote(str(path)) and not osp.isfile(str(path)):
            missing.append(f'{what}: {path} is not a file')
    roots: Dict[str, List[str]] = {}
    for where, root in dataset_roots(cfg, loaders):
        roots.setdefault(root, []).append(where)
    for root, where in roots.items():
        if not _is_remote(root) and not osp.isdir(root):
            missing.append(f'data root {root} (read by {where[0]}'
                           f'{" and others" if len(where) > 1 else ""}) is '
                           'not a folder; give the data with --data-root')
    if missing:
        raise FileNotFoundError('\n  '.join(['missing:'] + missing))
