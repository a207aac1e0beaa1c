# Pseudo-MTL stage 1, depth network E + D_d on KITTI stereo at 480x192:
# L = 850 * L_d (confidence-weighted L1 to the pseudo depth) + L_d,c.
_base_ = [
    '../_base_/models/pseudo_mtl_vgg16.py',
    '../_base_/datasets/kitti_stereo_pseudo.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_pseudo_mtl_stage1_30e.py'
]
model = dict(seg_head=None)
