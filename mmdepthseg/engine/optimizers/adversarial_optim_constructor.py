# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Two optimizers for adversarial training: generator and discriminators."""
import copy
from typing import Dict, List, Optional

from mmengine.model import MMSeparateDistributedDataParallel, is_model_wrapper
from mmengine.optim import OptimWrapper, OptimWrapperDict
from torch import nn

from mmdepthseg.registry import OPTIM_WRAPPER_CONSTRUCTORS

#: Name of the model attribute that holds the discriminators.
DISCRIMINATORS = 'discriminators'
GENERATOR_KEY = 'generator'
DISCRIMINATOR_KEY = 'discriminator'


def _unwrap(module: nn.Module) -> nn.Module:
    """The module inside a model wrapper (DDP, MMSeparateDDP), else itself."""
    return module.module if is_model_wrapper(module) else module


def get_discriminators(model: nn.Module) -> Optional[nn.Module]:
    """The model's discriminators, unwrapped, or None if it has none.

    A model "has no discriminators" when it lacks the attribute
    ``discriminators``, sets it to None, or holds a module without
    parameters there (an empty ``ModuleDict``), as the single-task and joint
    training baselines of SemiMTL do.

    Args:
        model (nn.Module): The model, possibly inside a model wrapper; under
            ``MMSeparateDistributedDataParallel`` the attribute itself is a
            DDP wrapper, which is unwrapped too.

    Returns:
        nn.Module | None: The discriminators module.
    """
    discriminators = getattr(_unwrap(model), DISCRIMINATORS, None)
    if not isinstance(discriminators, nn.Module):
        return None
    discriminators = _unwrap(discriminators)
    if next(discriminators.parameters(), None) is None:
        return None
    return discriminators


def check_separate_ddp_coverage(model: nn.Module) -> None:
    """Refuse trainable parameters that a separate DDP wrapper leaves alone.

    ``MMSeparateDistributedDataParallel`` wraps each child module of the
    model (that has trainable parameters) in its own DDP wrapper; parameters
    held by the model itself, or by a child that was entirely frozen when
    the model was wrapped, are never all-reduced, so the ranks would drift
    apart silently. Does nothing for other models.

    Args:
        model (nn.Module): The (possibly wrapped) model.

    Raises:
        ValueError: Naming the unsynchronised trainable parameters.
    """
    if not isinstance(model, MMSeparateDistributedDataParallel):
        return
    module = model.module
    loose = [
        name for name, param in module.named_parameters(recurse=False)
        if param.requires_grad
    ]
    for child_name, child in module.named_children():
        if not is_model_wrapper(child):
            loose += [
                f'{child_name}.{name}'
                for name, param in child.named_parameters()
                if param.requires_grad
            ]
    if loose:
        raise ValueError(
            'MMSeparateDistributedDataParallel synchronises only the '
            f'child modules of {type(module).__name__} that had trainable '
            'parameters when it was wrapped; these trainable parameters '
            f'would drift apart across ranks: {loose[:10]}. Hold them in a '
            'child module (and do not freeze a whole child before wrapping '
            'if it is trained later).')


