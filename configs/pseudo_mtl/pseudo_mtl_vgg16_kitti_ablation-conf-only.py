# Ablation (Table 4, b = d_pgt, C_i only): confidence-weighted L_d, no
# cross-view consistency.
_base_ = './pseudo_mtl_vgg16_kitti.py'
model = dict(depth_cv_loss=None, seg_cv_loss=None)
