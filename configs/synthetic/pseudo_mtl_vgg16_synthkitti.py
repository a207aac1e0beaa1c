# Pseudo-MTL on generated KITTI-layout stereo at 96x320, one stage on a
# 2-core CPU: VGG-16 at a quarter of the widths, random init, Adam 2e-4.
# Prepare: `python tools/misc/make_synthetic_dataset.py --layout kitti --out
# data/synthetic_kitti` then `python tools/generate_pseudo_depth.py
# data/synthetic_kitti --dataset kitti`.
_base_ = [
    '../_base_/models/pseudo_mtl_vgg16.py',
    '../_base_/datasets/synthetic_kitti_stereo_pseudo.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_pseudo_mtl_stage1_30e.py'
]
enc_channels = (16, 32, 64, 128, 128, 128)
model = dict(
    # quarter widths: random init (no ImageNet weights, nothing downloaded)
    backbone=dict(channels=(16, 32, 64, 128, 128), init_cfg=None),
    depth_head=dict(in_channels=enc_channels, channels=(128, 128, 64, 32, 16)),
    seg_head=dict(
        in_channels=enc_channels,
        channels=16,
        decoder_channels=(128, 128, 64, 32, 16)))
optim_wrapper = dict(optimizer=dict(lr=2e-4))
train_cfg = dict(
    _delete_=True, type='IterBasedTrainLoop', max_iters=400, val_interval=400)
default_hooks = dict(
    logger=dict(interval=20, log_metric_by_epoch=False),
    checkpoint=dict(by_epoch=False, interval=400, max_keep_ckpts=2))
log_processor = dict(by_epoch=False)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
