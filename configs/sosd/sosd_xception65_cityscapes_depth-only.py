# Depth-only network on Cityscapes (Table 1).
_base_ = './sosd_xception65_cityscapes.py'
model = dict(
    decode_head=dict(
        tasks=('depth', ), semantic_to_depth=False, depth_to_semantic=False))
