# Pseudo-MTL stage 1, depth network on Cityscapes stereo (top 2048x768,
# resized to 256x96).
_base_ = [
    '../_base_/models/pseudo_mtl_vgg16.py',
    '../_base_/datasets/cityscapes_stereo_pseudo.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_pseudo_mtl_stage1_30e.py'
]
model = dict(seg_head=None)
