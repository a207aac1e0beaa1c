# SOSD-Net on NYUv2 (Sec. 4.1): Adam lr 1e-4, batch 16, 60 epochs.
_base_ = './schedule_sosd_40e.py'
train_cfg = dict(max_epochs=60)
