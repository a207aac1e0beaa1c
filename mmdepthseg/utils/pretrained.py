# Copyright (c) mmdepthseg contributors. All rights reserved.
"""Pretrained (ImageNet) weights: fetched once, verified, then loaded.

Every paper config starts its encoders from a public ImageNet checkpoint,
named in the config by its URL and pinned by its SHA-256::

    init_cfg=dict(
        type='Pretrained',
        checkpoint='https://download.pytorch.org/models/resnet18-f37072fd.pth',
        sha256='f37072fd47e89c5e827621c5baffa7500819f7896bbacec160b1a16c560e07ec',
        layout='torchvision')

This module turns such a reference into a state dict:

1. :func:`fetch_checkpoint` finds the file: a local path as it is; a URL
   (``http(s)://``, ``open-mmlab://name``, ``torchvision://name``) in the
   cache folder MMEngine and ``torch.hub`` use
   (``$TORCH_HOME/hub/checkpoints/<file name>``, see :func:`cache_path`),
   downloading it there (atomically) when it is missing.
2. :func:`verify_sha256` checks the file against the pinned SHA-256 (the
   full 64-digit hash, or a prefix of at least 8 digits such as the one
   in torchvision's / OpenMMLab's / timm's file names) *before* anything is
   unpickled; a mismatch stops with the file, the expected and the actual
   hash.
3. :func:`load_pretrained_state_dict` reads it with
   ``torch.load(weights_only=True)`` (a downloaded file cannot run code)
   and unwraps ``state_dict`` / ``model`` containers.

When the file can be neither found nor downloaded (an offline machine, or
``MMDEPTHSEG_OFFLINE=1``), :class:`PretrainedWeightsUnavailable` names the
URL, the path to put the file at, and the ``--cfg-options`` key that
switches to random initialisation instead.

The backbones map the public key layouts onto their own modules (see
``mmdepthseg.models.backbones.pretrained``); this module knows nothing of
models and sits at the bottom of the import graph.
"""
import hashlib
import os
import os.path as osp
import pickle
from typing import Dict, List, NamedTuple, Optional
from urllib.parse import urlparse
from urllib.request import Request, urlopen

import torch
from mmengine.logging import print_log

from .io import atomic_open

#: Environment variable that forbids downloads (any value but '' or '0').
OFFLINE_ENV = 'MMDEPTHSEG_OFFLINE'


class PretrainedSpec(NamedTuple):
    """A public checkpoint a config starts from.

    Attributes:
        url (str): Download URL; its file name is the cache file's name.
        sha256 (str): Pinned SHA-256: 64 hex digits, or the 8-digit prefix
            that the file name carries when the full hash was not
            published.
        layout (str): Key layout (``'torchvision'``, ``'openmmlab'``,
            ``'timm'``), see the backbones' ``convert_pretrained``.
        description (str): What the weights are.
    """
    url: str
    sha256: str
    layout: str
    description: str


#: The checkpoints the paper configs name (docs/en/pretrained.md lists
#: them too; tests check that each config's pin equals the entry here).
PRETRAINED_CHECKPOINTS: Dict[str, PretrainedSpec] = dict(
    resnet18=PretrainedSpec(
        'https://download.pytorch.org/models/resnet18-f37072fd.pth',
        'f37072fd47e89c5e827621c5baffa7500819f7896bbacec160b1a16c560e07ec',
        'torchvision',
        'torchvision ResNet-18, IMAGENET1K_V1 (FSRE-Depth encoders)'),
    resnet50=PretrainedSpec(
        'https://download.pytorch.org/models/resnet50-0676ba61.pth',
        '0676ba61b6795bbe1773cffd859882e5e297624d384b6993f7c9e683e722fb8a',
        'torchvision',
        'torchvision ResNet-50, IMAGENET1K_V1 (FSRE-Depth R50 encoder)'),
    resnet101=PretrainedSpec(
        'https://download.pytorch.org/models/resnet101-63fe2227.pth',
        '63fe2227b86e8f1f2063f43a75c84d195911b6a0eace650907dd3dc62dd49a0a',
        'torchvision',
        'torchvision ResNet-101, IMAGENET1K_V1 (7x7 stem; SemiMTL variant)'),
    resnet101_v1c=PretrainedSpec(
        'https://download.openmmlab.com/pretrain/third_party/'
        'resnet101_v1c-e67eebb6.pth', 'e67eebb6', 'openmmlab',
        'OpenMMLab ResNet-101 V1c (deep stem), open-mmlab://resnet101_v1c '
        '(SemiMTL encoder)'),
    vgg16=PretrainedSpec(
        'https://download.pytorch.org/models/vgg16-397923af.pth',
        '397923af8e79cdbb6a7127f12361acd7a2f83e06b05044ddf496e83de57a5bf0',
        'torchvision',
        'torchvision VGG-16, IMAGENET1K_V1 (Pseudo-MTL encoder)'),
    xception65=PretrainedSpec(
        'https://github.com/rwightman/pytorch-image-models/releases/download/'
        'v0.1-weights/tf_xception_65-c9ae96e8.pth', 'c9ae96e8', 'timm',
        "timm 'xception65' (aligned Xception-65 ported from TF DeepLab's "
        'ImageNet checkpoint; SOSD-Net encoder)'),
)


