# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The model part of a benchmark: the runner's train and inference steps on a
synthetic batch (:func:`make_train_step`, :func:`make_infer_step`) and
their time, memory and FLOPs per mode (:func:`benchmark`).
"""
import copy
from contextlib import contextmanager, nullcontext
from typing import Any, Callable, Dict, Iterator, Optional, Sequence, Tuple

import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper, OptimWrapperDict
from torch import nn

from mmdepthseg.registry import MODELS
from .amp import amp_dtype, build_optim_wrapper_or_adam, optimizer_names
from .flops import count_flops
from .hardware import device_name
from .memory import PeakMemoryMeter
from .synthetic import batch_layout, make_synthetic_batch
from .timing import summarise_times, time_step

#: Modes :func:`benchmark` knows.
MODES = ('train', 'infer')


def trains_discriminators(cfg: Config, model: nn.Module) -> bool:
    """Whether a training iteration of ``cfg`` also runs
    ``model.discriminator_step`` (a ``DiscriminatorStepHook`` in
    ``custom_hooks`` and a model with discriminators, e.g. SemiMTL)."""
    hooks = cfg.get('custom_hooks', None) or []
    has_hook = any(
        isinstance(h, dict) and h.get('type') == 'DiscriminatorStepHook'
        for h in hooks)
    return has_hook and callable(getattr(
        model, 'discriminator_step', None)) and bool(
            getattr(model, 'with_discriminators', True))


def make_train_step(
        model: nn.Module,
        optim_wrapper: OptimWrapper,
        discriminator_step: bool = False) -> Callable[[dict], dict]:
    """One training iteration as the runner runs it.

    Args:
        model (nn.Module): The model.
        optim_wrapper (OptimWrapper | OptimWrapperDict): Its wrapper(s).
        discriminator_step (bool): Also run
            ``model.discriminator_step(optim_wrapper['discriminator'])``
            after the generator step, as ``DiscriminatorStepHook`` does in
            every iteration. Defaults to False.

    Returns:
        Callable: ``step(batch) -> log_vars``: preprocessing, forward
        (``'loss'`` mode), backward and optimizer step via
        ``model.train_step`` (and the discriminator update).
    """

    def step(batch: dict) -> dict:
        log_vars = model.train_step(batch, optim_wrapper)
        if discriminator_step:
            wrapper = optim_wrapper['discriminator'] \
                if isinstance(optim_wrapper, OptimWrapperDict) \
                else optim_wrapper
            log_vars.update(model.discriminator_step(wrapper))
        return log_vars

    return step


def make_infer_step(
        model: nn.Module,
        autocast_dtype: Optional[torch.dtype] = None
) -> Callable[[dict], list]:
    """One inference pass: preprocessing + ``predict`` without gradients.

    Args:
        model (nn.Module): The model (in eval mode).
        autocast_dtype (torch.dtype, optional): Run under
            ``torch.autocast`` of the model's device with this type.
            Default: None (no autocast).

    Returns:
        Callable: ``step(batch) -> list[SegDataSample]``.
    """

    def step(batch: dict) -> list:
        context = nullcontext()
        if autocast_dtype is not None:
            device_type = next(model.parameters()).device.type
            context = torch.autocast(
                device_type=device_type, dtype=autocast_dtype)
        with torch.no_grad(), context:
            return model.test_step(batch)

    return step


def _measure(step: Callable, make_input: Callable, warmup: int, repeat: int,
             device: torch.device, batch_size: int) -> Dict[str, Any]:
    with PeakMemoryMeter(device) as meter:
        times = time_step(step, make_input, warmup, repeat, device)
    summary = summarise_times(times)
    return dict(
        batch_size=batch_size,
        time_s=summary,
        samples_per_s=batch_size / summary['median'],
        memory=meter.result)


def _param_checksums(model: nn.Module) -> torch.Tensor:
    """One float64 sum per trainable parameter (cheap change detector)."""
    with torch.no_grad():
        sums = [
            p.detach().double().sum() for p in model.parameters()
            if p.requires_grad
        ]
    return torch.stack(sums).cpu() if sums else torch.zeros(0)


@contextmanager
def _memory_format(model: nn.Module, channels_last: bool) -> Iterator[None]:
    """Keep the model's 4-D weights channels-last inside the block."""
    if not channels_last:
        yield
        return
    model.to(memory_format=torch.channels_last)
    try:
        yield
    finally:
        model.to(memory_format=torch.contiguous_format)


