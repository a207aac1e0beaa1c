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


def _expected_views(img, mean, std, pad_hw, pad_val):
    """Reference: every (B, G, R) view of a (3V, h, w) uint8 image turned
    into normalised (R, G, B), stacked on channels, padded bottom/right."""
    h, w = img.shape[-2:]
    out = torch.full((img.shape[0], *pad_hw), float(pad_val))
    for v in range(img.shape[0] // 3):
        for c in range(3):  # output channel c (R, G, B) = input 2 - c
            value = img[3 * v + 2 - c].float()
            out[3 * v + c, :h, :w] = (value - mean[c]) / std[c]
    return out


def test_padding_of_inputs_and_every_pixel_field():
    img_a, ds_a = _sample(5, 7)
    img_b, ds_b = _sample(6, 4, seed=1)
    originals = [{
        key: ds.get(key).data.clone()
        for key in ('gt_sem_seg', 'gt_depth_map', 'gt_confidence')
    } for ds in (ds_a, ds_b)]
    mean, std = [10., 20., 30.], [2., 4., 5.]
    pre = MultiViewDataPreProcessor(
        mean=mean,
        std=std,
        size_divisor=4,
        pad_val=-1,
        seg_pad_val=7,
        depth_pad_val=-3)
    out = pre(
        dict(inputs=[img_a, img_b], data_samples=[ds_a, ds_b]), training=True)
    inputs = out['inputs']
    assert inputs.shape == (2, 6, 8, 8)
    for i, img in enumerate((img_a, img_b)):
        torch.testing.assert_close(
            inputs[i], _expected_views(img, mean, std, (8, 8), -1))
    for ds, (h, w), orig in zip(out['data_samples'], [(5, 7), (6, 4)],
                                originals):
        assert ds.pad_shape == (8, 8) and ds.batch_input_shape == (8, 8)
        assert ds.padding_size == (0, 8 - w, 0, 8 - h)
        assert ds.img_shape == (h, w)
        # every field keeps its views and values, padded by dtype
        for key, pad in (('gt_sem_seg', 7), ('gt_depth_map', -3),
                         ('gt_confidence', -3)):
            data = ds.get(key).data
            expected = torch.full((orig[key].shape[0], 8, 8),
                                  pad).to(orig[key].dtype)
            expected[:, :h, :w] = orig[key]
            assert data.dtype == orig[key].dtype, key
            assert torch.equal(data, expected), key
    stacked = stack_pixel_field(out['data_samples'], 'gt_confidence')
    assert stacked.shape == (2, 2, 8, 8)
    assert torch.equal(stacked[1, 1, :6, :4], originals[1]['gt_confidence'][1])


def test_size_enlarges_the_padding_and_evaluation_keeps_the_fields():
    img, ds = _sample(5, 7)
    depth = ds.gt_depth_map.data.clone()
    pre = MultiViewDataPreProcessor(
        mean=[0, 0, 0], std=[1, 1, 1], size=(9, 10), size_divisor=4)
    out = pre(dict(inputs=[img], data_samples=[ds]), training=False)
    # at least (9, 10), then rounded up to multiples of 4
    torch.testing.assert_close(out['inputs'][0],
                               _expected_views(img, [0] * 3, [1] * 3,
                                               (12, 12), 0))
    sample = out['data_samples'][0]
    assert sample.padding_size == (0, 5, 0, 7)
    assert torch.equal(sample.gt_depth_map.data, depth)


def test_unaug_img_becomes_rgb_in_unit_range():
    img, ds = _sample(3, 4)
    out = MultiViewDataPreProcessor(
        mean=[100, 100, 100], std=[50, 50, 50],
        size=(4,
              6))(dict(inputs=[img], data_samples=[ds]), training=True)
    unaug = out['data_samples'][0].unaug_img.data
    assert unaug.shape == (6, 4, 6) and unaug.dtype == torch.float32
    # each view turned RGB in [0, 1], zero-padded: view 1's red channel
    # is channel 3 + 2 of the BGR input
    expected = torch.zeros(6, 4, 6)
    for v in range(2):
        for c in range(3):
            expected[3 * v + c, :3, :4] = img[3 * v + 2 - c].float() / 255
    torch.testing.assert_close(unaug, expected)
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
