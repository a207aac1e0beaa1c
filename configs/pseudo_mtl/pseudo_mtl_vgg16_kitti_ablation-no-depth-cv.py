# Ablation (Table 4): confidence + full L_s,c, without L_d,c.
_base_ = './pseudo_mtl_vgg16_kitti.py'
model = dict(depth_cv_loss=None)
