# Generated street scenes in the KITTI raw layout (CPU experiments, tests):
# the KITTI raw dataset config on `data/synthetic_kitti` with its own split
# files, pseudo labels from the `semantic_02/03` trees and small frames.
# Generate with `python tools/misc/make_synthetic_dataset.py --layout kitti
# --out data/synthetic_kitti`. The generator's calibration uses 0-based
# pixel centres, hence `velodyne_pixel_offset=0`; its scans are sampled
# from the rendered camera depth, so the ground truth stores the camera's depth
# (`gt_depth='camera_z'`, exact) rather than the benchmark's velodyne forward
# coordinate (which is 0.27 m larger near the axis: the scanner sits behind
# the camera).
_base_ = './kitti_raw_eigen_zhou.py'
data_root = 'data/synthetic_kitti'
img_scale = (320, 96)  # (w, h)
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
# iteration-based training on a few frames: an infinite sampler avoids
# MMEngine's 2 s pause at every epoch end
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        data_root=data_root,
        split_file='splits/synthetic/train_files.txt',
        seg_dir='semantic_{cam:02d}',
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
# the generated frames have true labels: report depth (Eigen protocol) and
# segmentation in one table
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
        median_scaling=True))
test_evaluator = val_evaluator
# `tools/test.py --tta`: the image and its mirror image
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
