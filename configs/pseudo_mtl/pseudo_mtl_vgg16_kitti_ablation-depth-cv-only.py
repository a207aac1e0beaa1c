# Ablation (Table 4): confidence + L_d,c, without L_s,c.
_base_ = './pseudo_mtl_vgg16_kitti.py'
model = dict(seg_cv_loss=None)
