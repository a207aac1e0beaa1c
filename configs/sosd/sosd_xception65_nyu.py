# SOSD-Net on NYUv2 (Tables 2-3): 40 classes, metric depth.
_base_ = [
    '../_base_/models/sosd_xception65.py', '../_base_/datasets/nyu_sosd.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_sosd_60e.py'
]
model = dict(
    decode_head=dict(num_classes=40), depth_mode='depth', max_depth=10.)