def benchmark(cfg: Config,
              shape: Tuple[int, int],
              batch_size: int,
              device: str = 'cpu',
              warmup: int = 2,
              repeat: int = 5,
              modes: Sequence[str] = MODES,
              infer_batch_size: int = 1,
              num_views: Optional[int] = None,
              model: Optional[nn.Module] = None,
              seed: int = 0,
              amp: bool = False,
              channels_last: bool = False,
              flops: bool = False,
              module_depth: int = 2) -> Dict[str, Any]:
    """Measure a config's training step and inference in one setting.

    Args:
        cfg (Config): The config (its modules must be registered, e.g. by
            ``register_all_modules()``).
        shape (tuple[int, int]): Input size ``(H, W)``.
        batch_size (int): Batch size of the training step.
        device (str): ``'cpu'`` or ``'cuda'`` (or ``'cuda:N'``).
        warmup (int): Untimed runs before timing each mode.
        repeat (int): Timed runs of each mode.
        modes (Sequence[str]): Subset of ``('train', 'infer')``, run in
            this order.
        infer_batch_size (int): Batch size of inference. Defaults to 1.
        num_views (int, optional): Views per sample when the config's
            training dataset does not say (see :func:`infer_view_names`).
        model (nn.Module, optional): An already built model of ``cfg`` to
            measure (it is moved to ``device`` and trained in place);
            default: ``MODELS.build(cfg.model)``.
        seed (int): Seed of the synthetic data. Defaults to 0.
        amp (bool): Mixed precision (:func:`amp_dtype`): the training
            wrappers become mixed-precision ones and inference runs under
            ``torch.autocast``. Defaults to False.
        channels_last (bool): Keep the model's 4-D weights in
            ``torch.channels_last`` (convolutions then produce
            channels-last activations). Defaults to False.
        flops (bool): Also count each mode's FLOPs (:func:`count_flops`)
            in one more, untimed, run after the timed ones. Defaults to
            False.
        module_depth (int): Depth of the per-module FLOPs. Defaults to 2.

    Returns:
        dict: ``config``, ``model``, ``num_params``, ``device``,
        ``device_name``, ``torch``, ``num_threads``, ``input`` (``shape``,
        ``view_names``, ``num_views``, ``layout``), ``setting`` (``amp``,
        ``amp_dtype``, ``channels_last``), ``warmup``, ``repeat`` and per
        mode (``'train'``, ``'infer'``) a dict with ``batch_size``,
        ``time_s`` (``median``/``min``/``max``/``mean`` seconds and the
        ``runs``), ``samples_per_s`` and ``memory``
        (:class:`PeakMemoryMeter`); ``train`` also has ``optimizer``,
        ``discriminator_step`` and ``params_changed`` (whether the steps
        changed the weights); with ``flops`` each mode has ``flops``
        (total), ``flops_forward``, ``flops_backward``, ``flops_by_op``
        and ``flops_by_module`` (forward FLOPs, see :func:`count_flops`).
    """
    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        raise ValueError(f'modes must be a non-empty subset of {MODES}, got '
                         f'{list(modes)}')
    device = torch.device(device)
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise RuntimeError('device cuda requested but torch.cuda is not '
                           'available; use --device cpu')
    if model is None:
        # ``init_weights`` is not called: speed does not depend on the
        # values, and pretrained ``init_cfg`` paths / URLs need not exist.
        model = MODELS.build(copy.deepcopy(cfg.model))
    model = model.to(device)
    layouts = {
        mode:
        batch_layout(
            cfg,
            model,
            batch_size if mode == 'train' else infer_batch_size,
            num_views,
            train=mode == 'train')
        for mode in modes
    }
    view_names = next(iter(layouts.values()))['view_names']
    cast = amp_dtype(device) if amp else None

    result: Dict[str, Any] = dict(
        config=getattr(cfg, 'filename', None),
        model=type(model).__name__,
        num_params=sum(p.numel() for p in model.parameters()),
        device=str(device),
        device_name=device_name(device),
        torch=torch.__version__,
        num_threads=torch.get_num_threads(),
        input=dict(
            shape=[int(shape[0]), int(shape[1])],
            num_views=len(view_names),
            view_names=list(view_names)),
        setting=dict(
            amp=bool(amp),
            amp_dtype=str(cast).replace('torch.', '') if amp else None,
            channels_last=bool(channels_last)),
        warmup=warmup,
        repeat=repeat)

    with _memory_format(model, channels_last):
        for mode in modes:
            bsz = batch_size if mode == 'train' else infer_batch_size
            layout = layouts[mode]
            batch = make_synthetic_batch(bsz, shape, seed=seed, **layout)

            def make_input(batch=batch):
                # the preprocessor pads / converts the samples in place
                return copy.deepcopy(batch)

            if mode == 'train':
                model.train()
                optim_wrapper = build_optim_wrapper_or_adam(
                    model, cfg, amp=amp, device=device)
                with_d = trains_discriminators(cfg, model)
                step = make_train_step(model, optim_wrapper, with_d)
                before = _param_checksums(model)
                measured = _measure(step, make_input, warmup, repeat, device,
                                    bsz)
                measured['optimizer'] = optimizer_names(optim_wrapper)
                measured['discriminator_step'] = with_d
                measured['params_changed'] = bool((_param_checksums(model)
                                                   != before).any())
            else:
                model.eval()
                step = make_infer_step(model, cast)
                measured = _measure(step, make_input, warmup, repeat, device,
                                    bsz)
            if flops:
                counted = count_flops(
                    step, make_input(), model=model, module_depth=module_depth)
                measured['flops'] = counted['total']
                measured['flops_forward'] = counted['forward']
                measured['flops_backward'] = counted['backward']
                measured['flops_by_op'] = counted['by_op']
                measured['flops_by_module'] = counted['by_module']
            if mode == 'train':
                optim_wrapper.zero_grad()
                del optim_wrapper, step
            result[mode] = measured
        result['input']['layout'] = _layout_summary(layouts)
    return result


def _layout_summary(layouts: Dict[str, dict]) -> Dict[str, Any]:
    """JSON-friendly description of the synthetic training batch."""
    layout = layouts.get('train', next(iter(layouts.values())))
    summary = dict(
        map_views=layout['map_views'],
        pseudo_depth=layout['pseudo_depth'],
        inverse_depth=layout['inverse_depth'],
        num_classes=layout['num_classes'])
    if layout['sources'] is not None:
        summary['sources'] = [[d, list(t)] for d, t in layout['sources']]
    return summary
