# Copyright (c) mmdepthseg contributors. All rights reserved.
"""FSRE-Depth learns depth from generated monocular video alone: it beats
the per-image median depth (what median scaling makes of any constant
predictor) and the majority class on the held-out drive."""
import pytest
from _learning import run_fsre


@pytest.mark.slow
def test_fsre_beats_the_per_image_median_and_the_majority_class(
        synthetic_kitti, tmp_path):
    runner, result = run_fsre(synthetic_kitti, str(tmp_path))
    model, trivial = result['model'], result['trivial']
    print(f'model: {model}\ntrivial: {trivial}')
    logged = set(runner.message_hub.log_scalars)
    for term in ('loss_photo', 'loss_smooth', 'loss_ce', 'loss_sgt'):
        assert f'train/{term}' in logged
    # Eigen protocol with per-image median scaling (Garg crop, 1e-3..80 m)
    # on the held-out drive, 150 iterations; the segmentation decoder
    # learns from the pseudo labels. Spread (tests/learning_spread.py,
    # seeds 0-2, ONEDNN_MAX_CPU_ISA=AVX2, mkldnn off; 5 runs), model /
    # trivial: abs_rel 0.392..0.420 / 0.560 (ratio <= 0.75), a1
    # 0.381..0.428 / 0.231, mIoU 35.8..42.1 / 3.92.
    assert model['abs_rel'] < 0.85 * trivial['abs_rel']
    assert model['a1'] > trivial['a1'] + 0.08
    assert model['mIoU'] > trivial['mIoU'] + 20
