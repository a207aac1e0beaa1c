# Table 3b: SGT patch size K = 7 (T = K - 1). Table 3b is measured with
# CE + SGT and no CMA (its row K = 5 is Table 1b's "+SGT" row,
# fsre_r18_kitti_ablation-ce-sgt.py).
_base_ = './fsre_r18_kitti_ablation-ce-sgt.py'
model = dict(sgt_loss=dict(patch_size=7))
