# KITTI raw stereo pairs for Pseudo-MTL (README, "Dataset preparation"):
# both views at 480x192 with stereo pseudo depth + confidence
# (tools/generate_pseudo_depth.py -> <drive>/pseudo_depth_0X, pseudo_conf_0X)
# and pseudo segmentation (tools/generate_pseudo_seg.py -> <drive>/
# semantic_0X) for each view. Training uses monodepth2's `eigen_full` split
# (22,600 frames, as the paper; validation on its val_files.txt); depth is metric, so intrinsics and the
# baseline come from the calibration files. Tested on Eigen's 697 frames
# against velodyne depth: Garg crop, 1e-3..80 m, no median scaling.
# The evaluation is the published KITTI Eigen benchmark's (monodepth2's
# export_gt_depth.py + evaluate_depth.py, against which the paper's tables
# compare): ground truth = the velodyne point's forward coordinate
# (`gt_depth='velodyne_x'`), and the model config sets
# `test_cfg.depth_resize='disparity'`. The depth is metric (real baseline from
# the calibration), so neither median scaling nor the 5.4 stereo factor of
# models trained with monodepth2's 0.1 baseline applies.
dataset_type = 'KittiRawDataset'
data_root = 'data/kitti_raw'
img_scale = (480, 192)  # (w, h)
train_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(type='LoadPseudoDepth'),
    dict(type='LoadDepthSegAnnotations'),
    dict(type='MultiViewResize', scale=img_scale, keep_ratio=False),
    # a flip swaps the two views, keeping left-right stereo geometry
    dict(type='MultiViewRandomFlip', prob=0.5),
    dict(
        type='MultiViewColorJitter',
        brightness=0.2,
        contrast=0.2,
        saturation=0.2,
        hue=0.1,
        prob=0.5),
    dict(type='PackMultiViewInputs')
]
test_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(type='MultiViewResize', scale=img_scale, keep_ratio=False),
    dict(type='LoadDepthSegAnnotations'),
    dict(type='PackMultiViewInputs')
]
train_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split_file='data/kitti_splits/eigen_full/train_files.txt',
        frame_ids=(0, 's'),
        img_suffix='.png',
        intrinsics_mode='calib',
        seg_dir='semantic_{cam:02d}',
        pseudo_depth_dir='pseudo_depth_{cam:02d}',
        pseudo_conf_dir='pseudo_conf_{cam:02d}',
        pipeline=train_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split_file='data/kitti_splits/eigen/test_files.txt',
        frame_ids=(0, ),
        img_suffix='.png',
        intrinsics_mode='calib',
        load_gt_depth=True,
        gt_depth='velodyne_x',
        test_mode=True,
        pipeline=test_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split_file='data/kitti_splits/eigen_full/val_files.txt',
        frame_ids=(0, ),
        img_suffix='.png',
        intrinsics_mode='calib',
        load_gt_depth=True,
        gt_depth='velodyne_x',
        test_mode=True,
        pipeline=test_pipeline))
val_evaluator = dict(
    type='DepthMetric',
    min_depth=1e-3,
    max_depth=80.,
    # monocular test frames carry no stereo baseline: no disparity error
    metrics=('abs_rel', 'sq_rel', 'rmse', 'rmse_log', 'log10', 'a1',
             'a2', 'a3', 'mae'),
    crop='garg',
    median_scaling=False,
    pred_depth_scale_factor=1.0)
test_evaluator = val_evaluator
