# MTL baseline on Cityscapes (Table 1): shared backbone and decoder, no
# semantic-to-depth / depth-to-semantic modules.
_base_ = './sosd_xception65_cityscapes.py'
model = dict(
    decode_head=dict(semantic_to_depth=False, depth_to_semantic=False))
