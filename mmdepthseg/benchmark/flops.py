# Copyright (c) mmdepthseg contributors. All rights reserved.
"""FLOPs of one step (:func:`count_flops`): ``FlopCounterMode`` with 2 FLOPs
per multiply-add, forward and backward of every matmul / convolution, with
a per-module breakdown (:func:`top_modules`).
"""
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

#: Name of the bucket holding the backward FLOPs in :func:`count_flops`.
BACKWARD = '(backward)'


class _ForwardAttributingFlopCounter(FlopCounterMode):
    """``FlopCounterMode`` that attributes backward FLOPs to no module.

    ``FlopCounterMode`` credits each op to every module its
    ``ModuleTracker`` holds open. In the forward pass that set is exact
    (forward pre/post hooks); in the backward pass a module stays open
    until the gradients of *all* its inputs exist, so a decoder fed by
    several encoder stages is still open while the encoder's backward
    runs, and the encoder's gradient FLOPs are credited to it too (the
    children of a model can then add up to more than the whole). Here the
    backward ops count towards the total and a :data:`BACKWARD` bucket
    only; modules get their exact forward FLOPs.
    """

    def _count_flops(self, func_packet, out, args, kwargs):
        if func_packet in self.flop_registry and self.mod_tracker.is_bw:
            flops = self.flop_registry[func_packet](
                *args, **kwargs, out_val=out)
            self.flop_counts['Global'][func_packet] += flops
            self.flop_counts[BACKWARD][func_packet] += flops
            return out
        return super()._count_flops(func_packet, out, args, kwargs)


def _module_totals(
        raw: Dict[Tuple[str, ...], int]) -> Dict[Tuple[str, ...], int]:
    """Forward FLOPs of every module and of its ancestors.

    A module whose methods are called directly (``head.loss(...)`` runs
    ``self.forward`` without ``__call__``) is never entered by the module
    tracker, so only its called descendants have counts; its total is the
    sum of its children's totals.

    Args:
        raw (dict[tuple[str, ...], int]): Path -> FLOPs of the modules the
            tracker entered.

    Returns:
        dict[tuple[str, ...], int]: Path -> FLOPs of those modules and of
        all their ancestors (except the root).
    """
    children: Dict[Tuple[str, ...], set] = {}
    for path in raw:
        for i in range(1, len(path)):
            children.setdefault(path[:i], set()).add(path[:i + 1])
    totals: Dict[Tuple[str, ...], int] = {}

    def total(path: Tuple[str, ...]) -> int:
        if path not in totals:
            totals[path] = raw[path] if path in raw else sum(
                total(child) for child in children.get(path, ()))
        return totals[path]

    for path in set(raw) | set(children):
        total(path)
    return totals


def _conv_backward_flop(grad_out_shape: Sequence[int],
                        x_shape: Sequence[int],
                        w_shape: Sequence[int],
                        _bias: Any,
                        _stride: Any,
                        _padding: Any,
                        _dilation: Any,
                        transposed: bool,
                        _output_padding: Any,
                        _groups: int,
                        output_mask: Sequence[bool],
                        out_shape: Any = None,
                        **kwargs) -> int:
    """FLOPs of ``aten.convolution_backward``, grouped convolutions right.

    The input gradient is a (transposed) convolution of the output
    gradient with the weight, the weight gradient one of the input with
    the output gradient: each takes exactly the multiply-adds of the
    forward convolution. PyTorch's own formula (2.13) computes the weight
    gradient as if ``groups`` were 1, i.e. ``groups`` times too many for a
    depthwise convolution (Xception's separable convolutions); this one
    counts ``forward x (number of gradients asked for)``, which equals
    PyTorch's formula for ``groups == 1``.
    """
    from torch.utils.flop_counter import conv_flop_count
    forward = conv_flop_count(
        list(x_shape), list(w_shape), list(grad_out_shape), transposed)
    return forward * (int(bool(output_mask[0])) + int(bool(output_mask[1])))


