# Cityscapes for SOSD-Net (Sec. 4.1, "following the suggestion in Ozan et
# al.", i.e. Sener & Koltun's multi-task protocol):
# - every frame (image, labels, depth) is resized to 256x512 (labels and
#   depth nearest, so depth in metres keeps its values and the disparity
#   target fx * b / depth is in pixels of the 512-wide frame);
# - training augmentation: a scale from {0.5, 0.75, 1, 1.25, 1.5, 1.75} of
#   that frame, colour jitter, flip p = 0.5. The network trains on a fixed
#   256x512 resolution ("we employ the same resolution"; Sec. 4.1 rejects
#   patch crops of full-resolution frames): as in DeepLab's TF input
#   pipeline (whose discrete scale steps these are), a scaled frame larger
#   than 256x512 gives a random 256x512 window, a smaller one is padded at
#   the bottom/right to 256x512 by the model's data preprocessor (set in
#   configs/sosd/*cityscapes*.py: `size=(256, 512)`; mean colour, label
#   255, depth 0 = invalid). At scale 1 the sample is the whole frame.
#   `sosd_xception65_cityscapes_whole-frames.py` trains on the whole
#   scaled frames instead (batches padded to their largest frame).
# - evaluation at the network's 256x512 resolution (`update_ori_shape`):
#   mIoU, and the disparity error in pixels of the 512-wide frame
#   (`disp_err` = |fx_512 b / pred - fx_512 b / gt|), averaged over all
#   valid pixels of the validation set (`aggregation='pooled'`, as the
#   paper's N and Sener & Koltun's running L1); every pixel with a valid
#   disparity counts (no depth cap: max_depth=1e6 m is above the farthest
#   valid Cityscapes depth, about 1.3e5 m at disparity 1/256 px).
_base_ = './cityscapes_depth.py'
net_scale = (512, 256)  # (w, h) the paper's 256x512
crop_size = (256, 512)  # (h, w)
train_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(type='LoadDepthSegAnnotations'),
    dict(type='MultiViewResize', scale=net_scale, keep_ratio=False),
    dict(
        type='MultiViewRandomResize',
        ratios=(0.5, 0.75, 1.0, 1.25, 1.5, 1.75)),
    dict(type='MultiViewRandomCrop', crop_size=crop_size),
    dict(type='MultiViewRandomFlip', prob=0.5),
    dict(type='MultiViewColorJitter', prob=0.5),
    dict(type='PackMultiViewInputs')
]
# Annotations are loaded before the resize: ground truth and predictions
# are compared at 256x512.
test_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(type='LoadDepthSegAnnotations'),
    dict(
        type='MultiViewResize',
        scale=net_scale,
        keep_ratio=False,
        update_ori_shape=True),
    dict(type='PackMultiViewInputs')
]
train_dataloader = dict(
    batch_size=16,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='DepthSegMetric',
    iou_cfg=dict(type='IoUMetric', iou_metrics=['mIoU']),
    depth_cfg=dict(
        type='DepthMetric',
        min_depth=1e-3,
        max_depth=1e6,
        aggregation='pooled',
        metrics=('disp_err', 'abs_rel', 'sq_rel', 'rmse', 'rmse_log', 'a1',
                 'a2', 'a3')))
test_evaluator = val_evaluator
# `tools/test.py --tta`: flips of the test pipeline above (the base's
# multi-scale pipeline evaluates at another size)
tta_pipeline = None
