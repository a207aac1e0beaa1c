# Table 3a: SGT on decoder layers (2, 3, 4).
_base_ = './fsre_r18_kitti.py'
model = dict(decoder=dict(feature_layers=(2, 3, 4)))
