# Generated street scenes in the Cityscapes layout (`make demo`, tests):
# monocular left views with depth (from disparity) and 19-class trainIds,
# trained on 128x256 crops so that a CPU trains it in minutes. Generate the
# data with `python tools/misc/make_synthetic_dataset.py --layout cityscapes
# --out data/synthetic_cityscapes`.
# For stereo pairs set `views=('l', 'r')` and add
# `right_img_path='rightImg8bit/<split>'` to every `data_prefix`.
dataset_type = 'CityscapesDepthSegDataset'
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
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='leftImg8bit/train',
            seg_map_path='gtFine/train',
            disp_path='disparity/train',
            camera_path='camera/train'),
        views=('l', ),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='leftImg8bit/val',
            seg_map_path='gtFine/val',
            disp_path='disparity/val',
            camera_path='camera/val'),
        views=('l', ),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='DepthSegMetric',
    iou_cfg=dict(type='IoUMetric', iou_metrics=['mIoU']),
    depth_cfg=dict(type='DepthMetric', min_depth=1e-3, max_depth=80.))
test_evaluator = val_evaluator
