# Table 4a: CMA refines the depth decoder only (T = D).
_base_ = './fsre_r18_kitti.py'
model = dict(decoder=dict(cma_cfg=dict(direction='depth')))
