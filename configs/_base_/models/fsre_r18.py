# FSRE-Depth (Jung et al., ICCV 2021): ResNet-18 encoder shared by a
# Monodepth2 depth decoder and a segmentation decoder joined by cross-task
# multi-embedding attention at decoder layers 0-2; separate ResNet-18 pose
# network; L = photometric + 1e-3 smoothness + 0.3 CE + 0.1 SGT (layers 1-3).
# Conventions of the authors' released code (hyBlue/FSRE-Depth), which
# produced the published numbers; `configs/fsre/fsre_r18_kitti_paper-text.py`
# switches each to the reading of the paper's text (configs/fsre/README.md,
# "Differences from the paper").
data_preprocessor = dict(
    type='MultiViewDataPreProcessor',
    # Monodepth2 normalisation: (x / 255 - 0.45) / 0.225
    mean=[114.75, 114.75, 114.75],
    std=[57.375, 57.375, 57.375],
    bgr_to_rgb=True,
    size_divisor=32,
    seg_pad_val=255)
model = dict(
    type='FSREDepth',
    data_preprocessor=data_preprocessor,
    backbone=dict(type='ResNetEncoder', depth=18),
    decoder=dict(
        type='FSREDualDecoder',
        channels=(256, 128, 64, 32, 16),
        num_classes=19,
        num_output_scales=4,
        cma_layers=(0, 1, 2),
        cma_cfg=dict(
            num_embeddings=4,
            embed_ratio=2,
            direction='both',
            # released code: scores / sqrt(H * C'), fusion 3x3 conv + ELU
            # then 1x1 conv (text: / sqrt(C'), "two convolution layers")
            score_scaling='total_channels',
            fusion='conv_act_conv1x1'),
        feature_layers=(1, 2, 3),
        # released code: SGT on the CMA outputs of layers 1, 2
        features_after_cma=True,
        # released code: PyTorch's default init of the decoder convs
        init_mode='pytorch'),
    pose_net=dict(
        type='PoseNet',
        encoder=dict(type='ResNetEncoder', depth=18, in_channels=6)),
    # released code: sum over scales s of L_s / 2^s (photometric and
    # smoothness alike)
    photometric_loss=dict(
        type='PhotometricReprojectionLoss',
        alpha=0.85,
        automask=True,
        scale_weighting='halved_sum'),
    smoothness_loss=dict(
        type='EdgeAwareSmoothnessLoss',
        loss_weight=1e-3,
        scale_weighting='halved_sum'),
    seg_loss=dict(
        type='CrossEntropyLoss',
        loss_weight=0.3,
        avg_non_ignore=True,
        loss_name='loss_ce'),
    # released code: a patch counts with |P+|, |P-| >= K - 1, the anchor
    # among the positives and out-of-image positions as negatives; distances
    # floored at sqrt(1e-9); layer at scale s weighted 1 / 2^s
    sgt_loss=dict(
        type='SemanticGuidedTripletLoss',
        patch_size=5,
        margin=0.3,
        loss_weight=0.1,
        inclusive_threshold=True,
        count_anchor=True,
        padding_as_negative=True,
        min_sq_distance=1e-9,
        scale_weighting='halved_sum'),
    min_depth=0.1,
    max_depth=100.0,
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
