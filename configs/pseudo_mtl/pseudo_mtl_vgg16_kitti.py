# Pseudo-MTL stage 2 on KITTI (the method, Eq. 11): the whole network,
# initialised from the two stage-1 networks, fine-tuned 20 epochs.
# Merge them first:
#   python tools/model_converters/merge_checkpoints.py \
#       --src work_dirs/pseudo_mtl_vgg16_kitti_stage1-depth/epoch_30.pth \
#           backbone depth_head \
#       --src work_dirs/pseudo_mtl_vgg16_kitti_stage1-seg/epoch_30.pth \
#           seg_head \
#       --config configs/pseudo_mtl/pseudo_mtl_vgg16_kitti.py \
#       --out work_dirs/pseudo_mtl_vgg16_kitti_stage1-merged.pth
_base_ = [
    '../_base_/models/pseudo_mtl_vgg16.py',
    '../_base_/datasets/kitti_stereo_pseudo.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_pseudo_mtl_stage2_20e.py'
]
load_from = 'work_dirs/pseudo_mtl_vgg16_kitti_stage1-merged.pth'
# every weight comes from load_from: no ImageNet download first
model = dict(backbone=dict(init_cfg=None))
