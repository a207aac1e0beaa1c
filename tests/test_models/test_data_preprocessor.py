# Copyright (c) mmdepthseg contributors. All rights reserved.
"""MultiViewDataPreProcessor and stack_pixel_field."""
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmdepthseg.models.data_preprocessor import MultiViewDataPreProcessor
from mmdepthseg.models.utils import stack_pixel_field


def _sample(h, w, views=2, label_views=1, seed=0):
    g = torch.Generator().manual_seed(seed)
    img = torch.randint(0, 256, (3 * views, h, w), generator=g).to(torch.uint8)
    ds = SegDataSample()
    ds.gt_sem_seg = PixelData(
        data=torch.randint(0, 19, (label_views, h, w), generator=g))
    ds.set_data(
        dict(
            gt_depth_map=PixelData(data=torch.rand(label_views, h, w) + 1),
            gt_confidence=PixelData(data=torch.rand(views, h, w) + 1),
            unaug_img=PixelData(data=img.clone())))
    ds.set_metainfo(dict(img_shape=(h, w), ori_shape=(h, w)))
    return img, ds


def test_per_view_bgr_to_rgb_and_normalisation_by_hand():
    img = torch.zeros(6, 1, 1, dtype=torch.uint8)
    img[:3, 0, 0] = torch.tensor([10, 20, 30])  # view 0 B, G, R
    img[3:, 0, 0] = torch.tensor([40, 50, 60])  # view 1 B, G, R
    pre = MultiViewDataPreProcessor(mean=[1, 2, 3], std=[2, 4, 8])
    out = pre(dict(inputs=[img]))['inputs']
    assert out.shape == (1, 6, 1, 1) and out.dtype == torch.float32
    expected = [(30 - 1) / 2, (20 - 2) / 4, (10 - 3) / 8, (60 - 1) / 2,
                (50 - 2) / 4, (40 - 3) / 8]
    torch.testing.assert_close(out.flatten(), torch.tensor(expected))


def test_no_conversion_without_mean_and_bgr_to_rgb():
    img = torch.arange(6, dtype=torch.uint8).view(6, 1, 1)
    out = MultiViewDataPreProcessor(bgr_to_rgb=False)(
        dict(inputs=[img]))['inputs']
    torch.testing.assert_close(out.flatten(), torch.arange(6.))


def test_padding_of_inputs_and_every_pixel_field():
    img_a, ds_a = _sample(5, 7)
    img_b, ds_b = _sample(6, 4, seed=1)
    pre = MultiViewDataPreProcessor(
        mean=[0, 0, 0], std=[1, 1, 1], size_divisor=4, pad_val=-1)
    out = pre(
        dict(inputs=[img_a, img_b], data_samples=[ds_a, ds_b]), training=True)
    inputs = out['inputs']
    assert inputs.shape == (2, 6, 8, 8)
    assert (inputs[0, :, 5:] == -1).all() and (inputs[0, :, :, 7:] == -1).all()
    torch.testing.assert_close(inputs[1, 0, :6, :4], img_b[2].float())
    for ds, (h, w) in zip(out['data_samples'], [(5, 7), (6, 4)]):
        assert ds.pad_shape == (8, 8) and ds.batch_input_shape == (8, 8)
        assert ds.padding_size == (0, 8 - w, 0, 8 - h)
        assert ds.img_shape == (h, w)
        seg = ds.gt_sem_seg.data
        assert seg.shape == (1, 8, 8) and seg.dtype == torch.int64
        assert (seg[:, h:] == 255).all() and (seg[:, :, w:] == 255).all()
        assert (seg[:, :h, :w] < 19).all()
        depth, conf = ds.gt_depth_map.data, ds.gt_confidence.data
        assert depth.shape == (1, 8, 8) and conf.shape == (2, 8, 8)
        assert (depth[:, h:] == 0).all() and (conf[:, :, w:] == 0).all()
        assert (depth[:, :h, :w] >= 1).all()
    stacked = stack_pixel_field(out['data_samples'], 'gt_confidence')
    assert stacked.shape == (2, 2, 8, 8)


def test_unaug_img_becomes_rgb_in_unit_range():
    img, ds = _sample(3, 4)
    out = MultiViewDataPreProcessor(
        mean=[100, 100, 100], std=[50, 50, 50],
        size=(4,
              6))(dict(inputs=[img], data_samples=[ds]), training=True)
    unaug = out['data_samples'][0].unaug_img.data
    assert unaug.shape == (6, 4, 6) and unaug.dtype == torch.float32
    # view 1's red channel is channel 3 + 2 of the BGR input
    torch.testing.assert_close(unaug[3, :3, :4], img[5].float() / 255)
    assert (unaug[:, 3:] == 0).all()
    assert unaug.max() <= 1


def test_full_resolution_ground_truth_left_alone():
    img, ds = _sample(4, 6)
    ds.gt_depth_map = PixelData(data=torch.ones(1, 8, 12))  # ori size
    out = MultiViewDataPreProcessor(size_divisor=8)(
        dict(inputs=[img], data_samples=[ds]), training=True)
    assert out['inputs'].shape == (1, 6, 8, 8)
    assert out['data_samples'][0].gt_depth_map.shape == (8, 12)
    assert out['data_samples'][0].gt_sem_seg.shape == (8, 8)


def test_ground_truth_is_not_padded_for_evaluation():
    """At test time predictions are cropped to ``img_shape`` and resized
    to ``ori_shape``; ground truth of the input size must keep that size."""
    img, ds = _sample(4, 6)
    out = MultiViewDataPreProcessor(size_divisor=8)(
        dict(inputs=[img], data_samples=[ds]), training=False)
    assert out['inputs'].shape == (1, 6, 8, 8)
    assert out['data_samples'][0].gt_sem_seg.shape == (4, 6)
    assert out['data_samples'][0].padding_size == (0, 2, 0, 4)


def test_mixed_view_counts_rejected():
    with pytest.raises(ValueError, match='same number of views'):
        MultiViewDataPreProcessor()(
            dict(inputs=[torch.zeros(3, 2, 2),
                         torch.zeros(6, 2, 2)]))


def test_mean_std_take_three_values():
    with pytest.raises(ValueError, match='3 values'):
        MultiViewDataPreProcessor(mean=[0] * 6, std=[1] * 6)


def test_stack_pixel_field_errors_name_the_problem():
    _, a = _sample(4, 4)
    _, b = _sample(4, 5)
    assert stack_pixel_field([a, a], 'gt_sem_seg').shape == (2, 1, 4, 4)
    with pytest.raises(ValueError, match='different shapes'):
        stack_pixel_field([a, b], 'gt_sem_seg')
    with pytest.raises(KeyError, match="sample 1 .* 'gt_pseudo_depth'"):
        c = SegDataSample()
        c.gt_pseudo_depth = PixelData(data=torch.zeros(1, 4, 4))
        stack_pixel_field([c, a], 'gt_pseudo_depth')
