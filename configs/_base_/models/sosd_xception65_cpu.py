# SOSD-Net at CPU size for generated data: Xception-65 at a quarter of the
# widths with 4 middle-flow blocks, BN instead of SyncBN, narrow decoder;
# random init (no ImageNet weights fit these widths, nothing is downloaded),
# activations inside the separable convs as the DeepLabV3+ paper draws them.
_base_ = './sosd_xception65.py'
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(
        width_mult=0.25,
        num_middle_blocks=4,
        # BN's default eps (the paper base has TF's 1e-3 for its weights)
        norm_cfg=dict(type='BN', requires_grad=True, eps=1e-5),
        act_in_separable_conv=True,
        init_cfg=None),
    neck=dict(in_channels=512, channels=64, norm_cfg=norm_cfg),
    decode_head=dict(
        in_channels=(64, 64),
        refine_channels=16,
        common_channels=64,
        seg_channels=64,
        depth_channels=(64, 32),
        norm_cfg=norm_cfg))
