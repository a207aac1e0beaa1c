# Table 1b: + cross-entropy on pseudo labels (shared encoder only).
_base_ = './fsre_r18_kitti.py'
model = dict(sgt_loss=None, decoder=dict(cma_layers=()))
