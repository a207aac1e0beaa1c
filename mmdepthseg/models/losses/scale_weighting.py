# Copyright (c) mmdepthseg contributors. All rights reserved.
"""How a multi-scale loss combines the terms of its scales.

Self-supervised depth losses are computed at several decoder scales
``s = 0, 1, ...`` (resolution ``1 / 2^s`` of the input) and combined as
``sum_s w_s L_s``. The methods and their released code differ only in the
weights ``w_s``, named here:

==================  ===================  =====================================
name                ``w_s``              used by
==================  ===================  =====================================
``'sum'``           ``1``                FSRE-Depth text, SGT over layers
``'mean'``          ``1 / N``            Monodepth2 photometric term
``'halved_sum'``    ``1 / 2^s``          FSRE-Depth released code (photometric,
                                         smoothness, SGT)
``'halved_mean'``   ``1 / (2^s N)``      Monodepth2 smoothness term
==================  ===================  =====================================

``N`` is the number of scales combined.
"""
from typing import List, Sequence

SCALE_WEIGHTINGS = ('sum', 'mean', 'halved_sum', 'halved_mean')


def check_scale_weighting(weighting: str, owner: str) -> str:
    """Return ``weighting`` after checking it is a known name.

    Args:
        weighting (str): One of :data:`SCALE_WEIGHTINGS`.
        owner (str): Class name used in the error message.

    Returns:
        str: ``weighting``.
    """
    if weighting not in SCALE_WEIGHTINGS:
        raise ValueError(f'{owner}: scale_weighting must be one of '
                         f'{SCALE_WEIGHTINGS}, got {weighting!r}')
    return weighting


def scale_weights(weighting: str, scales: Sequence[int]) -> List[float]:
    """The weights ``w_s`` of the scales ``scales`` under ``weighting``.

    Args:
        weighting (str): One of :data:`SCALE_WEIGHTINGS`.
        scales (Sequence[int]): Scale index ``s`` (resolution ``1 / 2^s``)
            of each term, in the order of the terms.

    Returns:
        list[float]: One weight per term.

    Example:
        >>> scale_weights('halved_sum', [0, 1, 2, 3])
        [1.0, 0.5, 0.25, 0.125]
        >>> scale_weights('mean', [0, 1, 2, 3])
        [0.25, 0.25, 0.25, 0.25]
    """
    check_scale_weighting(weighting, 'scale_weights')
    scales = list(scales)
    weights = [
        2.0**-s if weighting.startswith('halved') else 1.0 for s in scales
    ]
    if weighting.endswith('mean') and scales:
        weights = [w / len(scales) for w in weights]
    return weights
