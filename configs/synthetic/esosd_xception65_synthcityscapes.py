# ESOSD-Net (EM alternation, one phase per iteration) on generated
# Cityscapes-layout scenes, CPU-sized like sosd_xception65_synthcityscapes
# (random init, no ImageNet weights are downloaded).
_base_ = [
    './sosd_xception65_synthcityscapes.py',
    '../_base_/esosd_em_alternating.py'
]
