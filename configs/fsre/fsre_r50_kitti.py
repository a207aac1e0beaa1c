# FSRE-Depth, ResNet-50 encoder (pose network stays ResNet-18).
_base_ = './fsre_r18_kitti.py'
pretrained_r50 = 'https://download.pytorch.org/models/resnet50-0676ba61.pth'
model = dict(
    backbone=dict(
        depth=50, init_cfg=dict(type='Pretrained', checkpoint=pretrained_r50)))
