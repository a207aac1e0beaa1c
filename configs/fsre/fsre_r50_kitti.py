# FSRE-Depth, ResNet-50 encoder (pose network stays ResNet-18).
_base_ = './fsre_r18_kitti.py'
# ImageNet ResNet-50 (torchvision IMAGENET1K_V1), SHA-256-verified; random
# init instead: --cfg-options model.backbone.init_cfg=None
imagenet_r50 = dict(
    type='Pretrained',
    checkpoint='https://download.pytorch.org/models/resnet50-0676ba61.pth',
    sha256='0676ba61b6795bbe1773cffd859882e5e297624d384b6993f7c9e683e722fb8a',
    layout='torchvision')
model = dict(backbone=dict(depth=50, init_cfg=imagenet_r50))
