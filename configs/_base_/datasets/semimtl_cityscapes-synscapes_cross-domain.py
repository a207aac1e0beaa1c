# SemiMTL cross-domain setting (Table 3): Cityscapes with segmentation only
# (domain 1) + Synscapes with depth only (domain 2; inverse depth in the
# units of the Cityscapes target, i.e. the disparity Cityscapes' stereo rig
# would see at 1024 px width, sky = 0: Synscapes' camera has Cityscapes'
# field of view);
# both tasks evaluated on both validation sets (Synscapes val = frames
# 20001-21000). Images at 512x1024, 256x256 crops.
_base_ = './semimtl_cityscapes_cross-city.py'
synscapes_root = 'data/synscapes'
synscapes_train_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(type='LoadDepthSegAnnotations'),
    dict(
        type='MultiViewRandomResize',
        scale=_base_.img_scale,
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='MultiViewRandomCrop', crop_size=_base_.crop_size),
    dict(type='MultiViewRandomFlip', prob=0.5),
    # Synscapes depth is exact: the sky (trainId 10) is a valid target 0
    dict(
        type='DepthTargetTransform',
        mode='inverse',
        sky_label=10,
        scale=_base_.disparity_scale),
    dict(type='PackMultiViewInputs')
]
synscapes_test_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(type='LoadDepthSegAnnotations'),
    dict(
        type='MultiViewResize',
        scale=_base_.img_scale,
        keep_ratio=True,
        update_ori_shape=True),
    dict(
        type='DepthTargetTransform',
        mode='inverse',
        sky_label=10,
        scale=_base_.disparity_scale),
    dict(type='PackMultiViewInputs')
]
synscapes_depth_source = dict(
    domain=2,
    tasks=('depth', ),
    dataset=dict(
        type='SynscapesDataset',
        data_root=synscapes_root,
        split='train',
        pipeline=synscapes_train_pipeline))
val_sources = [
    _base_.val_sources[0],
    dict(
        domain=2,
        tasks=('seg', 'depth'),
        dataset=dict(
            type='SynscapesDataset',
            data_root=synscapes_root,
            split='val',
            pipeline=synscapes_test_pipeline))
]
train_dataloader = dict(
    dataset=dict(sources=[_base_.seg_source, synscapes_depth_source]))
val_dataloader = dict(dataset=dict(sources=val_sources))
test_dataloader = val_dataloader
