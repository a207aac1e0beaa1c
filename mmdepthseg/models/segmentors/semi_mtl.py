# Copyright (c) mmdepthseg contributors. All rights reserved.
"""SemiMTL: multi-task learning across partially labelled datasets with
domain-aware discriminators (generator step and discriminator step)."""
import copy
from contextlib import contextmanager
from typing import Dict, Iterator, List, Mapping, Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmseg.models.utils import resize
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig, SampleList
from torch import Tensor

from mmdepthseg.registry import MODELS
from mmdepthseg.structures import (read_domain, read_labelled_tasks,
                                   read_padding_size, sample_name)
from mmdepthseg.structures.keys import TASK_GT_FIELDS, TASKS
# Imported for their registration (the default configs name them).
from ..decode_heads.conv_depth_head import ConvDepthHead  # noqa: F401
from ..discriminators.task_discriminator import (  # noqa: F401
    DiscriminatorDict, TaskDiscriminator)
from ..losses.adversarial_loss import (INTER_MODES, discriminator_loss,
                                       inter_domain_loss, intra_domain_loss)
from ..losses.berhu_loss import BerHuLoss  # noqa: F401
from ..utils import stack_pixel_field
from .multi_task_segmentor import MultiTaskSegmentor

MODES = ('stl', 'jtl', 'semisd', 'semimtl', 'da')
#: ``'per_domain'``: Algorithm 1 (one generator update per domain's
#: mini-batch); ``'pooled'``: one update on the whole batch.
GENERATOR_UPDATES = ('per_domain', 'pooled')
_GT_FIELDS = TASK_GT_FIELDS


