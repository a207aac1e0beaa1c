# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Formatting benchmark results: the console table (:func:`format_table`),
the Markdown table of several configs (:func:`format_markdown`) and the
atomic JSON dump (:func:`dump_json_atomic`).
"""
import json
import os
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np

from mmdepthseg.utils.io import atomic_open
from .evaluation import format_evaluation
from .steps import MODES


def _fmt_flops(value: Optional[float]) -> str:
    return '-' if value is None else f'{value / 1e9:.1f}'


def _fmt_pct(value: Optional[float]) -> str:
    return '-' if value is None else f'{100 * value:.0f}'


def _mode_row(mode: str, setting: str, res: Dict[str, Any]) -> Tuple[str, ...]:
    t = res['time_s']
    mem = res['memory']
    return (mode, setting, str(res['batch_size']), f"{t['median'] * 1e3:.1f}",
            f"{t['min'] * 1e3:.1f}",
            f"{t['max'] * 1e3:.1f}", f"{res['samples_per_s']:.2f}",
            _fmt_flops(res.get('flops')), _fmt_flops(res.get('flops_per_s')),
            _fmt_pct(res.get('utilisation')),
            _fmt_pct(res.get('utilisation_conv1x1')), f"{mem['peak_mib']:.0f}",
            f"{mem['growth_mib']:.0f}")


def _setting_label(result: Dict[str, Any]) -> str:
    setting = result.get('setting', {})
    parts = []
    if setting.get('amp'):
        parts.append(f"amp-{setting.get('amp_dtype')}")
    if setting.get('channels_last'):
        parts.append('channels_last')
    return '+'.join(parts) or 'fp32'


def format_table(result: Dict[str, Any]) -> str:
    """A plain-text report of :func:`benchmark` / :func:`run_benchmark`."""
    h, w = result['input']['shape']
    header = ('mode', 'setting', 'batch', 'median ms', 'min ms', 'max ms',
              'samples/s', 'GFLOP', 'GFLOP/s', 'util %', 'util 1x1 %',
              'peak MiB', 'growth MiB')
    rows = [header]
    base = _setting_label(result)
    for mode in MODES:
        if mode in result:
            rows.append(_mode_row(mode, base, result[mode]))
    notes = []
    for name, entry in result.get('settings', {}).items():
        if 'skipped' in entry or 'error' in entry:
            why = entry.get('skipped', entry.get('error'))
            notes.append(f'{name}: not measured ({why})')
            continue
        for mode in MODES:
            if mode in entry:
                rows.append(
                    _mode_row(mode, _setting_label(entry), entry[mode]))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    hw = result.get('hardware', {})
    cores = f", {hw['usable_cpus']} usable cores" if hw else ''
    if hw.get('load_avg'):
        cores += f", load {hw['load_avg'][0]:.1f}"
    lines = [
        f"{result['model']} ({result['num_params'] / 1e6:.2f} M params) on "
        f"{result['device']} ({result['device_name']}{cores}, "
        f"{result['num_threads']} threads, torch {result['torch']}), input "
        f"{h}x{w}, {result['input']['num_views']} view(s) "
        f"{tuple(result['input']['view_names'])}, warmup "
        f"{result['warmup']}, repeat {result['repeat']}"
    ]
    for dtype, peak in result.get('peak', {}).items():
        line = (f"peak: {dtype} matmul {peak['size']}^3 by torch.mm at "
                f"{peak['flops_per_s'] / 1e9:.1f} GFLOP/s")
        if 'conv1x1' in peak:
            line += (f", as a 1x1 convolution at "
                     f"{peak['conv1x1']['flops_per_s'] / 1e9:.1f} GFLOP/s")
        lines.append(line + f" (best of {len(peak['time_s']['runs'])})")
    for i, row in enumerate(rows):
        lines.append('  '.join(c.rjust(wd) for c, wd in zip(row, widths)))
        if i == 0:
            lines.append('  '.join('-' * wd for wd in widths))
    lines.extend(notes)
    if 'flops' in result.get('train', result.get('infer', {})):
        lines.append('FLOPs: torch.utils.flop_counter (2 per multiply-add, '
                     'forward + backward for train); util = GFLOP/s at the '
                     'median time / torch.mm peak of the compute type '
                     '(util 1x1: / the 1x1-convolution peak)')
    memory = [result[m]['memory'] for m in MODES if m in result]
    if memory and memory[0]['kind'] == 'cpu_peak_rss':
        if all(m['peak_reset'] for m in memory):
            lines.append('memory: peak resident set of each mode (peak mark '
                         'reset per mode); growth over the RSS before it')
        else:
            lines.append('memory: peak resident set of the whole process so '
                         'far (could not reset the peak mark); growth over '
                         'the RSS before the mode')
    elif memory:
        lines.append('memory: torch.cuda.max_memory_allocated; growth over '
                     'memory_allocated before the mode')
    if result.get('train', {}).get('discriminator_step'):
        lines.append('train step includes the discriminator step '
                     '(DiscriminatorStepHook)')
    if 'train' in result and not result['train']['params_changed']:
        lines.append('WARNING: the training steps did not change any weight')
    for mode in MODES:
        modules = result.get(mode, {}).get('top_modules')
        if modules:
            parts = [
                f"{m['name']} {m['flops'] / 1e9:.1f} ({100 * m['share']:.0f}%)"
                for m in modules
            ]
            lines.append(f'top modules ({mode}, forward GFLOP and share of '
                         'the forward): ' + ', '.join(parts))
    loader = result.get('loader')
    if loader is not None:
        lines.append(format_loader(loader))
    if result.get('evaluation') is not None:
        lines.append(format_evaluation(result['evaluation']))
    return '\n'.join(lines)


def format_loader(loader: Dict[str, Any]) -> str:
    """One line on :func:`measure_loader`'s result."""
    need = loader.get('train_consumption_per_s')
    need_text = '' if need is None else \
        f'; the training step consumes {need:.2f} samples/s'
    if not loader['available']:
        return f"loader: n/a ({loader['reason']}){need_text}"
    ratio = loader.get('ratio')
    ratio_text = '' if ratio is None else f' (ratio {ratio:.1f}x)'
    return (f"loader: {loader['samples_per_s']:.2f} samples/s with "
            f"{loader['num_workers']} workers, batch {loader['batch_size']} "
            f"({loader['samples']} samples timed){need_text}{ratio_text}")


