# JTL baseline: joint training on all sources (supervised losses only, no
# discriminators).
_base_ = './semimtl_r101_cityscapes-synscapes_cross-domain.py'
model = dict(mode='jtl', discriminator=None)
optim_wrapper = dict(discriminator=None)
param_scheduler = dict(discriminator=None)
