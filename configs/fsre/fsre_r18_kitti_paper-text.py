# FSRE-Depth, ResNet-18, KITTI: the reading of the paper's text where it
# differs from the authors' released code (which `fsre_r18_kitti.py`
# follows, as it produced the published numbers). One line per difference;
# README.md, "Differences from the paper", says which is which.
_base_ = './fsre_r18_kitti.py'
model = dict(
    decoder=dict(
        # Eq. 13: scores / sqrt(C') (released: / sqrt(H * C'))
        cma_cfg=dict(score_scaling='embed_channels'),
        # Sec. 3.2 / 3.3: F_d^l, the CMA input, is the SGT input (released:
        # the CMA output)
        features_after_cma=False),
    # Monodepth2, the paper's baseline: photometric scales averaged,
    # smoothness mean_s L_s / 2^s (released: sum_s L_s / 2^s for both)
    photometric_loss=dict(scale_weighting='mean'),
    smoothness_loss=dict(scale_weighting='halved_mean'),
    sgt_loss=dict(
        # Eq. 8: |P+|, |P-| > T over the neighbours of the anchor inside
        # the image (released: >= T, anchor a positive, padding negative)
        inclusive_threshold=False,
        count_anchor=False,
        padding_as_negative=False,
        min_sq_distance=None,
        # Sec. 3.2.2: "We sum over the L_SGT ... across multiple layers"
        # (released: layer at scale s weighted 1 / 2^s)
        scale_weighting='sum'))
