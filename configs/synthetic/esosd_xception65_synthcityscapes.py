# ESOSD-Net (EM alternation, one phase per iteration) on generated
# Cityscapes-layout scenes, CPU-sized like sosd_xception65_synthcityscapes.
_base_ = './sosd_xception65_synthcityscapes.py'
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
