# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Pseudo-MTL's stage-2 initialisation from the two stage-1 networks."""
import os.path as osp
import subprocess
import sys

import pytest
import torch
from _helpers import REPO_ROOT
from mmengine.config import Config

from mmdepthseg.registry import MODELS
from mmdepthseg.utils.checkpoint_merge import merge_checkpoints

CFG = osp.join(REPO_ROOT, 'configs', 'synthetic',
               'pseudo_mtl_vgg16_synthkitti.py')


def _model(**overrides):
    cfg = Config.fromfile(CFG).model
    cfg.update(overrides)
    return MODELS.build(cfg)


def _save(model, path, seed):
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_()
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return model.state_dict()


def test_tool_takes_encoder_and_depth_decoder_from_depth_net(tmp_path):
    depth_ckpt, seg_ckpt = str(tmp_path / 'd.pth'), str(tmp_path / 's.pth')
    depth_sd = _save(_model(seg_head=None), depth_ckpt, seed=1)
    seg_sd = _save(_model(depth_head=None), seg_ckpt, seed=2)
    out = str(tmp_path / 'merged' / 'init.pth')
    subprocess.run([
        sys.executable, 'tools/model_converters/merge_checkpoints.py', '--src',
        depth_ckpt, 'backbone', 'depth_head', '--src', seg_ckpt, 'seg_head',
        '--config', CFG, '--out', out
    ],
                   cwd=REPO_ROOT,
                   check=True)
    merged = _model()
    merged.load_state_dict(
        torch.load(out, weights_only=True)['state_dict'], strict=True)
    state = merged.state_dict()
    for key, value in state.items():
        # stage 2 keeps E + D_d of the depth network and D_s of the other
        source = seg_sd if key.startswith('seg_head.') else depth_sd
        torch.testing.assert_close(value, source[key], msg=key)
    # the encoder really differs between the two stage-1 networks
    key = next(k for k in state if k.startswith('backbone.'))
    assert not torch.equal(depth_sd[key], seg_sd[key])


def test_bad_prefix_overlap_or_mismatch_is_refused(tmp_path):
    depth_ckpt, seg_ckpt = str(tmp_path / 'd.pth'), str(tmp_path / 's.pth')
    _save(_model(seg_head=None), depth_ckpt, seed=1)
    _save(_model(depth_head=None), seg_ckpt, seed=2)
    out = str(tmp_path / 'out.pth')
    with pytest.raises(KeyError, match="no parameter under 'seg_head'"):
        merge_checkpoints([(depth_ckpt, ['seg_head'])], out)
    with pytest.raises(KeyError, match='provided by both'):
        merge_checkpoints([(depth_ckpt, ['backbone']),
                           (seg_ckpt, ['backbone'])], out)
    with pytest.raises(KeyError, match='missing'):
        merge_checkpoints([(depth_ckpt, ['backbone', 'depth_head'])],
                          out,
                          model=_model())
    assert not osp.exists(out)  # nothing half-written