class PretrainedWeightsUnavailable(FileNotFoundError):
    """The pretrained file is neither on disk nor downloadable."""


class ChecksumMismatchError(ValueError):
    """A pretrained file's SHA-256 differs from the pinned one."""


def _random_init_hint(cfg_key: Optional[str]) -> str:
    key = cfg_key or 'model.backbone.init_cfg'
    return (f'or train from random initialisation instead with '
            f'`--cfg-options {key}=None`')


def is_url(checkpoint: str) -> bool:
    """Whether ``checkpoint`` names a remote file rather than a path.

    Args:
        checkpoint (str): Path or URL.

    Returns:
        bool: True for ``http(s)://``, ``open-mmlab://`` / ``openmmlab://``
        and ``torchvision://`` / ``modelzoo://`` references.
    """
    return checkpoint.startswith(('http://', 'https://', 'open-mmlab://',
                                  'openmmlab://', 'torchvision://',
                                  'modelzoo://'))


def resolve_url(checkpoint: str) -> str:
    """The download URL of a checkpoint reference.

    ``open-mmlab://name`` and ``torchvision://name`` are looked up in
    MMEngine's tables (the ones ``Pretrained`` uses), so a config may use
    the alias or the URL it stands for.

    Args:
        checkpoint (str): URL or MMEngine alias.

    Returns:
        str: An ``http(s)://`` URL.

    Raises:
        KeyError: The alias is not in MMEngine's table.
    """
    if checkpoint.startswith(('http://', 'https://')):
        return checkpoint
    scheme, name = checkpoint.split('://', 1)
    from mmengine import __path__ as mmengine_path
    from mmengine.fileio import load
    if scheme in ('open-mmlab', 'openmmlab'):
        from mmengine.runner.checkpoint import get_external_models
        table = get_external_models()
    else:  # torchvision / modelzoo: MMEngine's copy, no torchvision import
        table = load(
            osp.join(mmengine_path[0], 'hub', 'torchvision_0.12.json'))
    url = table.get(name)
    if not isinstance(url, str) or not url.startswith(('http://', 'https://')):
        raise KeyError(f'{checkpoint}: {name!r} is not a known {scheme} '
                       'checkpoint; give its https:// URL instead')
    return url


def cache_path(url: str) -> str:
    """Where a downloaded checkpoint is kept.

    The folder MMEngine's ``Pretrained`` (``torch.hub``) downloads into:
    ``<torch.hub.get_dir()>/checkpoints/<file name of the URL>``, i.e.
    ``~/.cache/torch/hub/checkpoints/`` unless ``$TORCH_HOME`` (or
    ``$XDG_CACHE_HOME``) moves it.

    Args:
        url (str): URL or MMEngine alias.

    Returns:
        str: Absolute path of the cache file.
    """
    name = osp.basename(urlparse(resolve_url(url)).path)
    return osp.join(torch.hub.get_dir(), 'checkpoints', name)


def _normalise_sha256(sha256: str, checkpoint: str) -> str:
    if not isinstance(sha256, str):
        raise ValueError(
            f'sha256 pinned for {checkpoint} must be a string of hexadecimal '
            f'digits, got {type(sha256).__name__} {sha256!r} (--cfg-options '
            'reads a pin of decimal digits only as a number: give the full '
            '64-digit hash, or set it in the config file)')
    digest = sha256.strip().lower()
    if not (8 <= len(digest) <= 64
            and all(c in '0123456789abcdef' for c in digest)):
        raise ValueError(
            f'sha256 pinned for {checkpoint} must be 8 to 64 hexadecimal '
            f'digits (a full SHA-256 or its prefix), got {sha256!r}')
    return digest


