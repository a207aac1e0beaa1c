# Cityscapes for SOSD-Net (Sec. 4.1): 19 classes and depth from disparity,
# 256x512 crops after scale augmentation {0.5, ..., 1.75}, colour jitter,
# flip p = 0.5; evaluated at 1024x512 by mIoU and the disparity error in
# pixels (plus the usual depth errors).
_base_ = './cityscapes_depth.py'
train_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(type='LoadDepthSegAnnotations'),
    dict(
        type='MultiViewRandomResize',
        scale=(1024, 512),
        ratios=(0.5, 0.75, 1.0, 1.25, 1.5, 1.75),
        keep_ratio=True),
    dict(type='MultiViewRandomCrop', crop_size=(256, 512), cat_max_ratio=0.75),
    dict(type='MultiViewRandomFlip', prob=0.5),
    dict(type='MultiViewColorJitter', prob=0.5),
    dict(type='PackMultiViewInputs')
]
train_dataloader = dict(
    batch_size=16,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(pipeline=train_pipeline))
val_evaluator = dict(
    type='DepthSegMetric',
    iou_cfg=dict(type='IoUMetric', iou_metrics=['mIoU']),
    depth_cfg=dict(type='DepthMetric', min_depth=1e-3, max_depth=80.))
test_evaluator = val_evaluator
