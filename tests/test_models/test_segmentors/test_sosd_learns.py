# Copyright (c) mmdepthseg contributors. All rights reserved.
"""ESOSD-Net (SOSD-Net + EM alternation) learns segmentation and disparity
on generated Cityscapes-layout scenes: it beats the trivial predictors (one
constant depth, the majority class) on the held-out city."""
import pytest
from _learning import run_esosd


@pytest.mark.slow
def test_esosd_alternates_and_beats_trivial_predictors(
        synthetic_cityscapes, tmp_path):
    runner, result = run_esosd(synthetic_cityscapes, str(tmp_path))
    model, trivial = result['model'], result['trivial']
    print(f'model: {model}\ntrivial: {trivial}')
    history = runner.message_hub.get_scalar('train/em_phase').data[0]
    # one phase per iteration: depth (0) and semantic (1) alternate
    assert set(history[-10:].tolist()) == {0, 1}
    # metric depth and disparity error (px), 12 held-out frames, 80
    # iterations. Spread (tests/learning_spread.py; seeds 0-2,
    # ONEDNN_MAX_CPU_ISA AVX2 / SSE41, mkldnn off, 1 and 2 threads; 12
    # runs), model / trivial: abs_rel 0.235..0.334 / 0.882 (ratio <= 0.38),
    # disp_err 0.93..2.16 / 3.08 px (ratio <= 0.70), mIoU 18.9..32.0 / 4.85.
    assert model['abs_rel'] < 0.5 * trivial['abs_rel']
    assert model['disp_err'] < 0.85 * trivial['disp_err']
    assert model['mIoU'] > trivial['mIoU'] + 8
