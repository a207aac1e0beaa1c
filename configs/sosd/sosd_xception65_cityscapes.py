# SOSD-Net on Cityscapes (Table 1): both objectness modules, joint loss,
# disparity (pixels of the 256x512 frame) regressed as the depth branch's
# output; trained and evaluated on whole frames resized to 256x512 (see
# `_base_/datasets/cityscapes_sosd.py`). The data preprocessor pads every
# training sample to the fixed 256x512 network input.
_base_ = [
    '../_base_/models/sosd_xception65.py',
    '../_base_/datasets/cityscapes_sosd.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_sosd_40e.py'
]
model = dict(depth_mode='disparity', data_preprocessor=dict(size=(256, 512)))
