# Pseudo-MTL stage 1, depth network E + D_d on KITTI stereo at 480x192:
# L = 850 * L_d (confidence-weighted L1 to the pseudo depth) + L_d,c.
_base_ = [
    '../_base_/models/pseudo_mtl_vgg16.py',
    '../_base_/datasets/kitti_stereo_pseudo.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_pseudo_mtl_stage1_30e.py'
]
# KITTI Eigen benchmark (monodepth2's export_gt_depth.py + evaluate_depth.py,
# against which the paper's Tables 2 and 6 compare): the predicted disparity is
# resized to the ground truth's size, then inverted; no flip post-processing.
# The depth is metric (calibrated baseline): no median scaling, no fixed scale
# factor (5.4 is for models trained with monodepth2's 0.1 baseline units).
model = dict(
    seg_head=None,
    test_cfg=dict(depth_resize='disparity', flip_post_process=False))
val_evaluator = dict(median_scaling=False, pred_depth_scale_factor=1.0)
test_evaluator = val_evaluator
