# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Names that moved out of ``apis/inferencer.py`` and ``apis/pseudo_seg.py``
still import from there (one definition each)."""
import importlib

import pytest

MOVED = [
    ('inferencer', 'find_metafile_model', 'model_loader'),
    ('inferencer', 'repo_root', 'model_loader'),
    ('inferencer', 'config_test_pipeline', 'inference_pipeline'),
    ('inferencer', 'MultiViewInferencerLoader', 'inference_pipeline'),
    ('inferencer', 'FixedCropWindow', 'inference_pipeline'),
    ('inferencer', 'LABEL_TRANSFORMS', 'inference_pipeline'),
    ('inferencer', 'RANDOM_TRANSFORMS', 'inference_pipeline'),
    ('inferencer', 'depth_output_kind', 'depth_output'),
    ('inferencer', 'depth_target_mode', 'depth_output'),
    ('inferencer', 'DEPTH_KINDS', 'depth_output'),
    ('inferencer', 'IMG_EXTENSIONS', 'inference_io'),
    ('pseudo_seg', 'init_segmentor', 'model_loader'),
    ('pseudo_seg', 'build_inference_pipeline', 'inference_pipeline'),
    ('pseudo_seg', 'write_label_png', 'inference_io'),
    ('', 'init_segmentor', 'model_loader'),
    ('', 'build_inference_pipeline', 'inference_pipeline'),
]


@pytest.mark.parametrize('old, name, new', MOVED)
def test_moved_name_is_the_same_object_under_its_old_path(old, name, new):
    old_module = importlib.import_module(
        'mmdepthseg.apis' + (f'.{old}' if old else ''))
    new_module = importlib.import_module(f'mmdepthseg.apis.{new}')
    assert getattr(old_module, name) is getattr(new_module, name)


def test_drawing_names_of_the_inferencer():
    from mmdepthseg.apis.inferencer import DEPTH_LABELS
    from mmdepthseg.deployment.onnx_export import _drop_pretrained
    from mmdepthseg.visualization.result_pictures import DEPTH_LABELS as moved
    assert DEPTH_LABELS is moved and callable(_drop_pretrained)
