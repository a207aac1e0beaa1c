# SemiMTL (M2) on generated ISPRS-layout aerial tiles on a CPU (random init,
# no ImageNet weights are downloaded): Potsdam-like
# tiles label segmentation only (domain 1), Vaihingen-like tiles the nDSM
# height only (domain 2); both tasks evaluated on both cities. Generate:
# `python tools/misc/make_synthetic_dataset.py --layout isprs --out
# data/synthetic_isprs --patch-size 128`.
_base_ = [
    '../_base_/models/semimtl_r18_cpu.py',
    '../_base_/datasets/semimtl_isprs_cross-dataset.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_semimtl_40k.py'
]
potsdam_root = 'data/synthetic_isprs/potsdam'
vaihingen_root = 'data/synthetic_isprs/vaihingen'
crop_size = (96, 96)
train_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(type='LoadDepthSegAnnotations'),
    dict(type='MultiViewRandomResize', ratio_range=(0.75, 1.5)),
    dict(type='MultiViewRandomCrop', crop_size=crop_size),
    dict(type='MultiViewRandomFlip', prob=0.5),
    dict(type='DepthTargetTransform', mode='identity'),
    dict(type='PackMultiViewInputs')
]
# the paper's w_depth = 0.01 learns the height too slowly for a few hundred
# CPU iterations; the generated nDSM gets w_depth = 1
model = dict(
    seg_head=dict(num_classes=6), task_weights=dict(seg=1.0, depth=1.0))
train_dataloader = dict(
    num_workers=2,
    dataset=dict(sources=[
        dict(
            _base_.seg_source,
            dataset=dict(
                _base_.seg_source.dataset,
                data_root=potsdam_root,
                pipeline=train_pipeline)),
        dict(
            _base_.depth_source,
            dataset=dict(
                _base_.depth_source.dataset,
                data_root=vaihingen_root,
                pipeline=train_pipeline)),
    ]))
val_dataloader = dict(
    num_workers=2,
    dataset=dict(sources=[
        dict(
            _base_.val_sources[0],
            dataset=dict(
                _base_.val_sources[0].dataset, data_root=potsdam_root)),
        dict(
            _base_.val_sources[1],
            dataset=dict(
                _base_.val_sources[1].dataset, data_root=vaihingen_root)),
    ]))
test_dataloader = val_dataloader
optim_wrapper = dict(generator=dict(optimizer=dict(lr=0.01)))
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
