# ESOSD-Net's EM-style alternation (SOSD-Net Algorithm 1), one phase per
# iteration. In a phase the other task's whole branch is fixed:
# - shared (θ^com, trained in both phases): backbone, context neck and the
#   decoder's common representation;
# - depth phase (θ^dep, θ^3d, θ^2d of Fig. 6), depth loss only: the depth
#   refinement of the low-level feature (48-channel 1x1 conv of Fig. 5),
#   the depth feature and depth conv, the 3D latent ΔXΔY (`obj_3d`) and the
#   2D latent (ΔuΔv)^-1 (`obj_2d`);
# - semantic phase (θ^sem, θ^3d, θ^{d^-2} of Fig. 7), segmentation loss
#   only: the semantic refinement (48-channel 1x1 conv), the semantic
#   feature and classifier, and the depth-to-semantic unit (its 3D latent
#   and its d^-2 latent, `obj_inv_depth`).
# The frozen branch's BatchNorm layers are in eval mode during the phase
# (`freeze_norm_stats=True`): their running statistics stay fixed too.
custom_hooks = [
    dict(
        type='EMAlternatingHook',
        period=1,
        by_epoch=False,
        freeze_norm_stats=True,
        phases=[
            dict(
                name='depth',
                tasks=('depth', ),
                trainable=('backbone', 'neck', 'decode_head.decoder.common',
                           'decode_head.decoder.refine.depth',
                           'decode_head.depth_branch', 'decode_head.obj_3d',
                           'decode_head.obj_2d')),
            dict(
                name='semantic',
                tasks=('seg', ),
                trainable=('backbone', 'neck', 'decode_head.decoder.common',
                           'decode_head.decoder.refine.seg',
                           'decode_head.seg_branch',
                           'decode_head.obj_inv_depth')),
        ])
]
