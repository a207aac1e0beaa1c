# KITTI 2015 semantic benchmark (README, "Dataset preparation"; FSRE-Depth
# Table 2): segmentation mIoU on the 200 labelled training images,
# `training/image_2/<NNNNNN>_10.png` with Cityscapes labelIds in
# `training/semantic/<NNNNNN>_10.png` (mapped to the 19 trainIds while
# loading). Test only: the images are resized to 192x640 for the network and
# the labels are loaded after the resize, so they stay at full resolution.
dataset_type = 'KittiSemanticDataset'
data_root = 'data/kitti_2015'
img_scale = (640, 192)  # (w, h)
test_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(type='MultiViewResize', scale=img_scale, keep_ratio=False),
    dict(type='LoadDepthSegAnnotations', with_depth=False),
    dict(type='PackMultiViewInputs')
]
test_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='training/image_2', seg_map_path='training/semantic'),
        img_suffix='_10.png',
        seg_map_suffix='_10.png',
        label_id_format='cityscapes_labelIds',
        test_mode=True,
        pipeline=test_pipeline))
# no depth ground truth here: only the segmentation part reports numbers
test_evaluator = dict(
    type='DepthSegMetric',
    iou_cfg=dict(type='IoUMetric', iou_metrics=['mIoU']),
    depth_cfg=None)
