# Table 4a: CMA refines the depth decoder only (T = D). Table 4 is measured
# with CE + CMA and no SGT (its row T = D,S is Table 1b's "+CMA" row,
# fsre_r18_kitti_ablation-ce-cma.py).
_base_ = './fsre_r18_kitti_ablation-ce-cma.py'
model = dict(decoder=dict(cma_cfg=dict(direction='depth')))
