# Pseudo-MTL stage 2 on Cityscapes in the 7 categories (Table 3): merge the
# stage-1 networks as for KITTI (see pseudo_mtl_vgg16_kitti.py) into
# work_dirs/pseudo_mtl_vgg16_cityscapes_stage1-merged.pth.
_base_ = [
    '../_base_/models/pseudo_mtl_vgg16.py',
    '../_base_/datasets/cityscapes_stereo_pseudo.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_pseudo_mtl_stage2_20e.py'
]
# every weight comes from load_from: no ImageNet download first
model = dict(seg_head=dict(num_classes=7), backbone=dict(init_cfg=None))
load_from = 'work_dirs/pseudo_mtl_vgg16_cityscapes_stage1-merged.pth'
