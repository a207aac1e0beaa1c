# Your own monocular footage (docs/en/own_video.md): sequences written by
# `tools/dataset_converters/video.py` (frame folders, or videos read
# directly) under `data_root`, one camera file per sequence
# (`<seq>/intrinsics.json|yaml`, pixels or normalised; `intrinsics_file`
# names another file, or one file for all sequences) and the split files
# of the tool. Video frames [0, -1, 1] at 192x640 as for KITTI: choose an
# `img_scale` (multiples of 32) with your frames' aspect ratio.
# Own footage rarely has depth ground truth: validation and testing read
# metric depth maps `<seq>/depth_02/<frame>.png` (uint16, m * 256), and the
# method configs switch them off (check predictions with
# demo/video_demo.py instead).
dataset_type = 'OwnVideoDataset'
data_root = 'data/own_video'
intrinsics_file = None
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
        split_file='splits/train_files.txt',
        frame_ids=(0, -1, 1),
        intrinsics_file=intrinsics_file,
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
# self-supervised: per-image median scaling; no crop (no bonnet or sky
# band is known for your camera)
val_evaluator = dict(
    type='DepthMetric', min_depth=1e-3, max_depth=80., median_scaling=True)
test_evaluator = val_evaluator
