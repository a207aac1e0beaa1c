# Pseudo-MTL on KITTI, evaluated as in the paper's Table 6: the Eigen
# benchmark split (652 of Eigen's 697 test frames) against KITTI's improved
# ground truth (Uhrig et al. 2017), with the rules of monodepth2's
# `evaluate_depth.py --eval_split eigen_benchmark` against which the table
# compares: every pixel with ground truth > 0 counts (no crop, no 80 m cap on
# the ground truth), the prediction is clipped to 1e-3..80 m; metric depth, so
# no median scaling and no fixed scale factor. The annotations
# (`data_depth_annotated.zip`) go into the raw drive folders
# (`<drive>/proj_depth/groundtruth/image_02/<frame>.png`), or name their
# extracted root with `improved_gt_root`. Train with
# `pseudo_mtl_vgg16_kitti.py`; this config only changes the test set:
#   python tools/test.py configs/pseudo_mtl/pseudo_mtl_vgg16_kitti_improved-gt.py CKPT
_base_ = './pseudo_mtl_vgg16_kitti.py'
test_dataloader = dict(
    dataset=dict(
        split_file='data/kitti_splits/eigen_benchmark/test_files.txt',
        gt_depth='improved',
        improved_gt_root=None))
test_evaluator = dict(
    crop=None,
    gt_in_range=False,
    median_scaling=False,
    pred_depth_scale_factor=1.0)
