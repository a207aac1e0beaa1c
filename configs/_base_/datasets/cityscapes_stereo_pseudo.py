# Cityscapes stereo pairs for Pseudo-MTL (README, "Dataset preparation"):
# the [2048, 768] top part of every frame (the ego car's bonnet cut away),
# resized to 256x96; left ground-truth segmentation (gtFine labelIds) and
# right pseudo segmentation (tools/generate_pseudo_seg.py -> pseudoSeg/,
# trainIds) in the 7 categories of Table 3 (flat, construction, object,
# nature, sky, human, vehicle); stereo pseudo depth + confidence for both
# views (tools/generate_pseudo_depth.py -> pseudoDepth/, pseudoConf/).
# Evaluation on the same window at 256x96: depth from the official
# disparity (abs/sq relative error, no median scaling) and 7-category mIoU
# + pixel accuracy (aAcc). The `*-19cls*` configs of configs/pseudo_mtl/
# switch to the 19 classes.
dataset_type = 'CityscapesDepthSegDataset'
data_root = 'data/cityscapes'
crop_box = dict(crop_size=(768, 2048), offset=(0, 0))  # (h, w), (y0, x0)
img_scale = (256, 96)  # (w, h)
categories = dict(
    classes=('flat', 'construction', 'object', 'nature', 'sky', 'human',
             'vehicle'),
    palette=[[128, 64, 128], [70, 70, 70], [153, 153, 153], [107, 142, 35],
             [70, 130, 180], [220, 20, 60], [0, 0, 142]])
train_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(type='LoadPseudoDepth'),
    dict(type='LoadDepthSegAnnotations'),
    dict(type='MultiViewFixedCrop', **crop_box),
    dict(type='MultiViewResize', scale=img_scale, keep_ratio=False),
    dict(type='MultiViewRandomFlip', prob=0.5),
    dict(type='MultiViewColorJitter', prob=0.5),
    dict(type='PackMultiViewInputs')
]
test_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(type='LoadDepthSegAnnotations'),
    dict(type='MultiViewFixedCrop', **crop_box),
    # evaluate at 256x96: the cropped, resized maps are the ground truth
    dict(
        type='MultiViewResize',
        scale=img_scale,
        keep_ratio=False,
        update_ori_shape=True),
    dict(type='PackMultiViewInputs')
]
train_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=categories,
        data_prefix=dict(
            img_path='leftImg8bit/train',
            right_img_path='rightImg8bit/train',
            seg_map_path='gtFine/train',
            right_seg_map_path='pseudoSeg/train',
            camera_path='camera/train',
            pseudo_depth_path='pseudoDepth/train',
            pseudo_conf_path='pseudoConf/train'),
        views=('l', 'r'),
        seg_map_suffix='_gtFine_labelIds.png',
        label_id_format='cityscapes_labelIds_to_categories',
        right_label_id_format='cityscapes_trainIds_to_categories',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=categories,
        data_prefix=dict(
            img_path='leftImg8bit/val',
            seg_map_path='gtFine/val',
            disp_path='disparity/val',
            camera_path='camera/val'),
        views=('l', ),
        seg_map_suffix='_gtFine_labelIds.png',
        label_id_format='cityscapes_labelIds_to_categories',
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='DepthSegMetric',
    iou_cfg=dict(type='IoUMetric', iou_metrics=['mIoU']),
    depth_cfg=dict(
        type='DepthMetric',
        min_depth=1e-3,
        max_depth=80.,
        median_scaling=False))
test_evaluator = val_evaluator
