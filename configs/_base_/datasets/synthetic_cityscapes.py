# Generated street scenes in the Cityscapes layout (`make demo`, tests):
# the real Cityscapes dataset config on `data/synthetic_cityscapes`, with
# 128x256 crops so that a CPU trains it in minutes. Generate the data with
# `python tools/misc/make_synthetic_dataset.py --layout cityscapes
# --out data/synthetic_cityscapes`.
_base_ = './cityscapes_depth.py'
data_root = 'data/synthetic_cityscapes'
crop_size = (128, 256)  # (h, w)
test_scale = (256, 128)  # (w, h)
train_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(type='LoadDepthSegAnnotations'),
    dict(
        type='MultiViewRandomResize',
        scale=test_scale,
        ratio_range=(1.0, 1.5),
        keep_ratio=True),
    dict(type='MultiViewRandomCrop', crop_size=crop_size),
    dict(type='MultiViewRandomFlip', prob=0.5),
    dict(type='PackMultiViewInputs')
]
# Ground truth is loaded after the resize: it stays at the original size and
# the model's predictions are resized back to it for evaluation.
test_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(type='MultiViewResize', scale=test_scale, keep_ratio=True),
    dict(type='LoadDepthSegAnnotations'),
    dict(type='PackMultiViewInputs')
]
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=2, dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
# `tools/test.py --tta`: three scales (test scale first) with and without a
# flip; depth from the test scale only (DepthSegTTAModel)
img_ratios = [1.0, 0.75, 1.25]
tta_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(
        type='TestTimeAug',
        transforms=[
            [
                dict(
                    type='MultiViewResize',
                    scale=(int(test_scale[0] * r), int(test_scale[1] * r)),
                    keep_ratio=True) for r in img_ratios
            ],
            [
                dict(type='MultiViewRandomFlip', prob=0.),
                dict(type='MultiViewRandomFlip', prob=1.)
            ],
            [dict(type='LoadDepthSegAnnotations')],
            [dict(type='PackMultiViewInputs')],
        ])
]
