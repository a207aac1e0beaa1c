# Copyright (c) mmdepthseg contributors. All rights reserved.
"""A config gets the DepthMetric it names: ours (scope mmdepthseg) or
MMSegmentation's (scope mmseg, other arguments)."""
import pytest
from mmengine.registry import DefaultScope
from mmseg.evaluation.metrics import DepthMetric as MMSegDepthMetric

from mmdepthseg.evaluation.metrics import DepthMetric
from mmdepthseg.registry import METRICS

# mmseg's NYU evaluator (mmseg::_base_/datasets/nyu.py)
MMSEG_NYU = dict(
    type='DepthMetric',
    min_depth_eval=0.001,
    max_depth_eval=10.0,
    crop_type='nyu_crop')
OURS_NYU = dict(type='DepthMetric', min_depth=1e-3, max_depth=10., crop='nyu')


def _build(scope, cfg):
    with DefaultScope.overwrite_default_scope(scope):
        return METRICS.build(dict(cfg))


@pytest.mark.parametrize('scope', ['mmdepthseg', 'mmseg'])
def test_scoped_names_give_the_named_metric(scope):
    ours = _build(scope, dict(OURS_NYU, type='mmdepthseg.DepthMetric'))
    assert type(ours) is DepthMetric and ours.crop == 'nyu'
    alias = _build(scope, dict(OURS_NYU, type='mmdepthseg.MonoDepthMetric'))
    assert type(alias) is DepthMetric
    theirs = _build(scope, dict(MMSEG_NYU, type='mmseg.DepthMetric'))
    assert type(theirs) is MMSegDepthMetric
    assert theirs.crop_type == 'nyu_crop'


def test_plain_name_follows_default_scope_and_arguments():
    # our configs (default_scope='mmdepthseg') keep getting ours
    assert type(_build('mmdepthseg', OURS_NYU)) is DepthMetric
    assert type(_build('mmdepthseg', dict(type='DepthMetric'))) is DepthMetric
    # an mmseg config keeps mmseg's, in its own scope or switched to ours
    assert type(_build('mmseg', MMSEG_NYU)) is MMSegDepthMetric
    metric = _build('mmdepthseg', MMSEG_NYU)
    assert type(metric) is MMSegDepthMetric
    assert metric.max_depth_eval == 10.0


def test_mixed_arguments_name_both_metrics():
    with pytest.raises(
            TypeError,
            match=r"mmseg\.DepthMetric.*min_depth_eval"
            r".*mmdepthseg\.DepthMetric.*'crop'"):
        _build('mmdepthseg', dict(MMSEG_NYU, crop='nyu'))


def test_depth_seg_metric_builds_our_depth_metric_inside_mmseg_scope():
    """A loop inherited through ``mmseg::`` builds its evaluator in scope
    mmseg; DepthSegMetric's plain ``DepthMetric`` is still ours."""
    metric = _build(
        'mmseg',
        dict(
            type='mmdepthseg.DepthSegMetric',
            depth_cfg=dict(type='DepthMetric', max_depth=10.)))
    assert type(metric.depth_metric) is DepthMetric
