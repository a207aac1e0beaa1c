# Table 3b: SGT patch size K = 3 (T = K - 1).
_base_ = './fsre_r18_kitti.py'
model = dict(sgt_loss=dict(patch_size=3))
