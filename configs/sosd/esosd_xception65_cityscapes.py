# ESOSD-Net on Cityscapes (Table 1): SOSD-Net trained by the EM-style
# alternation of Algorithm 1 (`EMAlternatingHook`, one phase per iteration).
_base_ = [
    './sosd_xception65_cityscapes.py', '../_base_/esosd_em_alternating.py'
]
