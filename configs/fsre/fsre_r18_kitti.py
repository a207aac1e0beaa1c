# FSRE-Depth, ResNet-18, KITTI raw (Eigen-Zhou train, Eigen test), 192x640,
# batch 12, ImageNet-initialised encoders.
_base_ = [
    '../_base_/models/fsre_r18.py',
    '../_base_/datasets/kitti_raw_eigen_zhou.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_fsre_20e.py'
]
# ImageNet ResNet-18 (torchvision IMAGENET1K_V1), SHA-256-verified, for the
# depth encoder and the pose encoder (whose 6-channel conv1 gets the 3-channel
# weights duplicated and halved). Random init instead: --cfg-options
# model.backbone.init_cfg=None model.pose_net.encoder.init_cfg=None
# (docs/en/pretrained.md).
imagenet_r18 = dict(
    type='Pretrained',
    checkpoint='https://download.pytorch.org/models/resnet18-f37072fd.pth',
    sha256='f37072fd47e89c5e827621c5baffa7500819f7896bbacec160b1a16c560e07ec',
    layout='torchvision')
model = dict(
    backbone=dict(init_cfg=imagenet_r18),
    pose_net=dict(encoder=dict(init_cfg=imagenet_r18)),
    # KITTI Eigen benchmark (monodepth2's evaluate_depth.py, used by FSRE's
    # code): the predicted disparity is resized to the ground truth's size,
    # then inverted; no flip post-processing (FSRE's evaluation has none)
    test_cfg=dict(depth_resize='disparity', flip_post_process=False))
# pseudo segmentation labels (tools/generate_pseudo_seg.py) next to image_02
train_dataloader = dict(dataset=dict(seg_dir='semantic_{cam:02d}'))
# self-supervised depth is known only up to scale: colour ground truth and
# prediction each with its own range in the pictures
visualizer = dict(shared_depth_range=False)
# Evaluation (paper Sec. 4.1, FSRE's and monodepth2's code): Eigen's 697
# frames, velodyne ground truth as the published benchmark exports it, Garg
# crop, 1e-3..80 m, monocular model: per-image median scaling, no fixed scale
# factor (a stereo-trained model would use median_scaling=False and 5.4)
# `tools/test.py --tta`: monodepth2's flip post-processing of the disparity
# (its "PP" results; not used by FSRE's own evaluation)
tta_model = dict(type='DepthSegTTAModel', depth_merge='flip_post_process')
val_evaluator = dict(median_scaling=True, pred_depth_scale_factor=1.0)
test_evaluator = val_evaluator
