# Our NYUv2 (40 classes, depth in metres) for a config that inherits an
# mmseg config of another dataset (`configs/mmseg_extensions/`): mmseg's
# transforms with our annotation loader at NYUv2's 480x640, our dataset
# (replacing the inherited one, `_delete_`), mIoU + depth metrics. Keys are
# new to mmseg's configs; see `mmseg_cityscapes_depth.py` for how a config
# takes them.
custom_imports = dict(imports=['mmdepthseg'], allow_failed_imports=False)
randomness = dict(seed=0)
depth_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadSingleViewDepthSegAnnotations'),
    dict(
        type='RandomResize',
        scale=(640, 480),
        ratio_range=(1.0, 1.5),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=(480, 640)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
depth_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadSingleViewDepthSegAnnotations'),
    dict(type='PackSegInputs')
]
depth_train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        _scope_='mmdepthseg',
        type='NYUDepthSegDataset',
        data_root='data/nyu',
        data_prefix=dict(
            img_path='images/train',
            depth_map_path='annotations/train',
            seg_map_path='labels40/train'),
        pipeline=depth_train_pipeline))
depth_val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        _scope_='mmdepthseg',
        type='NYUDepthSegDataset',
        data_root='data/nyu',
        data_prefix=dict(
            img_path='images/test',
            depth_map_path='annotations/test',
            seg_map_path='labels40/test'),
        test_mode=True,
        pipeline=depth_test_pipeline))
depth_evaluator = dict(
    _delete_=True,
    type='mmdepthseg.DepthSegMetric',
    iou_cfg=dict(type='IoUMetric', iou_metrics=['mIoU']),
    depth_cfg=dict(type='DepthMetric', min_depth=1e-3, max_depth=10.))
# separate copies for the test loop: merging pops their `_delete_`
depth_test_dataloader = dict(
    depth_val_dataloader, dataset=dict(depth_val_dataloader['dataset']))
depth_test_evaluator = dict(depth_evaluator)
