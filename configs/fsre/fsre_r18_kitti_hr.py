# FSRE-Depth, ResNet-18, high resolution 320x1024.
_base_ = './fsre_r18_kitti.py'
img_scale = (1024, 320)  # (w, h)
# the released code feeds the pose network 192x640 frames at this size
model = dict(pose_input_size=(192, 640))
train_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(type='LoadDepthSegAnnotations'),
    dict(type='MultiViewResize', scale=img_scale, keep_ratio=False),
    dict(type='MultiViewRandomFlip', prob=0.5),
    dict(type='KeepUnaugmentedImage'),
    dict(type='MultiViewColorJitter', prob=0.5),
    dict(type='PackMultiViewInputs')
]
test_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(type='MultiViewResize', scale=img_scale, keep_ratio=False),
    dict(type='LoadDepthSegAnnotations'),
    dict(type='PackMultiViewInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
# `tools/test.py --tta` at this resolution
tta_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='MultiViewResize', scale=img_scale, keep_ratio=False)],
            [
                dict(type='MultiViewRandomFlip', prob=0.),
                dict(type='MultiViewRandomFlip', prob=1.)
            ],
            [dict(type='LoadDepthSegAnnotations')],
            [dict(type='PackMultiViewInputs')],
        ])
]
