default_scope = 'mmdepthseg'
env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='DepthSegLocalVisualizer',
    vis_backends=vis_backends,
    name='visualizer')
# small loss terms (e.g. a smoothness loss of 5e-05) in scientific notation
log_processor = dict(type='DepthSegLogProcessor', by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
# every run is seeded (Python, NumPy, torch, dataloader workers): a repeated
# run on the same machine gives the same numbers
randomness = dict(seed=0)
# `tools/test.py --tta`: merges the branches of `tta_pipeline` (flip /
# multi-scale; the dataset configs define it)
tta_model = dict(type='DepthSegTTAModel')
# DepthSegRunner (mmdepthseg/engine/runner): MMEngine's Runner with
# crash-safe checkpoints, `--resume` from the newest complete checkpoint,
# bit-exact resume (data order, augmentation draws, random states), and
# optimizer steps of a non-finite loss skipped. The hook below reports the
# skipped steps and stops training after `max_consecutive` in a row;
# `nonfinite_loss_hook = None` turns the skipping off.
runner_type = 'DepthSegRunner'
nonfinite_loss_hook = dict(type='NonFiniteLossHook', max_consecutive=5)
