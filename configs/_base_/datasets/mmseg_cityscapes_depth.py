# Our Cityscapes (19 classes, depth from disparity) for a config that
# inherits one of mmseg's Cityscapes 512x1024 configs
# (`configs/mmseg_extensions/`): mmseg's pipelines with our annotation
# loader, our dataset, mIoU + depth metrics in one table. Every key is new
# to mmseg's configs (keys may not repeat among bases): the config lists
# this file after the `mmseg::` one and takes the `depth_*` entries with
# `train_dataloader = '{{_base_.depth_train_dataloader}}'` etc. (merged into
# mmseg's). `_scope_='mmdepthseg'`: mmseg's dicts carry `_scope_='mmseg'`.
custom_imports = dict(imports=['mmdepthseg'], allow_failed_imports=False)
randomness = dict(seed=0)
depth_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadSingleViewDepthSegAnnotations'),
    dict(
        type='RandomResize',
        scale=(2048, 1024),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=(512, 1024), cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
# ground truth loaded after the resize: evaluated at 2048x1024
depth_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 1024), keep_ratio=True),
    dict(type='LoadSingleViewDepthSegAnnotations'),
    dict(type='PackSegInputs')
]
depth_train_dataloader = dict(
    dataset=dict(
        _scope_='mmdepthseg',
        type='CityscapesDepthSegDataset',
        data_prefix=dict(
            img_path='leftImg8bit/train',
            seg_map_path='gtFine/train',
            disp_path='disparity/train',
            camera_path='camera/train'),
        pipeline=depth_train_pipeline))
depth_val_dataloader = dict(
    dataset=dict(
        _scope_='mmdepthseg',
        type='CityscapesDepthSegDataset',
        data_prefix=dict(
            img_path='leftImg8bit/val',
            seg_map_path='gtFine/val',
            disp_path='disparity/val',
            camera_path='camera/val'),
        test_mode=True,
        pipeline=depth_test_pipeline))
depth_evaluator = dict(
    _delete_=True,
    type='mmdepthseg.DepthSegMetric',
    iou_cfg=dict(type='IoUMetric', iou_metrics=['mIoU']),
    depth_cfg=dict(type='DepthMetric', min_depth=1e-3, max_depth=80.))
# separate copies for the test loop: merging pops their `_delete_`
depth_test_dataloader = dict(
    depth_val_dataloader, dataset=dict(depth_val_dataloader['dataset']))
depth_test_evaluator = dict(depth_evaluator)
# `tools/test.py --tta` (DepthSegTTAModel): mmseg's six scales with and
# without a flip, the test scale first (depth is merged at that scale).
depth_tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [
                dict(
                    type='Resize',
                    scale=(int(2048 * r), int(1024 * r)),
                    keep_ratio=True)
                for r in (1.0, 0.5, 0.75, 1.25, 1.5, 1.75)
            ],
            [
                dict(type='RandomFlip', prob=0., direction='horizontal'),
                dict(type='RandomFlip', prob=1., direction='horizontal')
            ],
            [dict(type='LoadSingleViewDepthSegAnnotations')],
            [dict(type='PackSegInputs')],
        ])
]
