# SOSD-Net (Sec. 3): aligned Xception-65 (output stride 16) -> ASPP +
# cross-channel learner + full-image extractor (Fig. 4) -> decoder (Fig. 5)
# with the semantic-to-depth (Fig. 6) and depth-to-semantic (Fig. 7)
# objectness modules; L1 depth on valid pixels (Eq. 7) + CE (Eq. 6).
# The backbone starts from ImageNet: timm's port of TF DeepLab's xception_65
# checkpoint (SHA-256 prefix of its file name verified; keys mapped by
# Xception65.convert_pretrained), built as that network was trained: ReLU
# before each separable conv of the entry/middle flows and exit block 1
# (TF DeepLab's activation_fn_in_separable_conv=False) and BN eps 1e-3.
# Random init instead: --cfg-options model.backbone.init_cfg=None
# (docs/en/pretrained.md).
norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(
    type='MultiViewDataPreProcessor',
    mean=[127.5, 127.5, 127.5],
    std=[127.5, 127.5, 127.5],
    bgr_to_rgb=True,
    size_divisor=16,
    seg_pad_val=255)
model = dict(
    type='SOSDNet',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='Xception65',
        output_stride=16,
        norm_cfg=dict(norm_cfg, eps=1e-3),
        act_in_separable_conv=False,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://github.com/rwightman/pytorch-image-models/'
            'releases/download/v0.1-weights/tf_xception_65-c9ae96e8.pth',
            sha256='c9ae96e8',
            layout='timm')),
    neck=dict(
        type='SOSDContextNeck',
        in_channels=2048,
        channels=256,
        dilations=(6, 12, 18),
        norm_cfg=norm_cfg),
    decode_head=dict(
        type='SOSDHead',
        in_channels=(256, 256),
        num_classes=19,
        semantic_to_depth=True,
        depth_to_semantic=True,
        norm_cfg=norm_cfg),
    depth_loss=dict(type='DepthL1Loss'),
    seg_loss=dict(
        type='CrossEntropyLoss',
        use_sigmoid=False,
        loss_weight=1.0,
        avg_non_ignore=True,
        loss_name='loss_ce'),
    depth_mode='depth',
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
# the EM hook freezes whole branches per phase (ESOSD-Net)
find_unused_parameters = True
