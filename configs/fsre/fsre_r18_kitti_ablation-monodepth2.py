# Table 1b: the Monodepth2 baseline (no CE, no SGT, no CMA).
_base_ = './fsre_r18_kitti.py'
model = dict(seg_loss=None, sgt_loss=None, decoder=dict(cma_layers=()))
