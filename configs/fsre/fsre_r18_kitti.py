# FSRE-Depth, ResNet-18, KITTI raw (Eigen-Zhou train, Eigen test), 192x640,
# batch 12, ImageNet-initialised encoders.
_base_ = [
    '../_base_/models/fsre_r18.py',
    '../_base_/datasets/kitti_raw_eigen_zhou.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_fsre_20e.py'
]
pretrained = 'https://download.pytorch.org/models/resnet18-f37072fd.pth'
model = dict(
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    pose_net=dict(pretrained=pretrained))
# pseudo segmentation labels (tools/generate_pseudo_seg.py) next to image_02
train_dataloader = dict(dataset=dict(seg_dir='semantic_{cam:02d}'))
# self-supervised depth is known only up to scale: colour ground truth and
# prediction each with its own range in the pictures
visualizer = dict(shared_depth_range=False)
