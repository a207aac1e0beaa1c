# DA_Depth baseline (Table 2): output-space domain adaptation (AdaptSegNet,
# Tsai et al. 2018, the paper's [56]) of the single-task height network.
# Vaihingen with nDSM labels is the source (domain 2), the unlabelled
# Potsdam images the target (domain 1). A binary discriminator on the
# height map tells source predictions (class 0) from target predictions
# (class 1); the generator's adversarial term on the target (weight
# lambda_inter) pulls them towards the source. No ground truth enters the
# discriminator and there is no intra-domain term. One generator update
# per iteration on source + target, as AdaptSegNet does.
_base_ = './semimtl_r101_isprs_cross-dataset.py'
model = dict(mode='da', seg_head=None, generator_update='pooled')
target_source = dict(
    domain=1,
    tasks=(),
    dataset=dict(
        _base_.potsdam_train, data_prefix=dict(img_path='img_dir/train')))
train_dataloader = dict(
    dataset=dict(sources=[target_source, _base_.depth_source]))
# evaluate the one task the model predicts, on every domain
val_dataloader = dict(
    dataset=dict(sources=[
        dict(source, tasks=('depth', )) for source in _base_.val_sources
    ]))
test_dataloader = val_dataloader
