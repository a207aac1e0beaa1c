# Ablation (Table 4, 'Baseline'): no confidence, no cross-view consistency.
_base_ = './pseudo_mtl_vgg16_kitti.py'
model = dict(use_confidence=False, depth_cv_loss=None, seg_cv_loss=None)
