# STL baseline for segmentation: the segmentation network on the
# segmentation-labelled source only (its results are the delta_m baseline).
_base_ = './semimtl_r101_isprs_cross-dataset.py'
model = dict(mode='stl', depth_head=None, discriminator=None)
optim_wrapper = dict(discriminator=None)
# no discriminator, no scheduler for it (the Runner refuses a None entry)
param_scheduler = dict(
    _delete_=True, generator=_base_.param_scheduler.generator)
train_dataloader = dict(
    sampler=dict(batch_size_per_source=[4]),
    dataset=dict(sources=[_base_.seg_source]))
# evaluate the one task the model predicts, on every domain
val_dataloader = dict(
    dataset=dict(sources=[
        dict(source, tasks=('seg', )) for source in _base_.val_sources
    ]))
test_dataloader = val_dataloader
