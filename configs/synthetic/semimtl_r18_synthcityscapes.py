# SemiMTL (M2) cross-city on generated Cityscapes-layout streets on a CPU
# (random init, no ImageNet weights are downloaded):
# the `train` cities label segmentation only (domain 1), the `train_extra`
# cities disparity only (domain 2); both tasks are evaluated on held-out
# cities of each domain (`val`, `val_extra`). Generate:
# `python tools/misc/make_synthetic_dataset.py --layout cityscapes --out
# data/synthetic_semimtl --train-cities aachen bochum --train-extra-cities
# erfurt dresden --val-cities frankfurt --val-extra-cities lindau
# --height 128 --width 256`.
_base_ = [
    '../_base_/models/semimtl_r18_cpu.py',
    '../_base_/datasets/semimtl_cityscapes_cross-city.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_semimtl_40k.py'
]
# the paper's w_depth = 0.01 learns the inverse depth too slowly for a few
# hundred CPU iterations: w_depth = 1 here
model = dict(task_weights=dict(seg=1.0, depth=1.0))
data_root = 'data/synthetic_semimtl'
crop_size = (96, 192)  # (h, w)
img_scale = (256, 128)  # (w, h)
depth_target = dict(type='DepthTargetTransform', mode='inverse')
train_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(type='LoadDepthSegAnnotations'),
    dict(
        type='MultiViewRandomResize',
        scale=img_scale,
        ratio_range=(1.0, 1.5),
        keep_ratio=True),
    dict(type='MultiViewRandomCrop', crop_size=crop_size),
    dict(type='MultiViewRandomFlip', prob=0.5), depth_target,
    dict(type='PackMultiViewInputs')
]
test_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(type='LoadDepthSegAnnotations'), depth_target,
    dict(type='PackMultiViewInputs')
]
train_dataloader = dict(
    num_workers=2,
    dataset=dict(sources=[
        dict(
            _base_.seg_source,
            dataset=dict(
                _base_.seg_source.dataset,
                data_root=data_root,
                pipeline=train_pipeline)),
        dict(
            _base_.depth_source,
            dataset=dict(
                _base_.depth_source.dataset,
                data_root=data_root,
                pipeline=train_pipeline)),
    ]))
val_domain = dict(
    type='CityscapesDepthSegDataset',
    data_root=data_root,
    seg_map_suffix='_gtFine_labelTrainIds.png',
    pipeline=test_pipeline)
val_dataloader = dict(
    num_workers=2,
    dataset=dict(sources=[
        dict(
            domain=d,
            tasks=('seg', 'depth'),
            dataset=dict(
                val_domain,
                data_prefix=dict(
                    img_path=f'leftImg8bit/{split}',
                    seg_map_path=f'gtFine/{split}',
                    disp_path=f'disparity/{split}',
                    camera_path=f'camera/{split}')))
        for d, split in ((1, 'val'), (2, 'val_extra'))
    ]))
test_dataloader = val_dataloader
param_scheduler = dict(generator=[
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=0.9,
        begin=0,
        end=400,
        by_epoch=False)
])
train_cfg = dict(max_iters=300, val_interval=300)
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=300))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
# the depth task's target (inverse depth / height) is drawn as it is
visualizer = dict(depth_encoding='target')
