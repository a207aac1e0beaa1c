# mmseg's DeepLabV3+-R50 on Cityscapes + a depth head (depth from disparity):
# the model type, a depth head, our dataset and the joint metric.
_base_ = [
    'mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb2-80k_cityscapes-512x1024.py',
    '../_base_/datasets/mmseg_cityscapes_depth.py'
]
default_scope = 'mmdepthseg'
model = dict(
    type='mmdepthseg.DepthSegEncoderDecoder',
    depth_head=dict(
        type='ConvDepthHead', in_channels=2048, in_index=3,
        channels=(256, 128, 64), norm_cfg=dict(type='SyncBN'),
        loss_depth=dict(type='DepthL1Loss', loss_weight=0.1)))  # metres
train_dataloader = {{_base_.depth_train_dataloader}}
val_dataloader = {{_base_.depth_val_dataloader}}
test_dataloader = {{_base_.depth_test_dataloader}}
val_evaluator = {{_base_.depth_evaluator}}
test_evaluator = {{_base_.depth_test_evaluator}}
tta_model = dict(type='mmdepthseg.DepthSegTTAModel')
tta_pipeline = {{_base_.depth_tta_pipeline}}
