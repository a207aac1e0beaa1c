# Pseudo-MTL trained on KITTI: segmentation mIoU on the 200 labelled images
# of the KITTI 2015 semantic benchmark (19 classes). Test only; run
# tools/test.py with a checkpoint of pseudo_mtl_vgg16_kitti.py. The dataset
# of `../_base_/datasets/kitti_semantic.py` is written out here (MMEngine
# refuses two bases that define the same keys).
_base_ = './pseudo_mtl_vgg16_kitti.py'
# images resized to the network's 192x480, labels loaded after the resize so
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
