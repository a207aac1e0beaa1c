# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Cross-task multi-embedding attention (CMA) of FSRE-Depth."""
import math
from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig
from torch import Tensor

from mmdepthseg.registry import MODELS
from .padding import conv_padding_mode


@MODELS.register_module()
class CrossTaskMultiEmbeddingAttention(BaseModule):
    """Cross-task multi-embedding attention (Jung et al., ICCV 2021).

    FSRE-Depth, Sec. 3.3 and Fig. 4. One module is uni-directional: it
    refines the *target* task feature ``F_t`` (e.g. depth) with the
    *reference* task feature ``F_r`` (e.g. segmentation). For every pixel
    ``i`` and embedding ``h = 1..H`` (Eq. 11-14):

    - ``q_h(i) = phi_q^h(F_r(i))``, ``k_h(i) = phi_k^h(F_t(i))`` and
      ``v_h(i) = phi_v^h(F_t(i))`` are ``C' = embed_ratio * C`` dimensional
      linear embeddings (query from the reference, key and value from the
      target, Sec. 3.3.1);
    - ``A_h(i) = k_h(i)^T q_h(i) / sqrt(C')`` (Eq. 13) is a *pixel-wise*
      score: a dot product of the two vectors at the same pixel, not an
      affinity between pixels (the authors' released code divides by
      ``sqrt(H * C')`` instead: ``score_scaling='total_channels'``);
    - ``rho`` normalises the scores over the H embeddings: softmax
      (Eq. 12) when ``H > 1`` and the identity when ``H = 1``
      (Sec. 4.2.1), i.e. with one embedding the raw scaled score multiplies
      the value;
    - ``F_t'(i) = sum_h rho(A_h(i)) * v_h(i)`` (Eq. 11, 14; Eq. 9-10 are
      the single-embedding form), a ``C'``-channel map;
    - ``F_o = fuse([phi_w(F_t'), F_t])`` (Sec. 3.3.3): ``phi_w`` projects
      back to C, the result is concatenated with the target feature (2C
      channels) and two convolutions produce the C-channel output.

    Choices where the paper is silent (deliberate, stated here):

    - ``phi_q``, ``phi_k``, ``phi_v`` (Eq. 10, 13) are each one 1x1 conv
      with bias (an affine map, no norm, no activation) to ``H * C'``
      channels, split into H groups of ``C'``; the H embeddings are thus H
      disjoint blocks of one conv's weights, equivalent to H separate
      projections.
    - ``phi_w`` is a 1x1 conv followed by ``norm_cfg`` (BN), no activation
      (as the released code).
    - The fusion (Sec. 3.3.3, "two convolution layers") depends on
      ``fusion``: ``'conv_norm_act_x2'`` (default) is two 3x3 ConvModules,
      ``2C -> C`` then ``C -> C``, each with ``norm_cfg`` and ``act_cfg``
      (ELU by default, as the Monodepth2 decoder) and ``padding_mode``
      padding; ``'conv_act_conv1x1'`` is the released code's: a 3x3 conv
      ``2C -> C`` with bias, ``padding_mode`` padding and ``act_cfg``, then
      a 1x1 conv ``C -> C`` with bias, no norm in either. (The released
      code concatenates ``[F_t, phi_w(F_t')]``, the other order: the same
      function up to a permutation of the first conv's input channels.)
    - No extra residual connection: the target feature reaches the output
      only through the concatenation, as in Sec. 3.3.3.

    Computation: the embeddings are linear, so the module computes the
    same function without materialising them (exact up to float rounding;
    the parameters, and hence checkpoints and gradients, are those of the
    explicit form). ``k_h . q_h = F_t . (Wk_h^T Wq_h F_r + Wk_h^T bq_h) +
    (Wq_h^T bk_h) . F_r + bk_h . bq_h`` is a ``C``-dimensional product per
    embedding instead of a ``C'``-dimensional one, and ``phi_w``'s conv
    ``Wo`` is folded into the values, ``Wo sum_h rho_h v_h = sum_h rho_h
    (Wo Wv_h F_t + Wo bv_h)``. The ``C x C`` products of the weights cost
    ``O(H C C' C)`` per call, independent of the image size; per pixel the
    multiply-adds drop from ``3 H C' C + 2 H C' + C' C`` (q, k, v, scores,
    weighted sum, ``phi_w``) to ``2 H C^2 + 3 H C``, about 3x fewer for
    ``C' = 2C``, and the activations kept for backward shrink from
    ``3 H C'`` to ``2 H C`` channels. Projections that are not plain 1x1
    convolutions (a custom ``conv_cfg``) use the explicit form
    (:attr:`factorised`).

    Args:
        channels (int): Channels C of both the reference and the target
            feature.
        num_embeddings (int): Number H of embeddings. Default: 4.
        embed_ratio (int): Ratio C' / C of the embedding dimension.
            Default: 2.
        conv_cfg (dict, optional): Config of conv layers. Default: None.
        norm_cfg (dict, optional): Config of the norm layers of ``phi_w``
            and the fusion convs. Default: ``dict(type='BN')``.
        act_cfg (dict, optional): Activation of the fusion convs.
            Default: ``dict(type='ELU')``.
        padding_mode (str): Padding of the 3x3 fusion convs.
            Default: 'reflect'.
        score_scaling (str): Divisor of the scores: 'embed_channels'
            (``sqrt(C')``, Eq. 13) or 'total_channels' (``sqrt(H * C')``,
            the released code). Default: 'embed_channels'.
        fusion (str): Fusion convolutions: 'conv_norm_act_x2' or
            'conv_act_conv1x1' (released code), see above.
            Default: 'conv_norm_act_x2'.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Default: None.
    """

    SCORE_SCALINGS = ('embed_channels', 'total_channels')
    FUSIONS = ('conv_norm_act_x2', 'conv_act_conv1x1')

    def __init__(self,
                 channels: int,
                 num_embeddings: int = 4,
                 embed_ratio: int = 2,
                 conv_cfg: OptConfigType = None,
                 norm_cfg: OptConfigType = dict(type='BN'),
                 act_cfg: OptConfigType = dict(type='ELU'),
                 padding_mode: str = 'reflect',
                 score_scaling: str = 'embed_channels',
                 fusion: str = 'conv_norm_act_x2',
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg)
        for name, value in (('channels', channels),
                            ('num_embeddings', num_embeddings), ('embed_ratio',
                                                                 embed_ratio)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f'{type(self).__name__}: {name} must be a '
                                 f'positive int, got {value!r}')
        if score_scaling not in self.SCORE_SCALINGS:
            raise ValueError(f'{type(self).__name__}: score_scaling must be '
                             f'one of {self.SCORE_SCALINGS}, got '
                             f'{score_scaling!r}')
        if fusion not in self.FUSIONS:
            raise ValueError(f'{type(self).__name__}: fusion must be one of '
                             f'{self.FUSIONS}, got {fusion!r}')
        self.channels = channels
        self.num_embeddings = num_embeddings
        self.embed_channels = embed_ratio * channels
        self.score_scaling = score_scaling
        self.fusion_type = fusion
        # Eq. 13: 1 / sqrt(C'); released code: 1 / sqrt(H * C')
        divisor = self.embed_channels
        if score_scaling == 'total_channels':
            divisor *= num_embeddings
        self.scale = 1.0 / math.sqrt(divisor)

        total = num_embeddings * self.embed_channels
        proj_kwargs = dict(
            kernel_size=1, conv_cfg=conv_cfg, norm_cfg=None, act_cfg=None)
        self.query_proj = ConvModule(channels, total, **proj_kwargs)
        self.key_proj = ConvModule(channels, total, **proj_kwargs)
        self.value_proj = ConvModule(channels, total, **proj_kwargs)
        self.out_proj = ConvModule(
            self.embed_channels,
            channels,
            kernel_size=1,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=None)
        fuse_kwargs = dict(
            kernel_size=3,
            padding=1,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg,
            padding_mode=conv_padding_mode(padding_mode))
        if fusion == 'conv_norm_act_x2':
            self.fusion = nn.Sequential(
                ConvModule(2 * channels, channels, **fuse_kwargs),
                ConvModule(channels, channels, **fuse_kwargs))
        else:
            fuse_kwargs['norm_cfg'] = None
            self.fusion = nn.Sequential(
                ConvModule(2 * channels, channels, **fuse_kwargs),
                ConvModule(
                    channels,
                    channels,
                    kernel_size=1,
                    conv_cfg=conv_cfg,
                    norm_cfg=None,
                    act_cfg=None))

    def _embed(self, proj: nn.Module, x: Tensor) -> Tensor:
        """Project ``(B, C, h, w)`` to ``(B, H, C', h*w)`` embeddings."""
        b, _, h, w = x.shape
        return proj(x).reshape(b, self.num_embeddings, self.embed_channels,
                               h * w)

    def _check_inputs(self, ref_feat: Tensor, target_feat: Tensor) -> None:
        if ref_feat.dim() != 4 or ref_feat.shape != target_feat.shape or \
                ref_feat.shape[1] != self.channels:
            raise ValueError(
                f'{type(self).__name__} expects reference and target '
                f'features of one shape (B, {self.channels}, h, w), got '
                f'{tuple(ref_feat.shape)} and {tuple(target_feat.shape)}')

    def _normalise(self, scores: Tensor) -> Tensor:
        """``rho`` over the embedding dim 1: softmax (Eq. 12) if H > 1,
        identity if H = 1 (Sec. 4.2.1)."""
        if self.num_embeddings > 1:
            return scores.softmax(dim=1)
        return scores

    @property
    def factorised(self) -> bool:
        """bool: Whether the factorised computation is used: all four
        projections are plain 1x1 ``nn.Conv2d`` (linear maps of every
        pixel's feature), ``phi_q``, ``phi_k``, ``phi_v`` without norm and
        activation and ``phi_w`` in ``conv -> norm -> act`` order (the
        defaults). Otherwise the embeddings are computed explicitly."""
        embeddings = (self.query_proj, self.key_proj, self.value_proj)
        return all(
            type(p.conv) is nn.Conv2d and p.conv.kernel_size == (1, 1)
            for p in embeddings + (self.out_proj, )) and not any(
                p.with_norm or p.with_activation
                for p in embeddings) and self.out_proj.order == ('conv',
                                                                 'norm', 'act')

    @staticmethod
    def _linear(proj: ConvModule) -> Tuple[Tensor, Tensor]:
        """Weight ``(C_out, C_in)`` and bias ``(C_out,)`` (zeros when the
        conv has none) of a 1x1 projection."""
        weight = proj.conv.weight.flatten(1)
        bias = proj.conv.bias
        if bias is None:
            bias = weight.new_zeros(weight.shape[0])
        return weight, bias

    def _score_projection(self) -> Tuple[Tensor, Tensor]:
        """The ``(H*C + H)``-channel 1x1 map of the reference feature
        whose product with the target feature gives the scores.

        With ``q_h = Wq_h F_r + bq_h`` and ``k_h = Wk_h F_t + bk_h``
        (``Wq_h, Wk_h``: ``C' x C``)::

            k_h . q_h = F_t . (Wk_h^T Wq_h F_r + Wk_h^T bq_h)
                        + (Wq_h^T bk_h) . F_r + bk_h . bq_h

        The first H*C output channels are ``u_h = Wk_h^T Wq_h F_r +
        Wk_h^T bq_h`` (``C`` channels per embedding) and the last H the
        ``F_t``-free term, all multiplied by the score scale
        (``1 / sqrt(C')``, or ``1 / sqrt(H C')`` for
        ``score_scaling='total_channels'``).

        Returns:
            tuple[Tensor, Tensor]: Weight ``(H*C + H, C)``, bias
            ``(H*C + H,)``.
        """
        heads, emb = self.num_embeddings, self.embed_channels
        wq, bq = self._linear(self.query_proj)
        wk, bk = self._linear(self.key_proj)
        wq, wk = wq.view(heads, emb, -1), wk.view(heads, emb, -1)
        bq, bk = bq.view(heads, emb, 1), bk.view(heads, emb, 1)
        wk_t = wk.transpose(1, 2)  # (H, C, C')
        weight = torch.cat([(wk_t @ wq).flatten(0, 1),
                            (wq.transpose(1, 2) @ bk)[..., 0]])
        bias = torch.cat([(wk_t @ bq).flatten(), (bk * bq).sum(dim=(1, 2))])
        return weight * self.scale, bias * self.scale

    def _value_projection(self) -> Tuple[Tensor, Tensor]:
        """``phi_w`` composed with each embedding's value map.

        ``phi_w``'s conv (``Wo``: ``C x C'``, bias ``bo``) is linear, so
        ``Wo sum_h rho_h v_h = sum_h rho_h (Wo Wv_h F_t + Wo bv_h)``: a
        ``C``-channel map per embedding instead of ``C'`` channels.

        Returns:
            tuple[Tensor, Tensor]: Weight ``(H*C, C)`` (block h:
            ``Wo Wv_h``) and bias ``(H*C,)`` (block h: ``Wo bv_h``).
        """
        heads, emb = self.num_embeddings, self.embed_channels
        wv, bv = self._linear(self.value_proj)
        wo = self.out_proj.conv.weight.flatten(1)  # (C, C')
        weight = wo @ wv.view(heads, emb, -1)  # (H, C, C)
        bias = wo @ bv.view(heads, emb, 1)  # (H, C, 1)
        return weight.flatten(0, 1), bias.flatten()

    def _project(self, x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
        """1x1 map ``(B, C, h, w) -> (B, C_out, h*w)``."""
        return F.conv2d(x, weight[:, :, None, None], bias).flatten(2)

    def attention_weights(self, ref_feat: Tensor,
                          target_feat: Tensor) -> Tensor:
        """Normalised pixel-wise attention weights ``rho(A_h(i))``.

        Args:
            ref_feat (Tensor): Reference task feature ``(B, C, h, w)``
                (query input).
            target_feat (Tensor): Target task feature ``(B, C, h, w)``
                (key input).

        Returns:
            Tensor: ``(B, H, h*w)``; sums to 1 over dim 1 when H > 1, the
            raw scaled score (Eq. 10 / 13) when H = 1.
        """
        self._check_inputs(ref_feat, target_feat)
        b, c = target_feat.shape[:2]
        heads = self.num_embeddings
        if not self.factorised:
            query = self._embed(self.query_proj, ref_feat)
            key = self._embed(self.key_proj, target_feat)
            # Eq. 13
            scores = torch.linalg.vecdot(key, query, dim=2) * self.scale
            return self._normalise(scores)
        proj = self._project(ref_feat, *self._score_projection())
        u = proj[:, :heads * c].unflatten(1, (heads, c))  # (B, H, C, h*w)
        scores = torch.linalg.vecdot(
            target_feat.flatten(2)[:, None], u, dim=2) + proj[:, heads * c:]
        return self._normalise(scores)

    def forward(self, ref_feat: Tensor, target_feat: Tensor) -> Tensor:
        """Refine the target feature with the reference feature.

        Args:
            ref_feat (Tensor): Reference task feature ``(B, C, h, w)``.
            target_feat (Tensor): Target task feature ``(B, C, h, w)``.

        Returns:
            Tensor: Refined target feature ``F_o``, ``(B, C, h, w)``.
        """
        b, c, h, w = target_feat.shape
        weights = self.attention_weights(ref_feat, target_feat)
        if not self.factorised:
            value = self._embed(self.value_proj, target_feat)
            refined = (weights.unsqueeze(2) * value).sum(dim=1)  # Eq. 11, 14
            projected = self.out_proj(
                refined.reshape(b, self.embed_channels, h, w))
        else:
            values = self._project(target_feat, *self._value_projection())
            # Eq. 11, 14 after phi_w's conv: sum_h rho_h (Wo v_h)
            projected = torch.linalg.vecdot(
                weights[:, :, None],
                values.unflatten(1, (self.num_embeddings, c)),
                dim=1).view(b, c, h, w)
            if self.out_proj.conv.bias is not None:
                projected = projected + self.out_proj.conv.bias.view(
                    1, c, 1, 1)
            if self.out_proj.with_norm:
                projected = self.out_proj.norm(projected)
            if self.out_proj.with_activation:
                projected = self.out_proj.activate(projected)
        fused = torch.cat([projected, target_feat], dim=1)
        return self.fusion(fused)


@MODELS.register_module()
class BidirectionalCMA(BaseModule):
    """A pair of :class:`CrossTaskMultiEmbeddingAttention` modules.

    FSRE-Depth uses two CMA modules per decoder layer (Sec. 3.3): one with
    depth as the target and segmentation as the reference, one with the
    roles swapped. Both read the *original* features of the layer, so the
    two refinements are independent of each other's output. ``direction``
    selects the target task(s) of the Table 4a ablation: ``'depth'`` (T =
    D) refines only the depth feature, ``'seg'`` (T = S) only the
    segmentation feature, ``'both'`` (T = D, S) both; an unrefined feature
    is returned unchanged (the same tensor).

    Args:
        channels (int): Channels C of both decoder features.
        num_embeddings (int): Number H of embeddings. Default: 4.
        embed_ratio (int): Ratio C' / C. Default: 2.
        direction (str): 'both', 'depth' or 'seg'. Default: 'both'.
        conv_cfg (dict, optional): Config of conv layers. Default: None.
        norm_cfg (dict, optional): Config of norm layers.
            Default: ``dict(type='BN')``.
        act_cfg (dict, optional): Activation of the fusion convs.
            Default: ``dict(type='ELU')``.
        padding_mode (str): Padding of the 3x3 fusion convs.
            Default: 'reflect'.
        score_scaling (str): 'embed_channels' (Eq. 13) or 'total_channels'
            (released code). Default: 'embed_channels'.
        fusion (str): 'conv_norm_act_x2' or 'conv_act_conv1x1' (released
            code). Default: 'conv_norm_act_x2'.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Default: None.
    """

    DIRECTIONS = ('both', 'depth', 'seg')

    def __init__(self,
                 channels: int,
                 num_embeddings: int = 4,
                 embed_ratio: int = 2,
                 direction: str = 'both',
                 conv_cfg: OptConfigType = None,
                 norm_cfg: OptConfigType = dict(type='BN'),
                 act_cfg: OptConfigType = dict(type='ELU'),
                 padding_mode: str = 'reflect',
                 score_scaling: str = 'embed_channels',
                 fusion: str = 'conv_norm_act_x2',
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg)
        if direction not in self.DIRECTIONS:
            raise ValueError(f'BidirectionalCMA: direction must be one of '
                             f'{self.DIRECTIONS}, got {direction!r}')
        self.direction = direction
        cma_kwargs: ConfigType = dict(
            channels=channels,
            num_embeddings=num_embeddings,
            embed_ratio=embed_ratio,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg,
            padding_mode=padding_mode,
            score_scaling=score_scaling,
            fusion=fusion)
        self.depth_cma = (
            CrossTaskMultiEmbeddingAttention(
                **cma_kwargs) if direction in ('both', 'depth') else None)
        self.seg_cma = (
            CrossTaskMultiEmbeddingAttention(
                **cma_kwargs) if direction in ('both', 'seg') else None)

    def forward(self, depth_feat: Tensor,
                seg_feat: Tensor) -> Tuple[Tensor, Tensor]:
        """Refine the selected task features.

        Args:
            depth_feat (Tensor): Depth decoder feature ``(B, C, h, w)``.
            seg_feat (Tensor): Segmentation decoder feature
                ``(B, C, h, w)``.

        Returns:
            tuple[Tensor, Tensor]: ``(depth_feat', seg_feat')``, each
            ``(B, C, h, w)``; a task that is not a target is returned as is.
        """
        new_depth = depth_feat if self.depth_cma is None else \
            self.depth_cma(seg_feat, depth_feat)
        new_seg = seg_feat if self.seg_cma is None else \
            self.seg_cma(depth_feat, seg_feat)
        return new_depth, new_seg
