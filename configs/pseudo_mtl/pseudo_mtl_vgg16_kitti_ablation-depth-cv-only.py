# Table 4 ablation, C_i + L_d,c, without L_s,c.
# Stage 1 with the same components off, then stage 2: run
# `python tools/pseudo_mtl_chain.py THIS_CONFIG` (it writes load_from).
_base_ = './pseudo_mtl_vgg16_kitti.py'
model = dict(seg_cv_loss=None)
load_from = 'work_dirs/{{fileBasenameNoExtension}}/stage1-merged.pth'
