# Pseudo-MTL stage 1, segmentation network on Cityscapes stereo in the 7
# categories (left ground truth, right pseudo labels).
_base_ = [
    '../_base_/models/pseudo_mtl_vgg16.py',
    '../_base_/datasets/cityscapes_stereo_pseudo.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_pseudo_mtl_stage1_30e.py'
]
model = dict(depth_head=None, seg_head=dict(num_classes=7))
