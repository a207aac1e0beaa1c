# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Domain-aware adversarial losses of SemiMTL (Eq. 2-6 and 9).

A task discriminator ``D_t`` outputs ``K + 1`` logits per pixel: class 0 =
ground truth, class ``k`` = a prediction from domain (dataset) ``k``. Every
loss here is a negative log-likelihood of a *set* of classes,

.. math::
    \\ell_S(h, w) = -\\log \\sum_{c \\in S} D(z)^{(h, w, c)},

computed from the logits with ``logsumexp`` (numerically safe, also for
``-log(1 - p_k)``, which is the set of every class but ``k``):

- ``L_D`` (Eq. 2, 9): ``S = {label}``, the ground truth's 0 or the
  predicting domain's ``k`` (SemiSD: 1 for every prediction);
- ``L_intra`` (Eq. 3) and ``L_inter`` mode M2 (Eq. 5): ``S = {0}``;
- ``L_inter`` mode M1 (Eq. 4): ``S`` = the class(es) of the domain(s) that
  label the task (the paper's class 1 = the labelled dataset A; with more
  than one labelled domain the prediction is pulled towards looking like
  a prediction of *any* of them);
- ``L_inter`` mode M3 (Eq. 6): ``S`` = every class except the sample's own
  domain ``k``, i.e. ``-log(1 - D(z)^{(k)})``.

Normalisation: the paper writes Eq. 2-6 as sums over the pixels ``(h, w)``.
We take means over pixels and samples instead, like the supervised
cross-entropy they are added to, so the paper's weights (lambda_intra =
1e-3, lambda_inter = 1e-4) weight pixel means; a weight ``lambda'`` meant
for the pixel sum of an ``H x W`` map equals ``lambda = lambda' * H * W``
here. Eq. 9 has one term for the ground truth and one per domain; each
term is the mean over its own pixels and the terms are summed.

