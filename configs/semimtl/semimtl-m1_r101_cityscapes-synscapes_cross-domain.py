# SemiMTL (M1, Eq. 4): unlabelled-task predictions aligned to the labelled
# domain's predictions.
_base_ = './semimtl_r101_cityscapes-synscapes_cross-domain.py'
model = dict(inter_mode='m1')
