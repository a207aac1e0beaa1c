# SemiMTL (M2, the default) in the cross-city setting (Table 1): Cityscapes
# segmentation + Cityscapes-depth (train_extra) disparity.
_base_ = [
    '../_base_/models/semimtl_r101.py',
    '../_base_/datasets/semimtl_cityscapes_cross-city.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_semimtl_40k.py'
]
# the depth task's target (inverse depth / height) is drawn as it is
visualizer = dict(depth_encoding='target')
