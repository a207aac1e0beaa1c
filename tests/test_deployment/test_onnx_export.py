# Copyright (c) mmdepthseg contributors. All rights reserved.
"""ONNX export: the round trip through ONNX Runtime reproduces PyTorch."""
import importlib.util
import json
import os
import os.path as osp

import pytest
import torch
from mmseg.models.utils import resize

from mmdepthseg.deployment.onnx_export import (DepthSegExportWrapper,
                                               _drop_pretrained,
                                               build_export_model, export_onnx,
                                               require, verify_onnx)
from mmdepthseg.models.segmentors.multi_task_segmentor import \
    MultiTaskSegmentor

pytest.importorskip('onnx')
pytest.importorskip('onnxscript')
ort = pytest.importorskip('onnxruntime')

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASELINE = osp.join(
    REPO, 'configs', 'baseline',
    'baseline_r18-unet_1xb4-600it_synthetic-cityscapes-128x256.py')
FSRE = osp.join(REPO, 'configs', 'fsre', 'fsre_r18_kitti.py')
H, W = 64, 192
RTOL = 1e-4


def _load_tool():
    spec = importlib.util.spec_from_file_location(
        'pytorch2onnx', osp.join(REPO, 'tools', 'deployment',
                                 'pytorch2onnx.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def _dims(value_info):
    return [
        d.dim_param or d.dim_value
        for d in value_info.type.tensor_type.shape.dim
    ]


@pytest.fixture(scope='module')
def baseline_export(tmp_path_factory):
    """The baseline exported by the command line tool (seeded random init,
    with the tool's own verification)."""
    out = str(tmp_path_factory.mktemp('onnx') / 'baseline.onnx')
    torch.manual_seed(0)
    status = _load_tool().main([
        BASELINE, '--random-init', '--output-file', out, '--shape',
        str(H),
        str(W), '--verify'
    ])
    return status, out


@pytest.fixture(scope='module')
def fsre_model():
    return build_export_model(FSRE)


def test_tool_exports_and_verifies_baseline(baseline_export):
    import onnx
    status, out = baseline_export
    assert status == 0
    # nothing but the file itself is left in the folder (atomic write)
    assert os.listdir(osp.dirname(out)) == ['baseline.onnx']
    proto = onnx.load(out)
    # the batch axis is symbolic, H and W are the exported ones
    assert _dims(proto.graph.input[0]) == ['batch', 3, H, W]
    assert [o.name for o in proto.graph.output] == ['depth', 'seg_logits']
    assert [_dims(o) for o in proto.graph.output] == [['batch', 1, H, W],
                                                      ['batch', 19, H, W]]
    meta = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(meta['mean']) == pytest.approx([123.675, 116.28, 103.53])
    assert json.loads(meta['std']) == pytest.approx([58.395, 57.12, 57.375])
    assert json.loads(meta['outputs']) == ['depth', 'seg_logits']


def test_baseline_round_trip_with_batch_1_and_2(baseline_export):
    _, out = baseline_export
    # the tool's seed rebuilds the exported weights
    torch.manual_seed(0)
    model = build_export_model(BASELINE)
    inputs = [torch.randn(1, 3, H, W), torch.randn(2, 3, H, W)]
    errors = verify_onnx(out, model, inputs)
    assert set(errors) == {'depth', 'seg_logits'}
    for err in errors.values():
        assert err['max_rel'] < RTOL, errors
    # the graph's depth is model.predict's before any resize: metres in the
    # head's 0.1-100 m range
    with torch.no_grad():
        sample = model.predict(inputs[0])[0]
    session = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    depth = session.run(['depth'], {'inputs': inputs[0].numpy()})[0]
    torch.testing.assert_close(
        torch.from_numpy(depth[0]),
        sample.pred_depth_map.data,
        rtol=RTOL,
        atol=1e-6)
    assert depth.min() >= 0.1 and depth.max() <= 100.0


def test_fsre_round_trip_and_dynamic_batch(fsre_model, tmp_path):
    out = str(tmp_path / 'fsre.onnx')
    dims = export_onnx(fsre_model, out, (H, W))
    assert dims == {
        'inputs': ['batch', 3, H, W],
        'depth': ['batch', 1, H, W],
        'seg_logits': ['batch', 19, H, W]
    }
    inputs = [torch.randn(1, 3, H, W), torch.randn(2, 3, H, W)]
    errors = verify_onnx(out, fsre_model, inputs)
    assert set(errors) == {'depth', 'seg_logits'}
    for err in errors.values():
        assert err['max_rel'] < RTOL, errors

    # the graph's maps are model.predict's (without data samples nothing is
    # cropped or resized): relative-scale depth and the logits
    with torch.no_grad():
        maps = DepthSegExportWrapper(fsre_model).predict_maps(inputs[1])
        samples = fsre_model.predict(inputs[1])
    assert list(maps) == ['depth', 'seg_logits']
    for i, sample in enumerate(samples):
        torch.testing.assert_close(maps['depth'][i],
                                   sample.pred_depth_map.data)
        torch.testing.assert_close(maps['seg_logits'][i],
                                   sample.seg_logits.data)
    # postprocess_result is the class's again after the wrapper's call
    assert 'postprocess_result' not in vars(fsre_model)
    with pytest.raises(ValueError, match=r'\(B, 3, H, W\)'):
        DepthSegExportWrapper(fsre_model).predict_maps(torch.zeros(1, 6, H, W))


def _tiny_segmentor(cls=MultiTaskSegmentor):
    """A seg-only model small enough to export in a few seconds."""
    model = cls(
        backbone=dict(type='VGGEncoder', num_convs=(1, 1), channels=(4, 8)),
        seg_head=dict(
            type='FCNHead',
            in_channels=8,
            in_index=2,
            channels=4,
            num_convs=1,
            concat_input=False,
            num_classes=3),
        data_preprocessor=dict(
            type='MultiViewDataPreProcessor',
            mean=[0., 0., 0.],
            std=[1., 1., 1.],
            size_divisor=4))
    model.init_weights()
    return model.eval()


def test_dynamic_shape_export_runs_at_other_sizes(tmp_path):
    model = _tiny_segmentor()
    out = str(tmp_path / 'tiny.onnx')
    dims = export_onnx(model, out, (16, 24), dynamic_shape=True)
    batch, _, h, w = dims['inputs']
    assert all(isinstance(d, str) for d in (batch, h, w))
    inputs = [torch.randn(1, 3, 16, 24), torch.randn(3, 3, 32, 20)]
    errors = verify_onnx(out, model, inputs)
    assert errors['seg_logits']['max_rel'] < RTOL


class _PinnedSizeSegmentor(MultiTaskSegmentor):
    """Resizes its logits to Python ints: a graph that cannot stay dynamic.
    """

    def predict(self, inputs, data_samples=None):
        logits = self.seg_head.forward(self.extract_feat(inputs))
        size = (int(inputs.shape[2]), int(inputs.shape[3]))
        return self.postprocess_result(
            resize(logits, size=size, mode='bilinear'), data_samples)


def test_dynamic_shape_refused_when_the_model_fixes_sizes(tmp_path):
    model = _tiny_segmentor(_PinnedSizeSegmentor)
    out = str(tmp_path / 'pinned.onnx')
    with pytest.raises(RuntimeError, match='fixed spatial sizes'):
        export_onnx(model, out, (16, 24), dynamic_shape=True)
    assert os.listdir(str(tmp_path)) == []  # no partial file
    # a fixed-size export of the same model is fine
    export_onnx(model, out, (16, 24))
    errors = verify_onnx(out, model, torch.randn(2, 3, 16, 24))
    assert errors['seg_logits']['max_rel'] < RTOL
    with pytest.raises(ValueError, match=r'shape \[.batch., 3, 16, 24\]'):
        verify_onnx(out, model, torch.randn(1, 3, 20, 24))


def test_shape_must_fit_the_size_divisor(tmp_path):
    with pytest.raises(ValueError, match='size_divisor'):
        export_onnx(_tiny_segmentor(), str(tmp_path / 'x.onnx'), (18, 24))


def test_missing_packages_are_named_with_the_install_command(
        tmp_path, monkeypatch, capsys):
    with pytest.raises(ImportError, match=r"mmdepthseg\[onnx\]"):
        require('onnx', 'surely_not_an_installed_module')
    tool = _load_tool()

    def missing(*modules):
        raise ImportError('needs onnxruntime: pip install mmdepthseg[onnx]')

    monkeypatch.setattr(tool.onnx_export, 'require', missing)
    out = str(tmp_path / 'x.onnx')
    assert tool.main([BASELINE, '--shape', '64', '64', '--output-file',
                      out]) == 2
    assert 'mmdepthseg[onnx]' in capsys.readouterr().err
    assert not osp.exists(out)


def test_drop_pretrained_removes_every_pretrained_init():
    cfg = dict(
        backbone=dict(init_cfg=dict(type='Pretrained', checkpoint='x')),
        pose_net=dict(pretrained='https://x', encoder=dict(init_cfg=None)),
        head=dict(init_cfg=[
            dict(type='Normal', std=0.01),
            dict(type='Pretrained', checkpoint='y')
        ]),
        neck=dict(init_cfg=[dict(type='Pretrained', checkpoint='z')]))
    _drop_pretrained(cfg)
    assert cfg['backbone']['init_cfg'] is None
    assert cfg['pose_net']['pretrained'] is None
    assert cfg['head']['init_cfg'] == [dict(type='Normal', std=0.01)]
    assert cfg['neck']['init_cfg'] is None
