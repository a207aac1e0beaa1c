# SOSD-Net on generated Cityscapes-layout street scenes at 128x256 on a CPU
# (random init, disparity regressed as on Cityscapes). Generate:
# `python tools/misc/make_synthetic_dataset.py --layout cityscapes
# --out data/synthetic_cityscapes`.
_base_ = [
    '../_base_/models/sosd_xception65_cpu.py',
    '../_base_/datasets/synthetic_cityscapes.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_600it_adam.py'
]
model = dict(depth_mode='disparity')
optim_wrapper = dict(optimizer=dict(lr=4e-4))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
