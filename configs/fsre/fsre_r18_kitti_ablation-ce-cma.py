# Table 1b: + CE + cross-task multi-embedding attention, no SGT.
_base_ = './fsre_r18_kitti.py'
model = dict(sgt_loss=None)