def file_sha256(path: str) -> str:
    """The SHA-256 of a file, read in 1 MiB chunks.

    Args:
        path (str): File.

    Returns:
        str: 64 lowercase hexadecimal digits.
    """
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def verify_sha256(path: str,
                  sha256: str,
                  url: Optional[str] = None,
                  cfg_key: Optional[str] = None) -> str:
    """Check a file against its pinned SHA-256.

    Args:
        path (str): File to check.
        sha256 (str): Pinned hash: the full 64 digits or a prefix of at
            least 8.
        url (str, optional): Where the file comes from (for the message).
        cfg_key (str, optional): The config key of this ``init_cfg`` (for
            the message).

    Returns:
        str: The file's full SHA-256.

    Raises:
        ChecksumMismatchError: The file's hash does not start with
            ``sha256``.
    """
    expected = _normalise_sha256(sha256, path)
    actual = file_sha256(path)
    if not actual.startswith(expected):
        source = f' (downloaded from {url})' if url else ''
        raise ChecksumMismatchError(
            f'SHA-256 of the pretrained checkpoint {path}{source} does not '
            f'match the pinned one: expected {expected}, got {actual}. The '
            'file is corrupt, truncated or a different release: delete it '
            'and download it again' + (f' from {url}, ' if url else ', ') +
            _random_init_hint(cfg_key) + '.')
    return actual


def _offline() -> bool:
    return os.environ.get(OFFLINE_ENV, '') not in ('', '0')


def _download(url: str,
              dst: str,
              sha256: Optional[str] = None,
              timeout: float = 60.) -> None:
    """Stream ``url`` into ``dst``, hashing on the way; ``dst`` appears
    only complete and, if ``sha256`` is given, verified."""
    from tqdm import tqdm
    request = Request(url, headers={'User-Agent': 'mmdepthseg'})
    with urlopen(request, timeout=timeout) as response:
        total = response.headers.get('Content-Length')
        h = hashlib.sha256()
        with atomic_open(dst, 'wb') as f, tqdm(
                total=int(total) if total else None,
                unit='B',
                unit_scale=True,
                desc=osp.basename(dst),
                disable=None) as bar:
            for chunk in iter(lambda: response.read(1 << 20), b''):
                f.write(chunk)
                h.update(chunk)
                bar.update(len(chunk))
            if sha256 is not None:
                expected = _normalise_sha256(sha256, url)
                if not h.hexdigest().startswith(expected):
                    # raised inside atomic_open: nothing is left at dst
                    raise ChecksumMismatchError(
                        f'SHA-256 of {url} (downloaded for {dst}) does not '
                        f'match the pinned one: expected {expected}, got '
                        f'{h.hexdigest()}; the file was not kept.')


def fetch_checkpoint(checkpoint: str,
                     sha256: Optional[str] = None,
                     cfg_key: Optional[str] = None,
                     owner: str = 'the model') -> str:
    """A local, verified copy of a pretrained checkpoint.

    Args:
        checkpoint (str): Local path, ``http(s)://`` URL, or MMEngine alias
            (``open-mmlab://``, ``torchvision://``).
        sha256 (str, optional): Pinned SHA-256 (full or >= 8-digit
            prefix). None skips the check (a warning says so for URLs).
        cfg_key (str, optional): Config key of the ``init_cfg`` holding
            this checkpoint, named in the errors (e.g.
            ``'model.backbone.init_cfg'``).
        owner (str): Module being initialised, for the messages.

    Returns:
        str: Path of the verified file.

    Raises:
        PretrainedWeightsUnavailable: A missing local file, or a URL whose
            file is not cached and cannot be downloaded.
        ChecksumMismatchError: The file does not match ``sha256``.
    """
    if not is_url(checkpoint):
        path = osp.expanduser(checkpoint)
        if not osp.isfile(path):
            raise PretrainedWeightsUnavailable(
                f'Pretrained checkpoint for {owner} not found: {path}. Put '
                'the file there, point the init_cfg at it '
                f'(`--cfg-options {cfg_key or "model.backbone.init_cfg"}'
                '.checkpoint=PATH`), ' + _random_init_hint(cfg_key) + '.')
        if sha256 is not None:
            verify_sha256(path, sha256, cfg_key=cfg_key)
        return path

    url = resolve_url(checkpoint)
    path = cache_path(url)
    if not osp.isfile(path):
        reason = None
        if _offline():
            reason = f'downloads are disabled ({OFFLINE_ENV} is set)'
        else:
            print_log(
                f'{owner}: downloading pretrained weights {url} to {path}',
                logger='current')
            try:
                _download(url, path, sha256)
            except ChecksumMismatchError:
                raise
            except Exception as exc:  # URLError, HTTPError, timeout, OSError
                reason = f'{type(exc).__name__}: {exc}'
        if reason is not None:
            raise PretrainedWeightsUnavailable(
                f'Pretrained weights for {owner} are not available: {url} is '
                f'not in the cache and could not be downloaded ({reason}). '
                f'Download it on a machine with internet access and put it '
                f'at {path} (the checkpoints folder of torch.hub, '
                '$TORCH_HOME/hub/checkpoints; '
                '`python tools/misc/fetch_pretrained.py` fetches every '
                'checkpoint the configs name), ' + _random_init_hint(cfg_key) +
                '.')
    if sha256 is not None:
        verify_sha256(path, sha256, url=url, cfg_key=cfg_key)
    else:
        print_log(
            f'{owner}: no sha256 pinned for {url}; the file is not verified',
            logger='current',
            level=30)
    return path


