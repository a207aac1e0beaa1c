# Table 3a, row "0-3": SGT on decoder layers (0, 1, 2, 3). Table 3a is
# measured with CE + SGT and no CMA (its row "1-3" is Table 1b's "+SGT"
# row, fsre_r18_kitti_ablation-ce-sgt.py).
_base_ = './fsre_r18_kitti_ablation-ce-sgt.py'
model = dict(decoder=dict(feature_layers=(0, 1, 2, 3)))
