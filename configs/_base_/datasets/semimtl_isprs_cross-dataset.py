# SemiMTL cross-dataset setting (Table 2): ISPRS Potsdam (IRRG, resampled
# to Vaihingen's 9 cm GSD) with segmentation only (domain 1) + Vaihingen
# (IRRG) with the nDSM height only (domain 2, normalised to [0, 1]); 512x512
# patches cut with a 50 % overlapping sliding window by
# tools/dataset_converters/isprs.py, 384x384 training crops. Both tasks
# are evaluated on both validation sets.
potsdam_root = 'data/potsdam'
vaihingen_root = 'data/vaihingen'
crop_size = (384, 384)  # (h, w)
# the nDSM PNG holds height + 1 (`depth_offset`): 0 stays invalid, the
# ground (height 0) a valid target
depth_target = dict(type='DepthTargetTransform', mode='identity')
train_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(type='LoadDepthSegAnnotations'),
    dict(type='MultiViewRandomResize', ratio_range=(0.5, 2.0)),
    dict(type='MultiViewRandomCrop', crop_size=crop_size),
    dict(type='MultiViewRandomFlip', prob=0.5), depth_target,
    dict(type='PackMultiViewInputs')
]
test_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(type='LoadDepthSegAnnotations'), depth_target,
    dict(type='PackMultiViewInputs')
]

potsdam_train = dict(
    type='ISPRSDepthSegDataset',
    city='potsdam',
    data_root=potsdam_root,
    data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
    pipeline=train_pipeline)
vaihingen_train = dict(
    type='ISPRSDepthSegDataset',
    city='vaihingen',
    data_root=vaihingen_root,
    data_prefix=dict(
        img_path='img_dir/train', depth_map_path='ndsm_dir/train'),
    pipeline=train_pipeline)
val_prefix = dict(
    img_path='img_dir/val',
    seg_map_path='ann_dir/val',
    depth_map_path='ndsm_dir/val')
seg_source = dict(domain=1, tasks=('seg', ), dataset=potsdam_train)
depth_source = dict(domain=2, tasks=('depth', ), dataset=vaihingen_train)
val_sources = [
    dict(
        domain=1,
        tasks=('seg', 'depth'),
        dataset=dict(
            type='ISPRSDepthSegDataset',
            city='potsdam',
            data_root=potsdam_root,
            data_prefix=val_prefix,
            pipeline=test_pipeline)),
    dict(
        domain=2,
        tasks=('seg', 'depth'),
        dataset=dict(
            type='ISPRSDepthSegDataset',
            city='vaihingen',
            data_root=vaihingen_root,
            data_prefix=val_prefix,
            pipeline=test_pipeline)),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='MultiSourceSampler', batch_size_per_source=[2, 2]),
    dataset=dict(
        type='MultiSourceDataset', sources=[seg_source, depth_source]))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='MultiSourceDataset', sources=val_sources, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='MultiDomainDepthSegMetric', stl_baselines=None)
test_evaluator = val_evaluator
