# MTL baseline on NYUv2 (Tables 2-3): shared backbone and decoder, no
# semantic-to-depth / depth-to-semantic modules.
_base_ = './sosd_xception65_nyu.py'
model = dict(
    decode_head=dict(semantic_to_depth=False, depth_to_semantic=False))
