# Supervised baseline on generated Cityscapes-layout street scenes: trains on
# a 2-core CPU in a few minutes (`make demo`). Random init (the base model's),
# no ImageNet weights: nothing is downloaded.
_base_ = [
    '../_base_/models/baseline_r18_unet.py',
    '../_base_/datasets/synthetic_cityscapes.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_600it_adam.py'
]
env_cfg = dict(dist_cfg=dict(backend='gloo'))
