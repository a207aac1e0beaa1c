# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Learned stereo confidence: CCNN and the learned soft threshold.

Pseudo-MTL (Sec. 3.1, 3.2.1) weights its pseudo depth by the confidence of
**CCNN** (Poggi & Mattoccia, BMVC 2016) passed through the **soft
threshold** of Choi et al. (2020), whose pretrained threshold network is
kept fixed. Both parts are here:

- :class:`CCNN`: a small fully-convolutional network on the disparity map
  alone. Its receptive field is a 9x9 disparity patch: four 3x3
  convolutions (64 channels, ReLU, no padding: 9x9 -> 1x1), two
  "fully-connected" layers as 1x1 convolutions (100 channels, ReLU) and a
  1x1 convolution with a sigmoid. The disparity is divided by
  ``max_disparity`` (normalised to [0, 1]). Trained on 9x9 patches with the
  binary cross-entropy against ``|d - d_gt| <= error_threshold``
  (:func:`train_ccnn`); applied to a whole map by padding it by 4 pixels
  (replicated border), which gives one confidence per pixel.
- :class:`ThresholdNet`: the threshold network of Choi et al.'s released
  code (``ParamNet2``): four strided convolutions (9, 7, 5, 3; 64 channels,
  BatchNorm, ReLU) over the confidence map, global average pooling, a
  linear layer and a sigmoid give one threshold ``t`` in (0, 1) per image;
  the thresholded confidence is ``sigmoid(k * (c - t))`` with the
  temperature ``k`` (10 in the released code; learnable here on request).
  Trained (:func:`train_threshold`) with CCNN fixed, by the binary
  cross-entropy of the thresholded map against the same correctness labels.
