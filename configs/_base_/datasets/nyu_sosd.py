# NYUv2 (40 classes) in MMSegmentation's layout for SOSD-Net (Sec. 4.1):
# the 795 / 654 official split of the labelled set (written by
# `tools/dataset_converters/nyu.py`), 480x640, scale augmentation
# {1, 1.2, 1.5} then a 480x640 window (the fixed network resolution),
# colour, flip. Evaluated on the 654 test images at 480x640 by mIoU, mean
# accuracy (mAcc) and pixel accuracy (aAcc), and by rel, rms, log10 and
# δ1-δ3 over all valid pixels of the test set (`aggregation='pooled'`: the
# paper's N is "the total number of valid pixels in all images"), on the
# whole frame (the paper names no Eigen crop; `crop='nyu'` gives it),
# ground truth in (1e-3, 10) m.
dataset_type = 'NYUDepthSegDataset'
data_root = 'data/nyu'
crop_size = (480, 640)  # (h, w)
train_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(type='LoadDepthSegAnnotations'),
    dict(type='MultiViewRandomResize', ratios=(1.0, 1.2, 1.5)),
    dict(type='MultiViewRandomCrop', crop_size=crop_size),
    dict(type='MultiViewRandomFlip', prob=0.5),
    dict(type='MultiViewColorJitter', prob=0.5),
    dict(type='PackMultiViewInputs')
]
test_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(type='LoadDepthSegAnnotations'),
    dict(type='PackMultiViewInputs')
]
train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='images/train',
            depth_map_path='annotations/train',
            seg_map_path='labels40/train'),
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
            img_path='images/test',
            depth_map_path='annotations/test',
            seg_map_path='labels40/test'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='DepthSegMetric',
    iou_cfg=dict(type='IoUMetric', iou_metrics=['mIoU']),
    depth_cfg=dict(
        type='DepthMetric',
        min_depth=1e-3,
        max_depth=10.,
        crop=None,
        aggregation='pooled',
        metrics=('abs_rel', 'rmse', 'log10', 'a1', 'a2', 'a3')))
test_evaluator = val_evaluator
