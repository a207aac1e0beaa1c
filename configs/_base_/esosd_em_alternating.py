# ESOSD-Net's EM-style alternation (SOSD-Net Algorithm 1), one phase per
# iteration: the depth phase trains the common backbone and decoder, the
# depth-specific layers and the 3D / 2D objectness branches on the depth
# loss only; the semantic phase the common part, the semantic-specific
# layers and the 3D / d^-2 branches on the segmentation loss only.
custom_hooks = [
    dict(
        type='EMAlternatingHook',
        period=1,
        by_epoch=False,
        phases=[
            dict(
                name='depth',
                tasks=('depth', ),
                trainable=('backbone', 'neck', 'decode_head.decoder',
                           'decode_head.depth_branch', 'decode_head.obj_3d',
                           'decode_head.obj_2d')),
            dict(
                name='semantic',
                tasks=('seg', ),
                trainable=('backbone', 'neck', 'decode_head.decoder',
                           'decode_head.seg_branch', 'decode_head.obj_3d',
                           'decode_head.obj_inv_depth')),
        ])
]
