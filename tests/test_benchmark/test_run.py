# Copyright (c) mmdepthseg contributors. All rights reserved.
"""mmdepthseg.benchmark.run: run_benchmark's options, given as a
:class:`BenchmarkOptions` or as keywords."""
import pytest
from _helpers import BASELINE_CFG
from mmengine.config import Config

from mmdepthseg.benchmark import BenchmarkOptions, run_benchmark
from mmdepthseg.utils import register_all_modules

# the cheapest run: inference only, no FLOPs, loader or evaluation
CHEAP = dict(
    warmup=0,
    repeat=1,
    modes=('infer', ),
    infer_batch_size=2,
    count=False,
    peak_size=16,
    peak_repeat=1,
    loader=False,
    evaluation=False)


@pytest.fixture(scope='module')
def baseline_cfg() -> Config:
    register_all_modules()
    return Config.fromfile(BASELINE_CFG)


def test_options_and_keywords_measure_the_same(baseline_cfg):
    by_keywords = run_benchmark(baseline_cfg, (64, 64), 1, **CHEAP)
    by_options = run_benchmark(
        baseline_cfg,
        options=BenchmarkOptions(shape=(64, 64), batch_size=1, **CHEAP))
    assert set(by_options) == set(by_keywords)
    assert 'train' not in by_options and 'loader' not in by_options
    assert by_options['input'] == by_keywords['input']
    assert tuple(by_options['input']['shape']) == (64, 64)
    assert by_options['infer']['batch_size'] == 2
    assert list(by_options['peak']) == ['float32']
    assert by_options['peak']['float32']['size'] == 16


def test_options_are_checked_before_any_work(baseline_cfg):
    with pytest.raises(ValueError, match='settings must be in'):
        BenchmarkOptions(shape=(8, 8), batch_size=1, settings=('fp8', ))
    with pytest.raises(TypeError, match='needs shape and batch_size'):
        run_benchmark(baseline_cfg, (8, 8))
    with pytest.raises(TypeError, match='not both'):
        run_benchmark(
            baseline_cfg,
            options=BenchmarkOptions(shape=(8, 8), batch_size=1),
            repeat=3)
    with pytest.raises(TypeError, match='unexpected keyword'):
        run_benchmark(baseline_cfg, (8, 8), 1, repeats=3)
