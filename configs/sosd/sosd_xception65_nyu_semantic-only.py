# Semantic-only network on NYUv2 (Tables 2-3).
_base_ = './sosd_xception65_nyu.py'
model = dict(
    decode_head=dict(
        tasks=('seg', ), semantic_to_depth=False, depth_to_semantic=False))
