# ESOSD-Net on NYUv2 (Tables 2-3): SOSD-Net trained by the EM-style
# alternation of Algorithm 1 (`EMAlternatingHook`, one phase per iteration).
_base_ = './sosd_xception65_nyu.py'
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
