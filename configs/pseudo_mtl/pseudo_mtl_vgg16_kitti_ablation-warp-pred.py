# Ablation (Table 4, b = d_i): L_s,c with both terms warped by the predicted
# depth (as Chen et al.), no confidence (infeasible for b = d_i), no L_d,c.
_base_ = './pseudo_mtl_vgg16_kitti.py'
model = dict(
    use_confidence=False,
    depth_cv_loss=None,
    seg_cv_loss=dict(warp_with='pred', use_confidence=False))
