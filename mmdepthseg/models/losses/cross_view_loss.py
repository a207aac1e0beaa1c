# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Cross-view consistency losses of Pseudo-MTL (Eq. 3-10).

``G(a; b)`` (Sec. 3.2.2) warps the map ``a`` of one view into the other view
with the depth ``b`` **of that other (target) view**: for a target pixel
``u`` the source is sampled at ``u -/+ disp(b)(u)`` by backward bilinear
sampling (:func:`~mmdepthseg.models.layers.geometry.stereo_warp`). E.g.
``G(d_r; d_l^pgt)`` is the right depth map seen in the left view.

Conventions shared by both losses (interpretations of the paper):

- Every term is confidence-weighted and normalised like ``L_reg`` of Eq. 1:
  ``sum_p C(p) m(p) x(p) / sum_p C(p) m(p)`` per image, averaged over the
  batch (:func:`confidence_weighted_mean`). Eq. 8-10 write ``C . H`` without
  a normaliser; we normalise by the confidence sum as in Eq. 1 so that the
  weights ``alpha`` keep the same meaning for depth and segmentation.
- The confidence of a term is that of the view the warping depth ``b``
  belongs to (the target view): ``C_l`` with ``b = d_l``, ``C_r`` with
  ``b = d_r`` -- this is what Eq. 4-10 write for every term.
- ``m(p)`` is validity: the warping depth is > 0 and the sampled source
  location lies inside the image (``0 <= u -/+ disp <= W - 1``); a warped
  map derived from pseudo depth or labels (0 depth / ignore label =
  invalid) is valid where all its bilinear neighbours are valid; an
  un-warped pseudo depth / label must be valid. The pseudo-label confidence
  is 0 on such pixels anyway; the mask matters for ``warp_with='pred'`` and
  ``use_confidence=False``.
- ``warp_with='pred'`` (ablation ``b = d_i`` of Tables 4-5) replaces the
  pseudo depth by the predicted depth of the target view in the role of
  ``b`` only (values compared against ``d^pgt`` stay pseudo); gradients flow
  through the warp into the predicted depth (no stop-gradient), as in the
  method of Chen et al. that the ablation reproduces. The paper calls
  confidence infeasible for ``b = d_i``; the combination is allowed here but
  the ablation configs set ``use_confidence=False``.
- Both losses return a dict of the enabled sub-terms
  ``{f'{loss_name}_{t}': loss_weight * alpha_t * L_t}``; their sum is
  ``L_d,c`` (Eq. 3) / ``L_s,c`` (Eq. 7), so MMEngine's ``parse_losses``
  sums them into Eq. 11 and logs each.
