# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Small loss terms stay readable in the log lines."""
import uuid
from types import SimpleNamespace

import pytest
from mmengine.logging import MessageHub

from mmdepthseg.engine.log_processor import (DepthSegLogProcessor,
                                             format_significant)
from mmdepthseg.registry import LOG_PROCESSORS


def test_format_significant_switches_to_scientific_below_a_thousandth():
    assert format_significant(4.8e-05) == '4.80e-05'
    assert format_significant(0.0094) == '0.0094'
    assert format_significant(0.5712) == '0.5712'
    assert format_significant(123.456) == '123.4560'
    assert format_significant(0.0) == '0.0000'
    assert format_significant(-2e-6, digits=6) == '-2.0000e-06'


def test_log_line_shows_a_small_loss_and_records_plain_floats():
    hub = MessageHub.get_instance(f'log_processor_{uuid.uuid4().hex}')
    hub.update_scalar('train/lr', 1e-4)
    hub.update_scalar('train/loss', 0.5)
    hub.update_scalar('train/depth.loss_smooth', 4.8e-05)
    runner = SimpleNamespace(
        message_hub=hub, iter=4, max_iters=10, _train_loop=object())
    processor = LOG_PROCESSORS.build(
        dict(type='DepthSegLogProcessor', by_epoch=False))
    assert isinstance(processor, DepthSegLogProcessor)
    tag, line = processor.get_log_after_iter(runner, 4, 'train')
    assert 'depth.loss_smooth: 4.80e-05' in line
    assert 'loss: 0.5000' in line
    assert 'lr: 1.0000e-04' in line
    # the recorded values are the numbers themselves (scalars.json)
    assert tag['depth.loss_smooth'] == pytest.approx(4.8e-05)
    assert type(tag['depth.loss_smooth']) is float
