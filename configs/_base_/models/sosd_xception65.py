# SOSD-Net (Sec. 3): aligned Xception-65 (output stride 16) -> ASPP +
# cross-channel learner + full-image extractor (Fig. 4) -> decoder (Fig. 5)
# with the semantic-to-depth (Fig. 6) and depth-to-semantic (Fig. 7)
# objectness modules; L1 depth on valid pixels (Eq. 7) + CE (Eq. 6).
# ImageNet weights: `model.backbone.init_cfg = dict(type='Pretrained',
# checkpoint=PATH)`.
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
    backbone=dict(type='Xception65', output_stride=16, norm_cfg=norm_cfg),
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
