# SOSD-Net on generated NYUv2-layout rooms at 120x160 on a CPU (random init,
# 40 classes, metric depth). Generate: `python
# tools/misc/make_synthetic_dataset.py --layout nyu --out data/synthetic_nyu`.
_base_ = [
    '../_base_/models/sosd_xception65_cpu.py',
    '../_base_/datasets/synthetic_nyu.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_600it_adam.py'
]
model = dict(
    decode_head=dict(num_classes=40), depth_mode='depth', max_depth=10.)
optim_wrapper = dict(optimizer=dict(lr=4e-4))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