def count_flops(fn: Callable[..., Any],
                *args,
                model: Optional[nn.Module] = None,
                module_depth: int = 2,
                **kwargs) -> Dict[str, Any]:
    """FLOPs of ``fn(*args, **kwargs)`` by ``FlopCounterMode``.

    The counter sees every matmul / convolution / attention op dispatched
    while ``fn`` runs, forward and backward (a ``backward()`` inside
    ``fn`` is counted), at **2 FLOPs per multiply-add** (a ``(M, K) @ (K,
    N)`` matmul is ``2 M K N``; the weight and input gradients of a linear
    layer are two more such matmuls, hence forward + backward = 3 x
    forward). Element-wise work (activations, normalisation, the
    optimizer) is not counted. Convolution gradients are counted by
    :func:`_conv_backward_flop` (PyTorch's formula over-counts grouped
    convolutions).

    Modules are named by their path in ``model`` (``'backbone.layer1'``)
    and get their **forward** FLOPs (children included); the backward
    FLOPs are reported as one number (see
    :class:`_ForwardAttributingFlopCounter` for why).

    Args:
        fn (Callable): The work to count.
        *args: Positional arguments of ``fn``.
        model (nn.Module, optional): Root whose submodules are named;
            without it the names start with the class name of the first
            module called.
        module_depth (int): Keep modules up to this depth below the root
            (1: the model's children). Defaults to 2.
        **kwargs: Keyword arguments of ``fn``.

    Returns:
        dict: ``total`` (int FLOPs, forward + backward), ``forward`` and
        ``backward`` (their split), ``by_op`` (aten op name -> FLOPs),
        ``by_module`` (name -> forward FLOPs, depth <= ``module_depth``,
        largest first) and ``output`` (what ``fn`` returned).
    """
    counter = _ForwardAttributingFlopCounter(
        display=False,
        depth=None,
        custom_mapping={
            torch.ops.aten.convolution_backward: _conv_backward_flop
        })
    root = None
    if model is not None:
        root = type(model).__name__
        # name the submodules by their path in ``model`` even when its own
        # forward is not called (e.g. SemiMTL's train_step calls children)
        name_fn = getattr(counter.mod_tracker, '_get_mod_name', None)
        if callable(name_fn):
            name_fn(model)
    with counter:
        output = fn(*args, **kwargs)
    counts = counter.get_flop_counts()
    total = int(counter.get_total_flops())
    backward = int(sum(counts.get(BACKWARD, {}).values()))
    by_op: Dict[str, int] = {}
    for op, value in counts.get('Global', {}).items():
        name = str(getattr(op, '__name__', op))
        by_op[name] = by_op.get(name, 0) + int(value)
    raw: Dict[Tuple[str, ...], int] = {}
    for name, ops in counts.items():
        if name in ('Global', BACKWARD):
            continue
        parts = tuple(name.split('.'))
        if root is not None:
            if parts[0] != root or len(parts) < 2:
                continue
            parts = parts[1:]
        raw[parts] = int(sum(ops.values()))
    by_module = {
        '.'.join(path): flops
        for path, flops in _module_totals(raw).items()
        if len(path) <= module_depth
    }
    by_module = dict(
        sorted(by_module.items(), key=lambda item: (-item[1], item[0])))
    return dict(
        total=total,
        forward=total - backward,
        backward=backward,
        by_op=dict(sorted(by_op.items(), key=lambda item: -item[1])),
        by_module=by_module,
        output=output)


def top_modules(by_module: Dict[str, int],
                total: int,
                top: int = 8,
                depth: Optional[int] = None) -> List[Dict[str, Any]]:
    """The ``top`` modules with the most FLOPs.

    Args:
        by_module (dict[str, int]): Name -> FLOPs (:func:`count_flops`).
        total (int): The FLOPs the shares are of (the forward FLOPs of the
            step, as ``by_module`` holds forward FLOPs).
        top (int): How many. Defaults to 8.
        depth (int, optional): Only modules at exactly this depth (1: the
            model's children), so that no entry contains another. Default:
            every depth.

    Returns:
        list[dict]: ``name``, ``flops`` and ``share`` (of ``total``),
        largest first.
    """
    items = [(n, f) for n, f in by_module.items()
             if depth is None or n.count('.') + 1 == depth]
    items.sort(key=lambda item: (-item[1], item[0]))
    return [
        dict(name=n, flops=int(f), share=f / total if total else 0.0)
        for n, f in items[:max(0, top)]
    ]
