# Ablation (Table 5, b = d_pgt without C_i): L_s,c warped by the pseudo
# depth, unweighted; no L_d,c.
_base_ = './pseudo_mtl_vgg16_cityscapes.py'
model = dict(
    use_confidence=False,
    depth_cv_loss=None,
    seg_cv_loss=dict(use_confidence=False))
