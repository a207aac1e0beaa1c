# Slide inference: 512x1024 windows with a 2/3 stride; the logits and the
# depth of the windows are stitched (each pixel: the mean over the windows
# that cover it).
_base_ = './deeplabv3plus_r50-d8_depth_4xb2-80k_cityscapes-512x1024.py'
model = dict(
    test_cfg=dict(mode='slide', crop_size=(512, 1024), stride=(341, 682)))
