# CPU variant: mmseg's PSPNet-R18 Cityscapes config + a depth head on our
# generated Cityscapes-layout data (`python tools/misc/
# make_synthetic_dataset.py --layout cityscapes --out
# data/synthetic_cityscapes`): 64x128 crops, BN, random init (nothing is
# downloaded), 200 iterations on a CPU.
_base_ = [
    'mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py',
    '../_base_/datasets/mmseg_cityscapes_depth.py'
]
default_scope = 'mmdepthseg'
env_cfg = dict(dist_cfg=dict(backend='gloo'))
crop_size = (64, 128)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='mmdepthseg.DepthSegEncoderDecoder',
    pretrained=None,
    data_preprocessor=dict(size=crop_size),
    backbone=dict(norm_cfg=norm_cfg),
    decode_head=dict(norm_cfg=norm_cfg),
    auxiliary_head=dict(norm_cfg=norm_cfg),
    depth_head=dict(
        type='ConvDepthHead',
        in_channels=512,
        in_index=3,
        channels=(64, 32, 16),
        norm_cfg=norm_cfg,
        # L1 in metres starts ~20x the cross-entropy: weight 0.1 keeps
        # mmseg's SGD (lr 0.01) from trading segmentation for depth
        loss_depth=dict(type='DepthL1Loss', loss_weight=0.1)))
data_root = 'data/synthetic_cityscapes'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadSingleViewDepthSegAnnotations'),
    dict(
        type='RandomResize',
        scale=(256, 128),
        ratio_range=(1.0, 1.5),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(256, 128), keep_ratio=True),
    dict(type='LoadSingleViewDepthSegAnnotations'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=4,
    persistent_workers=False,
    dataset=dict(
        _scope_='mmdepthseg',
        type='CityscapesDepthSegDataset',
        data_root=data_root,
        data_prefix=dict(
            disp_path='disparity/train', camera_path='camera/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=2,
    persistent_workers=False,
    dataset=dict(
        _scope_='mmdepthseg',
        type='CityscapesDepthSegDataset',
        data_root=data_root,
        data_prefix=dict(disp_path='disparity/val', camera_path='camera/val'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = {{_base_.depth_evaluator}}
test_evaluator = {{_base_.depth_test_evaluator}}
train_cfg = dict(max_iters=200, val_interval=200)
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-4,
        power=0.9,
        begin=0,
        end=200,
        by_epoch=False)
]
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=200))
tta_model = dict(type='mmdepthseg.DepthSegTTAModel')
tta_pipeline = None  # mmseg's Cityscapes TTA resizes to 2048x1024
