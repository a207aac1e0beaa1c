# Copyright (c) mmdepthseg contributors. All rights reserved.
"""SemiMTL on two generated domains, one labelling segmentation only and
the other depth only: on each domain's held-out city, the task it never
sees labels of beats the trivial predictor (one constant inverse depth,
the majority class)."""
import pytest
from _learning import run_semimtl


@pytest.mark.slow
def test_semimtl_learns_the_unlabelled_task_of_each_domain(
        synthetic_semimtl, tmp_path):
    runner, result = run_semimtl(synthetic_semimtl, str(tmp_path))
    model, trivial = result['model'], result['trivial']
    print(f'model: {model}\ntrivial: {trivial}')
    logged = set(runner.message_hub.log_scalars)
    for term in ('loss_seg', 'loss_depth', 'loss_d_seg', 'loss_d_depth',
                 'loss_adv_intra_seg', 'loss_adv_intra_depth',
                 'loss_adv_inter_seg', 'loss_adv_inter_depth'):
        assert f'train/{term}' in logged, term
    # domain 1 never sees depth labels, domain 2 never sees segmentation;
    # inverse depth (1/m), 6 held-out frames per domain, 100 iterations.
    # Spread (tests/learning_spread.py, seeds 0-2, ONEDNN_MAX_CPU_ISA=AVX2,
    # mkldnn off; 5 runs), model / trivial:
    #   d2/mIoU 42.2..44.5 / 4.65 (never labelled), d1/mIoU 41.4..43.3 /
    #   4.62, d1/abs_rel 0.94..1.24 / 1.36 (never labelled; ratio
    #   0.69..0.91).
    # The never-labelled depth beats the best constant inverse depth in
    # abs_rel on every run, but not yet in rmse (0.056..0.073 / 0.066): at
    # this size the depth transfer is weak, so only abs_rel is asserted.
    assert model['d2/mIoU'] > trivial['d2/mIoU'] + 30
    assert model['d1/mIoU'] > trivial['d1/mIoU'] + 30
    assert model['d1/abs_rel'] < trivial['d1/abs_rel']
