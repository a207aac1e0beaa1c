# Copyright (c) mmdepthseg contributors. All rights reserved.
"""tools/generate_pseudo_seg.py and mmdepthseg.apis.pseudo_seg with tiny
randomly initialised segmentors (mmseg's EncoderDecoder and mmdepthseg's
MultiTaskSegmentor)."""
import os
import os.path as osp
import runpy
import sys

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmseg.utils import get_classes, get_palette

from mmdepthseg.apis import (generate_pseudo_seg, init_segmentor,
                             map_output_path)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MEAN = [123.675, 116.28, 103.53]
STD = [58.395, 57.12, 57.375]
#: relative image paths -> (h, w); a nested KITTI-like tree, two sizes.
IMAGES = {
    '2011_09_26/drive_a_sync/image_02/data/0000000000.png': (64, 128),
    '2011_09_26/drive_a_sync/image_02/data/0000000001.png': (64, 128),
    '2011_09_26/drive_b_sync/image_03/data/0000000000.png': (64, 128),
    '2011_09_26/drive_b_sync/image_03/data/0000000007.png': (64, 96),
}


def _mmseg_cfg() -> Config:
    """mmseg's own EncoderDecoder: a thin ResNetV1c-18 + FCNHead."""
    norm_cfg = dict(type='BN', requires_grad=True)
    return Config(
        dict(
            default_scope='mmseg',
            model=dict(
                type='EncoderDecoder',
                data_preprocessor=dict(
                    type='SegDataPreProcessor',
                    mean=MEAN,
                    std=STD,
                    bgr_to_rgb=True,
                    pad_val=0,
                    seg_pad_val=255),
                backbone=dict(
                    type='ResNetV1c',
                    depth=18,
                    stem_channels=8,
                    base_channels=8,
                    out_indices=(3, ),
                    norm_cfg=norm_cfg),
                decode_head=dict(
                    type='FCNHead',
                    in_channels=64,
                    in_index=0,
                    channels=8,
                    num_convs=1,
                    num_classes=19,
                    norm_cfg=norm_cfg,
                    align_corners=False,
                    loss_decode=dict(type='CrossEntropyLoss')),
                train_cfg=dict(),
                test_cfg=dict(mode='whole')),
            test_pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadAnnotations'),
                dict(type='PackSegInputs')
            ]))


def _ours_cfg() -> Config:
    """mmdepthseg's baseline MultiTaskSegmentor (ResNet-18 + U-Net)."""
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', '_base_', 'models',
                 'baseline_r18_unet.py'))
    cfg.default_scope = 'mmdepthseg'
    # segmentation only, thin decoder: keeps the CPU test fast
    cfg.model.depth_head = None
    cfg.model.seg_head.decoder_channels = (16, 16, 16, 16, 16)
    cfg.test_pipeline = [
        dict(type='LoadMultiViewImages'),
        dict(type='LoadDepthSegAnnotations'),
        dict(type='PackMultiViewInputs')
    ]
    return cfg


def _make_checkpoint(cfg: Config, path: str) -> None:
    """A random (seeded) model saved in MMEngine's checkpoint format."""
    from mmdepthseg.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    # random BN statistics so that predictions vary over the image
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    meta = dict(
        dataset_meta=dict(
            classes=get_classes('cityscapes'),
            palette=get_palette('cityscapes')))
    torch.save(dict(state_dict=model.state_dict(), meta=meta), path)


def _write_images(img_dir: str) -> None:
    rng = np.random.default_rng(0)
    for rel, (h, w) in IMAGES.items():
        path = osp.join(img_dir, rel)
        os.makedirs(osp.dirname(path), exist_ok=True)
        cv2.imwrite(path, rng.integers(0, 256, (h, w, 3), dtype=np.uint8))


def _direct_argmax(model, img_path: str) -> np.ndarray:
    """Normalise by hand, run encode_decode, argmax (no pipeline, no
    preprocessor, no postprocessing)."""
    bgr = cv2.imread(img_path)
    h, w = bgr.shape[:2]
    rgb = bgr[..., ::-1].astype(np.float32)
    x = (rgb - np.array(MEAN, np.float32)) / np.array(STD, np.float32)
    x = torch.from_numpy(x.transpose(2, 0, 1).copy())[None]
    metas = [dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w))]
    with torch.no_grad():
        logits = model.encode_decode(x, metas)
    assert logits.shape[-2:] == (h, w)
    return logits[0].argmax(0).numpy().astype(np.uint8)


