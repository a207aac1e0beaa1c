# CPU variant of the DeepLabV3+-R50 example on generated Cityscapes-layout
# data: ResNetV1c-50 at 1/8 width (stage outputs 32-256 channels), heads to
# match, BN, random init (nothing is downloaded), 64x128 crops.
_base_ = [
    './deeplabv3plus_r50-d8_depth_4xb2-80k_cityscapes-512x1024.py',
    './_base_/cpu_synthetic_cityscapes.py',
    './_base_/cpu_schedule_200it.py'
]
env_cfg = dict(dist_cfg=dict(backend='gloo'))
norm_cfg = {{_base_.cpu_norm_cfg}}
model = dict(
    pretrained=None,
    data_preprocessor=dict(size={{_base_.cpu_crop_size}}),
    backbone=dict(stem_channels=16, base_channels=8, norm_cfg=norm_cfg),
    decode_head=dict(
        in_channels=256,
        channels=32,
        c1_in_channels=32,
        c1_channels=8,
        norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=128, channels=16, norm_cfg=norm_cfg),
    depth_head=dict(
        in_channels=256, channels=(32, 16, 8), norm_cfg=norm_cfg))
train_dataloader = {{_base_.cpu_train_dataloader}}
val_dataloader = {{_base_.cpu_val_dataloader}}
test_dataloader = {{_base_.cpu_test_dataloader}}
train_cfg = {{_base_.cpu_train_cfg}}
param_scheduler = {{_base_.cpu_param_scheduler}}
default_hooks = {{_base_.cpu_default_hooks}}
tta_pipeline = None  # the example's TTA resizes to 2048x1024
