# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Spread of the learning tests over seeds and CPU numerics.

Runs the training of each learning test (``tests/_learning.py``, the same
code the tests run) under several seeds and under numerics that mimic other
CPUs, and prints, per run, the metrics the tests assert on for the trained
model and for the trivial predictors, then per test the min / max over the
runs. Use it to set (or re-check) the margins of the learning tests
(``tests/test_models/test_segmentors/test_*_learns.py``) after a change to
a method::

    python tests/learning_spread.py                       # everything
    python tests/learning_spread.py --tests fsre esosd --seeds 0 1 2
    python tests/learning_spread.py --variants default avx2 --json out.json

Variants (each run is a fresh process, so that oneDNN reads its settings):

- ``default``: this machine's numerics, the default thread count;
- ``avx2`` / ``sse41``: ``ONEDNN_MAX_CPU_ISA=AVX2`` / ``SSE41`` (oneDNN's
  kernels of an older CPU);
- ``nomkldnn``: ``torch.backends.mkldnn.enabled = False`` (PyTorch's own
  convolution kernels);
- ``threads1`` / ``threads2``: ``torch.set_num_threads(1 / 2)`` (another
  reduction order).

The seeds run with the default numerics, the variants with seed 0.
``--threads N`` sets the thread count of every run but the ``threads*``
variants: on a machine shared by many processes, 2 OpenMP threads that
wait for each other can be ten times slower than 1.
"""
import argparse
import concurrent.futures
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time

TESTS_DIR = osp.dirname(osp.abspath(__file__))
REPO_ROOT = osp.dirname(TESTS_DIR)

VARIANTS = {
    'default': {},
    'avx2': dict(env=dict(ONEDNN_MAX_CPU_ISA='AVX2')),
    'sse41': dict(env=dict(ONEDNN_MAX_CPU_ISA='SSE41')),
    'nomkldnn': dict(mkldnn=False),
    'threads1': dict(threads=1),
    'threads2': dict(threads=2),
}

#: Metrics shown per test: (key, lower is better).
SHOWN = dict(
    baseline=[('abs_rel', True), ('a1', False), ('mIoU', False)],
    fsre=[('abs_rel', True), ('a1', False), ('mIoU', False)],
    pseudo_mtl=[('abs_rel', True), ('a1', False), ('mIoU', False)],
    esosd=[('abs_rel', True), ('disp_err', True), ('mIoU', False)],
    semimtl=[('d1/rmse', True), ('d1/a1', False), ('d2/mIoU', False)],
)


def _make_data(name: str, root: str, made: dict) -> str:
    """The generated dataset ``name`` under ``root`` (made once)."""
    import _learning
    if name in made:
        return made[name]
    path = osp.join(root, name)
    if name == 'synthetic_kitti_pseudo':
        kitti = _make_data('synthetic_kitti', root, made)
        _learning.make_synthetic_kitti_pseudo(path, kitti)
    else:
        getattr(_learning, f'make_{name}')(path)
    made[name] = path
    return path


def _worker(args) -> None:
    """One run in this process; prints one JSON line prefixed 'RESULT '."""
    import torch
    variant = VARIANTS[args.variant]
    if variant.get('mkldnn') is False:
        torch.backends.mkldnn.enabled = False
    threads = variant.get('threads') or args.threads
    if threads:
        torch.set_num_threads(threads)
    from mmdepthseg.utils import register_all_modules
    register_all_modules()
    import _learning
    run = _learning.LEARNING_RUNS[args.worker][0]
    start, cpu_start = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as work_dir:
        _, result = run(args.data_root, work_dir, seed=args.seed)
    result = {k: v for k, v in result.items() if k != 'constants'}
    result['seconds'] = time.perf_counter() - start
    result['cpu_seconds'] = time.process_time() - cpu_start
    print('RESULT ' + json.dumps(result), flush=True)


def _run_one(test: str, variant: str, seed: int, data_root: str,
             threads: int = None) -> dict:
    env = dict(os.environ, **VARIANTS[variant].get('env', {}))
    env['PYTHONPATH'] = os.pathsep.join(
        [REPO_ROOT, TESTS_DIR, env.get('PYTHONPATH', '')])
    proc = subprocess.run([
        sys.executable, __file__, '--worker', test, '--variant', variant,
        '--seed',
        str(seed), '--data-root', data_root
    ] + (['--threads', str(threads)] if threads else []),
                          cwd=REPO_ROOT,
                          env=env,
                          capture_output=True,
                          text=True)
    for line in proc.stdout.splitlines():
        if line.startswith('RESULT '):
            return json.loads(line[len('RESULT '):])
    raise RuntimeError(f'{test} / {variant} / seed {seed} failed:\n'
                       f'{(proc.stdout + proc.stderr)[-4000:]}')


def _fmt(value) -> str:
    return f'{value:8.4f}' if abs(value) < 10 else f'{value:8.2f}'


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--tests',
        nargs='+',
        default=list(SHOWN),
        choices=list(SHOWN),
        help='learning tests to run')
    parser.add_argument(
        '--seeds',
        nargs='+',
        type=int,
        default=[0, 1, 2],
        help='seeds (default numerics)')
    parser.add_argument(
        '--variants',
        nargs='+',
        default=['avx2', 'sse41', 'nomkldnn', 'threads1', 'threads2'],
        choices=list(VARIANTS),
        help='numerics variants (seed 0)')
    parser.add_argument(
        '--threads',
        type=int,
        help='threads of every run but the threads* variants (default: '
        "torch's default)")
    parser.add_argument(
        '--jobs', type=int, default=1, help='runs in parallel')
    parser.add_argument('--json', help='also write every run here')
    parser.add_argument('--worker', help=argparse.SUPPRESS)
    parser.add_argument('--variant', default='default', help=argparse.SUPPRESS)
    parser.add_argument('--seed', type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument('--data-root', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(args)
        return
    sys.path[:0] = [REPO_ROOT, TESTS_DIR]
    from mmdepthseg.utils import register_all_modules
    register_all_modules()
    import _learning

    runs = [('default', s) for s in args.seeds]
    runs += [(v, 0) for v in args.variants if (v, 0) not in runs]
    records = []
    with tempfile.TemporaryDirectory() as data_dir:
        made = {}
        for test in args.tests:
            data_root = _make_data(_learning.LEARNING_RUNS[test][1], data_dir,
                                   made)
            keys = SHOWN[test]
            header = ' '.join(f'{k:>17}' for k, _ in keys)
            print(f'\n== {test} ({_learning.ITERS[test]} iterations); '
                  'each metric: model / trivial')
            print(f'{"variant":>10} {"seed":>4} {header} {"s":>6}')
            rows = []
            with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
                futures = [
                    pool.submit(_run_one, test, variant, seed, data_root,
                                args.threads) for variant, seed in runs
                ]
                results = [f.result() for f in futures]
            for (variant, seed), result in zip(runs, results):
                rows.append(result)
                records.append(dict(test=test, variant=variant, seed=seed,
                                    **result))
                cells = ' '.join(
                    f'{_fmt(result["model"][k])}/{_fmt(result["trivial"][k])}'
                    for k, _ in keys)
                print(f'{variant:>10} {seed:>4} {cells} '
                      f'{result["seconds"]:6.1f}', flush=True)
            for label, fn in (('min', min), ('max', max)):
                cells = ' '.join(
                    f'{_fmt(fn(r["model"][k] for r in rows))}/'
                    f'{_fmt(fn(r["trivial"][k] for r in rows))}'
                    for k, _ in keys)
                print(f'{label:>10} {"":>4} {cells}')
            # the margin each run keeps over the trivial predictor:
            # (trivial - model) for lower-is-better metrics, else the reverse
            cells = []
            for k, lower in keys:
                gains = [(r['trivial'][k] - r['model'][k]) *
                         (1 if lower else -1) for r in rows]
                cells.append(f'{_fmt(min(gains))}..{_fmt(max(gains))}'[:17]
                             .rjust(17))
            print(f'{"gain":>10} {"":>4} {" ".join(cells)}', flush=True)
            if args.json:
                with open(args.json, 'w') as f:
                    json.dump(records, f, indent=1)


if __name__ == '__main__':
    main()
