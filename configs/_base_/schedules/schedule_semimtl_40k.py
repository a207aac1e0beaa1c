# SemiMTL (Sec. 4.1): generator SGD lr 0.01, momentum 0.9, weight decay
# 1e-4, poly decay (power 0.9); discriminators Adam lr 1e-4, betas
# (0.9, 0.99), updated after every generator step by DiscriminatorStepHook.
# The paper gives no iteration count; 40k is our choice.
optim_wrapper = dict(
    constructor='GeneratorDiscriminatorOptimWrapperConstructor',
    generator=dict(
        type='OptimWrapper',
        optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4)),
    discriminator=dict(
        type='OptimWrapper',
        optimizer=dict(type='Adam', lr=1e-4, betas=(0.9, 0.99))))
param_scheduler = dict(
    generator=[
        dict(
            type='PolyLR',
            eta_min=0.0,
            power=0.9,
            begin=0,
            end=40000,
            by_epoch=False)
    ],
    discriminator=[])
train_cfg = dict(type='IterBasedTrainLoop', max_iters=40000, val_interval=4000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
custom_hooks = [dict(type='DiscriminatorStepHook', interval=1)]
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=4000,
        max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='DepthSegVisualizationHook'))
