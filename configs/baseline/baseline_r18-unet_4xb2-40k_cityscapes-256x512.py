# Supervised baseline on real Cityscapes (depth from disparity), 4 GPUs.
_base_ = [
    '../_base_/models/baseline_r18_unet.py',
    '../_base_/datasets/cityscapes_depth.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_40k_adam.py'
]
# ImageNet weights (torchvision's ResNet-18 file, SHA-256-verified; a local
# path works too). Random init instead: --cfg-options
# model.backbone.init_cfg=None
imagenet_r18 = dict(
    type='Pretrained',
    checkpoint='https://download.pytorch.org/models/resnet18-f37072fd.pth',
    sha256='f37072fd47e89c5e827621c5baffa7500819f7896bbacec160b1a16c560e07ec',
    layout='torchvision')
model = dict(backbone=dict(init_cfg=imagenet_r18))
