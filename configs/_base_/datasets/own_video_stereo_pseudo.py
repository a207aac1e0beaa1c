# Your own rectified stereo footage for Pseudo-MTL (docs/en/own_video.md):
# sequences with `image_02` (left) and `image_03` (right) written by
# `tools/dataset_converters/video.py LEFT --right RIGHT --frame-ids 0 s`, a
# camera file per sequence giving pixel intrinsics and the `baseline`
# (metres), SGBM pseudo depth + confidence (`tools/generate_pseudo_depth.py
# DATA_ROOT --dataset own_video` -> `<seq>/pseudo_depth_0X`,
# `pseudo_conf_0X`) and pseudo segmentation (`tools/generate_pseudo_seg.py`
# -> `<seq>/semantic_0X`) for both views. Both views at 192x480 as for
# KITTI: choose an `img_scale` with your frames' aspect ratio. Depth is
# metric (intrinsics and baseline from the camera file); validation reads
# `<seq>/depth_02/<frame>.png` where your footage has depth (switched off by
# the method config).
dataset_type = 'OwnVideoDataset'
data_root = 'data/own_video_stereo'
intrinsics_file = None
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
        split_file='splits/train_files.txt',
        frame_ids=(0, 's'),
        intrinsics_file=intrinsics_file,
        seg_dir='semantic_{cam:02d}',
        pseudo_depth_dir='pseudo_depth_{cam:02d}',
        pseudo_conf_dir='pseudo_conf_{cam:02d}',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split_file='splits/val_files.txt',
        frame_ids=(0, ),
        intrinsics_file=intrinsics_file,
        depth_dir='depth_{cam:02d}',
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='DepthMetric', min_depth=1e-3, max_depth=80., median_scaling=False)
test_evaluator = val_evaluator
