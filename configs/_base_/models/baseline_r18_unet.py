# Supervised multi-task baseline: a ResNet-18 encoder shared by Monodepth2's
# U-Net-like depth decoder (L1 on metric depth) and the same decoder with a
# 19-class classifier (cross-entropy). Inputs are RGB, normalised with the
# ImageNet statistics.
#
# BN keeps the model CPU friendly; for multi-GPU training switch every
# ``norm_cfg`` to ``dict(type='SyncBN', requires_grad=True)``.
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='MultiViewDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    size_divisor=32,
    seg_pad_val=255)
encoder_channels = [64, 64, 128, 256, 512]
model = dict(
    type='MultiTaskSegmentor',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='ResNetEncoder',
        depth=18,
        in_channels=3,
        norm_cfg=norm_cfg,
        norm_eval=False),
    # Random initialisation here; real-data configs add ImageNet weights
    # (a local path or a URL) with
    # backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=...)).
    depth_head=dict(
        type='UNetDepthHead',
        in_channels=encoder_channels,
        channels=(256, 128, 64, 32, 16),
        num_output_scales=1,
        min_depth=0.1,
        max_depth=100.0,
        loss_depth=dict(type='DepthL1Loss', loss_weight=1.0)),
    seg_head=dict(
        type='UNetSegHead',
        in_channels=encoder_channels,
        in_index=[0, 1, 2, 3, 4],
        input_transform='multiple_select',
        channels=16,
        decoder_channels=(256, 128, 64, 32, 16),
        num_classes=19,
        dropout_ratio=0.,
        ignore_index=255,
        loss_decode=dict(
            type='CrossEntropyLoss',
            use_sigmoid=False,
            avg_non_ignore=True,
            loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
