# Copyright (c) mmdepthseg contributors. All rights reserved.
"""tools/misc/browse_dataset.py on generated data, for every config family.
"""
import glob
import importlib.util
import os
import os.path as osp

import cv2
import matplotlib
import numpy as np
import pytest
from _helpers import REPO_ROOT
from mmengine.config import Config
from mmseg.utils import get_palette

from mmdepthseg.registry import DATASETS

SYNTH = osp.join(REPO_ROOT, 'configs', 'synthetic')
FSRE_CFG = osp.join(SYNTH, 'fsre_r18_synthkitti.py')
PSEUDO_MTL_CFG = osp.join(SYNTH, 'pseudo_mtl_vgg16_synthkitti.py')
SOSD_CFG = osp.join(SYNTH, 'sosd_xception65_synthcityscapes.py')
SEMIMTL_CFG = osp.join(SYNTH, 'semimtl_r18_synthcityscapes.py')
PALETTE = {tuple(c) for c in get_palette('cityscapes')}


def _tool():
    spec = importlib.util.spec_from_file_location(
        'browse_dataset',
        osp.join(REPO_ROOT, 'tools', 'misc', 'browse_dataset.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def _read_rgb(path):
    return cv2.imread(path, cv2.IMREAD_COLOR)[..., ::-1]


def _panel(picture, row, col, h, w, caption):
    """Panel (row, col) of a grid of (caption + h) x w cells, captions cut.
    """
    top = row * (caption + h) + caption
    return picture[top:top + h, col * w:(col + 1) * w]


def test_fsre_temporal_views_train_pipeline(synthetic_kitti, tmp_path, capsys):
    out = str(tmp_path / 'out')
    status = _tool().main([
        FSRE_CFG, '--not-show', '--max-samples', '2', '--output-dir', out,
        '--cfg-options',
        f'train_dataloader.dataset.data_root={synthetic_kitti}'
    ])
    assert status == 0
    files = sorted(os.listdir(out))
    assert len(files) == 2 and files[0].startswith('00000_2011_09_26__')
    picture = _read_rgb(osp.join(out, files[0]))
    h, w, cap = 96, 320, 12
    # 3 views (t, t-1, t+1) x [view, unaugmented, gt_sem_seg]
    assert picture.shape == (3 * (cap + h), 3 * w, 3)
    views = [_panel(picture, r, 0, h, w, cap) for r in range(3)]
    assert (views[0] != views[1]).any() and (views[0] != views[2]).any()
    # the pseudo labels belong to the target frame only: rows 1-2 black
    seg = _panel(picture, 0, 2, h, w, cap)
    colours = {tuple(c) for c in seg.reshape(-1, 3)}
    assert colours <= PALETTE | {(0, 0, 0)} and len(colours) > 3
    assert (_panel(picture, 1, 2, h, w, cap) == 0).all()
    text = capsys.readouterr().out
    assert "view_names: ('t', 't-1', 't+1')" in text
    assert 'intrinsics (3x3, pixels of the inputs)' in text
    assert 'unaug_img' in text and 'gt_sem_seg       (1, 96, 320)' in text


def test_val_picture_holds_the_pipeline_output(synthetic_kitti, tmp_path):
    """The view panel is the packed input; the sparse full-size lidar map
    sets the panel size."""
    tool = _tool()
    cfg = Config.fromfile(FSRE_CFG)
    cfg.val_dataloader.dataset.data_root = synthetic_kitti
    # the generated frames are 96x320: halve the views, not the lidar map
    for step in cfg.val_dataloader.dataset.pipeline:
        if step.type == 'MultiViewResize':
            step.scale = (160, 48)
    results = tool.browse(cfg, 'val', str(tmp_path), False, 0, 1)
    assert len(results) == 1 and osp.isfile(results[0]['file'])
    picture = _read_rgb(results[0]['file'])
    np.testing.assert_array_equal(picture, results[0]['picture'])
    item = DATASETS.build(cfg.val_dataloader.dataset)[0]
    view = item['inputs'].numpy().transpose(1, 2, 0)[..., ::-1]  # RGB
    depth = item['data_samples'].gt_depth_map.data.numpy()[0]
    assert view.shape[:2] == (48, 160) and depth.shape == (96, 320)
    h, w, cap = 96, 320, 12
    # one view; [view, gt_sem_seg, gt_depth_map], all at 96x320
    assert picture.shape == (cap + h, 3 * w, 3)
    # the 48x160 view enlarged by 2 (nearest neighbour)
    np.testing.assert_array_equal(
        _panel(picture, 0, 0, h, w, cap)[::2, ::2], view)
    depth_panel = _panel(picture, 0, 2, h, w, cap)
    # every lidar point is drawn (not one lost to resizing), nothing else
    lit = depth_panel.any(-1)
    np.testing.assert_array_equal(lit, depth > 0)


def test_pseudo_mtl_stereo_pair_with_pseudo_depth(synthetic_kitti_pseudo,
                                                  tmp_path, capsys):
    out = str(tmp_path / 'out')
    assert _tool().main([
        PSEUDO_MTL_CFG, '--not-show', '--max-samples', '1', '--output-dir',
        out, '--cfg-options',
        f'train_dataloader.dataset.data_root={synthetic_kitti_pseudo}'
    ]) == 0
    text = capsys.readouterr().out
    assert "view_names: ('l', 'r')" in text or \
        "view_names: ('r', 'l')" in text
    assert 'baseline: ' in text and 'stereo_T translation' in text
    assert 'gt_pseudo_depth  (2, 96, 320)' in text
    assert 'gt_confidence    (2, 96, 320)' in text
    picture = _read_rgb(glob.glob(osp.join(out, '*.png'))[0])
    h, w, cap = 96, 320, 12
    # 2 views x [view, gt_sem_seg, gt_pseudo_depth, gt_confidence]
    assert picture.shape == (2 * (cap + h), 4 * w, 3)
    # confidences in [0, 1] coloured by viridis
    viridis = {
        tuple(c)
        for c in matplotlib.colormaps['viridis'](
            np.linspace(0, 1, 256), bytes=True)[:, :3]
    }
    for row in range(2):
        conf = _panel(picture, row, 3, h, w, cap)
        assert {tuple(c) for c in conf.reshape(-1, 3)} <= viridis


def test_semimtl_sources_show_domain_and_depth_target(synthetic_semimtl,
                                                      tmp_path, capsys):
    out = str(tmp_path / 'out')
    # 12 frames of the segmentation source, then the depth source
    assert _tool().main([
        SEMIMTL_CFG, '--not-show', '--max-samples', '13', '--output-dir', out,
        '--data-root', synthetic_semimtl
    ]) == 0
    text = capsys.readouterr().out
    samples = text.split('sample ')[1:]
    assert len(samples) == 13 and len(os.listdir(out)) == 13
    assert "domain: 1" in samples[0] and "('seg',)" in samples[0]
    assert 'gt_sem_seg' in samples[0] and 'gt_depth_map' not in samples[0]
    assert "domain: 2" in samples[12] and "('depth',)" in samples[12]
    assert 'gt_depth_map' in samples[12] and 'gt_sem_seg' not in samples[12]


def test_sosd_config_and_argument_checks(synthetic_cityscapes, tmp_path):
    tool = _tool()
    cfg = Config.fromfile(SOSD_CFG)
    cfg.train_dataloader.dataset.data_root = synthetic_cityscapes
    (result, ) = tool.browse(cfg, 'train', None, False, 0, 1)
    assert result['file'] is None
    assert 'gt_depth_map' in result['description']
    assert 'baseline: ' in result['description']
    with pytest.raises(KeyError, match='no val_dataloader'):
        cfg.val_dataloader = None
        tool.browse(cfg, 'val', None, False, 0, 1)
    with pytest.raises(SystemExit):
        tool.parse_args([SOSD_CFG, '--max-samples', '0'])


def _corrupt_kitti_tree(root):
    """Five defects in the ``val`` split of a copy of ``synthetic_kitti``
    (drive 2, frames 1, 3, ..., 13, side l); returns the defective files."""
    drive = osp.join(root, '2011_09_26', '2011_09_26_drive_0002_sync')

    def frame(sub, index, ext='.png'):
        return osp.join(drive, sub, 'data', f'{index:010d}{ext}')

    label = frame('semantic_02', 1)
    seg = cv2.imread(label, cv2.IMREAD_UNCHANGED)
    seg[10, 10] = 40  # not one of the 19 trainIds
    cv2.imwrite(label, seg)
    image16 = frame('image_02', 3)
    cv2.imwrite(image16, cv2.imread(image16).astype(np.uint16) * 257)
    scan = frame('velodyne_points', 5, '.bin')
    points = np.fromfile(scan, np.float32).reshape(-1, 4)
    points[:, 0] = -np.abs(points[:, 0]) - 1  # all behind the car
    points.tofile(scan)
    grey = frame('image_02', 7)
    cv2.imwrite(grey, cv2.imread(grey, cv2.IMREAD_GRAYSCALE))
    split = osp.join(root, 'splits', 'synthetic', 'val_files.txt')
    with open(split, 'a') as f:
        f.write('2011_09_26/2011_09_26_drive_0077_sync 3 l\n')
    return dict(label=label, image=image16, depth=scan, grey=grey, split=split)


def test_check_reports_every_defect_of_a_tree_at_once(synthetic_kitti,
                                                      tmp_path, capsys):
    import shutil
    root = str(tmp_path / 'kitti')
    shutil.copytree(synthetic_kitti, root)
    tool = _tool()
    args = [
        FSRE_CFG, '--check', '--phase', 'val', '--cfg-options',
        f'val_dataloader.dataset.data_root={root}'
    ]
    assert tool.main(args) == 0  # the generated tree is clean
    assert 'no defect found' in capsys.readouterr().out

    bad = _corrupt_kitti_tree(root)
    assert tool.main(args) == 1
    out = capsys.readouterr().out
    assert 'val dataset: scanned 7 samples' in out
    report = out[out.index('[depth]'):]
    lines = report.splitlines()
    # one line per defect, each naming its file and what is wrong
    expected = {
        'depth': (bad['depth'], 'no valid pixel'),
        'image': (bad['image'], '16-bit'),
        'label': (bad['label'], 'ids [40] (1 pixels) outside the 19'),
        'split': (bad['split'], '2011_09_26_drive_0077_sync (line 8)'),
    }
    for kind, (path, what) in expected.items():
        assert f'[{kind}]' in lines
        hits = [line for line in lines if path in line and what in line]
        assert len(hits) == 1, (kind, report)
    assert any(bad['grey'] in line and 'grey' in line for line in lines)
    assert lines[-1] == ('5 defect(s) in 5 file(s) (depth: 1, image: 2, '
                         'label: 1, split: 1)')
