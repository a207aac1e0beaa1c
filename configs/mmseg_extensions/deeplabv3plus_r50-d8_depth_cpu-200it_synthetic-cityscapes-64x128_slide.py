# CPU variant of the slide-inference example: 64x128 windows (the training
# crop) with a 2/3 stride over the 128x256 test images; the logits and the
# depth of the windows are stitched.
_base_ = './deeplabv3plus_r50-d8_depth_cpu-200it_synthetic-cityscapes-64x128.py'
model = dict(test_cfg=dict(mode='slide', crop_size=(64, 128), stride=(42, 85)))
