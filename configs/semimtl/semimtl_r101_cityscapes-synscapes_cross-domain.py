# SemiMTL (M2) in the cross-domain setting (Table 3): Cityscapes
# segmentation + Synscapes depth, evaluated on both.
_base_ = [
    '../_base_/models/semimtl_r101.py',
    '../_base_/datasets/semimtl_cityscapes-synscapes_cross-domain.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_semimtl_40k.py'
]
# the depth task's target (inverse depth / height) is drawn as it is
visualizer = dict(depth_encoding='target')