def _unwrap(ckpt: object, path: str) -> Dict[str, torch.Tensor]:
    """The tensor dict inside a checkpoint container."""
    if isinstance(ckpt, dict):
        for key in ('state_dict', 'model', 'model_state'):
            if isinstance(ckpt.get(key), dict):
                ckpt = ckpt[key]
                break
    if not isinstance(ckpt, dict) or not ckpt:
        raise ValueError(f'{path}: expected a state dict (name -> tensor), '
                         f'got {type(ckpt).__name__}')
    state = {}
    for key, value in ckpt.items():
        if not torch.is_tensor(value):
            continue
        if key.startswith('module.'):  # saved from a (D)DP wrapper
            key = key[len('module.'):]
        state[key] = value
    if not state:
        raise ValueError(f'{path}: the checkpoint holds no tensors')
    return state


def load_pretrained_state_dict(checkpoint: str,
                               sha256: Optional[str] = None,
                               cfg_key: Optional[str] = None,
                               owner: str = 'the model'
                               ) -> Dict[str, torch.Tensor]:
    """Fetch, verify and read a pretrained checkpoint.

    Args:
        checkpoint (str): Local path, URL or MMEngine alias.
        sha256 (str, optional): Pinned SHA-256 (full or >= 8-digit prefix).
        cfg_key (str, optional): Config key of the ``init_cfg`` (messages).
        owner (str): Module being initialised (messages).

    Returns:
        dict[str, Tensor]: The checkpoint's tensors on the CPU, under their
        own names (``state_dict`` / ``model`` containers unwrapped, a
        leading ``module.`` removed).

    Raises:
        PretrainedWeightsUnavailable, ChecksumMismatchError: See
            :func:`fetch_checkpoint`.
        ValueError: The file is not a plain tensor checkpoint.
    """
    path = fetch_checkpoint(checkpoint, sha256, cfg_key=cfg_key, owner=owner)
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ValueError(
            f'{path}: not a plain tensor checkpoint, refused by '
            f'torch.load(weights_only=True): {exc}') from exc
    return _unwrap(ckpt, path)


class StateDictReport(NamedTuple):
    """How a converted state dict fits a module.

    Attributes:
        missing (list[str]): Module keys the state dict lacks.
        unexpected (list[str]): State dict keys the module lacks.
        mismatched (list[str]): ``'key (checkpoint shape) vs (module
            shape)'`` for keys present in both with different shapes.
    """
    missing: List[str]
    unexpected: List[str]
    mismatched: List[str]

    @property
    def ok(self) -> bool:
        """Whether every module tensor is matched one to one."""
        return not (self.missing or self.unexpected or self.mismatched)


def compare_state_dicts(own: Dict[str, torch.Tensor],
                        loaded: Dict[str, torch.Tensor],
                        sources: Optional[Dict[str, str]] = None
                        ) -> StateDictReport:
    """Compare a (converted) checkpoint with a module's state dict.

    ``num_batches_tracked`` buffers are not required (torchvision's files
    predate them).

    Args:
        own (dict): The module's ``state_dict()``.
        loaded (dict): Converted checkpoint, in the module's key names.
        sources (dict, optional): Module key -> checkpoint key, to name
            the checkpoint's key in the messages.

    Returns:
        StateDictReport: Missing, unexpected and mismatched keys.
    """
    sources = sources or {}

    def name(key):
        src = sources.get(key)
        return f'{src} (-> {key})' if src and src != key else key

    missing = [
        name(k) for k in own
        if k not in loaded and not k.endswith('num_batches_tracked')
    ]
    unexpected = [name(k) for k in loaded if k not in own]
    mismatched = [
        f'{name(k)} {tuple(v.shape)} vs {tuple(own[k].shape)}'
        for k, v in loaded.items() if k in own and v.shape != own[k].shape
    ]
    return StateDictReport(missing, unexpected, mismatched)
