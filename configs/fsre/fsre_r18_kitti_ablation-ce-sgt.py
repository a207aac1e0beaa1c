# Table 1b: + CE + semantics-guided triplet loss, no CMA.
_base_ = './fsre_r18_kitti.py'
model = dict(decoder=dict(cma_layers=()))
