# Generated street scenes in the KITTI raw layout for Pseudo-MTL (CPU
# experiments, tests): stereo pairs with SGBM pseudo depth + confidence
# (`python tools/generate_pseudo_depth.py data/synthetic_kitti --dataset
# kitti`) and the generator's label trees standing in for pseudo
# segmentation. The frames are exact, so validation reports metric depth
# (no median scaling) and mIoU against the true labels. The ground truth is
# the camera's depth (`gt_depth='camera_z'`: the scans are sampled from the
# rendered camera depth), not the benchmark's velodyne forward coordinate.
_base_ = './kitti_stereo_pseudo.py'
data_root = 'data/synthetic_kitti'
img_scale = (320, 96)  # (w, h)
train_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(type='LoadPseudoDepth'),
    dict(type='LoadDepthSegAnnotations'),
    dict(type='MultiViewResize', scale=img_scale, keep_ratio=False),
    dict(type='MultiViewRandomFlip', prob=0.5),
    dict(type='MultiViewColorJitter', prob=0.5),
    dict(type='PackMultiViewInputs')
]
test_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(type='MultiViewResize', scale=img_scale, keep_ratio=False),
    dict(type='LoadDepthSegAnnotations'),
    dict(type='PackMultiViewInputs')
]
# iteration-based training on a few frames: an infinite sampler avoids
# MMEngine's 2 s pause at every epoch end
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        data_root=data_root,
        split_file='splits/synthetic/train_files.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=2,
    dataset=dict(
        data_root=data_root,
        split_file='splits/synthetic/val_files.txt',
        velodyne_pixel_offset=0,
        gt_depth='camera_z',
        seg_dir='semantic_{cam:02d}',
        pipeline=test_pipeline))
test_dataloader = dict(
    num_workers=2,
    dataset=dict(
        data_root=data_root,
        split_file='splits/synthetic/test_files.txt',
        velodyne_pixel_offset=0,
        gt_depth='camera_z',
        seg_dir='semantic_{cam:02d}',
        pipeline=test_pipeline))
val_evaluator = dict(
    _delete_=True,
    type='DepthSegMetric',
    iou_cfg=dict(type='IoUMetric', iou_metrics=['mIoU']),
    depth_cfg=dict(
        type='DepthMetric',
        min_depth=1e-3,
        max_depth=80.,
        # monocular test frames carry no stereo baseline: no disparity error
        metrics=('abs_rel', 'sq_rel', 'rmse', 'rmse_log', 'log10', 'a1',
                 'a2', 'a3', 'mae'),
        crop='garg',
        median_scaling=False))
test_evaluator = val_evaluator
