# FSRE-Depth, ResNet-18, on your own monocular footage (docs/en/own_video.md)
# at 192x640, batch 12, ImageNet-initialised encoders, the KITTI schedule.
# Set the two lines below (or pass `--cfg-options
# train_dataloader.dataset.data_root=... train_dataloader.dataset.
# intrinsics_file=...`); everything else is fsre_r18_kitti.py's method.
_base_ = [
    '../_base_/models/fsre_r18.py', '../_base_/datasets/own_video.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_fsre_20e.py'
]
data_root = 'data/own_video'  # tools/dataset_converters/video.py --out-dir
intrinsics_file = None  # None: <seq>/intrinsics.json|yaml; or one file
# the model exactly as fsre_r18_kitti.py (ImageNet ResNet-18, SHA-256
# verified, for both encoders; docs/en/pretrained.md)
imagenet_r18 = dict(
    type='Pretrained',
    checkpoint='https://download.pytorch.org/models/resnet18-f37072fd.pth',
    sha256='f37072fd47e89c5e827621c5baffa7500819f7896bbacec160b1a16c560e07ec',
    layout='torchvision')
model = dict(
    backbone=dict(init_cfg=imagenet_r18),
    pose_net=dict(encoder=dict(init_cfg=imagenet_r18)),
    test_cfg=dict(depth_resize='disparity', flip_post_process=False))
# pseudo segmentation labels (tools/generate_pseudo_seg.py) next to image_02
train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        intrinsics_file=intrinsics_file,
        seg_dir='semantic_{cam:02d}'))
# no depth ground truth: no validation while training (check predictions
# with demo/video_demo.py). With metric depth maps <seq>/depth_02/<frame>.png
# (uint16, m * 256), tools/test.py evaluates the val split.
val_dataloader = None
val_evaluator = None
val_cfg = None
test_dataloader = dict(
    dataset=dict(data_root=data_root, intrinsics_file=intrinsics_file))
# self-supervised depth is known only up to scale
visualizer = dict(shared_depth_range=False)
