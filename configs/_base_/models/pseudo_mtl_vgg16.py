# Pseudo-MTL (Sec. 3): the convolutional layers of VGG-16 shared by a depth
# decoder and a segmentation decoder symmetric to it; both stereo views pass
# through the network. Eq. 11: 850 * confidence-weighted L1 to the pseudo
# depth + 2.5 * CE + cross-view depth (0.5 lr, 1 l, 1 r) and segmentation
# (0.5 lr, 1.5 l, 1.5 r) consistency, warped with the pseudo depth. The
# depth L1s compare disparity as a fraction of the image width (the unit in
# which alpha_d = 850 balances alpha_s = 2.5; the paper names none, see
# configs/pseudo_mtl/README.md); depth_loss_unit='metre' gives metres.
# The encoder starts from torchvision's ImageNet VGG-16 (SHA-256-verified);
# random init instead: --cfg-options model.backbone.init_cfg=None.
enc_channels = (64, 128, 256, 512, 512, 512)  # VGGEncoder.out_channels
data_preprocessor = dict(
    type='MultiViewDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    size_divisor=32,
    seg_pad_val=255)
model = dict(
    type='PseudoMTL',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='VGGEncoder',
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.pytorch.org/models/vgg16-397923af.pth',
            sha256='397923af8e79cdbb6a7127f12361acd7a2f83e06b05044ddf496e83de57a5bf0',
            layout='torchvision')),
    depth_head=dict(
        type='SymmetricDepthHead',
        in_channels=enc_channels,
        min_depth=0.1,
        max_depth=100.,
        # the sigmoid starts at 10 m (bias logit(0.09 / 9.99)), not at
        # 0.2 m: an L1 in disparity drives a head started 50x too near
        # into the saturated far end, where its gradient vanishes
        init_cfg=dict(
            type='Normal', std=0.01, bias=-4.7,
            override=dict(name='disp_conv'))),
    seg_head=dict(
        type='SymmetricSegHead',
        in_channels=enc_channels,
        channels=64,
        num_classes=19),
    depth_loss=dict(type='ConfidenceWeightedL1Loss', loss_weight=850.),
    seg_loss=dict(
        type='CrossEntropyLoss',
        loss_weight=2.5,
        avg_non_ignore=True,
        loss_name='loss_ce'),
    depth_cv_loss=dict(
        type='CrossViewDepthConsistencyLoss',
        alpha_lr=0.5,
        alpha_l=1.0,
        alpha_r=1.0,
        warp_with='pseudo',
        use_confidence=True),
    seg_cv_loss=dict(
        type='CrossViewSegConsistencyLoss',
        alpha_lr=0.5,
        alpha_l=1.5,
        alpha_r=1.5,
        warp_with='pseudo',
        use_confidence=True),
    use_confidence=True,
    depth_loss_unit='disparity_width',
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
