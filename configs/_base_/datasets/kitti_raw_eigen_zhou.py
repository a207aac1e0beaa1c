# KITTI raw, monodepth2 / FSRE-Depth setting (README, "Dataset preparation"):
# self-supervised training on Zhou et al.'s split with monocular video
# frames [0, -1, 1] at 192x640, validated on its val split and tested on
# Eigen's 697 test frames, both against velodyne depth projected at full
# resolution (Garg crop, per-image median scaling, 1e-3..80 m).
# The evaluation is the published KITTI Eigen benchmark's (monodepth2's
# export_gt_depth.py + evaluate_depth.py): the ground truth stores the
# velodyne point's forward coordinate (`gt_depth='velodyne_x'`; 'camera_z' is
# the camera's depth, not the published protocol), and the model config sets
# `test_cfg.depth_resize='disparity'` (the predicted disparity is resized to
# the ground truth's size, then inverted). Monocular models: median scaling,
# no fixed factor; a stereo-trained (M+S / S, 0.1 baseline units) model sets
# `median_scaling=False, pred_depth_scale_factor=5.4`.
# The raw download holds PNGs; for the usual JPEG conversion (quality 92)
# set `img_suffix='.jpg'`. The split files live in `data/kitti_splits/`.
dataset_type = 'KittiRawDataset'
data_root = 'data/kitti_raw'
img_scale = (640, 192)  # (w, h)
train_pipeline = [
    dict(type='LoadMultiViewImages'),
    # pseudo labels when the dataset has a `seg_dir` (FSRE), else nothing
    dict(type='LoadDepthSegAnnotations'),
    dict(type='MultiViewResize', scale=img_scale, keep_ratio=False),
    dict(type='MultiViewRandomFlip', prob=0.5),
    dict(type='KeepUnaugmentedImage'),
    dict(
        type='MultiViewColorJitter',
        brightness=0.2,
        contrast=0.2,
        saturation=0.2,
        hue=0.1,
        prob=0.5),
    dict(type='PackMultiViewInputs')
]
# Velodyne ground truth is projected after the resize, at the S_rect size.
test_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(type='MultiViewResize', scale=img_scale, keep_ratio=False),
    dict(type='LoadDepthSegAnnotations'),
    dict(type='PackMultiViewInputs')
]
train_dataloader = dict(
    batch_size=12,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split_file='data/kitti_splits/eigen_zhou/train_files.txt',
        frame_ids=(0, -1, 1),
        img_suffix='.png',
        intrinsics_mode='normalised',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split_file='data/kitti_splits/eigen_zhou/val_files.txt',
        frame_ids=(0, ),
        img_suffix='.png',
        intrinsics_mode='normalised',
        load_gt_depth=True,
        gt_depth='velodyne_x',
        test_mode=True,
        pipeline=test_pipeline))
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
        intrinsics_mode='normalised',
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
    median_scaling=True,
    pred_depth_scale_factor=1.0)
test_evaluator = val_evaluator
# `tools/test.py --tta`: the image and its mirror image (monodepth2's
# post-processing when the model config sets
# `tta_model = dict(type='DepthSegTTAModel', depth_merge='flip_post_process')`)
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