def _util_cell(res: Dict[str, Any]) -> str:
    """``'41 (22)'``: utilisation against the mm (1x1-conv) peak."""
    text = _fmt_pct(res.get('utilisation'))
    if res.get('utilisation_conv1x1') is not None:
        text += f" ({_fmt_pct(res['utilisation_conv1x1'])})"
    return text


def format_markdown(results: Sequence[Dict[str, Any]],
                    names: Optional[Sequence[str]] = None) -> str:
    """A markdown table of :func:`run_benchmark` results (one row each).

    Columns: config, input, train batch, train step median (min-max) ms,
    train GFLOP and utilisation (against the ``torch.mm`` peak, in
    brackets the 1x1-convolution one), inference median ms (batch), GFLOP
    and utilisation, train peak / growth memory, loader samples/s (workers)
    against the step's consumption, the depth evaluation's seconds
    (frames), and one train-time column per extra setting found in the
    results.

    Args:
        results (Sequence[dict]): :func:`run_benchmark` results.
        names (Sequence[str], optional): Row names (default: the config
            file names).

    Returns:
        str: The table (no trailing newline).
    """
    settings = []
    for res in results:
        for name in res.get('settings', {}):
            if name not in settings:
                settings.append(name)
    header = [
        'config', 'input', 'train batch', 'train ms (min-max)', 'train GFLOP',
        'train util % (1x1)', 'infer ms (batch)', 'infer GFLOP',
        'infer util % (1x1)', 'train peak / growth MiB',
        'loader samples/s (workers) / step needs', 'eval s (frames)'
    ] + [f'train ms {name}' for name in settings]
    lines = [
        '| ' + ' | '.join(header) + ' |',
        '|' + '|'.join('---' for _ in header) + '|'
    ]
    for i, res in enumerate(results):
        name = names[i] if names is not None else config_name(
            res.get('config'))
        h, w = res['input']['shape']
        cells = [f'`{name}`', f'{h}x{w}']
        train, infer = res.get('train'), res.get('infer')
        if train:
            t = train['time_s']
            cells += [
                str(train['batch_size']),
                f"{t['median'] * 1e3:.0f} ({t['min'] * 1e3:.0f}-"
                f"{t['max'] * 1e3:.0f})",
                _fmt_flops(train.get('flops')),
                _util_cell(train)
            ]
        else:
            cells += ['-'] * 4
        if infer:
            cells += [
                f"{infer['time_s']['median'] * 1e3:.0f} "
                f"({infer['batch_size']})",
                _fmt_flops(infer.get('flops')),
                _util_cell(infer)
            ]
        else:
            cells += ['-'] * 3
        if train:
            mem = train['memory']
            cells.append(f"{mem['peak_mib']:.0f} / {mem['growth_mib']:.0f}")
        else:
            cells.append('-')
        loader = res.get('loader')
        if loader is None:
            cells.append('-')
        elif not loader['available']:
            cells.append('n/a')
        else:
            cells.append(f"{loader['samples_per_s']:.1f} "
                         f"({loader['num_workers']}) / "
                         f"{loader['train_consumption_per_s']:.2f} = "
                         f"{loader['ratio']:.0f}x")
        evaluation = res.get('evaluation')
        if evaluation is None:
            cells.append('-')
        elif not evaluation['available']:
            cells.append('n/a')
        else:
            cells.append(f"{evaluation['time_s']:.2f} "
                         f"({evaluation['num_frames']})")
        for name in settings:
            entry = res.get('settings', {}).get(name)
            if entry is None:
                cells.append('-')
            elif 'skipped' in entry:
                cells.append('skipped')
            elif 'error' in entry:
                cells.append('failed')
            elif 'train' in entry:
                cells.append(f"{entry['train']['time_s']['median'] * 1e3:.0f}")
            else:
                cells.append('-')
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def config_name(path: Optional[str]) -> str:
    """File name of ``path`` without folder and extension ('?' if None)."""
    if not path:
        return '?'
    return os.path.splitext(os.path.basename(path))[0]


def _jsonable(obj: Any) -> Any:
    """``obj`` with tuples as lists, numpy / torch scalars as numbers and
    other objects (dtypes, classes) as strings."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (bool, int, float, str)) or obj is None:
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    return str(obj)


def dump_json_atomic(obj: Any, path: str) -> None:
    """Write ``obj`` as JSON to ``path`` atomically (temp file + replace).

    Args:
        obj: A JSON-serialisable object (tuples, numpy scalars and other
            objects are converted, see :func:`_jsonable`).
        path (str): Output file; its folder is created if needed.
    """
    with atomic_open(path, 'w') as f:
        json.dump(_jsonable(obj), f, indent=2)
        f.write('\n')
