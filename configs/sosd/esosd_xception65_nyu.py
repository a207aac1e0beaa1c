# ESOSD-Net on NYUv2 (Tables 2-3): SOSD-Net trained by the EM-style
# alternation of Algorithm 1 (`EMAlternatingHook`, one phase per iteration).
_base_ = ['./sosd_xception65_nyu.py', '../_base_/esosd_em_alternating.py']
