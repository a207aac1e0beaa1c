# SOSD-Net on Cityscapes (Table 1): both objectness modules, joint loss,
# disparity (pixels) regressed as the depth branch's output.
_base_ = [
    '../_base_/models/sosd_xception65.py',
    '../_base_/datasets/cityscapes_sosd.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_sosd_40e.py'
]
model = dict(depth_mode='disparity')
