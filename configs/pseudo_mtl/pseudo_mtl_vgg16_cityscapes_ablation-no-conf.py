# Table 5 ablation, b = d_pgt without C_i: L_s,lr + L_s,l / L_s,r warped by the
# pseudo depth, unweighted; no L_d,c.
# Stage 1 with the same components off, then stage 2: run
# `python tools/pseudo_mtl_chain.py THIS_CONFIG` (it writes load_from).
_base_ = './pseudo_mtl_vgg16_cityscapes.py'
model = dict(
    use_confidence=False,
    depth_cv_loss=None,
    seg_cv_loss=dict(use_confidence=False))
load_from = 'work_dirs/{{fileBasenameNoExtension}}/stage1-merged.pth'