@MODELS.register_module()
class SemiMTL(MultiTaskSegmentor):
    """Semi-supervised multi-task learning for semantics and depth.

    SemiMTL (Sec. 3) trains one generator ``G`` (a shared encoder with a
    segmentation and a depth decoder) on K datasets (domains) that each
    label only some tasks. Every batch holds one mini-batch per domain
    (``MultiSourceSampler``); the samples carry ``domain`` (``1..K``) and
    ``labelled_tasks`` in their metainfo (stamped by ``MultiSourceDataset``)
    and only the labelled tasks' ground truth: ``gt_sem_seg`` (255 =
    ignore) and ``gt_depth_map`` (the regression target, e.g. disparity or
    a normalised nDSM; NaN = invalid, 0 is valid).

    Generator objective (Eq. 8, Algorithm 1)::

        L_G = sum_t  w_t L_gt^t            (samples that label t)
                   + lambda_intra L_intra^t  (Eq. 3, samples that label t)
                   + lambda_inter L_inter^t  (Eq. 4/5/6, the other samples)

    with cross-entropy (the seg head's ``loss_decode``) and BerHu (the
    depth head's loss) as ``L_gt``, ``w_seg = 1``, ``w_depth = 0.01``.

    Generator updates (``generator_update``):

    - ``'per_domain'`` (default, Algorithm 1): :meth:`train_step` splits the
      batch by ``domain`` and, for each domain ``k = 1..K`` in turn, runs
      the generator on that domain's mini-batch alone, computes its
      ``L_G`` and updates ``G`` (K generator updates per iteration; the
      batch-norm statistics of each forward are that domain's). The
      discriminators are updated once per iteration afterwards
      (:meth:`discriminator_step`), on the predictions of every domain,
      each made by the generator of its own pass (before its update), as
      Algorithm 1 accumulates ``L_D^{t,k}`` inside its loop.
    - ``'pooled'``: one forward and one update of ``G`` on the whole batch
      (synchronous joint training, Sec. 3.3, and AdaptSegNet's order).

    Within one update a supervised loss pools all samples that label its
    task (one mean over their pixels); the adversarial terms likewise pool
    the samples they apply to. The logged items of a ``'per_domain'`` step
    are summed over the domains (means for non-loss items such as
    ``acc_seg``).

    Discriminator inputs: softmax probabilities of the predictions; the
    ground truth as a one-hot map (ignored pixels all-zero) or the depth
    target (invalid pixels 0). Since those holes would let a discriminator
    tell ground truth from prediction, the ground truth's invalid pixels
    are **masked out** of ``L_D`` (the ground truth's term and the term of
    the same samples' predictions), of ``L_intra``, and padding (outside
    ``img_shape``) out of every term including ``L_inter``, as AdvSemiSeg
    does (see :mod:`mmdepthseg.models.losses.adversarial_loss`).

    The discriminators are frozen during the generator step: their
    parameters take no part in the graph (``requires_grad`` off during
    their forward) and they run in ``eval`` mode (no spectral-norm power
    iteration), so the step leaves every discriminator parameter and buffer
    unchanged. The detached predictions, the ground truth, the pixel masks
    and the domains are kept in :attr:`discriminator_inputs` for
    :meth:`discriminator_step` (Eq. 9).

    Modes:

    - ``'stl'``: one task head, supervised loss only;
    - ``'jtl'``: both heads, supervised losses only (joint training);
    - ``'semisd'``: a binary ground-truth (0) vs prediction (1)
      discriminator per task, without domain awareness; the generator pulls
      every prediction towards class 0 (``inter_mode`` must be ``'m2'``).
      With one head it is a single-task model adapted with a ground-truth
      vs prediction discriminator (the paper's wording of its DA
      baselines, see ``'da'``);
    - ``'semimtl'``: ``K + 1``-way domain-aware discriminators, ``L_inter``
      after ``inter_mode`` M1 / M2 / M3 (see
      :mod:`mmdepthseg.models.losses.adversarial_loss`; M1 targets the
      classes of the domains that label the task in the batch);
    - ``'da'``: output-space domain adaptation (AdaptSegNet, Tsai et al.
      2018; the DA_Seg / DA_Depth rows of Table 2), for any heads (one
      head: a single-task model). Per task a binary discriminator tells
      the predictions of the samples that label the task (source, class
      0) from those of the other samples (target, class 1); the
      generator's adversarial term ``lambda_inter L_inter`` pulls the
      target predictions towards class 0; no ground truth reaches the
      discriminator and there is no ``L_intra`` (``inter_mode`` must be
      ``'m2'``).

    Loss items (weighted, as summed into ``L_G``): ``loss_seg``,
    ``loss_depth``, ``loss_adv_intra_{seg,depth}``,
    ``loss_adv_inter_{seg,depth}`` (those that apply to the batch) and
    ``acc_seg``. A task that no sample of the batch labels has no
    supervised term; one that every sample labels has no inter term.
    The adversarial losses are pixel means (the paper writes sums over
    ``h, w``; see the losses' module for how the lambdas relate).

    Both outputs are bilinearly upsampled to the input size. The paper's
    generator (Sec. 3.4)::

        backbone=dict(type='ResNetV1c', depth=101, strides=(1, 2, 1, 1),
                      dilations=(1, 1, 2, 4), contract_dilation=True, ...),
        seg_head=dict(type='PSPHead', in_channels=2048, in_index=3,
                      channels=512, pool_scales=(1, 2, 3, 6), ...),
        depth_head=dict(type='ConvDepthHead', in_channels=2048),

    Under ``MMSeparateDistributedDataParallel`` every child is a DDP
    module: the model only *calls* them (one forward per backward) and
    reaches through the wrapper only for non-forward methods (the heads'
    ``loss_by_feat``).

    Args:
        backbone (dict): Shared encoder, e.g. mmseg ``ResNetV1c`` (depth 101,
            ``strides=(1, 2, 1, 1)``, ``dilations=(1, 1, 2, 4)``).
        seg_head (dict, optional): Segmentation head, e.g. mmseg
            ``PSPHead``. Default: None.
        depth_head (dict, optional): Depth head, e.g.
            :class:`ConvDepthHead`. Default: None.
        mode (str): One of ``'stl'``, ``'jtl'``, ``'semisd'``,
            ``'semimtl'``, ``'da'``. Default: 'semimtl'.
        inter_mode (str): ``'m1'``, ``'m2'`` or ``'m3'`` (Eq. 4, 5, 6).
            Default: 'm2'.
        num_domains (int): Number of domains ``K``. Default: 2.
        task_weights (dict): ``w_t`` per task; tasks left out keep the
            paper's weight. Default: ``dict(seg=1.0, depth=0.01)``.
        lambda_intra (float): Weight of ``L_intra``. Default: 0.001.
        lambda_inter (float): Weight of ``L_inter`` (``'da'``: of the
            target's adversarial term). Default: 0.0001.
        generator_update (str): ``'per_domain'`` (Algorithm 1: one
            generator update per domain's mini-batch) or ``'pooled'`` (one
            update per batch). Default: 'per_domain'.
        discriminator (dict): Discriminator config without ``in_channels``
            and ``num_domains`` (set per task and mode here). Default:
            ``dict(type='TaskDiscriminator')``.
        neck (dict, optional): Neck config. Default: None.
        train_cfg (dict, optional): Training config. Default: None.
        test_cfg (dict, optional): Testing config (whole / slide
            inference, see :class:`BaseDepthSegmentor`). Default: None.
        data_preprocessor (dict, optional): Data preprocessor config. Set
            its ``depth_pad_val=float('nan')`` if batches can be padded:
            0 is a valid depth target here. Default: None.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Default: None.
    """

    def __init__(self,
                 backbone: ConfigType,
                 seg_head: OptConfigType = None,
                 depth_head: OptConfigType = None,
                 mode: str = 'semimtl',
                 inter_mode: str = 'm2',
                 num_domains: int = 2,
                 task_weights: Dict[str, float] = dict(seg=1.0, depth=0.01),
                 lambda_intra: float = 0.001,
                 lambda_inter: float = 0.0001,
                 generator_update: str = 'per_domain',
                 discriminator: ConfigType = dict(type='TaskDiscriminator'),
                 neck: OptConfigType = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        if mode not in MODES:
            raise ValueError(f'SemiMTL: mode must be one of {MODES}, got '
                             f'{mode!r}')
        if inter_mode not in INTER_MODES:
            raise ValueError(f'SemiMTL: inter_mode must be one of '
                             f'{INTER_MODES}, got {inter_mode!r}')
        if mode in ('semisd', 'da') and inter_mode != 'm2':
            raise ValueError(
                f"SemiMTL: mode={mode!r} has a binary discriminator without "
                "domain classes, so only inter_mode='m2' (towards class 0) "
                f'applies; got {inter_mode!r}')
        if generator_update not in GENERATOR_UPDATES:
            raise ValueError(f'SemiMTL: generator_update must be one of '
                             f'{GENERATOR_UPDATES}, got {generator_update!r}')
        if int(num_domains) != num_domains or num_domains < 1:
            raise ValueError(f'SemiMTL: num_domains must be a positive int, '
                             f'got {num_domains}')
        unknown = set(task_weights) - set(TASKS)
        if unknown:
            raise ValueError(f'SemiMTL: task_weights has unknown tasks '
                             f'{sorted(unknown)}; tasks are {TASKS}')
        if lambda_intra < 0 or lambda_inter < 0:
            raise ValueError('SemiMTL: lambda_intra and lambda_inter must be '
                             f'>= 0, got {lambda_intra}, {lambda_inter}')
        super().__init__(
            backbone=backbone,
            depth_head=depth_head,
            seg_head=seg_head,
            neck=neck,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.mode = mode
        self.inter_mode = inter_mode
        self.generator_update = generator_update
        self.num_domains = int(num_domains)
        self.task_weights = dict(seg=1.0, depth=0.01)
        self.task_weights.update({
            t: float(w)
            for t, w in task_weights.items()
        })
        self.lambda_intra = lambda_intra
        self.lambda_inter = lambda_inter
        if mode == 'stl' and len(self.tasks) != 1:
            raise ValueError("SemiMTL: mode='stl' takes exactly one of "
                             f'seg_head / depth_head, got {self.tasks}')
        if mode in ('jtl', 'semimtl') and len(self.tasks) != 2:
            raise ValueError(f'SemiMTL: mode={mode!r} needs both seg_head and '
                             f'depth_head, got {self.tasks}')
        if self.with_seg_head and self.seg_head.out_channels < 2:
            raise ValueError(
                'SemiMTL: the seg head must output one logit per class '
                f'(out_channels >= 2), got {self.seg_head.out_channels}')
        self.discriminators: Optional[DiscriminatorDict] = None
        if mode in ('semisd', 'semimtl', 'da'):
            self.discriminators = self._build_discriminators(discriminator)
        self.discriminator_inputs: Optional[Dict[str, Dict[str,
                                                           Tensor]]] = None

    @property
    def tasks(self) -> Tuple[str, ...]:
        """tuple[str]: The tasks of the heads present, in :data:`TASKS`
        order (``'seg'`` first)."""
        return tuple(task for task in TASKS
                     if getattr(self, f'{task}_head') is not None)

    def _build_discriminators(self,
                              discriminator: ConfigType) -> DiscriminatorDict:
        """One discriminator per task: ``K + 1`` classes (SemiSD, DA: 2)."""
        for key in ('in_channels', 'num_domains'):
            if key in discriminator:
                raise ValueError(
                    f'SemiMTL: discriminator.{key} is set by the model (from '
                    'the task and the mode); remove it from the config')
        num_domains = self.num_domains if self.mode == 'semimtl' else 1
        discriminators = dict()
        for task in self.tasks:
            cfg = copy.deepcopy(dict(discriminator))
            cfg.setdefault('type', 'TaskDiscriminator')
            cfg.update(
                in_channels=self.seg_head.out_channels if task == 'seg' else 1,
                num_domains=num_domains)
            discriminators[task] = MODELS.build(cfg)
        return DiscriminatorDict(discriminators)

    @property
    def with_discriminators(self) -> bool:
        """bool: Whether the model is trained adversarially."""
        return self.discriminators is not None

    @staticmethod
    def _unwrap(module: nn.Module) -> nn.Module:
        """The module inside a (DDP) wrapper, for its non-forward methods."""
        return module.module if is_model_wrapper(module) else module

    # ------------------------------------------------------------------
    # Generator
    # ------------------------------------------------------------------
    def decode(self,
               inputs: Tensor,
               batch_img_metas: Optional[List[dict]] = None
               ) -> Dict[str, Tensor]:
        """Predict every task at the input size (the heads are only called,
        as a DDP-wrapped child allows).

        Args:
            inputs (Tensor): ``(B, 3, H, W)`` (view-stacked inputs use the
                first view).
            batch_img_metas (list[dict], optional): Unused.

        Returns:
            dict[str, Tensor]: ``'seg'``: logits ``(B, C, H, W)``;
            ``'depth'``: ``(B, 1, H, W)``, for the heads present.
        """
        feats = self.extract_feat(inputs)
        size = inputs.shape[2:]
        preds = dict()
        if self.with_seg_head:
            preds['seg'] = resize(
                self.seg_head(feats),
                size=size,
                mode='bilinear',
                align_corners=self._unwrap(self.seg_head).align_corners)
        if self.with_depth_head:
            preds['depth'] = resize(
                self.depth_head(feats)[0],
                size=size,
                mode='bilinear',
                align_corners=self._unwrap(self.depth_head).align_corners)
        return preds

    def _batch_info(self, data_samples: SampleList,
                    device: torch.device) -> Tuple[Tensor, Dict[str, Tensor]]:
        """Domains and labelled tasks of the samples.

        ``labelled_tasks`` is read from the metainfo; without it (a plain
        single-source dataset, STL / JTL) a task counts as labelled when its
        ground-truth field is present. ``domain`` is required with
        discriminators.

        Returns:
            tuple: Long ``(B,)`` domains (0 where unknown) and, per task of
            the model, a boolean ``(B,)`` mask of the samples labelling it.
        """
        domains = []
        labelled = {task: [] for task in self.tasks}
        for i, sample in enumerate(data_samples):
            name = sample_name(sample)
            tasks = read_labelled_tasks(sample, required=False)
            if tasks is None:
                tasks = tuple(t for t in TASKS if _GT_FIELDS[t] in sample)
            for task in self.tasks:
                has = task in tasks
                if has and _GT_FIELDS[task] not in sample:
                    raise KeyError(
                        f'data sample {i} ({name}) labels '
                        f'{task!r} but has no {_GT_FIELDS[task]!r}')
                labelled[task].append(has)
            domain = read_domain(sample, required=False)
            if domain is not None:
                if domain > self.num_domains:
                    raise ValueError(
                        f'data sample {i} ({name}): domain '
                        f'must be an int in [1, {self.num_domains}] '
                        f'(num_domains), got {domain!r}')
                domains.append(domain)
            elif self.with_discriminators:
                raise KeyError(
                    f'data sample {i} ({name}) has no '
                    f"'domain' metainfo, which mode={self.mode!r} needs")
            else:
                domains.append(0)
        domain_tensor = torch.tensor(domains, dtype=torch.long, device=device)
        masks = {
            task: torch.tensor(flags, dtype=torch.bool, device=device)
            for task, flags in labelled.items()
        }
        return domain_tensor, masks

    def _labelled_domains(self, data_samples: SampleList,
                          device: torch.device) -> Dict[str, List[int]]:
        """Per task, the domains of the batch whose samples label it."""
        domains, labelled = self._batch_info(data_samples, device)
        return {
            task: sorted(set(domains[mask].tolist()))
            for task, mask in labelled.items()
        }

    @staticmethod
    def _domain_groups(data_samples: SampleList) -> List[List[int]]:
        """Indices of the samples of each domain, domains in ascending
        order (samples without ``domain`` metainfo form one group)."""
        groups: Dict[int, List[int]] = dict()
        for i, sample in enumerate(data_samples):
            groups.setdefault(read_domain(sample, required=False) or 0,
                              []).append(i)
        return [groups[k] for k in sorted(groups)]

    def _supervised_loss(self, task: str, pred: Tensor,
                         data_samples: SampleList) -> Dict[str, Tensor]:
        """``w_t L_gt^t`` (key ``loss_{task}``) and the head's other items.

        Args:
            task (str): ``'seg'`` or ``'depth'``.
            pred (Tensor): Predictions of the labelled samples at the input
                size.
            data_samples (list[SegDataSample]): Those samples.
        """
        if task == 'seg':
            items = self._unwrap(self.seg_head).loss_by_feat(
                pred, data_samples)
        else:
            items = self._unwrap(self.depth_head).loss_by_feat([pred],
                                                               data_samples)
        loss_keys = [k for k in items if 'loss' in k]
        if not loss_keys:
            raise RuntimeError(f'SemiMTL: the {task} head returned no loss '
                               f'item (got {sorted(items)})')
        losses = {
            f'loss_{task}':
            self.task_weights[task] * sum(items[k] for k in loss_keys)
        }
        losses.update({k: v for k, v in items.items() if 'loss' not in k})
        return losses

    def _prediction_to_discriminator(self, task: str, pred: Tensor) -> Tensor:
        """Discriminator input of a prediction: softmax probabilities for
        segmentation, the map itself for depth."""
        return pred.softmax(dim=1) if task == 'seg' else pred

    def _gt_to_discriminator(self, task: str, data_samples: SampleList,
                             like: Tensor) -> Tuple[Tensor, Tensor]:
        """Discriminator input of the ground truth and its valid pixels.

        Segmentation: one-hot ``(N, C, H, W)``, ignore pixels all-zero.
        Depth: the target ``(N, 1, H, W)`` with non-finite (invalid) pixels
        set to 0.

        Args:
            task (str): ``'seg'`` or ``'depth'``.
            data_samples (list[SegDataSample]): Samples labelling ``task``.
            like (Tensor): A prediction input ``(B, C, H, W)`` whose dtype,
                device and size the ground truth must match.

        Returns:
            tuple[Tensor, Tensor]: The input and a boolean ``(N, H, W)``
            map, False where the pixel is ignored / invalid.
        """
        gt = stack_pixel_field(data_samples, _GT_FIELDS[task])[:, :1]
        if gt.shape[2:] != like.shape[2:]:
            raise ValueError(
                f'SemiMTL: {_GT_FIELDS[task]} {tuple(gt.shape[2:])} must have '
                f'the input size {tuple(like.shape[2:])} in training')
        gt = gt.to(like.device)
        if task == 'depth':
            gt = gt.to(like.dtype)
            valid = torch.isfinite(gt)
            return torch.where(valid, gt, torch.zeros_like(gt)), valid[:, 0]
        num_classes = like.shape[1]
        labels = gt[:, 0].long()
        valid = labels != self._unwrap(self.seg_head).ignore_index
        if ((labels < 0) | (labels >= num_classes))[valid].any():
            raise ValueError(
                f'SemiMTL: gt_sem_seg holds labels outside [0, '
                f'{num_classes - 1}] that are not the ignore index')
        one_hot = F.one_hot(torch.where(valid, labels, 0), num_classes)
        return one_hot.permute(0, 3, 1, 2).to(like.dtype) * \
            valid[:, None].to(like.dtype), valid

    @staticmethod
    def _inside_image(data_samples: SampleList, size: Tuple[int, int],
                      device: torch.device) -> Tensor:
        """Boolean ``(B, H, W)``: False on the padding the data
        preprocessor added (metainfo ``padding_size``, ``(left, right,
        top, bottom)``)."""
        h, w = size
        inside = torch.ones((len(data_samples), h, w),
                            dtype=torch.bool,
                            device=device)
        for i, sample in enumerate(data_samples):
            left, right, top, bottom = read_padding_size(sample)
            if left or right or top or bottom:
                inside[i] = False
                inside[i, top:h - bottom, left:w - right] = True
        return inside

    @contextmanager
    def _frozen_discriminators(self) -> Iterator[None]:
        """Discriminators without gradients and in eval mode (no power
        iteration), restored on exit."""
        params = list(self.discriminators.parameters())
        flags = [p.requires_grad for p in params]
        was_training = self.discriminators.training
        for p in params:
            p.requires_grad_(False)
        self.discriminators.eval()
        try:
            yield
        finally:
            for p, flag in zip(params, flags):
                p.requires_grad_(flag)
            self.discriminators.train(was_training)

    def _inter_loss(self, task: str, logits: Tensor, domains: Tensor,
                    labelled_domains: List[int], valid: Tensor) -> Tensor:
        """``L_inter`` of the unlabelled samples of ``task``."""
        if self.mode in ('semisd', 'da'):
            # towards class 0: ground truth (SemiSD, M2) / source (DA)
            return intra_domain_loss(logits, valid)
        if self.inter_mode == 'm1' and not labelled_domains:
            raise ValueError(
                f"SemiMTL: inter_mode='m1' aligns the predictions of "
                f'{task!r} with those of the domains that label it, but no '
                'sample of the batch labels it (every batch needs one '
                'mini-batch per domain)')
        return inter_domain_loss(logits, self.inter_mode, domains,
                                 labelled_domains, valid)

    def _adversarial_losses(
            self, inputs: Tensor, data_samples: SampleList,
            preds: Dict[str, Tensor], domains: Tensor,
            labelled: Dict[str, Tensor], labelled_domains: Dict[str,
                                                                List[int]],
            losses: Dict[str, Tensor]) -> Dict[str, Dict[str, Tensor]]:
        """Add ``L_intra`` / ``L_inter`` of every task to ``losses`` (the
        discriminators frozen) and return the discriminator inputs (see
        :meth:`_generator_losses`)."""
        d_inputs = {
            task: self._prediction_to_discriminator(task, preds[task])
            for task in self.tasks
        }
        with self._frozen_discriminators():
            d_logits = self.discriminators(d_inputs)
        inside = self._inside_image(data_samples, inputs.shape[2:],
                                    inputs.device)
        cache = dict()
        for task in self.tasks:
            mask = labelled[task]
            gt, gt_valid = None, None
            pred_valid = inside.clone()
            if mask.any():
                index = mask.nonzero().squeeze(1).tolist()
                gt, gt_valid = self._gt_to_discriminator(
                    task, [data_samples[i] for i in index], d_inputs[task])
                gt_valid = gt_valid & inside[mask]
                if self.mode != 'da':
                    pred_valid[mask] = gt_valid
            if mask.any() and self.mode != 'da':
                losses[f'loss_adv_intra_{task}'] = self.lambda_intra * \
                    intra_domain_loss(d_logits[task][mask], pred_valid[mask])
            if not mask.all() and (self.mode != 'da'
                                   or labelled_domains[task]):
                losses[f'loss_adv_inter_{task}'] = self.lambda_inter * \
                    self._inter_loss(task, d_logits[task][~mask],
                                     domains[~mask], labelled_domains[task],
                                     pred_valid[~mask])
            if self.mode == 'da':
                # source predictions -> 0, target predictions -> 1
                labels = (~mask).long()
                groups, gt, gt_valid = labels, None, None
            elif self.mode == 'semisd':
                labels, groups = torch.ones_like(domains), domains
            else:
                labels, groups = domains, domains
            cache[task] = dict(
                pred=d_inputs[task].detach(),
                pred_domains=domains,
                pred_labels=labels,
                pred_groups=groups,
                pred_valid=pred_valid,
                gt=gt,
                gt_valid=gt_valid)
        return cache

    def _generator_losses(
        self,
        inputs: Tensor,
        data_samples: SampleList,
        labelled_domains: Optional[Dict[str, List[int]]] = None,
        allow_empty: bool = False
    ) -> Tuple[Dict[str, Tensor], Optional[Dict[str, Dict[str, Tensor]]]]:
        """Loss items of ``L_G`` (Eq. 8) and the discriminator inputs.

        Args:
            inputs (Tensor): ``(B, 3, H, W)`` after the data preprocessor.
            data_samples (list[SegDataSample]): The samples.
            labelled_domains (dict[str, list[int]], optional): Per task the
                domains that label it (M1's targets), when ``data_samples``
                is one domain's part of a batch. Default: None (from
                ``data_samples``).
            allow_empty (bool): Return no loss item, rather than raise,
                when nothing in ``data_samples`` gives one. Default: False.

        Returns:
            tuple: The loss items, and (with discriminators) per task a dict
            with ``pred`` (detached discriminator input of every sample),
            ``pred_domains`` ``(B,)``, ``pred_labels`` / ``pred_groups``
            ``(B,)`` (class and Eq. 9 term of each prediction),
            ``pred_valid`` ``(B, H, W)``, ``gt`` (ground-truth input of the
            labelling samples, or None) and ``gt_valid``.
        """
        domains, labelled = self._batch_info(data_samples, inputs.device)
        if labelled_domains is None:
            labelled_domains = {
                task: sorted(set(domains[mask].tolist()))
                for task, mask in labelled.items()
            }
        preds = self.decode(inputs)
        losses: Dict[str, Tensor] = dict()
        for task in self.tasks:
            index = labelled[task].nonzero().squeeze(1)
            if index.numel():
                losses.update(
                    self._supervised_loss(
                        task, preds[task][index],
                        [data_samples[i] for i in index.tolist()]))
        cache = None
        if self.with_discriminators:
            cache = self._adversarial_losses(inputs, data_samples, preds,
                                             domains, labelled,
                                             labelled_domains, losses)
        if not allow_empty and not any('loss' in key for key in losses):
            raise ValueError(
                f'SemiMTL (mode={self.mode!r}): no sample of the batch labels '
                f'any of the tasks {self.tasks}, so there is nothing to learn '
                'from it')
        return losses, cache

    @staticmethod
    def _merge_items(items: List[Dict[str, Tensor]]) -> Dict[str, Tensor]:
        """Loss items of several updates: losses summed, others averaged."""
        merged: Dict[str, List[Tensor]] = dict()
        for item in items:
            for key, value in item.items():
                merged.setdefault(key, []).append(value)
        return {
            key: sum(values) if 'loss' in key else sum(values) / len(values)
            for key, values in merged.items()
        }

    @staticmethod
    def _merge_caches(caches: List[Dict[str, Dict[str, Tensor]]]
                      ) -> Dict[str, Dict[str, Tensor]]:
        """Concatenate the discriminator inputs of several updates."""
        merged = dict()
        for task in caches[0]:
            entries = [cache[task] for cache in caches]
            entry = {
                key: torch.cat([e[key] for e in entries])
                for key in entries[0] if not key.startswith('gt')
            }
            with_gt = [e for e in entries if e['gt'] is not None]
            for key in ('gt', 'gt_valid'):
                entry[key] = torch.cat([e[key] for e in with_gt]) \
                    if with_gt else None
            merged[task] = entry
        return merged

    def _updates(self, data_samples: SampleList) -> List[List[int]]:
        """The sample indices of each generator update of a batch."""
        if self.generator_update == 'pooled':
            return [list(range(len(data_samples)))]
        return self._domain_groups(data_samples)

    def loss(self, inputs: Tensor,
             data_samples: SampleList) -> Dict[str, Tensor]:
        """The generator's loss items (Eq. 8).

        With ``generator_update='per_domain'`` the items of every domain's
        mini-batch, each from its own forward pass, summed (means for
        non-loss items). The discriminators take no gradient from these
        losses. Use :meth:`train_step` to train: it updates the generator
        (once per domain) and keeps the discriminator inputs.

        Args:
            inputs (Tensor): ``(B, 3, H, W)``.
            data_samples (list[SegDataSample]): Samples with ``domain`` /
                ``labelled_tasks`` metainfo and the labelled tasks' ground
                truth.

        Returns:
            dict[str, Tensor]: Loss items (see the class docstring).
        """
        updates = self._updates(data_samples)
        if len(updates) == 1:
            return self._generator_losses(inputs, data_samples)[0]
        labelled_domains = self._labelled_domains(data_samples, inputs.device)
        items = []
        for index in updates:
            losses, _ = self._generator_losses(
                inputs[index], [data_samples[i] for i in index],
                labelled_domains,
                allow_empty=True)
            items.append(losses)
        merged = self._merge_items(items)
        if not any('loss' in key for key in merged):
            self._generator_losses(inputs, data_samples)  # raises
        return merged

    @staticmethod
    def _select(optim_wrapper: Union[OptimWrapper, Mapping], key: str,
                caller: str) -> OptimWrapper:
        """The wrapper named ``key`` of an ``OptimWrapperDict`` / dict."""
        if isinstance(optim_wrapper, (OptimWrapperDict, Mapping)):
            if key not in optim_wrapper:
                raise KeyError(
                    f'SemiMTL.{caller}: the optim wrapper dict needs a '
                    f'{key!r} entry, got {list(optim_wrapper.keys())}')
            return optim_wrapper[key]
        return optim_wrapper

    def train_step(
            self, data: Union[dict, tuple, list],
            optim_wrapper: Union[OptimWrapper, Mapping]) -> Dict[str, Tensor]:
        """The generator step: update ``G`` on ``L_G`` (Eq. 8).

        ``generator_update='per_domain'`` (Algorithm 1): one forward pass
        and one update per domain of the batch, domains in ascending order;
        ``'pooled'``: one forward pass and one update on the whole batch.

        Args:
            data (dict | tuple | list): A batch from the dataloader.
            optim_wrapper (OptimWrapperDict | OptimWrapper): An
                ``OptimWrapperDict`` (or dict) with a ``'generator'`` entry;
                a plain ``OptimWrapper`` only for ``stl`` / ``jtl``.

        Returns:
            dict[str, Tensor]: Log variables (``loss`` and the loss items,
            summed over the updates).
        """
        if isinstance(optim_wrapper, (OptimWrapperDict, Mapping)):
            wrapper = self._select(optim_wrapper, 'generator', 'train_step')
        elif self.with_discriminators:
            raise TypeError(
                f'SemiMTL.train_step (mode={self.mode!r}) needs an '
                "OptimWrapperDict with 'generator' and 'discriminator' "
                f'entries, got a {type(optim_wrapper).__name__}')
        else:
            wrapper = optim_wrapper
        with wrapper.optim_context(self):
            data = self.data_preprocessor(data, True)
        inputs, data_samples = data['inputs'], data['data_samples']
        updates = self._updates(data_samples)
        if len(updates) > 1 and getattr(wrapper, '_accumulative_counts',
                                        1) != 1:
            raise ValueError(
                "SemiMTL: generator_update='per_domain' makes one generator "
                'update per domain, which gradient accumulation '
                '(accumulative_counts > 1) would merge; use '
                "generator_update='pooled' with accumulation")
        labelled_domains = self._labelled_domains(data_samples, inputs.device)
        log_items, caches = [], []
        for index in updates:
            with wrapper.optim_context(self):
                try:
                    losses, cache = self._generator_losses(
                        inputs[index], [data_samples[i] for i in index],
                        labelled_domains,
                        allow_empty=len(updates) > 1)
                except ValueError as e:
                    if len(updates) == 1 or 'more than 1 value per ' \
                            'channel' not in str(e):
                        raise
                    domain = data_samples[index[0]].metainfo.get('domain')
                    raise ValueError(
                        "SemiMTL: generator_update='per_domain' runs each "
                        "domain's mini-batch through batch norm alone, and "
                        f'domain {domain} has {len(index)} sample(s) in this '
                        f'batch ({e}); give every domain >= 2 samples '
                        '(MultiSourceSampler batch_size_per_source) or use '
                        "generator_update='pooled'") from e
            if cache is not None:
                caches.append(cache)
            if not any('loss' in key for key in losses):
                continue  # this domain labels nothing the model learns
            parsed_losses, log_vars = self.parse_losses(losses)
            wrapper.update_params(parsed_losses)
            log_items.append(log_vars)
        if not log_items:
            self._generator_losses(inputs, data_samples)  # raises
        self.discriminator_inputs = self._merge_caches(caches) \
            if caches else None
        return self._merge_items(log_items)

    # ------------------------------------------------------------------
    # Discriminators
    # ------------------------------------------------------------------
    @staticmethod
    def _discriminator_batch(
        entry: Dict[str, Tensor]
    ) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """Inputs, class labels, Eq. 9 terms and valid pixels of one task's
        discriminator.

        Ground truth -> class 0 (term 0); predictions -> ``pred_labels``
        (their domain ``k``; SemiSD: 1; DA: 0 source, 1 target), terms
        ``pred_groups``.
        """
        pred, labels, groups = (entry['pred'], entry['pred_labels'],
                                entry['pred_groups'])
        valid, gt = entry['pred_valid'], entry['gt']
        if gt is None:
            return pred, labels, groups, valid
        zeros = labels.new_zeros(gt.shape[0])
        # the ground truth's own term (prediction terms are domains >= 1)
        return (torch.cat([gt, pred]), torch.cat([zeros, labels]),
                torch.cat([zeros - 1, groups]),
                torch.cat([entry['gt_valid'], valid]))

    def discriminator_step(
            self, optim_wrapper: Union[OptimWrapper,
                                       Mapping]) -> Dict[str, Tensor]:
        """One update of every ``D_t`` on the last generator step (Eq. 9).

        Each discriminator classifies the ground truth of the samples that
        label its task as class 0 and the (detached) predictions of every
        sample as their domain ``k`` (SemiSD: 1; DA: source 0, target 1),
        over the valid pixels only (see the class docstring). The generator
        takes no part. The cached inputs are cleared afterwards.

        Args:
            optim_wrapper (OptimWrapper | OptimWrapperDict): The
                discriminators' wrapper (or a dict with a
                ``'discriminator'`` entry).

        Returns:
            dict[str, Tensor]: ``loss_d_{task}`` (detached), empty for
            ``stl`` / ``jtl``.
        """
        if not self.with_discriminators:
            return dict()
        if self.discriminator_inputs is None:
            raise RuntimeError(
                'SemiMTL.discriminator_step needs the predictions of a '
                'train_step first (none are cached)')
        wrapper = self._select(optim_wrapper, 'discriminator',
                               'discriminator_step')
        batches = {
            task: self._discriminator_batch(entry)
            for task, entry in self.discriminator_inputs.items()
        }
        with wrapper.optim_context(self.discriminators):
            logits = self.discriminators({
                task: batch[0]
                for task, batch in batches.items()
            })
            losses = {
                f'loss_d_{task}': discriminator_loss(logits[task], labels,
                                                     groups, valid)
                for task, (_, labels, groups, valid) in batches.items()
            }
        wrapper.update_params(sum(losses.values()))
        self.discriminator_inputs = None
        return {key: value.detach() for key, value in losses.items()}
