# SemiMTL (M3, Eq. 6): unlabelled-task predictions aligned to the joint
# distribution of ground truth and labelled predictions.
_base_ = './semimtl_r101_cityscapes_cross-city.py'
model = dict(inter_mode='m3')
