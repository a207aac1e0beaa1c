# Pseudo-MTL stage 2 (Sec. 4.2): the whole network E + D_d + D_s,
# initialised from the two stage-1 networks (`load_from`, see
# tools/model_converters/merge_checkpoints.py), fine-tuned for 20 epochs
# with Adam (lr 1e-5, beta1 0.9), x0.1 every 10 epochs.
_base_ = './schedule_pseudo_mtl_stage1_30e.py'
optim_wrapper = dict(optimizer=dict(lr=1e-5))
param_scheduler = [dict(type='StepLR', by_epoch=True, step_size=10, gamma=0.1)]
train_cfg = dict(max_epochs=20)
