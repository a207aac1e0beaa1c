# SemiMTL (M2) in the cross-dataset setting (Table 2): Potsdam segmentation
# + Vaihingen nDSM height, evaluated on both (6 ISPRS classes).
_base_ = [
    '../_base_/models/semimtl_r101.py',
    '../_base_/datasets/semimtl_isprs_cross-dataset.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_semimtl_40k.py'
]
model = dict(seg_head=dict(num_classes=6))
# the depth task's target (inverse depth / height) is drawn as it is
visualizer = dict(depth_encoding='target')
