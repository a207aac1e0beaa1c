# Copyright (c) mmdepthseg contributors. All rights reserved.
"""One model loader for the inferencer, the pseudo-label generator and the
ONNX export."""
import os.path as osp

import pytest
import torch
from _helpers import REPO_ROOT
from mmengine.config import Config
from mmseg.utils import get_classes

from mmdepthseg.apis import DepthSegInferencer
from mmdepthseg.apis.model_loader import init_segmentor, load_config

BASELINE_CFG = osp.join(REPO_ROOT, 'configs', 'baseline',
                        'baseline_r18-unet_4xb2-40k_cityscapes-256x512.py')


def _thin_cfg() -> Config:
    """The baseline config, segmentation only with a thin decoder."""
    cfg = Config.fromfile(BASELINE_CFG)
    cfg.model.depth_head = None
    cfg.model.seg_head.decoder_channels = (16, 16, 16, 16, 16)
    cfg.test_pipeline = [
        dict(type='LoadMultiViewImages'),
        dict(type='PackMultiViewInputs')
    ]
    return cfg


def _checkpoint(cfg: Config, path: str, meta=None) -> dict:
    """A seeded random model saved in MMEngine's layout; its state dict."""
    from mmdepthseg.registry import MODELS
    from mmdepthseg.set_env import register_all_modules
    register_all_modules()
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
    state = model.state_dict()
    ckpt = dict(state_dict=state)
    if meta is not None:
        ckpt['meta'] = dict(dataset_meta=meta)
    torch.save(ckpt, path)
    return state


def test_inferencer_and_pseudo_labels_load_the_same_model(tmp_path):
    """The checkpoint's weights and ``dataset_meta`` reach the model the
    same way whether the inferencer or ``init_segmentor`` loads it."""
    cfg, path = _thin_cfg(), str(tmp_path / 'model.pth')
    meta = dict(classes=[f'c{i}' for i in range(19)], palette=[[1, 2, 3]] * 19)
    state = _checkpoint(cfg, path, meta)
    direct = init_segmentor(cfg, path)
    inferencer = DepthSegInferencer(cfg, path)
    for model in (direct, inferencer.model):
        assert model.dataset_meta['classes'] == meta['classes']
        loaded = model.state_dict()
        assert all(torch.equal(loaded[k], v) for k, v in state.items())
        assert not model.training


def test_dataset_meta_from_the_config_without_checkpoint_meta(tmp_path):
    """A checkpoint without meta: the classes of the config's test dataset
    (the pseudo-label path took none before)."""
    cfg, path = _thin_cfg(), str(tmp_path / 'model.pth')
    _checkpoint(cfg, path)
    model = init_segmentor(cfg, path)
    assert list(model.dataset_meta['classes']) == list(
        get_classes('cityscapes'))


def test_the_callers_config_is_not_modified():
    cfg = _thin_cfg()
    before = cfg.pretty_text
    model = init_segmentor(cfg)
    assert cfg.pretty_text == before
    assert model.cfg is not cfg and model.cfg.model.train_cfg is None
    # Pretrained init of the backbone stays in the caller's copy
    assert cfg.model.backbone.init_cfg['type'] == 'Pretrained'


def test_init_weights_drops_pretrained_and_initialises(monkeypatch):
    """``init_weights=True`` (the ONNX export of an untrained model): no
    Pretrained weights are fetched, ``init_weights`` runs."""
    from mmengine.runner import checkpoint as ckpt_module

    def no_download(*args, **kwargs):
        raise AssertionError('a checkpoint was loaded')

    monkeypatch.setattr(ckpt_module, 'load_from_http', no_download)
    model = init_segmentor(_thin_cfg(), init_weights=True)
    assert model.backbone.is_init
    assert not init_segmentor(_thin_cfg()).backbone.is_init


def test_config_sources_and_missing_file(tmp_path):
    assert load_config(dict(a=1)).a == 1
    with pytest.raises(FileNotFoundError, match='nope.py'):
        init_segmentor(str(tmp_path / 'nope.py'))