"""
from typing import Dict, NamedTuple, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmdepthseg.models.layers.geometry import depth_to_disparity, stereo_warp
from mmdepthseg.registry import MODELS
from .confidence_l1_loss import confidence_weighted_mean

Scalar = Union[float, Tensor]

_DIRECTIONS = ('r2l', 'l2r')
_TERMS = ('lr', 'l', 'r')
_WARP_WITH = ('pseudo', 'pred')
# a warped validity map counts as valid above this value (all bilinear
# neighbours valid up to float round-off)
_VALID_THR = 1 - 1e-4
# pixels: sampling this close outside the image still counts as inside
_BOUNDARY_TOL = 1e-3


def _per_sample(value: Scalar, ref: Tensor, name: str) -> Tensor:
    """Make ``focal`` / ``baseline`` broadcastable to (B, 1, H, W)."""
    value = torch.as_tensor(value, dtype=ref.dtype, device=ref.device)
    if value.dim() == 0 or value.dim() == 4:
        return value
    if value.dim() == 1 and value.numel() in (1, ref.shape[0]):
        return value.view(-1, 1, 1, 1)
    raise ValueError(f'{name} must be a float, a (B,) tensor or a '
                     f'(B, 1, 1, 1) tensor for batch size {ref.shape[0]}, '
                     f'got shape {tuple(value.shape)}')


#: Units in which depth values enter the L1 of ``L_reg`` (Eq. 1, 4-6).
DEPTH_UNITS = ('metre', 'inverse_depth', 'disparity_width')


def depth_in_unit(depth: Tensor,
                  unit: str = 'metre',
                  focal: Scalar = 1.,
                  baseline: Scalar = 1.,
                  scale: float = 1.) -> Tensor:
    """Express metric depth in the unit of the depth regression loss.

    - ``'metre'``: the depth itself;
    - ``'inverse_depth'``: ``1 / depth`` (1/m);
    - ``'disparity_width'``: the stereo disparity as a fraction of the
      image width, ``focal * baseline / (depth * W)`` (Monodepth's output
      unit; independent of the image resolution).

    The result is multiplied by ``scale`` (e.g. 1/80 for depth over an
    80 m range). Depth ``<= 0`` (invalid) stays 0.

    Args:
        depth (Tensor): (B, C, H, W) depth in metres.
        unit (str): One of :data:`DEPTH_UNITS`.
        focal (float | Tensor): ``fx`` (pixels) at this size; float, (B,)
            or (B, 1, 1, 1). Used by 'disparity_width'.
        baseline (float | Tensor): Baseline (m); same rules.
        scale (float): Factor applied last. Defaults to 1.

    Returns:
        Tensor: Same shape as ``depth``.
    """
    if unit not in DEPTH_UNITS:
        raise ValueError(f'depth unit must be one of {DEPTH_UNITS}, got '
                         f'{unit!r}')
    if unit == 'metre':
        out = depth
    elif unit == 'inverse_depth':
        out = depth_to_disparity(depth, 1., 1.)
    else:
        fb = _per_sample(focal, depth, 'focal') * _per_sample(
            baseline, depth, 'baseline')
        out = depth_to_disparity(depth, fb / depth.shape[-1], 1.)
    return out * scale if scale != 1 else out


def cross_view_warp(
        x: Tensor,
        pseudo_depth_other: Tensor,
        focal: Scalar,
        baseline: Scalar,
        direction: str = 'r2l',
        return_mask: bool = False) -> Union[Tensor, Tuple[Tensor, Tensor]]:
    """``G(a; b)``: warp ``x`` into the other view with that view's depth.

    - ``'r2l'``: ``x`` is a right-view map, ``pseudo_depth_other`` the LEFT
      depth ``b``; returns ``x`` seen in the left view,
      ``out(u, v) = x(u - disp_b(u, v), v)`` (e.g. ``G(d_r; d_l^pgt)``).
    - ``'l2r'``: ``x`` is a left-view map, ``pseudo_depth_other`` the RIGHT
      depth; ``out(u, v) = x(u + disp_b(u, v), v)`` (e.g.
      ``G(d_l; d_r^pgt)``).

    ``disp_b = focal * baseline / b`` (0 where ``b <= 0``). Backward bilinear
    sampling (``grid_sample``, ``align_corners=True``, border padding).

    Args:
        x (Tensor): (B, C, H, W) map to warp (depth, class probabilities,
            one-hot labels, validity ...).
        pseudo_depth_other (Tensor): (B, 1, H, W) depth ``b`` of the target
            view (pseudo or predicted), metres, 0 = invalid.
        focal (float | Tensor): ``fx`` in pixels at this image size; float,
            (B,) or (B, 1, 1, 1).
        baseline (float | Tensor): Stereo baseline in metres; same rules.
        direction (str): 'r2l' or 'l2r'. Default: 'r2l'.
        return_mask (bool): Also return the validity mask. Default: False.

    Returns:
        Tensor | tuple[Tensor, Tensor]: (B, C, H, W) warped map, and with
        ``return_mask`` a (B, 1, H, W) bool mask: ``b > 0`` and the sampled
        location lies inside the source image.
    """
    if direction not in _DIRECTIONS:
        raise ValueError(f'cross_view_warp: direction must be one of '
                         f'{_DIRECTIONS}, got {direction!r}')
    depth = pseudo_depth_other
    if depth.dim() != 4 or depth.shape[1] != 1:
        raise ValueError('cross_view_warp: pseudo_depth_other must be '
                         f'(B, 1, H, W), got {tuple(depth.shape)}')
    if x.dim() != 4 or x.shape[0] != depth.shape[0] \
            or x.shape[2:] != depth.shape[2:]:
        raise ValueError(f'cross_view_warp: x {tuple(x.shape)} must be '
                         '(B, C, H, W) with the batch and size of '
                         f'pseudo_depth_other {tuple(depth.shape)}')
    disp = depth_to_disparity(depth, _per_sample(focal, depth, 'focal'),
                              _per_sample(baseline, depth, 'baseline'))
    warped = stereo_warp(x, disp, direction, padding_mode='border')
    if not return_mask:
        return warped
    width = depth.shape[-1]
    u = torch.arange(width, dtype=depth.dtype, device=depth.device)
    src_u = u - disp if direction == 'r2l' else u + disp
    mask = (depth > 0) & (src_u >= -_BOUNDARY_TOL) & (
        src_u <= width - 1 + _BOUNDARY_TOL)
    return warped, mask


class _CrossViewBase(nn.Module):
    """Switches and weights shared by the two cross-view losses."""

    def __init__(self, alpha_lr: float, alpha_l: float, alpha_r: float,
                 warp_with: str, use_confidence: bool, terms: Sequence[str],
                 loss_weight: float, loss_name: str) -> None:
        super().__init__()
        name = type(self).__name__
        if warp_with not in _WARP_WITH:
            raise ValueError(f'{name}: warp_with must be one of {_WARP_WITH}'
                             f', got {warp_with!r}')
        if isinstance(terms, str):
            terms = (terms, )
        bad = [t for t in terms if t not in _TERMS]
        if bad or not terms:
            raise ValueError(f'{name}: terms must be a non-empty subset of '
                             f'{_TERMS}, got {tuple(terms)!r}')
        self.alphas = dict(lr=alpha_lr, l=alpha_l, r=alpha_r)
        self.warp_with = warp_with
        self.use_confidence = use_confidence
        self.terms = tuple(t for t in _TERMS if t in terms)
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        """str: Prefix of the loss items (``loss_`` = back-propagated)."""
        return self._loss_name

    def _confidence(self, conf: Optional[Tensor], ref: Tensor,
                    key: str) -> Tensor:
        """``C_i`` as a (B, 1, H, W) float map (ones if disabled)."""
        if not self.use_confidence:
            return torch.ones_like(ref)
        if conf is None:
            raise ValueError(f'{type(self).__name__}: {key} is required '
                             'with use_confidence=True')
        if conf.shape != ref.shape:
            raise ValueError(f'{type(self).__name__}: {key} '
                             f'{tuple(conf.shape)} must be {tuple(ref.shape)}')
        return conf.to(ref.dtype)

    def _warp_depths(self, pseudo_l: Optional[Tensor],
                     pseudo_r: Optional[Tensor], depth_l: Optional[Tensor],
                     depth_r: Optional[Tensor]) -> Tuple[Tensor, Tensor]:
        """The depths ``b`` of the left and right view used by ``G``."""
        if self.warp_with == 'pseudo':
            b_l, b_r, what = pseudo_l, pseudo_r, 'pseudo_l/pseudo_r'
        else:
            b_l, b_r, what = depth_l, depth_r, 'the predicted depths'
        if b_l is None or b_r is None:
            raise ValueError(f'{type(self).__name__}: {what} are required '
                             f'with warp_with={self.warp_with!r}')
        return b_l, b_r

    def _output(self, values: Dict[str, Tensor]) -> Dict[str, Tensor]:
        return {
            f'{self._loss_name}_{t}':
            self.loss_weight * self.alphas[t] * values[t]
            for t in self.terms
        }


def _require(value: Optional[Tensor], key: str, owner: str) -> Tensor:
    if value is None:
        raise ValueError(f'{owner}: {key} is required by the enabled terms')
    return value


def _warp_with_validity(x: Tensor, valid: Tensor, depth: Tensor,
                        focal: Scalar, baseline: Scalar,
                        direction: str) -> Tuple[Tensor, Tensor]:
    """Warp a map together with its validity.

    Args:
        x (Tensor): (B, C, H, W) map to warp (a pseudo depth, a one-hot
            label map).
        valid (Tensor): (B, 1, H, W) boolean validity of ``x``.
        depth (Tensor): (B, 1, H, W) depth ``b`` of the target view.
        focal (float | Tensor): ``fx`` in pixels.
        baseline (float | Tensor): Baseline in metres.
        direction (str): 'r2l' or 'l2r', see :func:`cross_view_warp`.

    Returns:
        tuple[Tensor, Tensor]: The warped ``x`` and its mask: in the source
        image and every bilinear neighbour valid.
    """
    both, mask = cross_view_warp(
        torch.cat([x, valid.to(x.dtype)], dim=1),
        depth,
        focal,
        baseline,
        direction,
        return_mask=True)
    return both[:, :-1], mask & (both[:, -1:] > _VALID_THR)


def _weighted_cross_entropy(logp: Tensor, target: Tensor, conf: Tensor,
                            mask: Tensor) -> Tensor:
    """``C . H(p, q)`` with ``H = -sum_c q_c log p_c``, reduced over the
    pixels in ``mask`` like ``L_reg`` (Eq. 1)."""
    ent = -(target * logp).sum(dim=1, keepdim=True)
    weight = torch.where(mask, conf, torch.zeros_like(conf))
    return confidence_weighted_mean(ent, weight)


class _SegViews(NamedTuple):
    """Left / right inputs of the segmentation consistency terms: class
    probabilities and their logs ``(B, C, H, W)``, warping depths ``b`` and
    confidences ``C`` ``(B, 1, H, W)``."""
    prob_l: Tensor
    prob_r: Tensor
    logp_l: Tensor
    logp_r: Tensor
    b_l: Tensor
    b_r: Tensor
    c_l: Tensor
    c_r: Tensor


@MODELS.register_module()
class CrossViewDepthConsistencyLoss(_CrossViewBase):
    """Cross-view depth consistency ``L_d,c`` of Pseudo-MTL (Eq. 3-6).

    With ``b_i = d_i^pgt`` (``warp_with='pseudo'``) or ``b_i = d_i``
    (``'pred'``) and ``L_reg`` of Eq. 1:

    - Eq. 4 ``L_d,lr = L_reg(C_l, d_l, G(d_r; b_l))
      + L_reg(C_r, G(d_l; b_r), d_r)``
    - Eq. 5 ``L_d,l = L_reg(C_l, d_l^pgt, G(d_r; b_l))
      + L_reg(C_l, d_l, G(d_r^pgt; b_l))``
    - Eq. 6 ``L_d,r = L_reg(C_r, G(d_l; b_r), d_r^pgt)
      + L_reg(C_r, G(d_l^pgt; b_r), d_r)``
    - Eq. 3 ``L_d,c = a_lr L_d,lr + a_l L_d,l + a_r L_d,r``

    ``L_reg`` is symmetric in its two depth arguments; the pixels and the
    normaliser follow the module conventions (confidence of the target
    view, validity mask, per-image normalisation).

    Args:
        alpha_lr (float): ``alpha_d,lr``. Default: 0.5.
        alpha_l (float): ``alpha_d,l``. Default: 1.0.
        alpha_r (float): ``alpha_d,r``. Default: 1.0.
        warp_with (str): 'pseudo' (``b = d^pgt``, the method) or 'pred'
            (``b = d_i``, ablation). Default: 'pseudo'.
        use_confidence (bool): Weight by ``C_i``; False uses 1 (ablation).
            Default: True.
        terms (Sequence[str]): Enabled sub-terms among 'lr', 'l', 'r'.
            Default: ('lr', 'l', 'r').
        loss_weight (float): Overall weight. Default: 1.0.
        loss_name (str): Prefix of the loss items. Default: 'loss_depth_cv'.
        unit (str): Unit of the depth values inside the L1 (after the
            warping, which uses metric depth), see :func:`depth_in_unit`.
            Default: 'metre'.
        unit_scale (float): Factor of that unit. Default: 1.
    """

    def __init__(self,
                 alpha_lr: float = 0.5,
                 alpha_l: float = 1.0,
                 alpha_r: float = 1.0,
                 warp_with: str = 'pseudo',
                 use_confidence: bool = True,
                 terms: Sequence[str] = _TERMS,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_depth_cv',
                 unit: str = 'metre',
                 unit_scale: float = 1.0) -> None:
        super().__init__(alpha_lr, alpha_l, alpha_r, warp_with, use_confidence,
                         terms, loss_weight, loss_name)
        if unit not in DEPTH_UNITS:
            raise ValueError(f'{type(self).__name__}: unit must be one of '
                             f'{DEPTH_UNITS}, got {unit!r}')
        self.unit = unit
        self.unit_scale = unit_scale

    def forward(self, pred_l: Tensor, pred_r: Tensor,
                pseudo_l: Optional[Tensor], pseudo_r: Optional[Tensor],
                conf_l: Optional[Tensor], conf_r: Optional[Tensor],
                focal: Scalar, baseline: Scalar) -> Dict[str, Tensor]:
        """Compute the enabled sub-terms.

        Args:
            pred_l (Tensor): (B, 1, H, W) predicted left depth ``d_l`` (m).
            pred_r (Tensor): (B, 1, H, W) predicted right depth ``d_r``.
            pseudo_l (Tensor, optional): (B, 1, H, W) left pseudo depth
                ``d_l^pgt`` (m, 0 = invalid). Only ``warp_with='pred'`` with
                ``terms=('lr',)`` works without it.
            pseudo_r (Tensor, optional): Right pseudo depth, same rules.
            conf_l (Tensor, optional): (B, 1, H, W) left confidence ``C_l``
                in [0, 1]; required when ``use_confidence``.
            conf_r (Tensor, optional): Right confidence ``C_r``.
            focal (float | Tensor): ``fx`` in pixels; float, (B,) or
                (B, 1, 1, 1).
            baseline (float | Tensor): Baseline in metres; same rules.

        Returns:
            dict[str, Tensor]: ``{f'{loss_name}_{t}': loss_weight * alpha_t
            * L_d,t}`` for the enabled terms ``t``; the sum is ``L_d,c``.
        """
        owner = type(self).__name__
        if pred_l.dim() != 4 or pred_l.shape[1] != 1 \
                or pred_r.shape != pred_l.shape:
            raise ValueError(f'{owner}: pred_l {tuple(pred_l.shape)} and '
                             f'pred_r {tuple(pred_r.shape)} must both be '
                             '(B, 1, H, W)')
        for key, value in (('pseudo_l', pseudo_l), ('pseudo_r', pseudo_r)):
            if value is not None and value.shape != pred_l.shape:
                raise ValueError(f'{owner}: {key} {tuple(value.shape)} must '
                                 f'be {tuple(pred_l.shape)}')
        b_l, b_r = self._warp_depths(pseudo_l, pseudo_r, pred_l, pred_r)
        c_l = self._confidence(conf_l, pred_l, 'conf_l')
        c_r = self._confidence(conf_r, pred_l, 'conf_r')

        def warp(x, b, direction):
            return cross_view_warp(
                x, b, focal, baseline, direction, return_mask=True)

        def lreg(conf, a, b, mask):
            weight = torch.where(mask, conf, torch.zeros_like(conf))
            a, b = (depth_in_unit(x, self.unit, focal, baseline,
                                  self.unit_scale) for x in (a, b))
            return confidence_weighted_mean((a - b).abs(), weight)

        def warp_pseudo(pseudo, b, direction):
            """Warp a pseudo depth and its validity (all neighbours > 0)."""
            return _warp_with_validity(pseudo, pseudo > 0, b, focal, baseline,
                                       direction)

        values = {}
        if 'lr' in self.terms or 'l' in self.terms:
            dr_in_l, m_l = warp(pred_r, b_l, 'r2l')  # G(d_r; b_l)
        if 'lr' in self.terms or 'r' in self.terms:
            dl_in_r, m_r = warp(pred_l, b_r, 'l2r')  # G(d_l; b_r)
        if 'lr' in self.terms:  # Eq. 4
            values['lr'] = lreg(c_l, pred_l, dr_in_l, m_l) + lreg(
                c_r, dl_in_r, pred_r, m_r)
        if 'l' in self.terms:  # Eq. 5
            p_l = _require(pseudo_l, 'pseudo_l', owner)
            p_r = _require(pseudo_r, 'pseudo_r', owner)
            pr_in_l, mp_l = warp_pseudo(p_r, b_l, 'r2l')  # G(d_r^pgt; b_l)
            values['l'] = lreg(c_l, p_l, dr_in_l, m_l &
                               (p_l > 0)) + lreg(c_l, pred_l, pr_in_l, mp_l)
        if 'r' in self.terms:  # Eq. 6
            p_l = _require(pseudo_l, 'pseudo_l', owner)
            p_r = _require(pseudo_r, 'pseudo_r', owner)
            pl_in_r, mp_r = warp_pseudo(p_l, b_r, 'l2r')  # G(d_l^pgt; b_r)
            values['r'] = lreg(c_r, dl_in_r, p_r, m_r &
                               (p_r > 0)) + lreg(c_r, pl_in_r, pred_r, mp_r)
        return self._output(values)


@MODELS.register_module()
class CrossViewSegConsistencyLoss(_CrossViewBase):
    """Cross-view segmentation consistency ``L_s,c`` (Eq. 7-10).

    ``s_i`` are class probabilities (softmax of the decoder logits when
    ``use_softmax=True``, the default; the inputs are then LOGITS), ``s_i^gt``
    one-hot ground-truth / pseudo labels, and ``G`` warps probability maps
    bilinearly (module docstring). With ``b_i`` as in
    :class:`CrossViewDepthConsistencyLoss`:

    - Eq. 8 ``L_s,lr = C_l H(s_l, G(s_r; b_l)) + C_r H(G(s_l; b_r), s_r)``
    - Eq. 9 ``L_s,l = C_l H(s_l^gt, G(s_r; b_l)) + C_l H(s_l, G(s_r^gt; b_l))``
    - Eq. 10 ``L_s,r = C_r H(G(s_l; b_r), s_r^gt)
      + C_r H(G(s_l^gt; b_r), s_r)``
    - Eq. 7 ``L_s,c = a_lr L_s,lr + a_l L_s,l + a_r L_s,r``

    Interpretation of ``H``: the cross-entropy ``H(p, q) = -sum_c q_c log
    p_c`` with the (warped) one-hot label as the target ``q`` whenever a
    label takes part (Eq. 9/10 write it first or second; a log of a one-hot
    map is undefined), and for Eq. 8 (two predictions) the order of Eq. 2,
    ``H(prediction, target)``: the first argument is ``p``. Gradients flow
    into both predictions of Eq. 8 (no stop-gradient; the paper names
    none). ``log p`` of an un-warped logit map is ``log_softmax``; of a
    warped (or given) probability map ``log(max(p, eps))``. Pixels with an
    ignore label (un-warped, or in any bilinear neighbour when warped) are
    left out. Each ``C . H`` map is reduced like ``L_reg`` (sum of
    ``C . H`` over valid pixels over the sum of ``C``), see the module
    docstring.

    Args:
        alpha_lr (float): ``alpha_s,lr``. Default: 0.5.
        alpha_l (float): ``alpha_s,l``. Default: 1.5.
        alpha_r (float): ``alpha_s,r``. Default: 1.5.
        warp_with (str): 'pseudo' or 'pred' (``b = d_i``). Default: 'pseudo'.
        use_confidence (bool): Weight by ``C_i``. Default: True.
        terms (Sequence[str]): Enabled sub-terms among 'lr', 'l', 'r'.
            Default: ('lr', 'l', 'r').
        use_softmax (bool): Inputs are logits (softmax applied here); False:
            inputs are already probabilities. Default: True.
        ignore_index (int): Label value to ignore. Default: 255.
        eps (float): Floor of probabilities inside the log. Default: 1e-6.
        loss_weight (float): Overall weight. Default: 1.0.
        loss_name (str): Prefix of the loss items. Default: 'loss_seg_cv'.
    """

    def __init__(self,
                 alpha_lr: float = 0.5,
                 alpha_l: float = 1.5,
                 alpha_r: float = 1.5,
                 warp_with: str = 'pseudo',
                 use_confidence: bool = True,
                 terms: Sequence[str] = _TERMS,
                 use_softmax: bool = True,
                 ignore_index: int = 255,
                 eps: float = 1e-6,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_seg_cv') -> None:
        super().__init__(alpha_lr, alpha_l, alpha_r, warp_with, use_confidence,
                         terms, loss_weight, loss_name)
        self.use_softmax = use_softmax
        self.ignore_index = ignore_index
        self.eps = eps

    def _one_hot(self, label: Tensor, num_classes: int, ref: Tensor,
                 key: str) -> Tuple[Tensor, Tensor]:
        """(B, C, H, W) one-hot (zeros where ignored) and (B, 1, H, W)
        validity of a label map."""
        if label.dim() == 4 and label.shape[1] == 1:
            label = label[:, 0]
        if label.dim() != 3 or label.shape[0] != ref.shape[0] \
                or label.shape[1:] != ref.shape[2:]:
            raise ValueError(f'{type(self).__name__}: {key} must be (B, H, '
                             f'W) or (B, 1, H, W) matching {tuple(ref.shape)}'
                             f', got {tuple(label.shape)}')
        label = label.long()
        valid = label != self.ignore_index
        bad = valid & ((label < 0) | (label >= num_classes))
        if bad.any():
            raise ValueError(f'{type(self).__name__}: {key} has labels '
                             f'outside [0, {num_classes}) other than '
                             f'ignore_index {self.ignore_index}: '
                             f'{label[bad].unique().tolist()}')
        safe = torch.where(valid, label, torch.zeros_like(label))
        one_hot = F.one_hot(safe, num_classes).permute(0, 3, 1, 2)
        one_hot = one_hot.to(ref.dtype) * valid.unsqueeze(1).to(ref.dtype)
        return one_hot, valid.unsqueeze(1)

    def forward(self,
                seg_l: Tensor,
                seg_r: Tensor,
                label_l: Optional[Tensor],
                label_r: Optional[Tensor],
                pseudo_l: Optional[Tensor],
                pseudo_r: Optional[Tensor],
                conf_l: Optional[Tensor],
                conf_r: Optional[Tensor],
                focal: Scalar,
                baseline: Scalar,
                pred_depth_l: Optional[Tensor] = None,
                pred_depth_r: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Compute the enabled sub-terms.

        Args:
            seg_l (Tensor): (B, C, H, W) left logits (``use_softmax``) or
                probabilities ``s_l``.
            seg_r (Tensor): (B, C, H, W) right logits / probabilities.
            label_l (Tensor, optional): (B, H, W) or (B, 1, H, W) left labels
                ``s_l^gt`` (trainIds, ``ignore_index`` = ignore); needed by
                'l' and 'r'.
            label_r (Tensor, optional): Right labels ``s_r^gt`` (GT or
                pseudo, Table 1).
            pseudo_l (Tensor, optional): (B, 1, H, W) left pseudo depth
                (m, 0 = invalid); needed with ``warp_with='pseudo'``.
            pseudo_r (Tensor, optional): Right pseudo depth.
            conf_l (Tensor, optional): (B, 1, H, W) ``C_l`` in [0, 1].
            conf_r (Tensor, optional): ``C_r``.
            focal (float | Tensor): ``fx`` in pixels; float, (B,) or
                (B, 1, 1, 1).
            baseline (float | Tensor): Baseline in metres; same rules.
            pred_depth_l (Tensor, optional): (B, 1, H, W) predicted left
                depth; needed with ``warp_with='pred'``.
            pred_depth_r (Tensor, optional): Predicted right depth.

        Returns:
            dict[str, Tensor]: ``{f'{loss_name}_{t}': loss_weight * alpha_t
            * L_s,t}`` for the enabled terms; the sum is ``L_s,c``.
        """
        views = self._views(seg_l, seg_r, pseudo_l, pseudo_r, conf_l, conf_r,
                            pred_depth_l, pred_depth_r)
        return self._output(
            self._sub_terms(views, label_l, label_r, focal, baseline))

    def _views(self, seg_l: Tensor, seg_r: Tensor, pseudo_l: Optional[Tensor],
               pseudo_r: Optional[Tensor], conf_l: Optional[Tensor],
               conf_r: Optional[Tensor], pred_depth_l: Optional[Tensor],
               pred_depth_r: Optional[Tensor]) -> _SegViews:
        """Check the inputs of :meth:`forward` and gather per view the
        probabilities, their logs, the warping depth and the confidence."""
        owner = type(self).__name__
        if seg_l.dim() != 4 or seg_r.shape != seg_l.shape:
            raise ValueError(f'{owner}: seg_l {tuple(seg_l.shape)} and seg_r '
                             f'{tuple(seg_r.shape)} must both be (B, C, H, W)')
        b_l, b_r = self._warp_depths(pseudo_l, pseudo_r, pred_depth_l,
                                     pred_depth_r)
        depth_shape = (seg_l.shape[0], 1) + tuple(seg_l.shape[2:])
        for key, value in (('b_l', b_l), ('b_r', b_r)):
            if tuple(value.shape) != depth_shape:
                raise ValueError(f'{owner}: the warping depth ({key}) must '
                                 f'be {depth_shape}, got {tuple(value.shape)}')
        ref = b_l.to(seg_l.dtype)
        c_l = self._confidence(conf_l, ref, 'conf_l')
        c_r = self._confidence(conf_r, ref, 'conf_r')
        if self.use_softmax:
            prob_l, prob_r = seg_l.softmax(dim=1), seg_r.softmax(dim=1)
            logp_l, logp_r = seg_l.log_softmax(dim=1), seg_r.log_softmax(1)
        else:
            prob_l, prob_r = seg_l, seg_r
            logp_l = seg_l.clamp(min=self.eps).log()
            logp_r = seg_r.clamp(min=self.eps).log()
        return _SegViews(prob_l, prob_r, logp_l, logp_r, b_l, b_r, c_l, c_r)

    def _sub_terms(self, v: _SegViews, label_l: Optional[Tensor],
                   label_r: Optional[Tensor], focal: Scalar,
                   baseline: Scalar) -> Dict[str, Tensor]:
        """``L_s,t`` (Eq. 8-10) of the enabled terms ``t``, unweighted."""
        owner = type(self).__name__
        num_classes, eps = v.prob_l.shape[1], self.eps
        ce = _weighted_cross_entropy

        def warp(x, b, direction):
            return cross_view_warp(
                x, b, focal, baseline, direction, return_mask=True)

        values = {}
        if 'lr' in self.terms or 'l' in self.terms:
            sr_in_l, m_l = warp(v.prob_r, v.b_l, 'r2l')  # G(s_r; b_l)
            log_sr_in_l = sr_in_l.clamp(min=eps).log()
        if 'lr' in self.terms or 'r' in self.terms:
            sl_in_r, m_r = warp(v.prob_l, v.b_r, 'l2r')  # G(s_l; b_r)
            log_sl_in_r = sl_in_r.clamp(min=eps).log()
        if 'l' in self.terms or 'r' in self.terms:
            oh_l, v_l = self._one_hot(
                _require(label_l, 'label_l', owner), num_classes, v.prob_l,
                'label_l')
            oh_r, v_r = self._one_hot(
                _require(label_r, 'label_r', owner), num_classes, v.prob_l,
                'label_r')
        if 'lr' in self.terms:  # Eq. 8
            values['lr'] = ce(v.logp_l, sr_in_l, v.c_l, m_l) + ce(
                log_sl_in_r, v.prob_r, v.c_r, m_r)
        if 'l' in self.terms:  # Eq. 9
            gr_in_l, mg_l = _warp_with_validity(oh_r, v_r, v.b_l, focal,
                                                baseline, 'r2l')
            values['l'] = ce(log_sr_in_l, oh_l, v.c_l, m_l & v_l) + ce(
                v.logp_l, gr_in_l, v.c_l, mg_l)
        if 'r' in self.terms:  # Eq. 10
            gl_in_r, mg_r = _warp_with_validity(oh_l, v_l, v.b_r, focal,
                                                baseline, 'l2r')
            values['r'] = ce(log_sl_in_r, oh_r, v.c_r, m_r & v_r) + ce(
                v.logp_r, gl_in_r, v.c_r, mg_r)
        return values