Masked pixels: every loss takes an optional boolean ``valid`` map
``(N, H, W)``; pixels where it is False take no part (neither in the sum
nor in the count of the mean), as in AdvSemiSeg (Hung et al., 2018, which
SemiMTL builds on): there the discriminator's targets at the ignore pixels
of a labelled image are set to the ignore label, for the ground truth's
term, the prediction's term and the adversarial term of that image alike.
SemiMTL's ground truth reaches the discriminator with holes (an ignored
segmentation pixel is an all-zero one-hot vector, invalid depth is 0), so
without the mask the discriminator can tell ground truth from prediction
by the holes alone. A mean without any valid pixel is 0 (still connected
to the graph).
"""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

INTER_MODES = ('m1', 'm2', 'm3')


def _check_logits(logits: Tensor, name: str) -> None:
    if logits.dim() != 4 or logits.shape[1] < 2:
        raise ValueError(f'{name}: expected discriminator logits of shape '
                         f'(N, K+1, H, W) with K >= 1, got '
                         f'{tuple(logits.shape)}')


def _check_classes(classes: Tensor, logits: Tensor, name: str) -> None:
    if classes.shape != logits.shape[:1]:
        raise ValueError(f'{name}: expected one class per sample, shape '
                         f'({logits.shape[0]},), got {tuple(classes.shape)}')
    if classes.numel() and (classes.min() < 0
                            or classes.max() >= logits.shape[1]):
        raise ValueError(f'{name}: classes must lie in [0, '
                         f'{logits.shape[1] - 1}], got {classes.tolist()}')


def _check_valid(valid: Optional[Tensor], logits: Tensor,
                 name: str) -> Optional[Tensor]:
    """The boolean ``(N, H, W)`` mask of valid pixels (None: all valid)."""
    if valid is None:
        return None
    expected = (logits.shape[0], *logits.shape[2:])
    if tuple(valid.shape) != expected:
        raise ValueError(f'{name}: valid must be a boolean (N, H, W) map of '
                         f'shape {expected}, got {tuple(valid.shape)}')
    return valid.to(device=logits.device, dtype=torch.bool)


def masked_mean(values: Tensor, valid: Optional[Tensor] = None) -> Tensor:
    """Mean of ``values`` over the pixels where ``valid`` is True.

    Args:
        values (Tensor): Per-pixel values ``(N, H, W)``.
        valid (Tensor, optional): Boolean ``(N, H, W)``. Default: None (all
            pixels).

    Returns:
        Tensor: Scalar; 0 (connected to ``values``) without valid pixels.
    """
    if valid is None:
        return values.mean()
    # select rather than multiply: a masked pixel's value (even inf / NaN)
    # must reach neither the result nor the gradient
    kept = values[valid]
    if kept.numel() == 0:
        return values.sum() * 0
    return kept.mean()


def class_set_nll(logits: Tensor, class_mask: Tensor) -> Tensor:
    """Per-pixel ``-log`` of the probability of a set of classes.

    Args:
        logits (Tensor): Discriminator logits ``(N, C, H, W)``.
        class_mask (Tensor): Boolean ``(N, C)``: the classes of each sample's
            set (at least one per sample).

    Returns:
        Tensor: ``(N, H, W)``, ``-log sum_{c in S_n} softmax(logits)_c``.
    """
    _check_logits(logits, 'class_set_nll')
    if class_mask.shape != logits.shape[:2]:
        raise ValueError(f'class_set_nll: class_mask must have shape '
                         f'{tuple(logits.shape[:2])}, got '
                         f'{tuple(class_mask.shape)}')
    if not class_mask.any(dim=1).all():
        raise ValueError('class_set_nll: every sample needs at least one '
                         'class in its set')
    log_prob = F.log_softmax(logits, dim=1)
    log_prob = log_prob.masked_fill(~class_mask[:, :, None, None],
                                    float('-inf'))
    return -torch.logsumexp(log_prob, dim=1)


def discriminator_loss(logits: Tensor,
                       labels: Tensor,
                       groups: Tensor,
                       valid: Optional[Tensor] = None) -> Tensor:
    """``L_D`` of Eq. 2 / 9: per-pixel cross-entropy to a class per sample.

    The samples are split into the terms of Eq. 9 by ``groups`` (e.g. 0 for
    the ground truth, ``k`` for the predictions of domain ``k``); each term
    is the mean over its samples' valid pixels and the terms are summed.

    Args:
        logits (Tensor): Discriminator logits ``(N, K+1, H, W)``.
        labels (Tensor): Long ``(N,)``: the class of each sample (0 for the
            ground truth, the domain ``k`` for a prediction).
        groups (Tensor): Long ``(N,)``: the term of Eq. 9 each sample
            belongs to (any integers).
        valid (Tensor, optional): Boolean ``(N, H, W)``: the pixels that
            count (e.g. not ignored in the ground truth). Default: None
            (all).

    Returns:
        Tensor: Scalar ``sum_g mean_{n in g, (h, w) valid}
        -log D(z_n)^{(h,w,l_n)}``.
    """
    _check_logits(logits, 'discriminator_loss')
    _check_classes(labels, logits, 'discriminator_loss')
    if groups.shape != labels.shape:
        raise ValueError(f'discriminator_loss: groups {tuple(groups.shape)} '
                         f'and labels {tuple(labels.shape)} must match')
    if logits.shape[0] == 0:
        raise ValueError('discriminator_loss: got no samples')
    valid = _check_valid(valid, logits, 'discriminator_loss')
    if valid is None:
        valid = logits.new_ones((logits.shape[0], *logits.shape[2:]),
                                dtype=torch.bool)
    target = labels.view(-1, 1, 1).expand(-1, *logits.shape[2:])
    per_pixel = F.cross_entropy(logits, target, reduction='none')
    # masked pixels: selected away (their value never enters the sum)
    per_pixel = torch.where(valid, per_pixel, per_pixel.new_zeros(()))
    per_sample = per_pixel.flatten(1).sum(dim=1)
    _, group_index = torch.unique(groups, return_inverse=True)
    num_groups = int(group_index.max()) + 1
    sums = per_sample.new_zeros(num_groups).index_add(0, group_index,
                                                      per_sample)
    counts = per_sample.new_zeros(num_groups).index_add(
        0, group_index,
        valid.flatten(1).sum(dim=1).to(per_sample.dtype))
    return (sums / counts.clamp(min=1)).sum()


def intra_domain_loss(logits: Tensor,
                      valid: Optional[Tensor] = None) -> Tensor:
    """``L_intra`` of Eq. 3: predictions of a labelled task towards class 0.

    Args:
        logits (Tensor): Discriminator logits ``(N, K+1, H, W)`` of the
            predictions of samples that label the task.
        valid (Tensor, optional): Boolean ``(N, H, W)``: the pixels that
            count (the ground truth's valid pixels). Default: None (all).

    Returns:
        Tensor: Scalar, the mean of ``-log D(y_hat)^{(h, w, 0)}`` over the
        valid pixels.
    """
    _check_logits(logits, 'intra_domain_loss')
    valid = _check_valid(valid, logits, 'intra_domain_loss')
    mask = torch.zeros(
        logits.shape[:2], dtype=torch.bool, device=logits.device)
    mask[:, 0] = True
    return masked_mean(class_set_nll(logits, mask), valid)


def inter_domain_loss(logits: Tensor,
                      mode: str,
                      domains: Tensor,
                      labelled_domains: Sequence[int],
                      valid: Optional[Tensor] = None) -> Tensor:
    """``L_inter`` of Eq. 4-6 for predictions of an unlabelled task.

    Args:
        logits (Tensor): Discriminator logits ``(N, K+1, H, W)`` of the
            predictions of samples that do not label the task.
        mode (str): ``'m1'`` (Eq. 4: towards the labelled domains'
            prediction classes), ``'m2'`` (Eq. 5: towards the ground truth,
            class 0) or ``'m3'`` (Eq. 6: away from the sample's own domain
            class, ``-log(1 - p_k)``).
        domains (Tensor): Long ``(N,)``, each sample's domain ``k`` in
            ``1..K`` (used by M3).
        labelled_domains (Sequence[int]): The domains that label the task
            (used by M1; at least one).
        valid (Tensor, optional): Boolean ``(N, H, W)``: the pixels that
            count (e.g. not padding). Default: None (all).

    Returns:
        Tensor: Scalar, the mean over the valid pixels of the samples.
    """
    _check_logits(logits, 'inter_domain_loss')
    valid = _check_valid(valid, logits, 'inter_domain_loss')
    num_classes = logits.shape[1]
    mask = torch.zeros(
        logits.shape[:2], dtype=torch.bool, device=logits.device)
    if mode == 'm1':
        labelled = torch.as_tensor(
            list(labelled_domains), dtype=torch.long, device=logits.device)
        if labelled.numel() == 0 or labelled.min() < 1 \
                or labelled.max() >= num_classes:
            raise ValueError(
                'inter_domain_loss: mode m1 needs the labelled domains, '
                f'each in [1, {num_classes - 1}], got {list(labelled_domains)}'
            )
        mask[:, labelled] = True
    elif mode == 'm2':
        mask[:, 0] = True
    elif mode == 'm3':
        _check_classes(domains, logits, 'inter_domain_loss')
        if domains.numel() and domains.min() < 1:
            raise ValueError('inter_domain_loss: domains must be >= 1 (class '
                             f'0 is the ground truth), got {domains.tolist()}')
        mask = ~F.one_hot(domains, num_classes).bool()
    else:
        raise ValueError(f'inter_domain_loss: mode must be one of '
                         f'{INTER_MODES}, got {mode!r}')
    return masked_mean(class_set_nll(logits, mask), valid)
