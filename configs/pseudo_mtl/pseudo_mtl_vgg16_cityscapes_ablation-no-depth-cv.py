# Ablation (Table 5): confidence + full L_s,c, without L_d,c.
_base_ = './pseudo_mtl_vgg16_cityscapes.py'
model = dict(depth_cv_loss=None)