- :class:`LearnedConfidence` (``TASK_UTILS`` ``'LearnedConfidence'``): the
  callable ``(disp_left, disp_right) -> (conf_left, conf_right)`` that
  :func:`~mmdepthseg.stereo.pseudo_depth.generate_pseudo_depth` uses, built
  from a checkpoint of ``tools/train_confidence.py``. The right map is
  flipped horizontally before CCNN and back after it, so that its occlusions
  lie on the side CCNN learned them on (the left view's).

Checkpoint (``torch.save`` dict): ``ccnn`` / ``ccnn_cfg``, ``threshold`` /
``threshold_cfg`` (absent when no threshold network was trained) and
``meta`` (training data, sizes, seeds, ``error_threshold``).
"""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmdepthseg.registry import MODELS, TASK_UTILS
from mmdepthseg.utils.io import atomic_torch_save


def _valid_disp(disp: Tensor) -> Tensor:
    return torch.isfinite(disp) & (disp > 0)


@MODELS.register_module()
class CCNN(nn.Module):
    """Confidence from the disparity map alone (Poggi & Mattoccia, 2016).

    Args:
        max_disparity (float): The disparity is divided by it (the input
            range [0, max_disparity] becomes [0, 1]); use the matcher's
            search range. Defaults to 128.
        num_convs (int): 3x3 convolutions; the patch size is ``2 *
            num_convs + 1``. Defaults to 4 (9x9).
        channels (int): Channels of the convolutions. Defaults to 64.
        num_fc (int): "Fully-connected" 1x1 layers. Defaults to 2.
        fc_channels (int): Their channels. Defaults to 100.
    """

    def __init__(self,
                 max_disparity: float = 128.,
                 num_convs: int = 4,
                 channels: int = 64,
                 num_fc: int = 2,
                 fc_channels: int = 100) -> None:
        super().__init__()
        if max_disparity <= 0:
            raise ValueError(f'max_disparity must be > 0, got '
                             f'{max_disparity}')
        self.register_buffer('max_disparity',
                             torch.tensor(float(max_disparity)))
        layers, in_ch = [], 1
        for _ in range(num_convs):
            layers += [nn.Conv2d(in_ch, channels, 3), nn.ReLU(inplace=True)]
            in_ch = channels
        for _ in range(num_fc):
            layers += [nn.Conv2d(in_ch, fc_channels, 1), nn.ReLU(inplace=True)]
            in_ch = fc_channels
        layers.append(nn.Conv2d(in_ch, 1, 1))
        self.layers = nn.Sequential(*layers)
        self.radius = num_convs
        self.cfg = dict(
            max_disparity=float(max_disparity),
            num_convs=num_convs,
            channels=channels,
            num_fc=num_fc,
            fc_channels=fc_channels)

    @property
    def patch_size(self) -> int:
        """int: Side of the disparity patch one output sees (9)."""
        return 2 * self.radius + 1

    def logits(self, disp: Tensor, pad: bool = True) -> Tensor:
        """Pre-sigmoid confidence.

        Args:
            disp (Tensor): (B, 1, H, W) disparity in pixels (0 invalid);
                with ``pad=False`` typically (N, 1, 9, 9) patches.
            pad (bool): Pad the map by ``radius`` pixels (replicated
                border) so that the output has the input's size.

        Returns:
            Tensor: (B, 1, H, W) logits (``(N, 1, 1, 1)`` for unpadded
            patches).
        """
        if disp.dim() != 4 or disp.shape[1] != 1:
            raise ValueError('CCNN expects (B, 1, H, W) disparity, got '
                             f'{tuple(disp.shape)}')
        x = torch.nan_to_num(disp, nan=0., posinf=0., neginf=0.)
        x = x / self.max_disparity
        if pad:
            r = self.radius
            x = F.pad(x, (r, r, r, r), mode='replicate')
        return self.layers(x)

    def forward(self, disp: Tensor, pad: bool = True) -> Tensor:
        """Confidence in (0, 1), same layout as :meth:`logits`."""
        return torch.sigmoid(self.logits(disp, pad))


@MODELS.register_module()
class ThresholdNet(nn.Module):
    """Per-image threshold of the confidence map (Choi et al., 2020).

    The layers of the released code's ``ParamNet2``; the soft-thresholded
    confidence is ``sigmoid(temperature * (c - t))``.

    Args:
        channels (int): Channels of the strided convolutions. Defaults to
            64.
        temperature (float): ``k`` of the soft threshold. Defaults to 10
            (the released code).
        learn_temperature (bool): Learn ``k`` too (as ``log k``). Defaults
            to False.
    """

    def __init__(self,
                 channels: int = 64,
                 temperature: float = 10.,
                 learn_temperature: bool = False) -> None:
        super().__init__()
        layers, in_ch = [], 1
        for k in (9, 7, 5, 3):
            layers += [
                nn.Conv2d(in_ch, channels, k, stride=2, padding=k // 2),
                nn.BatchNorm2d(channels),
                nn.ReLU(inplace=True)
            ]
            in_ch = channels
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(channels, 1)
        log_k = torch.tensor(float(np.log(temperature)))
        if learn_temperature:
            self.log_temperature = nn.Parameter(log_k)
        else:
            self.register_buffer('log_temperature', log_k)
        self.cfg = dict(
            channels=channels,
            temperature=float(temperature),
            learn_temperature=learn_temperature)

    @property
    def temperature(self) -> Tensor:
        """Tensor: The temperature ``k`` (scalar)."""
        return self.log_temperature.exp()

    def threshold(self, conf: Tensor) -> Tensor:
        """(B, 1, H, W) confidence -> (B,) threshold in (0, 1)."""
        x = self.features(conf)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return torch.sigmoid(self.fc(x))[:, 0]

    def logits(self, conf: Tensor) -> Tensor:
        """``k * (c - t)``: (B, 1, H, W)."""
        t = self.threshold(conf).view(-1, 1, 1, 1)
        return self.temperature * (conf - t)

    def forward(self, conf: Tensor) -> Tensor:
        """Soft-thresholded confidence ``sigmoid(k (c - t))``."""
        return torch.sigmoid(self.logits(conf))


# ---------------------------------------------------------------------------
# Training data
# ---------------------------------------------------------------------------
def correctness_labels(disp: np.ndarray, gt: np.ndarray,
                       error_threshold: float
                       ) -> Tuple[np.ndarray, np.ndarray]:
    """Where a matcher's disparity is right, and where that is known.

    Args:
        disp (np.ndarray): (..., H, W) estimated disparity (0 invalid).
        gt (np.ndarray): Ground-truth disparity, same shape (0 = none).
        error_threshold (float): Largest error (pixels) counted correct.

    Returns:
        tuple[np.ndarray, np.ndarray]: float32 ``label`` (1 where ``|d -
        d_gt| <= error_threshold``) and bool ``valid`` (both disparities
        valid).
    """
    valid = np.isfinite(disp) & (disp > 0) & np.isfinite(gt) & (gt > 0)
    err = np.abs(np.where(valid, disp, 0.) - np.where(valid, gt, 0.))
    return (valid & (err <= error_threshold)).astype(np.float32), valid


def sample_patches(padded: Tensor, index: Tensor, size: int) -> Tensor:
    """Gather ``size`` x ``size`` patches (vectorised).

    Args:
        padded (Tensor): (N, H + size - 1, W + size - 1) maps padded by
            ``size // 2``.
        index (Tensor): (P, 3) long ``(n, y, x)`` of the patch centres in
            the UNPADDED maps.
        size (int): Patch side.

    Returns:
        Tensor: (P, 1, size, size) patches.
    """
    offs = torch.arange(size, device=padded.device)
    n = index[:, 0].view(-1, 1, 1)
    ys = index[:, 1].view(-1, 1, 1) + offs.view(1, -1, 1)
    xs = index[:, 2].view(-1, 1, 1) + offs.view(1, 1, -1)
    return padded[n, ys, xs].unsqueeze(1)


def train_ccnn(disps: Sequence[np.ndarray],
               gts: Sequence[np.ndarray],
               error_threshold: float = 3.,
               max_disparity: float = 128.,
               iters: int = 2000,
               batch_size: int = 256,
               lr: float = 1e-3,
               seed: int = 0,
               model: Optional[CCNN] = None,
               log_interval: int = 0) -> CCNN:
    """Train :class:`CCNN` on 9x9 patches of matcher disparity maps.

    Every pixel where both the matcher's and the ground-truth disparity are
    valid is a sample; each iteration draws ``batch_size`` of them
    uniformly (seeded) and takes one Adam step on the binary cross-entropy
    against ``|d - d_gt| <= error_threshold``.

    Args:
        disps (Sequence[np.ndarray]): (H, W) matcher disparities (pixels,
            0 invalid); maps may differ in size.
        gts (Sequence[np.ndarray]): Matching ground-truth disparities.
        error_threshold (float): Correctness threshold in pixels.
            Defaults to 3 (Poggi & Mattoccia on KITTI).
        max_disparity (float): Input normalisation (see :class:`CCNN`).
        iters (int): Optimiser steps. Defaults to 2000.
        batch_size (int): Patches per step. Defaults to 256.
        lr (float): Adam learning rate. Defaults to 1e-3.
        seed (int): Seed of the initialisation and the sampling.
        model (CCNN, optional): Continue training this model.
        log_interval (int): Print the loss every so many steps (0: never).

    Returns:
        CCNN: The trained model (eval mode).
    """
    gen = torch.Generator().manual_seed(seed)
    if model is None:
        torch.manual_seed(seed)
        model = CCNN(max_disparity=max_disparity)
    r = model.radius
    padded, labels, index = [], [], []
    for n, (disp, gt) in enumerate(zip(disps, gts)):
        if disp.shape != gt.shape:
            raise ValueError(f'train_ccnn: map {n}: disparity {disp.shape} '
                             f'and ground truth {gt.shape} differ')
        label, valid = correctness_labels(disp, gt, error_threshold)
        d = torch.from_numpy(np.ascontiguousarray(disp, dtype=np.float32))
        padded.append(
            F.pad(d[None, None], (r, r, r, r), mode='replicate')[0, 0])
        ys, xs = np.nonzero(valid)
        index.append(
            torch.from_numpy(np.stack([np.full_like(ys, n), ys, xs], 1)))
        labels.append(torch.from_numpy(label[valid]))
    # maps of different sizes: gather from one zero-padded stack
    h = max(p.shape[0] for p in padded)
    w = max(p.shape[1] for p in padded)
    stack = torch.zeros(len(padded), h, w)
    for n, p in enumerate(padded):
        stack[n, :p.shape[0], :p.shape[1]] = p
    index = torch.cat(index).long()
    labels = torch.cat(labels)
    if len(labels) == 0:
        raise ValueError('train_ccnn: no pixel has both a valid disparity '
                         'and ground truth')
    optim = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    size = model.patch_size
    for it in range(iters):
        pick = torch.randint(len(labels), (batch_size, ), generator=gen)
        patches = sample_patches(stack, index[pick], size)
        logits = model.logits(patches, pad=False).flatten()
        loss = F.binary_cross_entropy_with_logits(logits, labels[pick])
        optim.zero_grad()
        loss.backward()
        optim.step()
        if log_interval and (it + 1) % log_interval == 0:
            print(f'ccnn iter {it + 1}/{iters}: bce {loss.item():.4f}')
    return model.eval()


@torch.no_grad()
def ccnn_confidence(model: CCNN, disp: np.ndarray) -> np.ndarray:
    """CCNN confidence of one (H, W) disparity map (0 where invalid)."""
    d = torch.from_numpy(np.ascontiguousarray(disp, dtype=np.float32))
    dev = model.max_disparity.device
    conf = model(d[None, None].to(dev))[0, 0].cpu().numpy()
    valid = np.isfinite(disp) & (disp > 0)
    return np.where(valid, conf, 0.).astype(np.float32)


def train_threshold(confs: Sequence[np.ndarray],
                    disps: Sequence[np.ndarray],
                    gts: Sequence[np.ndarray],
                    error_threshold: float = 3.,
                    iters: int = 300,
                    batch_size: int = 8,
                    lr: float = 1e-3,
                    seed: int = 0,
                    temperature: float = 10.,
                    learn_temperature: bool = False) -> ThresholdNet:
    """Train :class:`ThresholdNet` on fixed confidence maps.

    The loss is the binary cross-entropy of ``sigmoid(k (c - t))`` against
    the correctness labels over the pixels with valid disparity and ground
    truth (mean per map, averaged over the batch of maps).

    Args:
        confs (Sequence[np.ndarray]): (H, W) confidence maps (e.g. CCNN's);
            all of one size.
        disps, gts: Matcher and ground-truth disparities of those maps.
        error_threshold (float): Correctness threshold (pixels).
        iters, batch_size, lr, seed: Optimisation (Adam).
        temperature (float): Initial / fixed ``k``. Defaults to 10.
        learn_temperature (bool): Learn ``k`` too. Defaults to False.

    Returns:
        ThresholdNet: The trained network (eval mode).
    """
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    net = ThresholdNet(
        temperature=temperature, learn_temperature=learn_temperature)
    shapes = {c.shape for c in confs}
    if len(shapes) != 1:
        raise ValueError('train_threshold: the confidence maps must share '
                         f'one size, got {sorted(shapes)}')
    labels, valids = zip(*(correctness_labels(d, g, error_threshold)
                           for d, g in zip(disps, gts)))
    conf_t = torch.from_numpy(np.stack(confs).astype(np.float32))[:, None]
    label_t = torch.from_numpy(np.stack(labels))[:, None]
    valid_t = torch.from_numpy(np.stack(valids))[:, None].float()
    optim = torch.optim.Adam(net.parameters(), lr=lr)
    net.train()
    for _ in range(iters):
        pick = torch.randint(len(confs), (min(batch_size, len(confs)), ),
                             generator=gen)
        logits = net.logits(conf_t[pick])
        bce = F.binary_cross_entropy_with_logits(
            logits, label_t[pick], reduction='none')
        w = valid_t[pick]
        per_map = (bce * w).flatten(1).sum(1) / w.flatten(1).sum(1).clamp(
            min=1)
        loss = per_map.mean()
        optim.zero_grad()
        loss.backward()
        optim.step()
    return net.eval()


def save_confidence_checkpoint(path: str,
                               ccnn: CCNN,
                               threshold: Optional[ThresholdNet] = None,
                               meta: Optional[dict] = None) -> None:
    """Write a checkpoint that :class:`LearnedConfidence` loads
    (atomically)."""
    ckpt = dict(
        ccnn=ccnn.state_dict(),
        ccnn_cfg=dict(ccnn.cfg),
        meta=dict(meta or {}))
    if threshold is not None:
        ckpt['threshold'] = threshold.state_dict()
        ckpt['threshold_cfg'] = dict(threshold.cfg)
    atomic_torch_save(ckpt, path)


def load_confidence_checkpoint(
        path: str,
        map_location: str = 'cpu') -> Tuple[CCNN, Optional[ThresholdNet],
                                            dict]:
    """Read a checkpoint of :func:`save_confidence_checkpoint`.

    Returns:
        tuple: ``(ccnn, threshold_net or None, meta)``, in eval mode.
    """
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise FileNotFoundError(
            f'confidence checkpoint not found: {path} (train one with '
            'tools/train_confidence.py)') from None
    if not isinstance(ckpt, dict) or 'ccnn' not in ckpt \
            or 'ccnn_cfg' not in ckpt:
        raise ValueError(f'{path}: not a confidence checkpoint (expected the '
                         "keys 'ccnn' and 'ccnn_cfg' written by "
                         'tools/train_confidence.py)')
    ccnn = CCNN(**ckpt['ccnn_cfg'])
    ccnn.load_state_dict(ckpt['ccnn'])
    thr = None
    if ckpt.get('threshold') is not None:
        thr = ThresholdNet(**ckpt['threshold_cfg'])
        thr.load_state_dict(ckpt['threshold'])
        thr.eval()
    return ccnn.eval(), thr, dict(ckpt.get('meta', {}))


@TASK_UTILS.register_module()
class LearnedConfidence:
    """CCNN confidence of both views, optionally soft-thresholded.

    Args:
        checkpoint (str): File written by ``tools/train_confidence.py``.
        soft_threshold (bool): Pass CCNN's confidence through the
            checkpoint's threshold network (Pseudo-MTL's ``C_i``); needs one
            in the checkpoint. Defaults to True when the checkpoint has one.
        device (str): Torch device. Defaults to 'cpu'.
        num_threads (int): CPU threads of the computation (restored
            after it). One by default: the result then does not depend on
            the machine's thread count (``generate_pseudo_depth.py --nproc
            N`` runs one process per pair instead, byte-identical to
            ``--nproc 1``).
    """

    def __init__(self,
                 checkpoint: str,
                 soft_threshold: Optional[bool] = None,
                 device: str = 'cpu',
                 num_threads: int = 1) -> None:
        self.checkpoint = checkpoint
        self.ccnn, self.threshold_net, self.meta = \
            load_confidence_checkpoint(checkpoint, map_location=device)
        if soft_threshold is None:
            soft_threshold = self.threshold_net is not None
        if soft_threshold and self.threshold_net is None:
            raise ValueError(f'{checkpoint} has no threshold network; train '
                             'one (tools/train_confidence.py, default) or '
                             'use soft_threshold=False')
        self.soft_threshold = soft_threshold
        self.device = device
        self.num_threads = num_threads

    @torch.no_grad()
    def _both(self, disp_left: np.ndarray, disp_right: np.ndarray,
              soft_threshold: bool) -> Tuple[np.ndarray, np.ndarray]:
        disp_left = np.asarray(disp_left, dtype=np.float32)
        disp_right = np.asarray(disp_right, dtype=np.float32)
        if disp_left.shape != disp_right.shape or disp_left.ndim != 2:
            raise ValueError('disparity maps must both be (H, W) of the '
                             f'same shape, got {disp_left.shape} and '
                             f'{disp_right.shape}')
        threads = torch.get_num_threads()
        torch.set_num_threads(self.num_threads)
        try:
            return self._compute(disp_left, disp_right, soft_threshold)
        finally:
            torch.set_num_threads(threads)

    def _compute(self, disp_left: np.ndarray, disp_right: np.ndarray,
                 soft_threshold: bool) -> Tuple[np.ndarray, np.ndarray]:
        # the right map mirrored looks like a left one (occlusions on the
        # same side): CCNN and the threshold network see it that way
        d = np.stack([disp_left, disp_right[:, ::-1]])
        t = torch.from_numpy(np.ascontiguousarray(d))[:, None].to(self.device)
        conf = self.ccnn(t)
        conf = torch.where(_valid_disp(t), conf, torch.zeros_like(conf))
        if soft_threshold:
            conf = self.threshold_net(conf)
            conf = torch.where(_valid_disp(t), conf, torch.zeros_like(conf))
        conf = conf[:, 0].cpu().numpy().astype(np.float32)
        return conf[0], np.ascontiguousarray(conf[1][:, ::-1])

    def raw(self, disp_left: np.ndarray,
            disp_right: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """CCNN confidence of both views without the soft threshold."""
        return self._both(disp_left, disp_right, False)

    def __call__(self, disp_left: np.ndarray,
                 disp_right: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Confidence maps ``(conf_left, conf_right)``, (H, W) float32 in
        [0, 1], 0 where the disparity is invalid."""
        return self._both(disp_left, disp_right, self.soft_threshold)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(checkpoint={self.checkpoint!r}, '
                f'soft_threshold={self.soft_threshold})')


def describe(meta: Dict) -> str:
    """One line naming a checkpoint's training data and settings."""
    keys = ('dataset', 'pairs', 'size', 'seed', 'error_threshold', 'iters')
    return ', '.join(f'{k}={meta[k]}' for k in keys if k in meta)
