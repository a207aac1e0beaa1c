# Extra (no row of the paper): SGT on decoder layers (2,3,4), in the setting
# of Table 3a (CE + SGT, no CMA). The paper's rows are
# fsre_r18_kitti_sgt-layers-{0-1-2-3,1-2-3-4}.py and
# fsre_r18_kitti_ablation-ce-sgt.py (layers 1-3).
_base_ = './fsre_r18_kitti_ablation-ce-sgt.py'
model = dict(decoder=dict(feature_layers=(2, 3, 4)))
