# Copyright (c) mmdepthseg contributors. All rights reserved.
"""DepthSegTTAModel on the real TTA pipeline (TestTimeAug + multi-view
transforms) with a toy model that is exactly flip-equivariant: a mirrored
image gives the mirrored prediction, so flip TTA must give back the plain
prediction, for any image, whatever the depth merge."""
import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dataset import Compose, pseudo_collate

from mmdepthseg.registry import MODELS

H, W = 16, 24


class _SymmetricConv(nn.Module):
    """3x3 convolution whose kernels are left-right symmetric (zero padding
    is symmetric too): ``conv(flip(x)) == flip(conv(x))``."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)

    def forward(self, x):
        weight = 0.5 * (self.conv.weight + self.conv.weight.flip(-1))
        return F.conv2d(x, weight, self.conv.bias, padding=1)


@MODELS.register_module(name='_TTAToyBackbone', force=True)
class _ToyBackbone(nn.Module):

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = _SymmetricConv(3, 8)
        self.conv2 = _SymmetricConv(8, 8)

    def forward(self, x):
        return (torch.tanh(self.conv2(torch.relu(self.conv1(x)))), )


@MODELS.register_module(name='_TTAToyDepthHead', force=True)
class _ToyDepthHead(nn.Module):
    align_corners = False

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(8, 1, 1)

    def predict(self, feats, metas, test_cfg):
        return F.softplus(self.conv(feats[0])) + 0.5


@MODELS.register_module(name='_TTAToySegHead', force=True)
class _ToySegHead(nn.Module):
    align_corners = False

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(8, 4, 1)

    def predict(self, feats, metas, test_cfg):
        return 3 * self.conv(feats[0])


def _model(**tta):
    torch.manual_seed(0)
    module = dict(
        type='MultiTaskSegmentor',
        data_preprocessor=dict(
            type='MultiViewDataPreProcessor',
            mean=[120., 110., 100.],
            std=[60., 60., 60.],
            bgr_to_rgb=True),
        backbone=dict(type='_TTAToyBackbone'),
        depth_head=dict(type='_TTAToyDepthHead'),
        seg_head=dict(type='_TTAToySegHead'))
    model = MODELS.build(dict(type='DepthSegTTAModel', module=module, **tta))
    return model.eval()


def _image(path, symmetric):
    rng = np.random.RandomState(3)
    img = rng.randint(0, 256, (H, W, 3)).astype(np.uint8)
    if symmetric:
        img[:, W // 2:] = img[:, :W // 2][:, ::-1]
    cv2.imwrite(str(path), img)
    return str(path)


def _resize(r=1.0):
    return dict(
        type='MultiViewResize',
        scale=(int(W * r), int(H * r)),
        keep_ratio=False)


def _flips():
    return [
        dict(type='MultiViewRandomFlip', prob=0.),
        dict(type='MultiViewRandomFlip', prob=1.)
    ]


def _run(model, img_path, pipeline, tta=True):
    data = pseudo_collate([Compose(pipeline)(dict(img_path=img_path))])
    with torch.no_grad():
        if tta:
            return model.test_step(data)[0]
        return model.module.test_step(data)[0]


def _plain(model, img_path):
    pipeline = [
        dict(type='LoadMultiViewImages'),
        _resize(),
        dict(type='PackMultiViewInputs')
    ]
    return _run(model, img_path, pipeline, tta=False)


def _tta(model, img_path, ratios=(1.0, ), flips=True):
    stages = [[_resize(r) for r in ratios]]
    if flips:
        stages.append(_flips())
    stages.append([dict(type='PackMultiViewInputs')])
    pipeline = [
        dict(type='LoadMultiViewImages'),
        dict(type='TestTimeAug', transforms=stages)
    ]
    return _run(model, img_path, pipeline)


def _probs(sample):
    return sample.seg_logits.data.softmax(dim=0)


@pytest.mark.parametrize('symmetric', [True, False],
                         ids=['symmetric', 'asymmetric'])
@pytest.mark.parametrize('merge',
                         ['mean', 'mean_disparity', 'flip_post_process'])
def test_flip_tta_of_an_equivariant_model_is_the_plain_prediction(
        tmp_path, symmetric, merge):
    model = _model(depth_merge=merge)
    img = _image(tmp_path / 'img.png', symmetric)
    plain, tta = _plain(model, img), _tta(model, img)
    # the mirrored branch really is mirrored: its own output differs
    # from the plain one unless the image is symmetric
    depth = plain.pred_depth_map.data
    assert torch.allclose(depth, depth.flip(-1), atol=1e-5) == symmetric
    torch.testing.assert_close(
        tta.pred_depth_map.data, depth, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(
        _probs(tta), _probs(plain), atol=1e-5, rtol=1e-5)
    assert torch.equal(tta.pred_sem_seg.data, plain.pred_sem_seg.data)
    assert tta.img_path == img and not tta.metainfo.get('flip')


def test_multi_scale_changes_segmentation_but_depth_stays_at_test_scale(
        tmp_path):
    img = _image(tmp_path / 'img.png', symmetric=False)
    model = _model()
    plain = _plain(model, img)
    tta = _tta(model, img, ratios=(1.0, 0.5), flips=False)
    # segmentation: the mean of the probabilities at both scales
    half = _run(model, img, [
        dict(type='LoadMultiViewImages'),
        _resize(0.5),
        dict(type='PackMultiViewInputs')
    ],
                tta=False)
    torch.testing.assert_close(
        _probs(tta), 0.5 * (_probs(plain) + _probs(half)), atol=1e-5,
        rtol=1e-5)
    assert not torch.allclose(_probs(tta), _probs(plain), atol=1e-3)
    # depth: only the branches at the first (test) scale
    torch.testing.assert_close(tta.pred_depth_map.data,
                               plain.pred_depth_map.data)
    every_scale = _tta(
        _model(depth_all_scales=True), img, ratios=(1.0, 0.5), flips=False)
    assert not torch.allclose(every_scale.pred_depth_map.data,
                              plain.pred_depth_map.data, atol=1e-3)


def test_flip_post_process_blends_like_monodepth2():
    """Hand-made branches: the blend of Godard et al. on the disparities."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    model = _model(depth_merge='flip_post_process')
    width = 40
    disp = torch.full((1, 2, width), 0.5)
    disp_mirrored = torch.full((1, 2, width), 0.25)
    samples = []
    for d, flip in ((disp, False), (disp_mirrored, True)):
        sample = SegDataSample(metainfo=dict(flip=flip, img_shape=(2, width)))
        sample.pred_depth_map = PixelData(data=1.0 / d)
        samples.append(sample)
    merged = model.merge_preds([samples])[0].pred_depth_map.data
    merged_disp = 1.0 / merged[0, 0]
    # left 5 %: the mirrored prediction; right 5 %: the plain one;
    # the middle: their mean
    assert merged_disp[0].item() == pytest.approx(0.25)
    assert merged_disp[-1].item() == pytest.approx(0.5)
    assert merged_disp[width // 2].item() == pytest.approx(0.375)
    with pytest.raises(ValueError, match='depth_merge'):
        _model(depth_merge='median')
