# SemiMTL (Sec. 3.4): dilated ResNet-101 shared encoder (output stride 8,
# ImageNet weights: OpenMMLab's ResNet-101 V1c, open-mmlab://resnet101_v1c,
# verified by the SHA-256 prefix of its file name; random init instead:
# --cfg-options model.backbone.init_cfg=None), PSP segmentation head, conv + upsampling depth decoder
# with a regression output; one domain-aware discriminator per task (five
# 4x4 stride-2 convs, spectral norm, LeakyReLU 0.2, K + 1 classes).
# L_G = CE + 0.01 BerHu + 0.001 L_intra + 0.0001 L_inter (mode M2);
# ignored / invalid ground-truth pixels are masked out of the adversarial
# losses (AdvSemiSeg's convention).
norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(
    type='MultiViewDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    size_divisor=8,
    seg_pad_val=255,
    # 0 is a valid depth target here (sky, ground height): pad with NaN
    depth_pad_val=float('nan'))
model = dict(
    type='SemiMTL',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='PretrainedResNet',  # mmseg's ResNet + verified Pretrained
        depth=101,
        deep_stem=True,  # ResNetV1c
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 2, 4),
        strides=(1, 2, 1, 1),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        contract_dilation=True,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/pretrain/third_party/'
            'resnet101_v1c-e67eebb6.pth',
            sha256='e67eebb6',
            layout='openmmlab')),
    seg_head=dict(
        type='PSPHead',
        in_channels=2048,
        in_index=3,
        channels=512,
        pool_scales=(1, 2, 3, 6),
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss',
            use_sigmoid=False,
            loss_weight=1.0,
            avg_non_ignore=True)),
    depth_head=dict(type='ConvDepthHead', in_channels=2048, norm_cfg=norm_cfg),
    mode='semimtl',
    inter_mode='m2',
    num_domains=2,
    task_weights=dict(seg=1.0, depth=0.01),
    lambda_intra=0.001,
    lambda_inter=0.0001,
    # Algorithm 1: one generator update per domain's mini-batch, the
    # discriminators once per iteration ('pooled': one generator update)
    generator_update='per_domain',
    discriminator=dict(type='TaskDiscriminator'),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
# generator and discriminators are wrapped (and synchronised) separately
model_wrapper_cfg = dict(
    type='MMSeparateDistributedDataParallel',
    broadcast_buffers=False,
    find_unused_parameters=True)
