# Copyright (c) mmdepthseg contributors. All rights reserved.
import glob
import os.path as osp
import uuid
from types import SimpleNamespace

import mmcv
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.engine.hooks import SegVisualizationHook
from mmseg.structures import SegDataSample

from mmdepthseg.registry import VISUALIZERS
from mmdepthseg.visualization import DepthSegLocalVisualizer, colorize_depth
from mmdepthseg.visualization.local_visualizer import (colorize_values,
                                                       value_range)

H, W = 8, 12
# magma's end colours (matplotlib's table): darkest and brightest
MAGMA_LOW = (0, 0, 3)
MAGMA_HIGH = (251, 252, 191)
ROAD, SKY = (128, 64, 128), (70, 130, 180)  # Cityscapes trainIds 0 and 10


def _visualizer(**kwargs):
    kwargs.setdefault('depth_percentile', 100.0)
    kwargs.setdefault('decorate', False)  # the bare grid of panels
    return DepthSegLocalVisualizer(name=f'vis_{uuid.uuid4().hex}', **kwargs)


def _sample(gt_depth=None, gt_seg=None, pred_depth=None, pred_seg=None):
    sample = SegDataSample(metainfo=dict(img_path='x.png'))
    for key, value, dtype in (('gt_depth_map', gt_depth, torch.float32),
                              ('gt_sem_seg', gt_seg, torch.long),
                              ('pred_depth_map', pred_depth, torch.float32),
                              ('pred_sem_seg', pred_seg, torch.long)):
        if value is not None:
            data = torch.as_tensor(value, dtype=dtype)
            sample.set_data(
                {key: PixelData(data=data[None] if data.dim() == 2 else data)})
    return sample


def _read_rgb(path):
    return mmcv.imread(path, channel_order='rgb')


def test_colorize_depth_near_is_bright_and_invalid_black():
    depth = np.array([[1.0, 2.0], [4.0, 0.0]])  # inverse: 1, .5, .25, -
    colors = colorize_depth(depth)
    assert colors.dtype == np.uint8 and colors.shape == (2, 2, 3)
    assert tuple(colors[0, 0]) == MAGMA_HIGH  # nearest -> brightest
    assert tuple(colors[1, 0]) == MAGMA_LOW  # farthest -> darkest
    assert tuple(colors[1, 1]) == (0, 0, 0)  # invalid
    brightness = colors.astype(int).sum(-1)
    assert brightness[0, 0] > brightness[0, 1] > brightness[1, 0]
    # an explicit range saturates: inverse depth 0.5 >= vmax
    colors = colorize_depth(
        depth, vmin=0.25, vmax=0.5, invalid_color=(9, 9, 9))
    assert tuple(colors[0, 1]) == MAGMA_HIGH
    assert tuple(colors[1, 1]) == (9, 9, 9)
    with pytest.raises(ValueError):
        colorize_depth(np.ones((1, 2, 2)))


