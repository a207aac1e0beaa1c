# SemiMTL cross-city setting (Table 1): Cityscapes train with segmentation
# only (domain 1) + Cityscapes train_extra with disparity only
# ("Cityscapes-depth", domain 2, other cities); one mini-batch of each per
# iteration. Images resized to 512x1024 (random scale 0.5-2), 256x256
# crops, flip; the depth target is inverse depth as the disparity in pixels
# of Cityscapes' stereo rig at the 1024-pixel network width (NaN where the
# disparity is missing; configs/semimtl/README.md, "Differences from the
# paper", says why these units). Validation on Cityscapes val (both tasks,
# domain 1) at 512x1024 with MultiDomainDepthSegMetric (pAcc, mIoU, abs_rel,
# rmse, a1-a3 and, with `stl_baselines`, delta_m of Eq. 10).
data_root = 'data/cityscapes'
crop_size = (256, 256)  # (h, w)
img_scale = (1024, 512)  # (w, h)
# disparity [px at 1024 px width] = fx * baseline / depth: Cityscapes'
# fx = 2262.52 px at 2048 px, i.e. 1131.26 px at 1024 px, baseline
# 0.209313 m. `disparity_scale=1.0` gives inverse depth in 1/m.
disparity_scale = 2262.52 / 2 * 0.209313  # = 236.79 px m
depth_target = dict(
    type='DepthTargetTransform', mode='inverse', scale=disparity_scale)
train_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(type='LoadDepthSegAnnotations'),
    dict(
        type='MultiViewRandomResize',
        scale=img_scale,
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='MultiViewRandomCrop', crop_size=crop_size),
    dict(type='MultiViewRandomFlip', prob=0.5), depth_target,
    dict(type='PackMultiViewInputs')
]
# evaluated at 512x1024: the resized maps are the ground truth
test_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(type='LoadDepthSegAnnotations'),
    dict(
        type='MultiViewResize',
        scale=img_scale,
        keep_ratio=True,
        update_ori_shape=True), depth_target,
    dict(type='PackMultiViewInputs')
]
seg_source = dict(
    domain=1,
    tasks=('seg', ),
    dataset=dict(
        type='CityscapesDepthSegDataset',
        data_root=data_root,
        data_prefix=dict(
            img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
        seg_map_suffix='_gtFine_labelTrainIds.png',
        pipeline=train_pipeline))
depth_source = dict(
    domain=2,
    tasks=('depth', ),
    dataset=dict(
        type='CityscapesDepthSegDataset',
        data_root=data_root,
        data_prefix=dict(
            img_path='leftImg8bit/train_extra',
            disp_path='disparity/train_extra',
            camera_path='camera/train_extra'),
        pipeline=train_pipeline))
val_sources = [
    dict(
        domain=1,
        tasks=('seg', 'depth'),
        dataset=dict(
            type='CityscapesDepthSegDataset',
            data_root=data_root,
            data_prefix=dict(
                img_path='leftImg8bit/val',
                seg_map_path='gtFine/val',
                disp_path='disparity/val',
                camera_path='camera/val'),
            seg_map_suffix='_gtFine_labelTrainIds.png',
            pipeline=test_pipeline))
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
# fill in the STL results of the same setting for delta_m (Eq. 10), e.g.
# stl_baselines=dict(d1=dict(mIoU=..., rmse=...))
val_evaluator = dict(type='MultiDomainDepthSegMetric', stl_baselines=None)
test_evaluator = val_evaluator
