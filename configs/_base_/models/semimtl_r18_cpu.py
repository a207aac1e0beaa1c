# SemiMTL at CPU size for generated data: dilated ResNet-18 (random init,
# BN), narrow PSP / depth heads and discriminators; the method is that of
# `semimtl_r101.py`.
_base_ = './semimtl_r101.py'
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(depth=18, norm_cfg=norm_cfg, init_cfg=None),
    seg_head=dict(in_channels=512, channels=64, norm_cfg=norm_cfg),
    depth_head=dict(in_channels=512, channels=(64, 32), norm_cfg=norm_cfg),
    discriminator=dict(channels=(16, 32, 64, 128)))
