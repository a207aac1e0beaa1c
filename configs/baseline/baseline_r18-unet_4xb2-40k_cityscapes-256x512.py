# Supervised baseline on real Cityscapes (depth from disparity), 4 GPUs.
_base_ = [
    '../_base_/models/baseline_r18_unet.py',
    '../_base_/datasets/cityscapes_depth.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_40k_adam.py'
]
# ImageNet weights (torchvision's ResNet-18 file; a local path works too)
pretrained = 'https://download.pytorch.org/models/resnet18-f37072fd.pth'
model = dict(
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
