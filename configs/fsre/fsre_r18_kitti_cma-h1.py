# Table 4b: CMA with H = 1 embedding(s). Table 4 is measured with CE + CMA
# and no SGT (its row H = 4 / T = D,S is Table 1b's "+CMA" row,
# fsre_r18_kitti_ablation-ce-cma.py).
_base_ = './fsre_r18_kitti_ablation-ce-cma.py'
model = dict(decoder=dict(cma_cfg=dict(num_embeddings=1)))