class _ParameterView(nn.Module):
    """Some children and direct parameters of a model, under their names.

    The sub-constructors walk this view instead of the model, so that the
    parameter names they see (``paramwise_cfg.custom_keys``) are the model's
    own (``backbone.layer1.0.conv1.weight``), also when
    ``MMSeparateDistributedDataParallel`` has wrapped each child (whose
    parameter names would otherwise read ``backbone.module.layer1...``).
    The view shares the modules and parameters; it copies nothing.
    """

    def __init__(self, children: Dict[str, nn.Module],
                 parameters: Dict[str, nn.Parameter]) -> None:
        super().__init__()
        for name, child in children.items():
            self.add_module(name, _unwrap(child))
        for name, param in parameters.items():
            self.register_parameter(name, param)


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class GeneratorDiscriminatorOptimWrapperConstructor:
    """Build one optimizer wrapper for the generator and one for the
    discriminators (adversarial training as in SemiMTL, Sec. 4.1).

    The model's parameters are split by its child ``discriminators``: every
    parameter under ``discriminators.`` goes to the ``'discriminator'``
    wrapper, every other one (backbone, heads, parameters held by the model
    itself) to the ``'generator'`` wrapper. Each part is built by its own
    constructor (``DefaultOptimWrapperConstructor`` unless the sub-config
    names another one under ``constructor``) with the sub-config's own
    ``paramwise_cfg``; parameter names in ``custom_keys`` are the model's
    (``'backbone'``, ``'discriminators.seg'``), also when the model is
    wrapped by ``MMSeparateDistributedDataParallel``. After building, every
    parameter of the model is checked to be in exactly one optimizer; under
    ``MMSeparateDistributedDataParallel``, every trainable parameter is
    checked to be synchronised (see :func:`check_separate_ddp_coverage`).

    Example::

        optim_wrapper = dict(
            constructor='GeneratorDiscriminatorOptimWrapperConstructor',
            generator=dict(
                type='OptimWrapper',
                optimizer=dict(
                    type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4),
                paramwise_cfg=dict(custom_keys={'backbone': dict(
                    lr_mult=0.1)})),
            discriminator=dict(
                type='OptimWrapper',
                optimizer=dict(type='Adam', lr=1e-4, betas=(0.9, 0.99))))
        param_scheduler = dict(
            generator=dict(type='PolyLR', power=0.9, eta_min=0.0,
                           by_epoch=False),
            discriminator=[])  # constant learning rate

    MMEngine's Runner builds one list of schedulers per key of the returned
    :class:`OptimWrapperDict`, so ``param_scheduler`` must be a dict with a
    (possibly empty) entry for each of them.

    Models without discriminators (single-task / joint training baselines,
    see :func:`get_discriminators`) take a config with ``generator`` only;
    the result is then an ``OptimWrapperDict`` with the single key
    ``'generator'`` (not a plain ``OptimWrapper``), so that the model's
    ``train_step`` and the ``param_scheduler`` dict are the same in every
    mode. ``DiscriminatorStepHook`` does nothing for such models.

    Args:
        optim_wrapper_cfg (dict): ``generator`` (required) and
            ``discriminator`` (required iff the model has discriminators),
            each an optimizer wrapper config with ``optimizer`` and
            optionally ``type`` (default ``'OptimWrapper'``),
            ``paramwise_cfg`` and ``constructor``. An entry set to None
            counts as absent (``discriminator=None`` in a baseline config
            that inherits a SemiMTL schedule).
        paramwise_cfg (dict, optional): Must be None: a top-level
            ``paramwise_cfg`` would be ambiguous; put it inside
            ``generator`` / ``discriminator``.
    """

    def __init__(self,
                 optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None) -> None:
        where = 'GeneratorDiscriminatorOptimWrapperConstructor'
        if not isinstance(optim_wrapper_cfg, dict):
            raise TypeError(f'{where}: optim_wrapper must be a dict, got '
                            f'{type(optim_wrapper_cfg).__name__}')
        if paramwise_cfg is not None:
            raise ValueError(
                f'{where}: a top-level optim_wrapper.paramwise_cfg is '
                'ambiguous; put paramwise_cfg inside optim_wrapper.generator '
                'and/or optim_wrapper.discriminator')
        allowed = (GENERATOR_KEY, DISCRIMINATOR_KEY)
        unknown = sorted(set(optim_wrapper_cfg) - set(allowed))
        if unknown:
            raise ValueError(
                f'{where}: optim_wrapper may only have the keys {allowed} '
                f'(besides constructor), got unknown keys {unknown}')
        if optim_wrapper_cfg.get(GENERATOR_KEY) is None:
            raise ValueError(f"{where}: optim_wrapper needs a 'generator' "
                             'optimizer wrapper config')
        self.constructors = {}
        for name in allowed:
            if optim_wrapper_cfg.get(name) is None:
                continue
            sub_cfg = optim_wrapper_cfg[name]
            if not isinstance(sub_cfg, dict) or 'optimizer' not in sub_cfg:
                raise ValueError(
                    f'{where}: optim_wrapper.{name} must be an optimizer '
                    "wrapper config (a dict with 'optimizer'), got "
                    f'{sub_cfg!r}')
            sub_cfg = copy.deepcopy(dict(sub_cfg))
            constructor = sub_cfg.pop('constructor',
                                      'DefaultOptimWrapperConstructor')
            sub_paramwise_cfg = sub_cfg.pop('paramwise_cfg', None)
            sub_cfg.setdefault('type', 'OptimWrapper')
            self.constructors[name] = OPTIM_WRAPPER_CONSTRUCTORS.build(
                dict(
                    type=constructor,
                    optim_wrapper_cfg=sub_cfg,
                    paramwise_cfg=sub_paramwise_cfg))

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        """Build the optimizer wrappers of ``model``.

        Args:
            model (nn.Module): The model, possibly wrapped (DDP,
                ``MMSeparateDistributedDataParallel``).

        Returns:
            OptimWrapperDict: ``generator`` and, for a model with
            discriminators, ``discriminator``.
        """
        check_separate_ddp_coverage(model)
        module = _unwrap(model)
        model_name = type(module).__name__
        has_discriminators = get_discriminators(module) is not None
        if has_discriminators and DISCRIMINATOR_KEY not in self.constructors:
            raise ValueError(
                f'{model_name} has discriminators (model.{DISCRIMINATORS}) '
                "but optim_wrapper has no 'discriminator' config; they "
                'would never be trained')
        if not has_discriminators and DISCRIMINATOR_KEY in self.constructors:
            raise ValueError(
                f"optim_wrapper has a 'discriminator' config but "
                f'{model_name} has no discriminators (model.{DISCRIMINATORS}'
                ' is missing, None or has no parameters); remove the '
                "'discriminator' entry for single-task / joint training")

        children = dict(module.named_children())
        views = {
            GENERATOR_KEY:
            _ParameterView(
                {
                    name: child
                    for name, child in children.items()
                    if name != DISCRIMINATORS
                }, dict(module.named_parameters(recurse=False)))
        }
        if has_discriminators:
            views[DISCRIMINATOR_KEY] = _ParameterView(
                {DISCRIMINATORS: children[DISCRIMINATORS]}, {})
        wrappers = {
            name: self.constructors[name](view)
            for name, view in views.items()
        }
        _check_partition(module, wrappers)
        return OptimWrapperDict(**wrappers)


def _check_partition(module: nn.Module, wrappers: Dict[str,
                                                       OptimWrapper]) -> None:
    """Every parameter of ``module`` is in exactly one of the optimizers."""
    owners: Dict[int, List[str]] = {}
    for name, wrapper in wrappers.items():
        for group in wrapper.optimizer.param_groups:
            for param in group['params']:
                owners.setdefault(id(param), []).append(name)
    missing, shared = [], []
    for name, param in module.named_parameters():
        names = owners.get(id(param), [])
        if not names:
            missing.append(name)
        elif len(names) > 1:
            shared.append(f'{name} ({", ".join(names)})')
    if missing or shared:
        raise ValueError(
            'GeneratorDiscriminatorOptimWrapperConstructor: every parameter '
            'must be in exactly one optimizer; '
            f'in none: {missing[:10]}, in several: {shared[:10]}')
