# Table 4a: CMA refines the segmentation decoder only (T = S).
_base_ = './fsre_r18_kitti.py'
model = dict(decoder=dict(cma_cfg=dict(direction='seg')))
