# mmseg's SegFormer-MiT-B0 (its ADE20K config) on NYUv2-40 + a depth head on
# the stride-4 features; the ADE20K data are replaced by ours.
_base_ = [
    'mmseg::segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py',
    '../_base_/datasets/mmseg_nyu_depth.py'
]
default_scope = 'mmdepthseg'
model = dict(
    type='mmdepthseg.DepthSegEncoderDecoder',
    data_preprocessor=dict(size=(480, 640)),
    decode_head=dict(num_classes=40),
    depth_head=dict(
        type='ConvDepthHead', in_channels=32, in_index=0, channels=(64, 32),
        loss_depth=dict(type='DepthL1Loss')))
train_dataloader = {{_base_.depth_train_dataloader}}
val_dataloader = {{_base_.depth_val_dataloader}}
test_dataloader = {{_base_.depth_test_dataloader}}
val_evaluator = {{_base_.depth_evaluator}}
test_evaluator = {{_base_.depth_test_evaluator}}
tta_model = dict(type='mmdepthseg.DepthSegTTAModel')
tta_pipeline = None  # mmseg's ADE20K TTA resizes to 2048x512
