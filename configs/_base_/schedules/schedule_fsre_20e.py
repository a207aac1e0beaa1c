# FSRE-Depth / Monodepth2 schedule: Adam 1.5e-4, 20 epochs, x0.1 after
# epochs 10 and 15.
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='Adam', lr=1.5e-4))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[10, 15], gamma=0.1)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=20, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='DepthSegVisualizationHook'))
