# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Plot loss and metric curves of training runs (matplotlib only).

Reads MMEngine's ``vis_data/scalars.json`` (one JSON object per line:
training lines with ``loss``, ``lr``... and the iteration as ``step``,
validation lines with the metrics and the training iteration at which the
validation ran as ``step``) and draws one curve per log and key, with
MMSegmentation's flags::

    python tools/analysis_tools/analyze_logs.py \\
        work_dirs/demo/20240101_000000/vis_data/scalars.json \\
        --keys loss depth.loss_smooth mIoU --out curves.png

A key is plotted over the lines that have it: losses per logged iteration,
metrics per validation. Several logs (``--legend`` names them) share one
figure; ``--out`` saves it (PNG, PDF... by extension) instead of showing it.
"""
import argparse
import json
import math
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

#: Seaborn style names (MMSegmentation's ``--style`` values) and the
#: matplotlib style that draws like them without seaborn.
SEABORN_STYLES = {
    'dark': 'seaborn-v0_8-dark',
    'darkgrid': 'seaborn-v0_8-darkgrid',
    'white': 'seaborn-v0_8-white',
    'whitegrid': 'seaborn-v0_8-whitegrid',
    'ticks': 'seaborn-v0_8-ticks',
}


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Analyze Json Log')
    parser.add_argument(
        'json_logs',
        type=str,
        nargs='+',
        help='path of train log in json format (vis_data/scalars.json)')
    parser.add_argument(
        '--keys',
        type=str,
        nargs='+',
        default=['mIoU'],
        help='the metric that you want to plot (losses, lr, metrics)')
    parser.add_argument('--title', type=str, help='title of figure')
    parser.add_argument(
        '--legend',
        type=str,
        nargs='+',
        default=None,
        help='legend of each plot (one per log and key)')
    parser.add_argument(
        '--backend', type=str, default=None, help='backend of plt')
    parser.add_argument(
        '--style',
        type=str,
        default='dark',
        help='style of plt: a matplotlib style or a seaborn style name '
        f'({", ".join(SEABORN_STYLES)})')
    parser.add_argument(
        '--out', type=str, default=None, help='save the figure here')
    return parser.parse_args(argv)


def load_json_log(path: str) -> Dict[str, List[Tuple[float, float]]]:
    """``{key: [(step, value), ...]}`` of one ``scalars.json``.

    Args:
        path (str): The log.

    Returns:
        dict: Every numeric key of the lines, in file order; ``step`` (the
        training iteration, or epoch for epoch-based validation) is the x
        value.

    Raises:
        ValueError: A line that is not a JSON object, naming the line.
    """
    curves: Dict[str, List[Tuple[float, float]]] = OrderedDict()
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f'{path}:{number}: not JSON ({err})')
            if not isinstance(record, dict):
                raise ValueError(f'{path}:{number}: not a JSON object')
            step = record.get('step', record.get('iter', number))
            for key, value in record.items():
                if key in ('step', 'iter', 'epoch') or isinstance(
                        value, bool) or not isinstance(value, (int, float)):
                    continue
                curves.setdefault(key, []).append((step, float(value)))
    return curves


def _set_style(style: str) -> None:
    import matplotlib.pyplot as plt
    name = SEABORN_STYLES.get(style, style)
    if name in plt.style.available or name == 'default':
        plt.style.use(name)
    else:
        raise SystemExit(f'--style {style}: not a matplotlib style (known: '
                         f'{", ".join(sorted(plt.style.available))})')


def plot_curves(logs: Sequence[Dict[str, List[Tuple[float, float]]]],
                names: Sequence[str],
                keys: Sequence[str],
                legend: Optional[Sequence[str]] = None,
                title: Optional[str] = None,
                out: Optional[str] = None) -> None:
    """One subplot per key, one curve per log.

    Args:
        logs (Sequence[dict]): :func:`load_json_log` results.
        names (Sequence[str]): The logs' paths (for missing-key errors and
            default legends).
        keys (Sequence[str]): Keys to plot.
        legend (Sequence[str], optional): One label per log and key (logs
            outer, keys inner, as MMSegmentation's tool); default
            ``<log>_<key>``.
        title (str, optional): Figure title.
        out (str, optional): Save the figure there; show it otherwise.

    Raises:
        KeyError: A key found in none of the logs, with the keys they have.
    """
    import matplotlib.pyplot as plt
    if legend is not None and len(legend) != len(logs) * len(keys):
        raise SystemExit(f'--legend needs {len(logs) * len(keys)} labels '
                         f'(logs x keys), got {len(legend)}')
    for key in keys:
        if not any(key in log for log in logs):
            known = sorted({k for log in logs for k in log})
            raise KeyError(f'{key!r} is in none of {", ".join(names)} '
                           f'(keys: {", ".join(known)})')
    cols = min(len(keys), 2)
    rows = math.ceil(len(keys) / cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(6.4 * cols, 4.0 * rows), squeeze=False)
    for k, key in enumerate(keys):
        ax = axes[k // cols][k % cols]
        for i, (log, name) in enumerate(zip(logs, names)):
            points = log.get(key)
            if not points:
                continue
            label = legend[i * len(keys) + k] if legend else \
                f'{osp.basename(osp.dirname(osp.dirname(name))) or name}' \
                f'_{key}'
            steps, values = zip(*points)
            marker = 'o' if len(points) < 30 else None
            ax.plot(steps, values, label=label, marker=marker, linewidth=1)
        ax.set_xlabel('iter')
        ax.set_ylabel(key)
        values = [v for log in logs for _, v in log.get(key, [])]
        if 'loss' in key and min(values) > 0 and \
                max(values) / min(values) > 100:
            ax.set_yscale('log')  # losses falling over decades
        ax.legend()
    for k in range(len(keys), rows * cols):
        axes[k // cols][k % cols].axis('off')
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if out is None:
        plt.show()
    else:
        print(f'save curve to: {out}')
        fig.savefig(out)
    plt.close(fig)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    import matplotlib
    if args.backend is not None:
        matplotlib.use(args.backend)
    elif args.out is not None:
        matplotlib.use('Agg')
    _set_style(args.style)
    for path in args.json_logs:
        if not path.endswith('.json'):
            raise SystemExit(f'{path}: expected a .json log '
                             '(work_dir/<timestamp>/vis_data/scalars.json)')
        if not osp.isfile(path):
            raise SystemExit(f'{path}: no such file')
    logs = [load_json_log(path) for path in args.json_logs]
    try:
        plot_curves(logs, args.json_logs, args.keys, args.legend, args.title,
                    args.out)
    except KeyError as err:
        raise SystemExit(f'analyze_logs.py: {err.args[0]}')


if __name__ == '__main__':
    main()
