# STL baseline for depth: the depth network on the depth-labelled source
# only (numbered domain 1 for training; validation keeps the domains).
_base_ = './semimtl_r101_cityscapes-synscapes_cross-domain.py'
model = dict(mode='stl', seg_head=None, discriminator=None)
optim_wrapper = dict(discriminator=None)
# no discriminator, no scheduler for it (the Runner refuses a None entry)
param_scheduler = dict(
    _delete_=True, generator=_base_.param_scheduler.generator)
train_dataloader = dict(
    sampler=dict(batch_size_per_source=[4]),
    dataset=dict(sources=[dict(_base_.depth_source, domain=1)]))
# evaluate the one task the model predicts, on every domain
val_dataloader = dict(
    dataset=dict(sources=[
        dict(source, tasks=('depth', )) for source in _base_.val_sources
    ]))
test_dataloader = val_dataloader
