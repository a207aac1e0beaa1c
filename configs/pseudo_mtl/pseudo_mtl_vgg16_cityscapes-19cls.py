# Pseudo-MTL stage 2 on Cityscapes in the 19 classes (depth network from
# pseudo_mtl_vgg16_cityscapes_stage1-depth, segmentation decoder from
# pseudo_mtl_vgg16_cityscapes-19cls_stage1-seg).
_base_ = './pseudo_mtl_vgg16_cityscapes.py'
model = dict(seg_head=dict(num_classes=19))
train_dataloader = dict(
    dataset=dict(
        metainfo=None,
        label_id_format='cityscapes_labelIds',
        right_label_id_format='trainIds'))
val_dataloader = dict(
    dataset=dict(metainfo=None, label_id_format='cityscapes_labelIds'))
test_dataloader = val_dataloader
load_from = 'work_dirs/pseudo_mtl_vgg16_cityscapes-19cls_stage1-merged.pth'