def test_add_datasample_writes_three_panels_two_rows(tmp_path):
    image = np.full((H, W, 3), 50, dtype=np.uint8)
    gt_depth = np.full((H, W), 10.0)
    gt_depth[:, :W // 2] = 0.0  # left half invalid
    gt_seg = np.zeros((H, W), dtype=np.int64)  # road
    gt_seg[:2] = 255  # ignored
    pred_depth = np.full((H // 2, W // 2), 5.0)  # half size: resized
    pred_seg = np.full((H // 2, W // 2), 10)  # sky
    sample = _sample(gt_depth, gt_seg, pred_depth, pred_seg)
    out_file = str(tmp_path / 'vis.png')
    _visualizer().add_datasample(
        'sample', image, sample, out_file=out_file, with_labels=False)
    drawn = _read_rgb(out_file)
    assert drawn.shape == (2 * H, 3 * W, 3)
    assert (drawn[:H, :W] == 50).all() and (drawn[H:, :W] == 50).all()
    # one colour range for both rows: gt 10 m is the far end, pred 5 m
    # the near end
    gt_depth_panel, pred_depth_panel = drawn[:H, W:2 * W], drawn[H:, W:2 * W]
    assert (gt_depth_panel[:, :W // 2] == 0).all()
    assert (gt_depth_panel[:, W // 2:] == MAGMA_LOW).all()
    assert (pred_depth_panel == MAGMA_HIGH).all()
    gt_seg_panel, pred_seg_panel = drawn[:H, 2 * W:], drawn[H:, 2 * W:]
    assert (gt_seg_panel[2:] == ROAD).all()
    assert (gt_seg_panel[:2] == 0).all()
    assert (pred_seg_panel == SKY).all()


def test_missing_seg_or_depth_and_prediction_only(tmp_path):
    image = np.zeros((H, W, 3), dtype=np.uint8)
    vis = _visualizer()
    depth = np.full((H, W), 4.0)
    # no segmentation anywhere: input | depth
    vis.add_datasample(
        'a',
        image,
        _sample(gt_depth=depth, pred_depth=depth),
        out_file=str(tmp_path / 'a.png'))
    assert _read_rgb(str(tmp_path / 'a.png')).shape == (2 * H, 2 * W, 3)
    # GT has only segmentation: its depth panel is black
    vis.add_datasample(
        'b',
        image,
        _sample(
            gt_seg=np.ones((H, W)), pred_depth=depth, pred_seg=np.ones(
                (H, W))),
        out_file=str(tmp_path / 'b.png'))
    drawn = _read_rgb(str(tmp_path / 'b.png'))
    assert drawn.shape == (2 * H, 3 * W, 3)
    assert (drawn[:H, W:2 * W] == 0).all()
    # predictions only: one row; draw_pred=False leaves the input
    vis.add_datasample(
        'c',
        image,
        _sample(pred_seg=np.ones((H, W))),
        out_file=str(tmp_path / 'c.png'))
    assert _read_rgb(str(tmp_path / 'c.png')).shape == (H, 2 * W, 3)
    assert vis.draw_panels(
        image, _sample(pred_seg=np.ones((H, W))),
        draw_pred=False).shape == (H, W, 3)
    assert vis.draw_panels(image, None).shape == (H, W, 3)


def test_class_names_drawn_and_palette_from_dataset_meta(tmp_path):
    image = np.zeros((64, 96, 3), dtype=np.uint8)
    vis = _visualizer()
    vis.dataset_meta = dict(
        classes=('bg', 'thing'), palette=[[10, 20, 30], [200, 100, 0]])
    seg = np.zeros((64, 96), dtype=np.int64)
    seg[:, 48:] = 1
    plain = vis.draw_panels(image, _sample(pred_seg=seg), with_labels=False)
    assert (plain[:, 96:144] == (10, 20, 30)).all()
    assert (plain[:, 144:] == (200, 100, 0)).all()
    labelled = vis.draw_panels(image, _sample(pred_seg=seg))
    assert (labelled != plain).any()  # names written on the panel


def test_registered_and_saves_through_backend_with_seg_hook(tmp_path):
    image = (np.arange(H * W * 3) % 256).astype(np.uint8).reshape(H, W, 3)
    img_path = str(tmp_path / 'frame.png')
    mmcv.imwrite(mmcv.rgb2bgr(image), img_path)
    vis = VISUALIZERS.build(
        dict(
            type='DepthSegLocalVisualizer',
            name=f'vis_{uuid.uuid4().hex}',
            vis_backends=[dict(type='LocalVisBackend')],
            save_dir=str(tmp_path / 'show'),
            decorate=False))
    assert isinstance(vis, DepthSegLocalVisualizer)
    hook = SegVisualizationHook(draw=True, interval=1)
    sample = _sample(
        gt_depth=np.full((H, W), 3.0),
        pred_depth=np.full((H, W), 3.0),
        pred_seg=np.zeros((H, W)))
    sample.set_metainfo(dict(img_path=img_path))
    hook._after_iter(SimpleNamespace(iter=7), 0, {}, [sample], mode='test')
    files = glob.glob(
        osp.join(str(tmp_path / 'show'), '**', 'test_frame.png_7.png'),
        recursive=True)
    assert len(files) == 1
    drawn = _read_rgb(files[0])
    assert drawn.shape == (2 * H, 3 * W, 3)
    assert (drawn[:H, :W] == image).all()


def test_scale_free_depth_gets_its_own_colour_range():
    # a self-supervised prediction 1/50 of the metric ground truth
    gt = np.tile(np.linspace(5.0, 50.0, W), (H, 1))
    sample = _sample(gt_depth=gt, pred_depth=gt / 50)
    image = np.zeros((H, W, 3), dtype=np.uint8)
    shared = _visualizer().draw_panels(image, sample, True, True, False)
    own = _visualizer(shared_depth_range=False).draw_panels(
        image, sample, True, True, False)
    gt_shared, gt_own = shared[:H, W:2 * W], own[:H, W:2 * W]
    pred_own = own[H:, W:2 * W]
    # with one range the metric map is crushed into the dark end ...
    assert gt_shared.mean() < 10
    # ... with its own range it shows its structure, exactly like the
    # prediction, which differs from it only by scale
    assert gt_own.mean() > 50
    np.testing.assert_allclose(gt_own, pred_own, atol=2)


def test_colorize_values_is_linear_with_non_finite_invalid():
    values = np.array([[0.0, 0.5], [1.0, np.nan]])
    colors = colorize_values(values)
    assert tuple(colors[0, 0]) == MAGMA_LOW  # smallest value: darkest
    assert tuple(colors[1, 0]) == MAGMA_HIGH  # largest: brightest
    assert tuple(colors[1, 1]) == (0, 0, 0)
    # an explicit range saturates
    colors = colorize_values(values, vmin=0.0, vmax=0.5)
    assert tuple(colors[0, 1]) == MAGMA_HIGH
    assert value_range([values, np.full((1, 1), 3.0)], 100.0) == (0.0, 3.0)
    assert value_range([np.full((2, 2), np.nan)]) is None
    with pytest.raises(ValueError):
        colorize_values(np.ones(3))


def test_target_encoding_colours_the_values_themselves():
    # an inverse-depth target (1/m): 0.5 is near, 0.05 far, NaN invalid
    target = np.full((H, W), 0.05)
    target[:, :W // 2] = 0.5
    target[0, 0] = np.nan
    sample = _sample(gt_depth=target)
    image = np.zeros((H, W, 3), dtype=np.uint8)
    drawn = _visualizer(depth_encoding='target').draw_panels(image, sample)
    depth_panel = drawn[:, W:2 * W]
    assert tuple(depth_panel[1, 0]) == MAGMA_HIGH  # near: bright
    assert tuple(depth_panel[1, -1]) == MAGMA_LOW
    assert tuple(depth_panel[0, 0]) == (0, 0, 0)
    # read as metres the same map would be coloured the other way round
    metres = _visualizer().draw_panels(image, sample)[:, W:2 * W]
    assert tuple(metres[1, 0]) == MAGMA_LOW
    with pytest.raises(ValueError, match='depth_encoding'):
        _visualizer(depth_encoding='disparity')


def test_draw_input_sample_one_row_per_view():
    cap = 4
    # two views stacked on channels, BGR: view 0 pure blue, view 1 green
    inputs = np.zeros((6, H, W), dtype=np.uint8)
    inputs[0] = 255  # view 0, B
    inputs[4] = 255  # view 1, G
    sample = _sample(
        gt_seg=np.zeros((H, W)),  # one view labelled: road
        gt_depth=np.stack([np.full((H, W), 2.0),
                           np.full((H, W), 4.0)]))  # both views
    sample.set_data(
        dict(gt_confidence=PixelData(data=torch.ones(2, H // 2, W //
                                                     2))))  # half size
    sample.set_metainfo(dict(view_names=('l', 'r')))
    drawn = _visualizer().draw_input_sample(inputs, sample, cap)
    # columns: view | gt_sem_seg | gt_depth_map | gt_confidence
    assert drawn.shape == (2 * (cap + H), 4 * W, 3)

    def panel(row, col):
        top = row * (cap + H) + cap
        return drawn[top:top + H, col * W:(col + 1) * W]

    assert (panel(0, 0) == (0, 0, 255)).all()  # RGB
    assert (panel(1, 0) == (0, 255, 0)).all()
    assert (panel(0, 1) == ROAD).all()
    assert (panel(1, 1) == 0).all()  # no label for view 1
    # one depth range for the sample: 2 m brightest, 4 m darkest
    assert (panel(0, 2) == MAGMA_HIGH).all()
    assert (panel(1, 2) == MAGMA_LOW).all()
    # confidence 1 at the top of viridis, enlarged to the view size
    assert (panel(1, 3) == (253, 231, 36)).all()
    with pytest.raises(ValueError, match='3V'):
        _visualizer().draw_input_sample(np.zeros((4, H, W), np.uint8))


def _find_rows(drawn, bare, height):
    """Top rows of the panel strips of a decorated picture, found by
    matching the bare picture's rows."""
    tops = []
    for r in range(bare.shape[0] // height):
        strip = bare[r * height:(r + 1) * height]
        for y in range(drawn.shape[0] - height + 1):
            if np.array_equal(drawn[y:y + height], strip):
                tops.append(y)
                break
    return tops


def test_decorated_picture_has_row_labels_colour_bars_and_legends():
    h, w = 64, 96
    image = np.full((h, w, 3), 90, dtype=np.uint8)
    gt_seg = np.zeros((h, w), dtype=np.int64)  # road
    gt_seg[:h // 3] = 10  # sky
    depth = np.tile(np.linspace(4.0, 40.0, w), (h, 1))
    sample = _sample(depth, gt_seg, depth * 1.1, np.full((h, w), 10))
    vis = _visualizer(decorate=True)
    drawn = vis.draw_panels(image, sample, with_labels=False)
    bare = vis.draw_panels(image, sample, with_labels=False, decorate=False)
    assert bare.shape == (2 * h, 3 * w, 3)
    assert drawn.shape[1] == 3 * w and drawn.shape[0] > 2 * h + 20
    top_gt, top_pred = _find_rows(drawn, bare, h)
    assert top_gt == 0 and top_pred > h
    gt_footer = drawn[h:top_pred]
    pred_footer = drawn[top_pred + h:]

    def colours(block):
        return {tuple(c) for c in block.reshape(-1, 3)}

    # under the segmentation: a legend with a swatch per class present
    assert {ROAD, SKY} <= colours(gt_footer[:, 2 * w:])
    assert SKY in colours(pred_footer[:, 2 * w:])
    assert ROAD not in colours(pred_footer[:, 2 * w:])
    # under the depth: the colour bar runs through the whole colour map
    assert {MAGMA_LOW, MAGMA_HIGH} <= colours(gt_footer[:, w:2 * w])
    # under the input: the row's label (dark text on white) differs
    gt_label, pred_label = gt_footer[:, :w], pred_footer[:, :w]
    assert (gt_label < 100).any() and (pred_label < 100).any()
    rows = min(gt_label.shape[0], pred_label.shape[0])
    assert not np.array_equal(gt_label[:rows], pred_label[:rows])


def test_sparse_ground_truth_is_drawn_as_discs():
    from mmdepthseg.visualization.side_by_side import dilate_sparse_depth
    h, w = 64, 96
    rng = np.random.RandomState(0)
    gt = np.zeros((h, w))
    rows, cols = rng.randint(2, h - 2, 20), rng.randint(2, w - 2, 20)
    gt[rows, cols] = rng.uniform(5.0, 50.0, 20)  # 0.3 % of the pixels
    image = np.zeros((h, w, 3), dtype=np.uint8)
    drawn = _visualizer().draw_panels(image, _sample(gt_depth=gt))
    lit = drawn[:, w:2 * w].sum(-1) > 0
    # every point grows to a disc (radius 1: a plus of 5 pixels)
    assert lit.sum() >= 3 * len(set(zip(rows, cols)))
    assert lit[rows, cols].all()
    # where discs overlap the nearer point is drawn; dense maps unchanged
    two = np.zeros((5, 5))
    two[2, 1], two[2, 3] = 10.0, 5.0
    grown = dilate_sparse_depth(two, radius=1)
    assert grown[2, 2] == 5.0 and grown[2, 0] == 10.0 and grown[0, 0] == 0
    dense = np.full((4, 4), 3.0)
    dense[0, 0] = 0
    np.testing.assert_array_equal(dilate_sparse_depth(dense), dense)
