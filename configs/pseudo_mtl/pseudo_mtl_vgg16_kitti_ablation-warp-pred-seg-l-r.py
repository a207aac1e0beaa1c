# Table 4 ablation, b = d_i, L_s,l / L_s,r only: warped with the predicted
# depth, no confidence, no L_d,c.
# Stage 1 with the same components off, then stage 2: run
# `python tools/pseudo_mtl_chain.py THIS_CONFIG` (it writes load_from).
_base_ = './pseudo_mtl_vgg16_kitti.py'
model = dict(
    use_confidence=False,
    depth_cv_loss=None,
    seg_cv_loss=dict(
        warp_with='pred', use_confidence=False, terms=('l', 'r')))
load_from = 'work_dirs/{{fileBasenameNoExtension}}/stage1-merged.pth'
