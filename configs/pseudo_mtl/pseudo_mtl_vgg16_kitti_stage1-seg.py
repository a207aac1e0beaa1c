# Pseudo-MTL stage 1, segmentation network E + D_s on KITTI stereo at
# 480x192: L = 2.5 * CE (pseudo labels of both views) + L_s,c (warped with
# the pseudo depth). Trained for its segmentation decoder.
_base_ = [
    '../_base_/models/pseudo_mtl_vgg16.py',
    '../_base_/datasets/kitti_stereo_pseudo.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_pseudo_mtl_stage1_30e.py'
]
model = dict(depth_head=None)
# no depth head: validate nothing during training (KITTI raw has no
# segmentation ground truth); test the final network with stage 2's configs
val_cfg = None
val_dataloader = None
val_evaluator = None
