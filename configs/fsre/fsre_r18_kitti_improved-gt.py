# FSRE-Depth, ResNet-18, evaluated on the Eigen benchmark split (652 of
# Eigen's 697 test frames) against KITTI's improved ground truth (the depth
# benchmark's annotations, Uhrig et al. 2017), as monodepth2's
# `evaluate_depth.py --eval_split eigen_benchmark` does: every pixel with
# ground truth > 0 counts (no crop, no 80 m cap on the ground truth), the
# prediction is clipped to 1e-3..80 m, per-image median scaling. The
# annotations (`data_depth_annotated.zip`) go into the raw drive folders
# (`<drive>/proj_depth/groundtruth/image_02/<frame>.png`), or name their
# extracted root with `improved_gt_root`. Train with `fsre_r18_kitti.py`;
# this config only changes the test set:
#   python tools/test.py configs/fsre/fsre_r18_kitti_improved-gt.py CKPT
_base_ = './fsre_r18_kitti.py'
test_dataloader = dict(
    dataset=dict(
        split_file='data/kitti_splits/eigen_benchmark/test_files.txt',
        gt_depth='improved',
        improved_gt_root=None))
test_evaluator = dict(
    crop=None,
    gt_in_range=False,
    median_scaling=True,
    pred_depth_scale_factor=1.0)
