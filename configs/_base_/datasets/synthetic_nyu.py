# Generated indoor rooms in the NYUv2 layout (CPU experiments, tests): the
# NYUv2 config on `data/synthetic_nyu` at 120x160. Generate with `python
# tools/misc/make_synthetic_dataset.py --layout nyu --out data/synthetic_nyu`.
_base_ = './nyu_sosd.py'
data_root = 'data/synthetic_nyu'
img_scale = (160, 120)  # (w, h)
train_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(type='LoadDepthSegAnnotations'),
    dict(type='MultiViewResize', scale=img_scale, keep_ratio=False),
    dict(type='MultiViewRandomResize', ratios=(1.0, 1.2, 1.5)),
    dict(type='MultiViewRandomCrop', crop_size=(120, 160)),
    dict(type='MultiViewRandomFlip', prob=0.5),
    dict(type='MultiViewColorJitter', prob=0.5),
    dict(type='PackMultiViewInputs')
]
test_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(type='MultiViewResize', scale=img_scale, keep_ratio=False),
    dict(type='LoadDepthSegAnnotations'),
    dict(type='PackMultiViewInputs')
]
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=2, dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
