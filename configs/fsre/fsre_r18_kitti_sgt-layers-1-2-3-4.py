# Table 3a, row "1-4": SGT on decoder layers (1, 2, 3, 4). Table 3a is
# measured with CE + SGT and no CMA (its row "1-3" is Table 1b's "+SGT"
# row, fsre_r18_kitti_ablation-ce-sgt.py).
_base_ = './fsre_r18_kitti_ablation-ce-sgt.py'
model = dict(decoder=dict(feature_layers=(1, 2, 3, 4)))
