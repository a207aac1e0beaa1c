# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Benchmark every method's main config and write ``docs/benchmarks.md``.

Runs ``tools/analysis_tools/benchmark.py`` once per config (a fresh
process each, so that one config's memory cannot shift another's), with
the training dataloader measured on generated data of the real image
sizes (``tools/misc/make_synthetic_dataset.py``: KITTI raw 375x1242 with
stereo pseudo depth from ``tools/generate_pseudo_depth.py``, Cityscapes
1024x2048), then writes the markdown page (the table of
:func:`mmdepthseg.benchmark.format_markdown`, the hardware and the
command) and keeps each config's JSON in ``--work-dir``.

Example (about 15-30 minutes on a 2-core CPU)::

    python tools/analysis_tools/benchmark_all.py --out docs/benchmarks.md \
        --work-dir work_dirs/benchmarks --amp --channels-last
"""
import argparse
import datetime
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional, Sequence

try:
    from mmdepthseg.benchmark import (config_name, format_markdown,
                                      hardware_info)
    from mmdepthseg.utils.io import atomic_write_text
except ImportError:  # running from a source tree that is not installed
    sys.path.insert(
        0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
    from mmdepthseg.benchmark import (config_name, format_markdown,
                                      hardware_info)
    from mmdepthseg.utils.io import atomic_write_text

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: KITTI split file the generator writes (relative to its root).
KITTI_SPLIT = 'splits/synthetic/train_files.txt'

#: Every method's main config: (name, config, (h, w), data layout).
MAIN_CONFIGS = (
    ('baseline', 'configs/baseline/baseline_r18-unet_4xb2-40k_cityscapes-'
     '256x512.py', (256, 512), 'cityscapes'),
    ('fsre', 'configs/fsre/fsre_r18_kitti.py', (192, 640), 'kitti'),
    ('pseudo_mtl', 'configs/pseudo_mtl/pseudo_mtl_vgg16_kitti.py', (192, 480),
     'kitti'),
    ('sosd', 'configs/sosd/sosd_xception65_cityscapes.py', (256, 512),
     'cityscapes'),
    ('semimtl', 'configs/semimtl/semimtl_r101_cityscapes_cross-city.py',
     (256, 256), 'cityscapes'),
)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark the main config of every method and write '
        'the markdown table')
    parser.add_argument(
        '--out', default='docs/benchmarks.md', help='markdown page')
    parser.add_argument(
        '--work-dir',
        default='work_dirs/benchmarks',
        help='folder of the per-config JSON files and logs')
    parser.add_argument(
        '--only',
        nargs='+',
        choices=[name for name, *_ in MAIN_CONFIGS],
        help='benchmark only these (default: all); the page keeps the '
        'others\' earlier results from --work-dir')
    parser.add_argument(
        '--batch-size', type=int, default=2, help='training batch size')
    parser.add_argument('--device', default='cpu', help='cpu or cuda')
    parser.add_argument('--threads', type=int, help='torch threads')
    parser.add_argument('--warmup', type=int, default=1, help='untimed runs')
    parser.add_argument('--repeat', type=int, default=3, help='timed runs')
    parser.add_argument(
        '--amp', action='store_true', help='also measure --amp')
    parser.add_argument(
        '--channels-last',
        action='store_true',
        help='also measure --channels-last')
    parser.add_argument(
        '--data-dir',
        help='folder with (or for) the generated datasets `kitti` and '
        '`cityscapes`; existing ones are reused (default: a temporary '
        'folder, removed afterwards)')
    parser.add_argument(
        '--kitti-size',
        type=int,
        nargs=2,
        default=(375, 1242),
        metavar=('H', 'W'),
        help='generated KITTI image size (default: KITTI raw\'s)')
    parser.add_argument(
        '--cityscapes-size',
        type=int,
        nargs=2,
        default=(1024, 2048),
        metavar=('H', 'W'),
        help='generated Cityscapes image size (default: Cityscapes\')')
    parser.add_argument(
        '--loader-workers',
        type=int,
        default=2,
        help='dataloader workers (default 2)')
    parser.add_argument(
        '--loader-batches', type=int, default=10, help='timed loader batches')
    parser.add_argument(
        '--no-loader', action='store_true', help='skip the dataloaders')
    parser.add_argument(
        '--timeout', type=int, default=3600, help='seconds per config')
    return parser.parse_args(argv)


def _run(cmd: List[str], log: Optional[str] = None) -> None:
    """Run a command from the repository root; raise with its output's
    tail when it fails."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join([REPO_ROOT, env.get('PYTHONPATH', '')])
    proc = subprocess.run(
        cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    if log is not None:
        atomic_write_text(log, proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise RuntimeError(f'{" ".join(cmd)} failed:\n'
                           f'{(proc.stdout + proc.stderr)[-3000:]}')


def make_datasets(data_dir: str, layouts: Sequence[str],
                  kitti_size: Sequence[int],
                  cityscapes_size: Sequence[int]) -> Dict[str, str]:
    """Generate (or reuse) the datasets of ``layouts`` under ``data_dir``.

    KITTI: one drive of 24 frames (both cameras) with stereo pseudo depth
    and confidence (Pseudo-MTL) and the generator's label trees standing
    in for pseudo segmentation. Cityscapes: a ``train`` city (SOSD, the
    baseline and SemiMTL's segmentation domain), a ``train_extra`` city
    (SemiMTL's depth domain) and a ``val`` city, 6 frames each.

    Returns:
        dict[str, str]: Layout -> data root.
    """
    tool = [
        sys.executable,
        osp.join('tools', 'misc', 'make_synthetic_dataset.py')
    ]
    roots = {}
    for layout in sorted(set(layouts)):
        root = osp.join(data_dir, layout)
        roots[layout] = root
        done = osp.join(root, '.benchmark_complete')
        if osp.exists(done):
            continue
        print(f'generating the {layout} layout in {root} ...', flush=True)
        if layout == 'kitti':
            h, w = kitti_size
            _run(tool + [
                '--layout', 'kitti', '--out', root, '--num-drives', '1',
                '--frames-per-drive', '24', '--height',
                str(h), '--width',
                str(w)
            ])
            _run([
                sys.executable,
                osp.join('tools', 'generate_pseudo_depth.py'), root,
                '--dataset', 'kitti', '--no-progress'
            ])
        else:
            h, w = cityscapes_size
            _run(tool + [
                '--layout', 'cityscapes', '--out', root, '--train-cities',
                'aachen', '--train-extra-cities', 'erfurt', '--val-cities',
                'frankfurt', '--frames-per-city', '6', '--height',
                str(h), '--width',
                str(w)
            ])
        atomic_write_text(done, 'ok\n')
    return roots


def benchmark_config(args: argparse.Namespace, name: str, config: str,
                     shape: Sequence[int], data_root: Optional[str],
                     layout: str) -> dict:
    """Run the benchmark tool on one config; its JSON result (or a dict
    with ``error``)."""
    out = osp.join(args.work_dir, f'{name}.json')
    cmd = [
        sys.executable,
        osp.join('tools', 'analysis_tools', 'benchmark.py'), config, '--shape',
        str(shape[0]),
        str(shape[1]), '--batch-size',
        str(args.batch_size), '--device', args.device, '--warmup',
        str(args.warmup), '--repeat',
        str(args.repeat), '--json', out
    ]
    if args.threads is not None:
        cmd += ['--threads', str(args.threads)]
    if args.amp:
        cmd.append('--amp')
    if args.channels_last:
        cmd.append('--channels-last')
    if args.no_loader:
        cmd.append('--no-loader')
    else:
        cmd += [
            '--loader-workers',
            str(args.loader_workers), '--loader-batches',
            str(args.loader_batches)
        ]
        if data_root is not None:
            cmd += ['--data-root', data_root]
            if layout == 'kitti':
                cmd += ['--split-file', KITTI_SPLIT]
    start = time.time()
    try:
        _run(cmd, log=osp.join(args.work_dir, f'{name}.log'))
    except RuntimeError as err:
        return dict(config=config, error=str(err))
    with open(out) as f:
        result = json.load(f)
    print(f'{name}: done in {time.time() - start:.0f} s', flush=True)
    return result


def _hardware_text(results: Sequence[dict], device: str) -> str:
    hw = next((r['hardware'] for r in results if 'hardware' in r), None)
    hw = hw or hardware_info(device)
    text = (f"{hw['cpu']}, {hw['usable_cpus']} usable of "
            f"{hw['logical_cpus']} logical CPUs, torch {hw['torch']} with "
            f"{hw['num_threads']} threads, Python {hw.get('python', '?')}")
    if 'gpu' in hw:
        text = f"{hw['gpu']} (CUDA {hw['cuda']}); host: " + text
    return text


def _peak_text(results: Sequence[dict]) -> str:
    """The fp32 peaks of each run: ``mm / 1x1-conv`` GFLOP/s."""
    parts = []
    for res in results:
        peak = res.get('peak', {}).get('float32')
        if peak is None:
            continue
        text = f"{peak['flops_per_s'] / 1e9:.0f}"
        if 'conv1x1' in peak:
            text += f" / {peak['conv1x1']['flops_per_s'] / 1e9:.0f}"
        load = res.get('hardware', {}).get('load_avg')
        load = '' if not load else f', load {load[0]:.1f}'
        parts.append(f"{text} ({config_name(res.get('config'))}{load})")
    return ', '.join(parts) or 'n/a'


def _modules_text(results: Sequence[dict], names: Sequence[str]) -> str:
    lines = []
    for name, res in zip(names, results):
        modules = res.get('train', {}).get('top_modules', [])[:4]
        if modules:
            parts = ', '.join(f"`{m['name']}` {100 * m['share']:.0f} %"
                              for m in modules)
            lines.append(f'- `{name}`: {parts}')
    return '\n'.join(lines)


def render_page(args: argparse.Namespace, results: Sequence[dict],
                names: Sequence[str], command: str) -> str:
    """The markdown page (table, hardware, how it was measured)."""
    ok = [(n, r) for n, r in zip(names, results) if 'error' not in r]
    failed = [(n, r) for n, r in zip(names, results) if 'error' in r]
    table = format_markdown([r for _, r in ok]) \
        if ok else '(no config could be measured)'
    date = datetime.date.today().isoformat()
    lines = [
        '# Benchmarks',
        '',
        'Every method\'s main config, measured by '
        '`tools/analysis_tools/benchmark.py` in one run per config on one '
        'device. This page is written by '
        '`tools/analysis_tools/benchmark_all.py`; do not edit it by hand, '
        'run the script again.',
        '',
        f'- Hardware: {_hardware_text(results, args.device)}.',
        f'- Device: `{args.device}`; measured {date}.',
        '- fp32 peak of each run, GFLOP/s by `torch.mm` / as a 1x1 '
        'convolution, and the 1-minute load average when it started: '
        f'{_peak_text([r for _, r in ok])}.',
        f'- Training batch {args.batch_size}, inference batch 1; '
        f'{args.warmup} warm-up and {args.repeat} timed runs per mode.',
        f'- Command: `{command}`' +
        ('; the other rows are earlier results kept in the work dir (see '
         'their `time` in the JSON).' if args.only else ''),
        '',
        table,
        '',
    ]
    for name, res in failed:
        lines.append(f'- `{name}` failed: '
                     f"{res['error'].splitlines()[-1][:300]}")
    if failed:
        lines.append('')
    lines += [
        '## How to read it',
        '',
        '- **train ms**: median (min-max) wall time of one training '
        'iteration as the runner runs it on a synthetic batch of the data '
        'contract: preprocessing, forward, backward, optimizer step (and '
        'SemiMTL\'s discriminator step).',
        '- **GFLOP**: `torch.utils.flop_counter.FlopCounterMode`, 2 FLOPs '
        'per multiply-add (as the peak\'s 2·N³), matmuls and convolutions '
        'only (taps on padding included, grouped convolution gradients '
        'corrected); train = forward + backward of the whole step.',
        '- **util %**: achieved FLOP/s at the median time ÷ the fp32 '
        'matmul peak (`torch.mm`, 2048³, the best of 10 runs before and 10 '
        'after the model) measured in the same run; in brackets ÷ the '
        'same product computed as a 1x1 convolution (oneDNN / cuDNN, the '
        'library the convolutions run '
        'on), which can be much faster than the BLAS `mm` (on AMD CPUs '
        'MKL\'s sgemm can reach half of oneDNN\'s), so that a '
        'convolutional network can exceed 100 % of the `mm` peak. The JSON '
        'also holds the utilisation at the best time.',
        '- **peak / growth MiB**: CPU: peak resident set of the training '
        'mode and its growth over the resident set before it (model '
        'included in the peak, not in the growth); CUDA: '
        '`max_memory_allocated`.',
        '- **loader**: samples/s of the config\'s own training dataloader '
        '(pipeline, sampler, workers) on generated data of the real image '
        f'size (KITTI {args.kitti_size[0]}x{args.kitti_size[1]}, '
        f'Cityscapes {args.cityscapes_size[0]}x{args.cityscapes_size[1]}), '
        'measured alone, ÷ what the training step consumes '
        '(batch / median step time).',
        '- **eval s (frames)**: wall time of the config\'s own depth '
        'evaluation (its `DepthMetric`, or the one inside its '
        '`DepthSegMetric`; for KITTI the Eigen protocol with the Garg crop '
        'and median scaling) in an MMEngine `Evaluator`, `process` per test '
        'batch plus `evaluate`, over that many synthetic predicted frames '
        'at the input size with ground truth of the dataset\'s size (KITTI '
        '375x1242 with 5 % valid LiDAR-like pixels, Cityscapes 1024x2048 '
        'with 80 %); "n/a" for configs without a `DepthMetric` (SemiMTL\'s '
        'per-domain metric).',
        '- **train ms amp / channels_last**: the same step under '
        '`torch.autocast` (bfloat16 on the CPU, float16 with loss scaling '
        'on CUDA) or with channels-last weights; "skipped" where the '
        'device has no native support.',
        '',
        '## Where the forward FLOPs go (training step)',
        '',
        _modules_text([r for _, r in ok], [n for n, _ in ok]) or 'n/a',
        '',
    ]
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> List[dict]:
    args = parse_args(argv)
    os.makedirs(args.work_dir, exist_ok=True)
    selected = [c for c in MAIN_CONFIGS if not args.only or c[0] in args.only]
    roots: Dict[str, str] = {}
    tmp = None
    if not args.no_loader:
        data_dir = args.data_dir
        if data_dir is None:
            tmp = tempfile.TemporaryDirectory(prefix='mmdepthseg_bench_')
            data_dir = tmp.name
        roots = make_datasets(data_dir, [c[3] for c in selected],
                              args.kitti_size, args.cityscapes_size)
    results, names = [], []
    try:
        for name, config, shape, layout in MAIN_CONFIGS:
            if (name, config, shape, layout) in selected:
                print(f'benchmarking {name} ({config}) ...', flush=True)
                results.append(
                    benchmark_config(args, name, config, shape,
                                     roots.get(layout), layout))
                names.append(name)
            elif osp.exists(osp.join(args.work_dir, f'{name}.json')):
                # not re-run: keep its earlier result on the page
                with open(osp.join(args.work_dir, f'{name}.json')) as f:
                    results.append(json.load(f))
                names.append(name)
    finally:
        if tmp is not None:
            tmp.cleanup()
    command = 'python tools/analysis_tools/benchmark_all.py ' + ' '.join(
        argv if argv is not None else sys.argv[1:])
    atomic_write_text(args.out,
                      render_page(args, results, names, command.strip()))
    print(f'wrote {args.out}')
    return results


if __name__ == '__main__':
    main()
