# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The metainfo readers, checked by value against hand-computed numbers."""
import numpy as np
import pytest
import torch
from mmseg.structures import SegDataSample

from mmdepthseg.structures import (metainfo_of, read_baseline, read_domain,
                                   read_fx_baseline, read_intrinsics,
                                   read_labelled_tasks, read_stereo_transform,
                                   read_view_names, reference_view,
                                   stack_baselines, stack_focal_lengths,
                                   stack_fx_baselines, stack_intrinsics,
                                   stack_stereo_transforms, stereo_transform)

# K of a 100 x 200 (h x w) image.
K = np.array([[180., 0., 99.5], [0., 170., 49.5], [0., 0., 1.]], np.float32)


def _meta(**extra):
    meta = dict(
        img_path='a.png',
        img_shape=(100, 200),
        intrinsics=K.copy(),
        baseline=0.54,
        view_names=('r', 'l'),
        stereo_T=stereo_transform(0.54, 'r'))
    meta.update(extra)
    return meta


def _sample(**extra):
    sample = SegDataSample()
    sample.set_metainfo(_meta(**extra))
    return sample


@pytest.mark.parametrize('form', ['sample', 'dict'])
def test_intrinsics_at_another_size_by_hand(form):
    """Halving 100 x 200 to 50 x 100: fx, fy halve; with integer pixel
    centres ``c' = (c + 0.5) * s - 0.5``: 99.5 -> 49.5, 49.5 -> 24.5."""
    sample = _sample() if form == 'sample' else _meta()
    np.testing.assert_array_equal(read_intrinsics(sample), K)
    half = read_intrinsics(sample, size=(50, 100))
    np.testing.assert_allclose(
        half, [[90., 0., 49.5], [0., 85., 24.5], [0., 0., 1.]])
    # anisotropic: height x 2, width x 0.5
    other = read_intrinsics(sample, size=(200, 100))
    np.testing.assert_allclose(
        other, [[90., 0., 49.5], [0., 340., 99.5], [0., 0., 1.]])
    assert half.dtype == np.float32


def test_intrinsics_without_img_shape_are_returned_as_they_are():
    meta = _meta()
    del meta['img_shape']
    np.testing.assert_array_equal(read_intrinsics(meta, size=(50, 100)), K)


def test_fx_baseline_at_the_image_and_at_another_width():
    sample = _sample()
    assert read_fx_baseline(sample) == pytest.approx(180 * 0.54)
    # fx rescaled to a 1242-pixel-wide ground truth: 180 * 1242 / 200
    assert read_fx_baseline(
        sample, width=1242) == pytest.approx(180 * 1242 / 200 * 0.54)
    # tensors in a metric's dict work the same
    meta = _meta(intrinsics=torch.from_numpy(K), baseline=torch.tensor(0.54))
    assert read_fx_baseline(meta, width=100) == pytest.approx(90 * 0.54)


def test_missing_keys_name_the_image_or_give_none():
    meta = _meta()
    del meta['baseline']
    with pytest.raises(KeyError, match=r"a\.png.*'baseline'"):
        read_fx_baseline(meta)
    assert read_fx_baseline(meta, required=False) is None
    assert read_baseline(meta, required=False) is None
    with pytest.raises(KeyError, match='intrinsics'):
        read_intrinsics(dict(img_path='b.png'))
    with pytest.raises(TypeError):
        metainfo_of(3)


def test_view_names_and_reference_view():
    assert read_view_names(_sample()) == ('r', 'l')
    assert reference_view(_sample()) == 'r'
    assert read_view_names(dict(view_names=['t', 't-1'])) == ('t', 't-1')
    assert read_view_names({}, default=('l', 'r')) == ('l', 'r')
    assert reference_view({}, default='l') == 'l'
    with pytest.raises(KeyError, match='view_names'):
        read_view_names({})


def test_stereo_transform_and_its_reader():
    left = stereo_transform(0.5, 'l')
    right = stereo_transform(0.5, 'r')
    assert left[0, 3] == -0.5 and right[0, 3] == 0.5
    np.testing.assert_array_equal(left[:3, :3], np.eye(3))
    np.testing.assert_array_equal(
        read_stereo_transform(_sample()), stereo_transform(0.54, 'r'))
    with pytest.raises(ValueError):
        stereo_transform(0.5, 's')


def test_semi_mtl_keys():
    assert read_labelled_tasks(dict(labelled_tasks='seg')) == ('seg', )
    assert read_labelled_tasks(
        dict(labelled_tasks=['seg', 'depth'])) == ('seg', 'depth')
    with pytest.raises(ValueError, match='normals'):
        read_labelled_tasks(dict(labelled_tasks=('normals', )))
    assert read_domain(dict(domain=2)) == 2
    assert read_domain({}, required=False) is None
    with pytest.raises(ValueError):
        read_domain(dict(domain=1.5))


def test_batched_readers():
    samples = [
        _sample(),
        _sample(intrinsics=K * np.array([[2], [2], [1]]), baseline=0.1)
    ]
    like = torch.zeros(1, dtype=torch.float64)
    ks = stack_intrinsics(samples, like)
    assert ks.shape == (2, 3, 3) and ks.dtype == torch.float64
    assert ks[1, 0, 0] == 360
    np.testing.assert_allclose(stack_focal_lengths(samples, like), [180, 360])
    np.testing.assert_allclose(stack_baselines(samples, like), [0.54, 0.1])
    np.testing.assert_allclose(
        stack_fx_baselines(samples, like), [180 * 0.54, 360 * 0.1])
    assert stack_stereo_transforms(samples, like).shape == (2, 4, 4)


def test_padding_and_flip():
    from mmdepthseg.structures import read_flip_direction, read_padding_size
    assert read_padding_size({}) == (0, 0, 0, 0)
    meta = dict(padding_size=(1, 2, 3, 4), img_padding_size=[5, 6, 7, 8])
    assert read_padding_size(_sample(**meta)) == (1, 2, 3, 4)
    assert read_padding_size(
        meta, keys=('img_padding_size', 'padding_size')) == (5, 6, 7, 8)
    assert read_flip_direction(dict(flip=False,
                                    flip_direction='horizontal')) is None
    assert read_flip_direction(dict(flip=True,
                                    flip_direction='vertical')) == 'vertical'
    with pytest.raises(ValueError, match=r"got None \(image a\.png\)"):
        read_flip_direction(dict(flip=True, img_path='a.png'))
