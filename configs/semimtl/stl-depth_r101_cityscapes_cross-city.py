# STL baseline for depth: the depth network on the depth-labelled source
# only (numbered domain 1 for training; validation keeps the domains).
_base_ = './semimtl_r101_cityscapes_cross-city.py'
model = dict(mode='stl', seg_head=None, discriminator=None)
optim_wrapper = dict(discriminator=None)
param_scheduler = dict(discriminator=None)
train_dataloader = dict(
    sampler=dict(batch_size_per_source=[4]),
    dataset=dict(sources=[dict(_base_.depth_source, domain=1)]))
