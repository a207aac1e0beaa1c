# Table 1b: + CE + semantics-guided triplet loss, no CMA. The released code
# trains this row with the CE weight gamma = 1.0 (its options.py: "0.3 for
# training the full model ... 1.0 for training (only SGT) or (only SGT)");
# the paper gives only gamma = 0.3.
_base_ = './fsre_r18_kitti.py'
model = dict(decoder=dict(cma_layers=()), seg_loss=dict(loss_weight=1.0))
