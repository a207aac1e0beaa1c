# Pseudo-MTL, VGG-16, on your own rectified stereo footage
# (docs/en/own_video.md) at 192x480. Set the two lines below (or pass
# `--cfg-options train_dataloader.dataset.data_root=...`); the camera file
# of every sequence gives pixel intrinsics and the baseline (metres).
# One stage: the whole network (Eq. 11) trained jointly with stage 1's
# schedule. For the paper's two stages, train this config with
# `--cfg-options model.seg_head=None` (depth) and `model.depth_head=None`
# (segmentation), merge them (tools/model_converters/merge_checkpoints.py)
# and fine-tune with `load_from` and schedule_pseudo_mtl_stage2_20e.py, as
# pseudo_mtl_vgg16_kitti*.py do.
_base_ = [
    '../_base_/models/pseudo_mtl_vgg16.py',
    '../_base_/datasets/own_video_stereo_pseudo.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_pseudo_mtl_stage1_30e.py'
]
data_root = 'data/own_video_stereo'  # video.py --out-dir
intrinsics_file = None  # None: <seq>/intrinsics.json|yaml; or one file
# evaluated as the KITTI configs are: disparity resized, then inverted
model = dict(test_cfg=dict(depth_resize='disparity', flip_post_process=False))
train_dataloader = dict(
    dataset=dict(data_root=data_root, intrinsics_file=intrinsics_file))
# no depth ground truth: no validation while training (check predictions
# with demo/video_demo.py). With metric depth maps <seq>/depth_02/<frame>.png
# (uint16, m * 256), tools/test.py evaluates the val split.
val_dataloader = None
val_evaluator = None
val_cfg = None
test_dataloader = dict(
    dataset=dict(data_root=data_root, intrinsics_file=intrinsics_file))
