# STL baseline for segmentation: the segmentation network on the
# segmentation-labelled source only (its results are the delta_m baseline).
_base_ = './semimtl_r101_cityscapes_cross-city.py'
model = dict(mode='stl', depth_head=None, discriminator=None)
optim_wrapper = dict(discriminator=None)
param_scheduler = dict(discriminator=None)
train_dataloader = dict(
    sampler=dict(batch_size_per_source=[4]),
    dataset=dict(sources=[_base_.seg_source]))