@pytest.fixture(scope='module')
def img_dir(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp('images'))
    _write_images(root)
    return root


@pytest.mark.parametrize(
    'make_cfg', [_mmseg_cfg, _ours_cfg],
    ids=['mmseg_encoder_decoder', 'multi_task'])
def test_labels_equal_direct_argmax_and_resume(make_cfg, img_dir, tmp_path):
    cfg_path = str(tmp_path / 'cfg.py')
    ckpt_path = str(tmp_path / 'model.pth')
    make_cfg().dump(cfg_path)
    _make_checkpoint(make_cfg(), ckpt_path)
    model = init_segmentor(cfg_path, ckpt_path, device='cpu')
    out_dir = str(tmp_path / 'labels')

    # batch of 3 holds both sizes: they are run as separate groups
    counts = generate_pseudo_seg(
        model, img_dir, out_dir, batch_size=3, progress=False)
    assert counts == dict(written=len(IMAGES), skipped=0)
    classes_seen = set()
    for rel, (h, w) in IMAGES.items():
        label = cv2.imread(osp.join(out_dir, rel), cv2.IMREAD_UNCHANGED)
        assert label is not None and label.dtype == np.uint8
        assert label.shape == (h, w)
        assert label.max() < 19
        np.testing.assert_array_equal(
            label, _direct_argmax(model, osp.join(img_dir, rel)))
        classes_seen |= set(np.unique(label).tolist())
    assert len(classes_seen) > 1  # the comparison is not trivially constant
    # no temporary files remain, only the mirrored labels
    written = sorted(
        osp.relpath(osp.join(r, f), out_dir) for r, _, fs in os.walk(out_dir)
        for f in fs)
    assert written == sorted(IMAGES)

    # a second run skips everything and touches nothing
    mtimes = {r: os.stat(osp.join(out_dir, r)).st_mtime_ns for r in IMAGES}
    counts = generate_pseudo_seg(model, img_dir, out_dir, progress=False)
    assert counts == dict(written=0, skipped=len(IMAGES))
    assert mtimes == {
        r: os.stat(osp.join(out_dir, r)).st_mtime_ns
        for r in IMAGES
    }


def test_cli_writes_kitti_semantic_tree(img_dir, tmp_path):
    """``--dir-map image_0 semantic_0`` writes ``semantic_0X`` folders next
    to the images, where KittiRawDataset(seg_dir='semantic_{cam:02d}')
    reads them; a rerun reads only image folders and skips all."""
    import shutil
    root = str(tmp_path / 'kitti')
    shutil.copytree(img_dir, root)
    cfg_path = str(tmp_path / 'cfg.py')
    ckpt_path = str(tmp_path / 'model.pth')
    _mmseg_cfg().dump(cfg_path)
    _make_checkpoint(_mmseg_cfg(), ckpt_path)
    tool = osp.join(REPO_ROOT, 'tools', 'generate_pseudo_seg.py')
    argv = [
        tool, cfg_path, ckpt_path, '--img-dir', root, '--out-dir', root,
        '--dir-map', 'image_0', 'semantic_0', '--device', 'cpu',
        '--batch-size', '2'
    ]
    for _ in range(2):
        old_argv, sys.argv = sys.argv, argv
        try:
            runpy.run_path(tool, run_name='__main__')
        finally:
            sys.argv = old_argv
    for rel, (h, w) in IMAGES.items():
        cam = rel.split('/')[2][-2:]  # '02' or '03'
        seg = osp.join(root, rel.replace(f'image_{cam}', f'semantic_{cam}'))
        assert f'/semantic_{cam}/data/' in seg
        label = cv2.imread(seg, cv2.IMREAD_UNCHANGED)
        assert label is not None and label.shape == (h, w)
    num_files = sum(len(fs) for _, _, fs in os.walk(root))
    assert num_files == 2 * len(IMAGES)


def test_map_output_path_rewrites_folders_only():
    assert map_output_path('d/image_02/data/image_0.jpg', 'out',
                           [('image_0', 'semantic_0')]) == \
        osp.join('out', 'd', 'semantic_02', 'data', 'image_0.png')


def test_refuses_to_overwrite_images(img_dir, tmp_path):
    model = init_segmentor(_mmseg_cfg(), None)
    with pytest.raises(ValueError, match='overwrite'):
        generate_pseudo_seg(model, img_dir, img_dir, progress=False)
