# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The shared constructor checks of :class:`BaseDepthSegDataset`, and that
every dataset class uses them (one wording of each error)."""
import pytest

from mmdepthseg.datasets import (CityscapesDepthSegDataset,
                                 ISPRSDepthSegDataset, KittiRawDataset,
                                 KittiSemanticDataset, NYUDepthSegDataset,
                                 OwnVideoDataset, SynscapesDataset)
from mmdepthseg.datasets.base import BaseDepthSegDataset


@pytest.mark.parametrize('cls', [
    CityscapesDepthSegDataset, ISPRSDepthSegDataset, KittiRawDataset,
    KittiSemanticDataset, NYUDepthSegDataset, OwnVideoDataset, SynscapesDataset
])
def test_dataset_classes_share_the_base(cls):
    assert issubclass(cls, BaseDepthSegDataset)


def test_checks():
    BaseDepthSegDataset.check_img_prefix(dict(img_path='x'), 'img')
    with pytest.raises(KeyError, match=r'img_path.*img_dir/train'):
        BaseDepthSegDataset.check_img_prefix({}, 'img_dir/train')
    BaseDepthSegDataset.check_label_id_format('trainIds')
    BaseDepthSegDataset.check_label_id_format('cityscapes_labelIds')
    with pytest.raises(ValueError, match="unknown right_fmt 'nope'"):
        BaseDepthSegDataset.check_label_id_format('nope', 'right_fmt')
    with pytest.raises(ValueError, match='depth_scale must be > 0, got 0'):
        BaseDepthSegDataset.check_positive_arg(0, 'depth_scale')


@pytest.mark.parametrize('cls,kwargs,error,match', [
    (CityscapesDepthSegDataset, dict(data_prefix={}), KeyError,
     'leftImg8bit/train'),
    (KittiSemanticDataset, dict(data_prefix={}), KeyError, 'training/image_2'),
    (NYUDepthSegDataset, dict(label_id_format='nope'), ValueError,
     "unknown label_id_format 'nope'"),
    (ISPRSDepthSegDataset, dict(depth_scale=0), ValueError,
     'depth_scale must be > 0'),
    (SynscapesDataset, dict(data_prefix={}), KeyError, 'img/rgb'),
    (CityscapesDepthSegDataset, dict(right_label_id_format='nope'), ValueError,
     "unknown right_label_id_format 'nope'"),
])
def test_datasets_raise_the_shared_errors(cls, kwargs, error, match, tmp_path):
    with pytest.raises(error, match=match):
        cls(data_root=str(tmp_path), **kwargs)
