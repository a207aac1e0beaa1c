# Ablation (Table 4): confidence + L_s,lr only (no L_s,l/L_s,r, no L_d,c).
_base_ = './pseudo_mtl_vgg16_kitti.py'
model = dict(depth_cv_loss=None, seg_cv_loss=dict(terms=('lr', )))
