# FSRE-Depth, ResNet-18 (the KITTI raw model): segmentation mIoU on the 200
# labelled images of the KITTI 2015 semantic benchmark (FSRE Table 2).
# Test only; run tools/test.py with a checkpoint of fsre_r18_kitti.py.
# The dataset is the one of `../_base_/datasets/kitti_semantic.py`, written out
# here because MMEngine refuses two bases that define the same keys (both
# define test_dataloader, test_evaluator, test_pipeline, ...).
_base_ = './fsre_r18_kitti.py'
# images resized to the network's 192x640, labels loaded after the resize so
# they are evaluated at full resolution
semantic_test_pipeline = [
    dict(type='LoadMultiViewImages'),
    dict(type='MultiViewResize', scale=_base_.img_scale, keep_ratio=False),
    dict(type='LoadDepthSegAnnotations', with_depth=False),
    dict(type='PackMultiViewInputs')
]
test_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='KittiSemanticDataset',
        data_root='data/kitti_2015',
        data_prefix=dict(
            img_path='training/image_2', seg_map_path='training/semantic'),
        label_id_format='cityscapes_labelIds',
        test_mode=True,
        pipeline=semantic_test_pipeline))
test_evaluator = dict(
    _delete_=True,
    type='DepthSegMetric',
    iou_cfg=dict(type='IoUMetric', iou_metrics=['mIoU']),
    depth_cfg=None)
# `tools/test.py --tta`: flips of the semantic test pipeline
tta_pipeline = None
