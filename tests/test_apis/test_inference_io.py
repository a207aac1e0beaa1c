# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The inferencer's files, outside the inferencer class: input lists,
output names, what is written per image; and its pictures
(mmdepthseg.visualization.result_pictures)."""
import os.path as osp

import cv2
import numpy as np
import pytest

from mmdepthseg.apis.inference_io import (SaveOptions, inputs_to_list,
                                          output_stems, save_result)
from mmdepthseg.visualization.result_pictures import (classes_and_palette,
                                                      draw_result)


def test_output_stems_of_files_arrays_and_repeats():
    arr = np.zeros((2, 2, 3), np.uint8)
    stems = output_stems(['a/x.png', 'b/x.jpg', arr, 'y.png', arr],
                         first_array_index=7)
    assert stems == ['x', 'x_1', '00000007', 'y', '00000008']
    assert output_stems([arr], names=['given']) == ['given']
    with pytest.raises(ValueError, match='2 names for 1 inputs'):
        output_stems([arr], names=['a', 'b'])


def test_inputs_to_list_of_a_stack_and_bad_items(tmp_path):
    assert len(inputs_to_list(np.zeros((3, 4, 5, 3), np.uint8))) == 3
    with pytest.raises(TypeError, match='int'):
        inputs_to_list([3])
    with pytest.raises(FileNotFoundError, match='gone.png'):
        inputs_to_list([str(tmp_path / 'gone.png')])


def test_save_result_writes_picture_predictions_and_cloud(tmp_path):
    depth = np.full((4, 6), 2.0, np.float32)
    sem_seg = np.arange(24, dtype=np.uint8).reshape(4, 6) % 3
    result = dict(
        depth=depth,
        sem_seg=sem_seg,
        num_classes=3,
        intrinsics=np.array([[5., 0, 3], [0, 5, 2], [0, 0, 1]]))
    image = np.zeros((4, 6, 3), np.uint8)
    options = SaveOptions(save_pred=True, save_ply=True, ply_color='class',
                          stride=2)
    save_result(str(tmp_path), 'f', image, result, image[..., ::-1], options,
                lambda n: np.eye(3, dtype=np.uint8) * 255)
    np.testing.assert_array_equal(
        np.load(tmp_path / 'pred' / 'f_depth.npy'), depth)
    np.testing.assert_array_equal(
        cv2.imread(str(tmp_path / 'pred' / 'f_seg.png'), 0), sem_seg)
    assert osp.isfile(tmp_path / 'vis' / 'f.png')
    from mmdepthseg.apis.pointcloud import read_ply
    points, colors = read_ply(str(tmp_path / 'ply' / 'f.ply'))
    assert len(points) == 6  # rows 0, 2 x columns 0, 2, 4
    np.testing.assert_allclose(points[:, 2], 2.0)
    # class colours of the strided pixels (ids 0, 2, 4, 12, 14, 16 mod 3)
    np.testing.assert_array_equal(colors.argmax(1), [0, 2, 1, 0, 2, 1])


def test_save_options_refuse_an_unknown_colouring():
    with pytest.raises(ValueError, match='ply_color'):
        SaveOptions(ply_color='depth')


def test_pictures_name_classes_from_the_model_meta():
    meta = dict(classes=['road', 'car'], palette=[[1, 2, 3], [4, 5, 6]])
    classes, palette = classes_and_palette(meta, 2)
    assert classes == ['road', 'car'] and palette.tolist() == meta['palette']
    classes, _ = classes_and_palette(meta, 3)  # count differs: generic
    assert classes == ['class 0', 'class 1', 'class 2']
    picture = draw_result(
        np.zeros((20, 30, 3), np.uint8),
        dict(depth=np.ones((20, 30), np.float32), depth_kind='relative',
             sem_seg=np.zeros((20, 30), np.uint8), num_classes=2), meta)
    assert picture.dtype == np.uint8 and picture.shape[1] == 3 * 30
