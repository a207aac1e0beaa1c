# CPU settings on our generated Cityscapes-layout data
# (`python tools/misc/make_synthetic_dataset.py --layout cityscapes --out
# data/synthetic_cityscapes`) for a config that inherits one of the
# Cityscapes examples of this folder: 64x128 crops, test at 128x256, BN,
# 200 iterations. Every key is new (keys may not repeat among bases); the
# config takes them with `train_dataloader = {{_base_.cpu_train_dataloader}}`
# etc. (merged into the example's).
cpu_crop_size = (64, 128)
cpu_data_root = 'data/synthetic_cityscapes'
cpu_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadSingleViewDepthSegAnnotations'),
    dict(
        type='RandomResize',
        scale=(256, 128),
        ratio_range=(1.0, 1.5),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=cpu_crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
cpu_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(256, 128), keep_ratio=True),
    dict(type='LoadSingleViewDepthSegAnnotations'),
    dict(type='PackSegInputs')
]
cpu_train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=False,
    dataset=dict(data_root=cpu_data_root, pipeline=cpu_train_pipeline))
cpu_val_dataloader = dict(
    num_workers=2,
    persistent_workers=False,
    dataset=dict(data_root=cpu_data_root, pipeline=cpu_test_pipeline))
cpu_test_dataloader = dict(cpu_val_dataloader)
