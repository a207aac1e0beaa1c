# SemiSD baseline: one binary ground-truth-vs-prediction discriminator per
# task, without domain awareness.
_base_ = './semimtl_r101_isprs_cross-dataset.py'
model = dict(mode='semisd')
