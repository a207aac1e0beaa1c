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
"""
from typing import Sequence

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


def discriminator_loss(logits: Tensor, labels: Tensor,
                       groups: Tensor) -> Tensor:
    """``L_D`` of Eq. 2 / 9: per-pixel cross-entropy to a class per sample.

    The samples are split into the terms of Eq. 9 by ``groups`` (e.g. 0 for
    the ground truth, ``k`` for the predictions of domain ``k``); each term
    is the mean over its samples' pixels and the terms are summed.

    Args:
        logits (Tensor): Discriminator logits ``(N, K+1, H, W)``.
        labels (Tensor): Long ``(N,)``: the class of each sample (0 for the
            ground truth, the domain ``k`` for a prediction).
        groups (Tensor): Long ``(N,)``: the term of Eq. 9 each sample
            belongs to (any integers).

    Returns:
        Tensor: Scalar ``sum_g mean_{n in g, h, w} -log D(z_n)^{(h,w,l_n)}``.
    """
    _check_logits(logits, 'discriminator_loss')
    _check_classes(labels, logits, 'discriminator_loss')
    if groups.shape != labels.shape:
        raise ValueError(f'discriminator_loss: groups {tuple(groups.shape)} '
                         f'and labels {tuple(labels.shape)} must match')
    if logits.shape[0] == 0:
        raise ValueError('discriminator_loss: got no samples')
    target = labels.view(-1, 1, 1).expand(-1, *logits.shape[2:])
    per_sample = F.cross_entropy(
        logits, target, reduction='none').flatten(1).mean(dim=1)
    _, group_index = torch.unique(groups, return_inverse=True)
    num_groups = int(group_index.max()) + 1
    sums = per_sample.new_zeros(num_groups).index_add(0, group_index,
                                                      per_sample)
    counts = torch.bincount(group_index, minlength=num_groups)
    return (sums / counts.to(sums.dtype)).sum()


def intra_domain_loss(logits: Tensor) -> Tensor:
    """``L_intra`` of Eq. 3: predictions of a labelled task towards class 0.

    Args:
        logits (Tensor): Discriminator logits ``(N, K+1, H, W)`` of the
            predictions of samples that label the task.

    Returns:
        Tensor: Scalar, the mean of ``-log D(y_hat)^{(h, w, 0)}``.
    """
    _check_logits(logits, 'intra_domain_loss')
    mask = torch.zeros(
        logits.shape[:2], dtype=torch.bool, device=logits.device)
    mask[:, 0] = True
    return class_set_nll(logits, mask).mean()


def inter_domain_loss(logits: Tensor, mode: str, domains: Tensor,
                      labelled_domains: Sequence[int]) -> Tensor:
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

    Returns:
        Tensor: Scalar, the mean over samples and pixels.
    """
    _check_logits(logits, 'inter_domain_loss')
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
    return class_set_nll(logits, mask).mean()
