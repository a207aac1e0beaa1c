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
# KITTI Eigen benchmark (monodepth2's export_gt_depth.py + evaluate_depth.py,
# against which the paper's Tables 2 and 6 compare): the predicted disparity is
# resized to the ground truth's size, then inverted; no flip post-processing.
# The depth is metric (calibrated baseline): no median scaling, no fixed scale
# factor (5.4 is for models trained with monodepth2's 0.1 baseline units).
# every weight comes from load_from: no ImageNet download first
model = dict(
    backbone=dict(init_cfg=None),
    test_cfg=dict(depth_resize='disparity', flip_post_process=False))
val_evaluator = dict(median_scaling=False, pred_depth_scale_factor=1.0)
test_evaluator = val_evaluator
