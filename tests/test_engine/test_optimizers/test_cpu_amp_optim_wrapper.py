# Copyright (c) mmdepthseg contributors. All rights reserved.
"""bfloat16 autocast on a CPU through an MMEngine optim wrapper."""
import pytest
import torch
import torch.nn as nn

from mmdepthseg.engine.optimizers import CPUAmpOptimWrapper
from mmdepthseg.registry import OPTIM_WRAPPERS


def _wrapper(model, **kwargs):
    return OPTIM_WRAPPERS.build(
        dict(
            type='CPUAmpOptimWrapper',
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
            **kwargs))


def test_forward_runs_in_bfloat16_and_the_step_updates_float32_weights():
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    wrapper = _wrapper(model)
    assert isinstance(wrapper, CPUAmpOptimWrapper)
    before = model.weight.detach().clone()
    x = torch.randn(5, 4)
    with wrapper.optim_context(model):
        out = model(x)
        assert out.dtype == torch.bfloat16
        loss = out.float().pow(2).mean()
    wrapper.update_params(loss)
    assert model.weight.dtype == torch.float32
    assert not torch.equal(model.weight, before)
    # outside the context: float32 again
    assert model(x).dtype == torch.float32
    # the bfloat16 forward differs from float32 by its rounding only
    with wrapper.optim_context(model):
        low = model(x).float()
    torch.testing.assert_close(low, model(x), atol=0.05, rtol=0.02)


def test_float16_is_refused():
    with pytest.raises(ValueError, match='bfloat16'):
        _wrapper(nn.Linear(2, 2), dtype='float16')
