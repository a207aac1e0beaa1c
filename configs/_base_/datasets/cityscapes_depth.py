# Real Cityscapes (README, "Dataset preparation"): 19 trainId classes from
# gtFine (run MMSegmentation's `tools/dataset_converters/cityscapes.py` for
# the *_labelTrainIds.png files, or set
# `seg_map_suffix='_gtFine_labelIds.png'` to map labelIds while loading) and
# metric depth from the disparity maps with each frame's camera JSON
# (depth = baseline * fx / disparity).
# For stereo pairs set `views=('l', 'r')` and add
# `right_img_path='rightImg8bit/<split>'` to every `data_prefix`.
dataset_type = 'CityscapesDepthSegDataset'
data_root = 'data/cityscapes'
crop_size = (256, 512)  # (h, w)
test_scale = (1024, 512)  # (w, h)
train_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(type='LoadDepthSegAnnotations'),
    dict(
        type='MultiViewRandomResize',
        scale=test_scale,
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='MultiViewRandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='MultiViewRandomFlip', prob=0.5),
    dict(type='MultiViewColorJitter', prob=0.5),
    dict(type='PackMultiViewInputs')
]
# Ground truth is loaded after the resize and evaluated at 2048x1024.
test_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(type='MultiViewResize', scale=test_scale, keep_ratio=True),
    dict(type='LoadDepthSegAnnotations'),
    dict(type='PackMultiViewInputs')
]
train_dataloader = dict(
    batch_size=2,
    num_workers=4,
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
        seg_map_suffix='_gtFine_labelTrainIds.png',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
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
        seg_map_suffix='_gtFine_labelTrainIds.png',
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='DepthSegMetric',
    iou_cfg=dict(type='IoUMetric', iou_metrics=['mIoU']),
    depth_cfg=dict(type='DepthMetric', min_depth=1e-3, max_depth=80.))
test_evaluator = val_evaluator
# `tools/test.py --tta` (MMSegmentation's Cityscapes practice): six scales
# with and without a flip. The test scale comes first: DepthSegTTAModel
# merges depth over the branches at that scale only.
img_ratios = [1.0, 0.5, 0.75, 1.25, 1.5, 1.75]
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
