# Pseudo-MTL stage 1, segmentation network on Cityscapes in the 19 classes:
# left labelIds -> trainIds, right pseudo labels as stored (trainIds).
_base_ = './pseudo_mtl_vgg16_cityscapes_stage1-seg.py'
model = dict(seg_head=dict(num_classes=19))
train_dataloader = dict(
    dataset=dict(
        metainfo=None,
        label_id_format='cityscapes_labelIds',
        right_label_id_format='trainIds'))
val_dataloader = dict(
    dataset=dict(metainfo=None, label_id_format='cityscapes_labelIds'))
test_dataloader = val_dataloader
