# SOSD-Net on Cityscapes, the other reading of Sec. 4.1's augmentation: the
# whole scaled frame (128x256 ... 448x896 after the {0.5, ..., 1.75} scales
# of the 256x512 frame) is the training sample, never cropped; a batch is
# padded to its largest frame. Evaluation as `sosd_xception65_cityscapes.py`.
_base_ = './sosd_xception65_cityscapes.py'
train_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(type='LoadDepthSegAnnotations'),
    dict(type='MultiViewResize', scale=(512, 256), keep_ratio=False),
    dict(
        type='MultiViewRandomResize',
        ratios=(0.5, 0.75, 1.0, 1.25, 1.5, 1.75)),
    dict(type='MultiViewRandomFlip', prob=0.5),
    dict(type='MultiViewColorJitter', prob=0.5),
    dict(type='PackMultiViewInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
model = dict(data_preprocessor=dict(size=None))
