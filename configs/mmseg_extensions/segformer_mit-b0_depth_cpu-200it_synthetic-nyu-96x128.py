# CPU variant of the SegFormer-MiT-B0 NYUv2 example on generated NYUv2-layout
# data: MiT-B0 as it is (3.7 M parameters) from random init (the example's
# ImageNet checkpoint is not downloaded), 96x128 crops, test at 120x160.
_base_ = [
    './segformer_mit-b0_depth_8xb2-160k_nyu-480x640.py',
    './_base_/cpu_synthetic_nyu.py',
    './_base_/cpu_schedule_200it.py'
]
env_cfg = dict(dist_cfg=dict(backend='gloo'))
model = dict(
    data_preprocessor=dict(size={{_base_.cpu_crop_size}}),
    backbone=dict(init_cfg=None),
    decode_head=dict(norm_cfg={{_base_.cpu_norm_cfg}}))
train_dataloader = {{_base_.cpu_train_dataloader}}
val_dataloader = {{_base_.cpu_val_dataloader}}
test_dataloader = {{_base_.cpu_test_dataloader}}
train_cfg = {{_base_.cpu_train_cfg}}
param_scheduler = {{_base_.cpu_param_scheduler}}
default_hooks = {{_base_.cpu_default_hooks}}
