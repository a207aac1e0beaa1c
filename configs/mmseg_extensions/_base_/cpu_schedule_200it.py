# The CPU variants' schedule and norm layers, shared by the generated-data
# settings of this folder (cpu_synthetic_*.py): 200 iterations of PolyLR,
# one validation at the end, BN instead of the examples' SyncBN. Every key
# is new; a variant takes them with `train_cfg = {{_base_.cpu_train_cfg}}`
# etc.
cpu_norm_cfg = dict(type='BN', requires_grad=True)
cpu_train_cfg = dict(max_iters=200, val_interval=200)
cpu_param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-4,
        power=0.9,
        begin=0,
        end=200,
        by_epoch=False)
]
cpu_default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=200))
