# Table 4b: CMA with H = 2 embedding(s).
_base_ = './fsre_r18_kitti.py'
model = dict(decoder=dict(cma_cfg=dict(num_embeddings=2)))
